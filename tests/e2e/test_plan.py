"""``--plan`` on the real cluster: the whole drill's plan creates nothing (no labelled object, no
drill lock, no journal entry), and a real run touches only the namespaces and nodes its plan
listed, as its own fault journal shows."""

from __future__ import annotations

import json
import re

import pytest

from kubedrill import guard, journal, undo
from tests.e2e.conftest import leftovers, other_context

pytestmark = pytest.mark.e2e

SUBSET = ("scenarios/test_plumbing.py", "scenarios/experiments/replication-controller-pod-deleted.yaml")
_ITEM = re.compile(r"^kubedrill: (\S+::\S+)$")
_PART = re.compile(r"^kubedrill:   (namespaces|nodes):\s+(.*)$")
_RUN = re.compile(r"journals its faults in \S+/journal/(\S+)\.jsonl")


def plans(output: str) -> dict[str, dict[str, str]]:
    """The printed plans: item -> {"namespaces": ..., "nodes": ...}, and "" -> the run's lines."""
    found: dict[str, dict[str, str]] = {}
    item = None
    for line in output.splitlines():
        if m := _ITEM.match(line):
            item = m.group(1)
            found[item] = {}
        elif (m := _PART.match(line)) and item is not None:
            found[item][m.group(1)] = m.group(2)
        elif line.startswith("kubedrill: the whole run:"):
            item = None
    return found


def namespace_pattern(described: str, run_id: str) -> re.Pattern:
    """``a fresh namespace kd-<run>-<name>-N`` in run ``run_id``, or ``the existing namespace NS``."""
    name = described.removeprefix("a fresh namespace ").removeprefix("the existing namespace ")
    text = re.escape(name).replace(re.escape("<run>"), re.escape(run_id))
    return re.compile(text[:-1] + r"\d+" if text.endswith("N") else text)


def _labelled(clients) -> set[str]:
    """Every namespace, pod, claim and volume kubedrill labelled, as "kind namespace/name"."""
    selector = f"{guard.MANAGED_BY}={guard.MANAGED_BY_VALUE}"
    core = clients.core
    found = {f"Namespace {n.metadata.name}" for n in core.list_namespace(label_selector=selector).items}
    found |= {f"Pod {p.metadata.namespace}/{p.metadata.name}"
              for p in core.list_pod_for_all_namespaces(label_selector=selector).items}
    found |= {f"PersistentVolumeClaim {c.metadata.namespace}/{c.metadata.name}"
              for c in core.list_persistent_volume_claim_for_all_namespaces(label_selector=selector).items}
    return found


def _lease(clients):
    leases = clients.coordination.list_namespaced_lease(
        guard.LOCK_NAMESPACE, field_selector=f"metadata.name={guard.LOCK_NAME}").items
    return leases[0] if leases else None


def test_plan_of_the_whole_drill_creates_nothing(drill, clients):
    before, lease_before = _labelled(clients), _lease(clients)
    d = drill("scenarios/", "--plan", "--require", "all")
    rc = d.run(limit_s=120)
    assert rc == 0, d.output[-6000:]
    run_id = _RUN.search(d.output).group(1)
    printed = plans(d.output)
    assert len(printed) >= 19 and all(p.get("namespaces", "").startswith("a fresh namespace kd-<run>-")
                                      for p in printed.values()), d.output[-6000:]
    assert f"workers: {clients.kind_cluster}-worker, {clients.kind_cluster}-worker2" in d.output
    # nothing of this run anywhere: no namespace, object, volume, cordon, lock or journal entry
    assert leftovers(clients, run_id, d.tmp / "state") == []
    assert not (d.tmp / "state" / "journal").exists()
    assert not (d.tmp / "reports" / "verdict").exists() and not (d.tmp / "reports" / "results.json").exists()
    # the cluster is shared: what other drills labelled may come and go, but none of it is this run's
    appeared = _labelled(clients) - before
    assert not [a for a in appeared if run_id in a], appeared
    lease = _lease(clients)
    if lease is not None:
        assert lease.spec.holder_identity != run_id
        if lease_before is not None and lease.spec.holder_identity == lease_before.spec.holder_identity:
            # renewed by the drill that holds it, or untouched; never taken over by the plan
            assert lease.spec.acquire_time == lease_before.spec.acquire_time


def test_plan_refuses_a_context_that_is_not_allowed_and_touches_nothing(drill, clients, tmp_path):
    kubeconfig = other_context(tmp_path, clients)
    d = drill(*SUBSET, "--plan", "--kubeconfig", str(kubeconfig), "--context", "staging")
    rc = d.run(limit_s=120)
    assert rc == 4, d.output[-4000:]
    assert "ERROR: kubedrill: --plan: the run would be refused: the cluster: context 'staging' is not the local " \
           "kind cluster" in d.output
    assert "--allow-context staging" in d.output
    assert len(plans(d.output)) == 2   # the plans are printed all the same
    assert not (d.tmp / "state" / "journal").exists()


def test_a_run_touches_only_the_namespaces_and_nodes_its_plan_listed(drill, clients):
    planned = drill(*SUBSET, "--plan")
    assert planned.run(limit_s=120) == 0, planned.output[-4000:]
    printed = plans(planned.output)
    assert set(printed) == {"scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod",
                            "scenarios/experiments/replication-controller-pod-deleted.yaml::"
                            "replication-controller-pod-deleted"}
    lock = f"Lease {guard.LOCK_NAMESPACE}/{guard.LOCK_NAME}"
    assert lock in planned.output
    workers = re.search(r"workers: (.*)$", planned.output, re.M).group(1).split(", ")

    # the real run, paused when its last entry (the drill lock's) is undone and not yet resolved:
    # its journal then holds every entry the run wrote (a clean end removes the file)
    d = drill(*SUBSET, "--seed", "7", "--alluredir=")
    d.start(pause_at=f"resolve:{undo.RELEASE_LEASE}")
    _, run_id = d.wait_paused()
    lines = [json.loads(line) for line in (d.tmp / "state" / "journal" / f"{run_id}.jsonl").read_text().splitlines()]
    d.resume()
    d.finish()
    assert (d.tmp / "reports" / "results.json").is_file(), d.output[-6000:]
    assert leftovers(clients, run_id, d.tmp / "state") == []

    intents = [line for line in lines if line["op"] == "intent"]
    assert intents, lines
    touched_ns, touched_nodes = set(), set()
    for e in intents:
        args = e["undo"]["args"]
        if e["undo"]["action"] == journal.RELEASE_LEASE:
            assert f"Lease {args['namespace']}/{args['name']}" == lock
            continue
        touched_ns |= {args["namespace"]} if "namespace" in args else set()
        touched_ns |= set(re.findall(rf"kd-{re.escape(run_id)}-[a-z0-9-]*[a-z0-9]", e["what"]))
        touched_nodes |= {args[k] for k in ("node", "container") if k in args}
    patterns = {item: namespace_pattern(p["namespaces"], run_id) for item, p in printed.items()}
    for ns in touched_ns:
        assert any(p.fullmatch(ns) for p in patterns.values()), (ns, printed)
    for item, p in patterns.items():   # every namespace the plan listed is one the run made
        assert any(p.fullmatch(ns) for ns in touched_ns), (item, touched_ns)
    # nodes: only where a plan said it would touch one, and only the workers the plan read
    if touched_nodes:
        assert any(p.get("nodes") != "none" for p in printed.values()), (touched_nodes, printed)
        assert touched_nodes <= set(workers)
    assert all(p.get("nodes") == "none" for p in printed.values()) and touched_nodes == set()
