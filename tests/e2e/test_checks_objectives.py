"""The objective checks fail: the user-facing scenarios, unchanged, run with their objectives set
below anything a recovery can reach (``--objective NAME=VALUE``, the objectives fixture's own
option). Each row must be "objective missed", name its check (docs/checks.md) and carry the
measured RTO; the run exits 1 and reports/verdict says so."""

import json

import pytest

from tests.e2e.conftest import Drill, leftovers

pytestmark = pytest.mark.e2e

PLUMBING = "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod"
KILL = "scenarios/test_replicas.py::test_containers_killed_in_place_restart_in_the_same_pods[ReplicationController-one]"
STATEFUL = "scenarios/test_statefulset.py::test_a_killed_pod_comes_back_with_its_name_claim_and_data"
TOO_FAST = ["--objective", "pod_kill_rto_s=0.001", "--objective", "container_kill_one_rto_s=0.001",
            "--objective", "statefulset_pod_rto_s=0.001"]


@pytest.fixture(scope="module")
def missed(tmp_path_factory, clients):
    tmp = tmp_path_factory.mktemp("objectives")
    d = Drill(tmp, [PLUMBING, KILL, STATEFUL, *TOO_FAST], {})
    rc = d.run()
    results_file = tmp / "reports" / "results.json"
    if not results_file.exists():
        pytest.fail(f"the scenarios did not run (exit {rc}):\n{d.output[-4000:]}", pytrace=False)
    results = json.loads(results_file.read_text())
    yield rc, d.output, {r["scenario"]: r for r in results["scenarios"]}, tmp
    assert leftovers(clients, results["run_id"]) == []


def test_the_run_exits_1_and_says_objective_missed(missed):
    rc, output, rows, tmp = missed
    assert rc == 1, output[-4000:]
    assert (tmp / "reports" / "verdict").read_text() == "1 objective missed\n"
    assert {r["verdict"] for r in rows.values()} == {"objective missed"}, rows


@pytest.mark.parametrize("nodeid, check", [(PLUMBING, "plumbing.rto"), (KILL, "replicas.kill-rto"),
                                           (STATEFUL, "statefulset.pod-rto")])
def test_an_rto_objective_below_any_recovery_is_missed(missed, nodeid, check):
    _, output, rows, _ = missed
    row = rows[nodeid]
    assert row["verdict"] == "objective missed", row
    assert f"[{check}]" in row["reason"], row["reason"]
    assert row["rto_s"] is not None and row["rto_s"] > 0.001, row
