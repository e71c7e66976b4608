"""Bad input against the real cluster: one line, non-zero exit, nothing created."""

import re

import pytest

from kubedrill import guard
from tests.e2e.conftest import CONTEXT

pytestmark = pytest.mark.e2e


RUN_NAMESPACE = re.compile(r"kd-[0-9]{4}t[0-9]{6}-[0-9a-f]{4}-")


def _ours(clients):
    """What a drill run creates first: its namespaces (kd-<run id>-...) and the drill lock.
    (Other kubedrill tooling, e.g. the cluster's own tests, may create namespaces meanwhile.)"""
    sel = f"{guard.MANAGED_BY}={guard.MANAGED_BY_VALUE},{guard.RUN_ID}"
    return ([n.metadata.name for n in clients.core.list_namespace(label_selector=sel).items
             if RUN_NAMESPACE.match(n.metadata.name)]
            + [lease.metadata.name for lease in clients.coordination.list_lease_for_all_namespaces(label_selector=sel).items])


@pytest.mark.parametrize("args, fragment", [
    (["--timeout-scale", "-2"], "--timeout-scale: expected a positive number"),
    (["--objective", "nope=1"], "unknown objective 'nope'"),
    (["--context", "kind-nope"], "context 'kind-nope' not found"),
    (["--allow-namespace", "kube-system"], "kube-system can never be a drill target"),
])
def test_bad_input_creates_nothing(drill, clients, args, fragment):
    before = _ours(clients)
    d = drill("scenarios/", "--context", CONTEXT, *args) if "--context" not in args else drill("scenarios/", *args)
    rc = d.run()
    assert rc == 4, d.output[-3000:]
    errors = [line for line in d.output.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and fragment in errors[0], d.output[-3000:]
    assert "Traceback" not in d.output
    assert _ours(clients) == before
    # the run's state dir (tests/e2e/conftest.STATE_ROOT, made for it) holds nothing: no journal
    assert list((d.tmp / "state").iterdir()) == []
