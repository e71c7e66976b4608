"""Exit codes for gates: one drill run per verdict class, each a user-facing scenario run as a user
runs it (a pytest subprocess), unbroken or with one fixture overridden (tests/e2e/drills). Each
run must exit with its class's code, say it in reports/verdict, and give the scenario's row of
results.json that class.

    data lost 10 · not recovered 12 · fault not injected 13 · not applicable 14 · harness error 15

Passed (0) is tests/e2e/test_plumbing.py's unbroken run; objective missed (1) is tests/e2e/test_checks_objectives.py's run; identity lost (11) is
tests/e2e/test_node_loss.py::test_a_drain_whose_replacement_is_not_pending_loses_its_identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import NO_ALLURE, OTHER_CONTEXT, Drill, other_context

pytestmark = pytest.mark.e2e

FAULT_DOES_NOTHING = "tests/e2e/drills/drill_fault_does_nothing.py::test_deployment_replaces_a_killed_pod"
FAULT_DOES_NOTHING_REPLICAS = ("tests/e2e/drills/drill_fault_does_nothing.py::"
                               "test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]")
IMAGE_MISSING = "tests/e2e/drills/drill_image_missing.py::test_deployment_replaces_a_killed_pod"
EMPTYDIR = "tests/e2e/drills/drill_emptydir.py::test_all_pods_killed_come_back_in_order_with_all_their_data"
NO_PODS = ("tests/e2e/drills/drill_no_pods_allowed.py::"
           "test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]")
NODE_STOP = ("scenarios/test_node_loss.py::"
             "test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data")


@dataclass
class Ran:
    rc: int
    verdict: str        # reports/verdict
    row: dict           # the scenario's row of results.json
    output: str


def run_one(tmp: Path, clients, nodeid: str, *args: str) -> Ran:
    tmp.mkdir(parents=True, exist_ok=True)
    done = Drill(tmp, [nodeid, *args, NO_ALLURE], {}).run_clean(clients)
    assert nodeid in done.rows, (sorted(done.rows), done.output[-4000:])
    return Ran(done.rc, done.verdict, done.rows[nodeid], done.output)


def expect(ran: Ran, code: int, verdict: str) -> dict:
    assert (ran.rc, ran.row["verdict"]) == (code, verdict), (ran.row, ran.output[-6000:])
    assert ran.verdict == f"{code} {verdict}\n"
    assert f"verdict: {verdict} (exit {code};" in ran.output
    return ran.row


def test_an_emptydir_where_a_claim_belongs_exits_10_data_lost(tmp_path, clients):
    row = expect(run_one(tmp_path, clients, EMPTYDIR), 10, "data lost")
    assert "records 1–5 missing" in row["reason"], row["reason"]


def test_a_controller_that_cannot_recreate_its_pods_exits_12_not_recovered(tmp_path, clients):
    row = expect(run_one(tmp_path, clients, NO_PODS), 12, "not recovered")
    assert "cannot bring its pods back" in row["reason"], row["reason"]


@pytest.fixture(scope="module")
def did_nothing(tmp_path_factory, clients):
    """One run: the two scenarios whose fault picks its victims and deletes none (an experiment's
    method that disturbs no workload: tests/e2e/experiments/fault-misses-the-workload.yaml)."""
    tmp = tmp_path_factory.mktemp("fault-does-nothing")
    return Drill(tmp, [FAULT_DOES_NOTHING, FAULT_DOES_NOTHING_REPLICAS, NO_ALLURE], {}).run_clean(clients)


@pytest.mark.parametrize("nodeid, check", [
    (FAULT_DOES_NOTHING, "plumbing.killed-pod-gone"),
    (FAULT_DOES_NOTHING_REPLICAS, "replicas.killed-pods-gone")], ids=["plumbing", "replicas"])
def test_a_fault_that_does_nothing_exits_13(did_nothing, nodeid, check):
    assert nodeid in did_nothing.rows, (sorted(did_nothing.rows), did_nothing.output[-4000:])
    row = expect(Ran(did_nothing.rc, did_nothing.verdict, did_nothing.rows[nodeid], did_nothing.output),
                 13, "fault not injected")
    assert f"[{check}]" in row["reason"], row["reason"]


def test_an_image_that_does_not_exist_is_a_harness_error_before_the_fault_exits_15(tmp_path, clients):
    # the deploy wait would take its full 180 s: scaled down, it still ends in a timeout
    ran = run_one(tmp_path, clients, IMAGE_MISSING, "--timeout-scale", "0.25")
    row = expect(ran, 15, "harness error")
    assert row["reason"].startswith("before the fault: ") and row["rto_s"] is None, row["reason"]
    assert "phase injecting the fault" not in ran.output



@pytest.mark.parametrize("require", [False, True], ids=["skipped", "required"])
def test_a_scenario_this_cluster_cannot_run_exits_14_not_applicable_with_the_reason(tmp_path, clients, require):
    kubeconfig = other_context(tmp_path, clients)
    args = ["--kubeconfig", str(kubeconfig), "--context", OTHER_CONTEXT, "--allow-context", OTHER_CONTEXT]
    ran = run_one(tmp_path / "run", clients, NODE_STOP, *args, *(["--require", "node-stop"] if require else []))
    row = expect(ran, 14, "not applicable")
    assert row["reason"].startswith("not applicable: node-stop not available" if require else
                                    "node-stop not available"), row["reason"]
    assert f"context {OTHER_CONTEXT} is not the local kind cluster" in row["reason"], row["reason"]
