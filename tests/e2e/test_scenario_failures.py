"""The checks of the replica, StatefulSet and PV scenarios fail, and for the right reason
(issue 5). Each scenario runs, unchanged, against a deliberately broken setup (the drills in
tests/e2e/drills override one fixture each) in one pytest run of its own; each must fail with
its stated reason and verdict class. A timeout never counts as the expected reason."""

import json
import re

import pytest

from tests.e2e.conftest import NO_ALLURE, Drill, leftovers

pytestmark = pytest.mark.e2e

SLOW = "scenarios/test_replicas.py::test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]"
EMPTYDIR = "tests/e2e/drills/drill_emptydir.py::test_all_pods_killed_come_back_in_order_with_all_their_data"
NO_PODS = ("tests/e2e/drills/drill_no_pods_allowed.py::"
           "test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]")
DELETE_CLASS = "tests/e2e/drills/drill_delete_class.py::test_a_retained_volume_binds_to_a_new_claim_with_its_data"


@pytest.fixture(scope="module")
def broken(tmp_path_factory, clients):
    """One run of the four broken variants (one drill lock, one start-up)."""
    tmp = tmp_path_factory.mktemp("broken")
    d = Drill(tmp, [SLOW, EMPTYDIR, NO_PODS, DELETE_CLASS, "--objective", "pod_delete_one_rto_s=0.01", NO_ALLURE], {})
    rc = d.run()
    if not (tmp / "reports" / "results.json").exists():
        pytest.fail(f"the broken variants did not run (exit {rc}):\n{d.output[-4000:]}", pytrace=False)
    results = json.loads((tmp / "reports" / "results.json").read_text())
    rows = {r["scenario"]: r for r in results["scenarios"]}
    yield rc, d.output, rows, results
    assert leftovers(clients, results["run_id"]) == []


def _row(broken, nodeid):
    rc, output, rows, _ = broken
    assert rc == 10, output[-6000:]   # the worst of the four: data lost
    assert nodeid in rows, (sorted(rows), output[-6000:])
    row = rows[nodeid]
    assert "timed out" not in row["reason"], row["reason"]
    return row, output


def test_an_emptydir_where_a_claim_belongs_loses_the_data(broken):
    row, _ = _row(broken, EMPTYDIR)
    assert row["verdict"] == "data lost", row
    assert row["reason"] == "data lost: records 1–5 missing", row["reason"]


def test_a_controller_that_cannot_bring_its_pods_back_names_them(broken):
    row, output = _row(broken, NO_PODS)
    assert row["verdict"] == "not recovered", row
    # the last of the two [Deployment-one] kills: SLOW's runs first (the order the run is given)
    killed = re.findall(r"\[Deployment-one\]\] killed 1 pod\(s\) of web: (web-[\w-]+)", output)[-1]
    assert row["reason"].startswith("Deployment web cannot bring its pods back: "
                                    f"waited for replacements of {killed}"), row["reason"]
    assert "FailedCreate" in row["reason"] and "exceeded quota" in row["reason"], row["reason"]


def test_a_recovery_slower_than_its_objective_names_both(broken):
    row, _ = _row(broken, SLOW)
    assert row["verdict"] == "objective missed", row
    m = re.match(r"RTO (\d+\.\d+)s misses the objective pod_delete_one_rto_s \(at most 0\.01s\) "
                 r"\[replicas\.delete-rto\]$", row["reason"])
    assert m, row["reason"]
    assert abs(float(m.group(1)) - row["rto_s"]) < 0.01 and row["rto_s"] > 0.01


def test_a_delete_class_where_retention_was_expected_says_pv_deleted(broken):
    row, _ = _row(broken, DELETE_CLASS)
    assert row["verdict"] == "data lost", row
    assert row["reason"].startswith("PV deleted: pvc-"), row["reason"]
    assert "retention was expected" in row["reason"]
