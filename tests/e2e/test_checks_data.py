"""The StatefulSet scenario's data check fails, for the right reason (issue 13): the user-facing
scenario of scenarios/test_statefulset.py runs unchanged, against setups each broken in one
fixture (tests/e2e/drills), in one drill run (a pytest subprocess) that also runs it unbroken,
which must pass (the experiment's records check: tests/e2e/test_experiments.py):

- a writer that stores a record twice (drill_duplicated_records.py): "data lost", the record
  named as stored more than once, never "records 1–50 intact";
- StatefulSet volumes swapped between db-0 and db-1 (drill_swapped_volumes.py): "data lost",
  naming db-1 as the writer of the records in db-0's volume.

The run exits with the code of its worst class ("data lost") and writes it to reports/verdict.
"""

from __future__ import annotations

import json

import pytest

from kubedrill.report.results import DATA_LOST, EXIT_CODES
from tests.e2e.conftest import NO_ALLURE, Drill, leftovers, unbroken_passed

pytestmark = pytest.mark.e2e

ALL = "test_all_pods_killed_come_back_in_order_with_all_their_data"
UNBROKEN = (f"scenarios/test_statefulset.py::{ALL}",)
DUPLICATED = f"tests/e2e/drills/drill_duplicated_records.py::{ALL}"
SWAPPED = f"tests/e2e/drills/drill_swapped_volumes.py::{ALL}"


@pytest.fixture(scope="module")
def ran(tmp_path_factory, clients):
    """One run: the scenario unbroken first, then the two broken variants."""
    tmp = tmp_path_factory.mktemp("checks-data")
    d = Drill(tmp, [*UNBROKEN, DUPLICATED, SWAPPED, NO_ALLURE], {})
    rc = d.run()
    path = tmp / "reports" / "results.json"
    if not path.exists():
        pytest.fail(f"the drill run did not report (exit {rc}):\n{d.output[-4000:]}", pytrace=False)
    results = json.loads(path.read_text())
    rows = {r["scenario"]: r for r in results["scenarios"]}
    verdict = (tmp / "reports" / "verdict").read_text().strip() if (tmp / "reports" / "verdict").exists() else None
    yield rc, d.output, rows, verdict
    assert leftovers(clients, results["run_id"]) == []


def _row(ran, nodeid):
    rc, output, rows, verdict = ran
    assert nodeid in rows, (sorted(rows), output[-6000:])
    assert rc == EXIT_CODES[DATA_LOST], output[-6000:]
    assert verdict == f"{EXIT_CODES[DATA_LOST]} {DATA_LOST}", verdict
    return rows[nodeid]


def test_the_statefulset_scenario_unbroken_passes(ran):
    _, output, rows, _ = ran
    for nodeid in UNBROKEN:
        unbroken_passed(rows[nodeid], output)
    assert rows[UNBROKEN[0]]["rpo"] == {"records_lost": 0, "seconds_lost": 0.0}


def test_a_record_stored_twice_is_data_lost(ran):
    row = _row(ran, DUPLICATED)
    assert row["verdict"] == DATA_LOST, row
    assert row["reason"] == "records 10 stored more than once (1 extra copy)", row["reason"]


def test_a_volume_holding_another_pods_records_is_data_lost_naming_that_pod(ran):
    row = _row(ran, SWAPPED)
    assert row["verdict"] == DATA_LOST, row
    assert row["reason"] == "data lost: records 1–50 missing; records 1–50 written by db-1, not db-0", row["reason"]
    assert row["rpo"]["records_lost"] == 50, row["rpo"]
