"""The same experiment file under Chaos Toolkit's own ``chaos run``, with kubedrill's control
(kubedrill.ctk.control) declared in it, on the real cluster: examples/shop's experiments pass
(exit 0, kubedrill's verdict and figures in the Chaos Toolkit journal); its variant aimed at a
namespace the run may not drill exits 1 having changed nothing (no namespace, object, lease
change or journal entry); its slow variant exits 1 with the objectives and the measured RTO in
the journal."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubedrill import guard
from kubedrill import journal as kjournal
from tests.e2e.conftest import ROOT, leftovers, new_state_dir

pytestmark = pytest.mark.e2e

CHAOS = Path(sys.executable).with_name("chaos")
SHOP = ROOT / "examples" / "shop"
BROKEN = ROOT / "tests" / "e2e" / "experiments"
NOT_ALLOWED = "kd-e2e-not-allowed"   # tests/e2e/experiments/namespace-not-allowed.yaml


def chaos_run(tmp: Path, experiment: Path, limit_s: float = 900) -> tuple[int, dict, str, Path]:
    """``chaos run`` of ``experiment`` as a Chaos Toolkit user types it: (exit code, journal, output, state dir)."""
    state = tmp / "state"
    state.symlink_to(new_state_dir())
    journal = tmp / "journal.json"
    # the chaos CLI imports kubedrill's control from this checkout
    env = {**os.environ, "KUBEDRILL_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(CHAOS), "--log-file", str(tmp / "chaostoolkit.log"), "run", "--journal-path",
                           str(journal), str(experiment)], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=limit_s)
    out = proc.stdout + proc.stderr
    assert journal.is_file(), f"exit {proc.returncode}, no journal:\n{out[-4000:]}"
    return proc.returncode, json.loads(journal.read_text()), out, state


def _lease(clients):
    found = clients.coordination.list_namespaced_lease(
        guard.LOCK_NAMESPACE, field_selector=f"metadata.name={guard.LOCK_NAME}").items
    return (found[0].metadata.resource_version, found[0].spec.holder_identity) if found else None


@pytest.mark.parametrize("name", ["kill-web", "restore-db"])
def test_the_shops_experiments_pass_under_chaos_run(name, clients, tmp_path):
    rc, journal, out, state = chaos_run(tmp_path, SHOP / f"{name}.yaml")
    kd = journal.get("kubedrill")
    assert rc == 0 and journal["status"] == "completed" and kd["verdict"] == "passed", (rc, kd, out[-4000:])
    assert kd["rto_s"] > 0 and kd["namespace"].startswith(f"kd-{kd['run_id']}"), kd
    assert kd["objectives"] and all(o["met"] and o["measured"] is not None for o in kd["objectives"]), kd
    assert "rto_s" in {o["name"] for o in kd["objectives"]}, kd
    if name == "kill-web":   # the prober's figures, held to the experiment's availability objective
        assert 0.5 <= kd["availability"]["success_ratio"] <= 1, kd
        assert {"rto_s", "availability", "deployment_web_rto_s"} <= {o["name"] for o in kd["objectives"]}, kd
    # every activity of the method ran, in the namespace kubedrill made (the experiment's ns)
    assert [r["status"] for r in journal["run"]] == ["succeeded"] * len(journal["run"]) and journal["run"], journal
    assert f"[{name}] namespace {kd['namespace']}" in out, out[-4000:]
    assert leftovers(clients, kd["run_id"], state) == []


def test_a_namespace_the_run_may_not_drill_exits_1_and_changes_nothing(clients, tmp_path):
    lease = _lease(clients)
    namespaces_before = {n.metadata.name for n in clients.core.list_namespace().items}
    rc, journal, out, state = chaos_run(tmp_path, BROKEN / "namespace-not-allowed.yaml")
    kd = journal.get("kubedrill")
    assert rc == 1 and journal["status"] == "failed", (rc, journal["status"], out[-4000:])
    assert kd["verdict"] == "harness error", kd
    assert f"refusing to drill namespace '{NOT_ALLOWED}'" in kd["reason"], kd
    # nothing ran, nothing was made, the lock was never taken, no journal was written
    assert journal.get("run") in (None, []) and not (journal.get("steady_states") or {}).get("before"), journal
    assert {n.metadata.name for n in clients.core.list_namespace().items} == namespaces_before
    assert _lease(clients) == lease
    assert kjournal.journals(state / "journal") == () and not (state / "journal").exists()
    assert clients.core.list_namespaced_pod(NOT_ALLOWED).items == []


def test_a_slow_recovery_exits_1_with_the_objective_and_the_measured_rto(clients, tmp_path):
    rc, journal, out, state = chaos_run(tmp_path, BROKEN / "slow-readiness.yaml")
    kd = journal.get("kubedrill")
    assert rc == 1 and journal["status"] == "failed", (rc, journal["status"], out[-4000:])
    assert kd["verdict"] == "objective missed", kd
    assert "misses the objective deployment_web_rto_s (at most 4s)" in kd["reason"], kd
    rto = {o["name"]: o for o in kd["objectives"]}["rto_s"]
    assert rto["limit"] == 4 and rto["measured"] == kd["rto_s"] > 4 and rto["met"] is False, kd
    # Chaos Toolkit's own run completed: only kubedrill's verdict failed it
    assert journal["deviated"] is False and [r["status"] for r in journal["run"]] == ["succeeded"], journal
    assert leftovers(clients, kd["run_id"], state) == []
