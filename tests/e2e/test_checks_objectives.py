"""The objective checks fail: the user-facing scenarios, unchanged, run with their objectives set
beyond anything a recovery can reach (``--objective NAME=VALUE``, the objectives fixture's own
option). Each row must be "objective missed" and name its check (docs/checks.md); the run exits 1
and reports/verdict says so. All in one drill run.

- RTO objectives of 1 ms: the plumbing, container-kill and StatefulSet scenarios, and the
  StatefulSet experiment held to ``statefulset_pod_rto_s`` by name.
- Availability and outage: a check is reached only when the checks before it pass, so the
  objectives before the one under test are set loose in the same run (an RTO of 60 s, an
  availability of 0.001) and the one under test beyond reach: containers killed in all pods of a
  Deployment always fail requests (availability 0.999 is missed); killed in half of them, the
  outage is never under 10 ms. API deletion of the only pod of a one-replica Deployment whose pods
  become Ready 3 s after they start (drills/drill_one_slow_replica.py) does the same for the
  deletion cases."""

import json

import pytest

from tests.e2e.conftest import NO_ALLURE, Drill, leftovers

pytestmark = pytest.mark.e2e

PLUMBING = "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod"
KILL = "scenarios/test_replicas.py::test_containers_killed_in_place_restart_in_the_same_pods[Deployment-one]"
STATEFUL = "scenarios/experiments/statefulset-pod-deleted.yaml::statefulset-pod-deleted"
STATEFUL_ALL = "scenarios/test_statefulset.py::test_all_pods_killed_come_back_in_order_with_all_their_data"
KILL_ALL = "scenarios/test_replicas.py::test_containers_killed_in_place_restart_in_the_same_pods[Deployment-all]"
KILL_HALF = "scenarios/test_replicas.py::test_containers_killed_in_place_restart_in_the_same_pods[Deployment-half]"
ONE_REPLICA = "tests/e2e/drills/drill_one_slow_replica.py::test_pods_deleted_through_the_api_are_replaced_by_new_pods"
DELETE_ONE, DELETE_HALF = f"{ONE_REPLICA}[Deployment-one]", f"{ONE_REPLICA}[Deployment-half]"
OBJECTIVES = {
    "pod_kill_rto_s": 0.001, "container_kill_one_rto_s": 0.001, "statefulset_pod_rto_s": 0.001,
    "statefulset_all_rto_s": 0.001,
    # availability: every check before it loose
    "container_kill_all_rto_s": 60, "container_kill_all_availability": 0.999,
    "pod_delete_one_rto_s": 60, "pod_delete_one_availability": 0.999,
    # outage: every check before it loose
    "container_kill_half_rto_s": 60, "container_kill_half_availability": 0.001, "container_kill_half_outage_s": 0.01,
    "pod_delete_half_rto_s": 60, "pod_delete_half_availability": 0.001, "pod_delete_half_outage_s": 0.01,
}
TOO_FAST = [a for name, value in OBJECTIVES.items() for a in ("--objective", f"{name}={value}")]


@pytest.fixture(scope="module")
def missed(tmp_path_factory, clients):
    tmp = tmp_path_factory.mktemp("objectives")
    d = Drill(tmp, [PLUMBING, KILL, STATEFUL, STATEFUL_ALL, KILL_ALL, KILL_HALF, DELETE_ONE, DELETE_HALF, *TOO_FAST, NO_ALLURE], {})
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
    assert "verdict: objective missed (exit 1;" in output
    assert {r["verdict"] for r in rows.values()} == {"objective missed"}, rows


@pytest.mark.parametrize("nodeid, check", [(PLUMBING, "plumbing.rto"), (KILL, "replicas.kill-rto"),
                                           (STATEFUL, "experiment.rto"),
                                           (STATEFUL_ALL, "statefulset.all-rto")])
def test_an_rto_objective_below_any_recovery_is_missed(missed, nodeid, check):
    _, output, rows, _ = missed
    row = rows[nodeid]
    assert row["verdict"] == "objective missed", row
    assert f"[{check}]" in row["reason"], row["reason"]
    assert row["rto_s"] is not None and row["rto_s"] > 0.001, row


@pytest.mark.parametrize("nodeid, check, what", [
    (KILL_ALL, "replicas.kill-availability", "availability"), (DELETE_ONE, "replicas.delete-availability", "availability"),
    (KILL_HALF, "replicas.kill-outage", "longest outage"), (DELETE_HALF, "replicas.delete-outage", "longest outage")])
def test_an_availability_or_outage_objective_beyond_reach_is_missed(missed, nodeid, check, what):
    _, output, rows, _ = missed
    row = rows[nodeid]
    assert row["verdict"] == "objective missed", row
    assert f"[{check}]" in row["reason"], row["reason"]
    assert what in row["reason"], row["reason"]
