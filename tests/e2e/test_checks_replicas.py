"""The checks of the plumbing and replica scenarios fail, and for the right reason (issue 13): the
user-facing scenarios of scenarios/test_plumbing.py and scenarios/test_replicas.py run unchanged,
each against a setup broken in one fixture (tests/e2e/drills), in one drill run (a pytest
subprocess) that also runs both replica scenarios unbroken (one pod of a Deployment), which must
pass (the plumbing scenario runs unbroken in tests/e2e/test_plumbing.py):

- a fault that kills a pod of another Deployment (drill_plumbing_other_victim.py): "fault not
  injected", the victim not a pod of the workload;
- a Deployment scaled up by one during the fault (drill_replicas_scaled_up.py): "not recovered",
  one new pod more than pods killed, in both the plumbing and the replica scenario;
- a container kill that also replaces another pod of the workload
  (drill_replicas_other_pod_replaced.py): "identity lost", the pods are not the same;
- a container killed twice (drill_replicas_killed_twice.py): "fault not injected", restarted
  twice, not once.

The run exits with the code of its worst class ("identity lost") and writes it to reports/verdict.
It writes no Allure results (``--alluredir=`` given empty, after the one Drill gives): what is
tested here is each row of results.json, and without Allure no failed scenario collects its
cluster diagnostics (kind's log export among them, about 12 s each); the reports have their own
tests (tests/e2e/test_reports.py).
"""

from __future__ import annotations

import json

import pytest

from kubedrill.report.results import EXIT_CODES, FAULT_NOT_INJECTED, IDENTITY_LOST, NOT_RECOVERED
from tests.e2e.conftest import NO_ALLURE, Drill, leftovers, unbroken_passed

pytestmark = pytest.mark.e2e

PLUMBING = "test_deployment_replaces_a_killed_pod"
DELETED = "test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]"
KILLED = "test_containers_killed_in_place_restart_in_the_same_pods[Deployment-one]"
DRILLS = "tests/e2e/drills"
UNBROKEN = (f"scenarios/test_replicas.py::{DELETED}", f"scenarios/test_replicas.py::{KILLED}")
OTHER_VICTIM = f"{DRILLS}/drill_plumbing_other_victim.py::{PLUMBING}"
SCALED_UP = f"{DRILLS}/drill_replicas_scaled_up.py::{PLUMBING}"
SCALED_UP_DELETED = f"{DRILLS}/drill_replicas_scaled_up.py::{DELETED}"
OTHER_POD_REPLACED = f"{DRILLS}/drill_replicas_other_pod_replaced.py::{KILLED}"
KILLED_TWICE = f"{DRILLS}/drill_replicas_killed_twice.py::{KILLED}"
WORST = IDENTITY_LOST


@pytest.fixture(scope="module")
def ran(tmp_path_factory, clients):
    """One run: both replica scenarios unbroken first, then the five broken variants."""
    tmp = tmp_path_factory.mktemp("checks-replicas")
    d = Drill(tmp, [*UNBROKEN, OTHER_VICTIM, SCALED_UP, SCALED_UP_DELETED, OTHER_POD_REPLACED, KILLED_TWICE,
                   NO_ALLURE], {})
    rc = d.run()
    path = tmp / "reports" / "results.json"
    if not path.exists():
        pytest.fail(f"the drill run did not report (exit {rc}):\n{d.output[-4000:]}", pytrace=False)
    results = json.loads(path.read_text())
    rows = {r["scenario"]: r for r in results["scenarios"]}
    verdict = (tmp / "reports" / "verdict").read_text().strip() if (tmp / "reports" / "verdict").exists() else None
    yield rc, d.output, rows, verdict
    assert leftovers(clients, results["run_id"]) == []


def test_the_run_exits_with_its_worst_class_identity_lost(ran):
    rc, output, rows, verdict = ran
    assert rc == EXIT_CODES[WORST], output[-6000:]
    assert verdict == f"{EXIT_CODES[WORST]} {WORST}", verdict


def test_the_replica_scenarios_unbroken_pass(ran):
    _, output, rows, _ = ran
    for nodeid in UNBROKEN:
        unbroken_passed(rows[nodeid], output)


def _failed(ran, nodeid: str, verdict: str, check: str) -> dict:
    _, output, rows, _ = ran
    assert nodeid in rows, (sorted(rows), output[-6000:])
    row = rows[nodeid]
    assert row["verdict"] == verdict, row
    assert f"[{check}]" in row["reason"], row["reason"]
    return row


def test_a_fault_that_kills_another_workloads_pod_is_not_injected(ran):
    row = _failed(ran, OTHER_VICTIM, FAULT_NOT_INJECTED, "plumbing.victim-was-ours")
    assert "were not pods of web" in row["reason"], row["reason"]


def test_a_deployment_scaled_up_during_the_fault_has_one_replacement_too_many(ran):
    row = _failed(ran, SCALED_UP, NOT_RECOVERED, "plumbing.one-replacement")
    assert "expected exactly one replacement pod" in row["reason"], row["reason"]


def test_a_deployment_scaled_up_during_the_deletion_has_more_new_pods_than_pods_killed(ran):
    row = _failed(ran, SCALED_UP_DELETED, NOT_RECOVERED, "replicas.replacements")
    assert "expected 1 replacement pod(s) with new UIDs, found 2" in row["reason"], row["reason"]


def test_a_container_kill_that_replaces_another_pod_loses_the_identity(ran):
    row = _failed(ran, OTHER_POD_REPLACED, IDENTITY_LOST, "replicas.same-pods")
    assert "pods were replaced, not restarted in place" in row["reason"], row["reason"]


def test_a_container_killed_twice_is_not_the_fault_injected(ran):
    row = _failed(ran, KILLED_TWICE, FAULT_NOT_INJECTED, "replicas.restarted-once")
    assert "restart exactly once" in row["reason"], row["reason"]
