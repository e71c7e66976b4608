"""The identity and order checks of the StatefulSet scenarios, and the checks of the retained
volume scenario, fail for the right reason (issue 13): the user-facing scenarios of
scenarios/test_statefulset.py and scenarios/test_persistent_volumes.py run unchanged, each against
a setup broken in one fixture (tests/e2e/drills), in one drill run (a pytest subprocess) that also
runs the retained-volume scenario unbroken, which must pass (both StatefulSet scenarios run
unbroken in tests/e2e/test_checks_data.py; the experiment of one pod deleted, its names and
claims checked by experiment.identity, in tests/e2e/test_experiments.py):

- the killed pods' claims deleted with them (drill_statefulset_claims_deleted.py): new claims,
  new UIDs, "statefulset.all-claims-kept";
- ``podManagementPolicy: Parallel`` with db-0 starting only once db-1 is Ready
  (drill_statefulset_ready_out_of_order.py): "statefulset.ready-in-order";
- ``podManagementPolicy: Parallel`` with the Ready order right but db-1 created before db-0 was
  Ready (drill_statefulset_created_together.py): "statefulset.created-after-previous-ready";
- the fault deleting another claim of the Retain class (drill_pv_other_claim_deleted.py):
  "persistent_volumes.released-is-the-retained-pv";
- a rebind whose claim has no volumeName and gets a fresh volume (drill_pv_fresh_volume.py):
  "persistent_volumes.rebound-same-volume";
- the retained volume's directory emptied once Released (drill_pv_wiped.py): "data lost".

The identity variants end "identity lost"; the run exits with the code of its worst class
("data lost") and writes it to reports/verdict, and leaves nothing behind. It writes no Allure
results (``--alluredir=`` given empty, after the one Drill gives): what is tested here is each row
of results.json, and without Allure no failed scenario collects its cluster diagnostics (kind's
log export among them, about 12 s each).
"""

from __future__ import annotations

import pytest

from kubedrill.report.results import DATA_LOST, EXIT_CODES, IDENTITY_LOST
from tests.e2e.conftest import NO_ALLURE, Drill, unbroken_passed

pytestmark = pytest.mark.e2e

ALL = "test_all_pods_killed_come_back_in_order_with_all_their_data"
RETAINED = "test_a_retained_volume_binds_to_a_new_claim_with_its_data"
DRILLS = "tests/e2e/drills"
UNBROKEN = f"scenarios/test_persistent_volumes.py::{RETAINED}"
CLAIMS_DELETED = f"{DRILLS}/drill_statefulset_claims_deleted.py::{ALL}"
READY_OUT_OF_ORDER = f"{DRILLS}/drill_statefulset_ready_out_of_order.py::{ALL}"
CREATED_TOGETHER = f"{DRILLS}/drill_statefulset_created_together.py::{ALL}"
OTHER_CLAIM = f"{DRILLS}/drill_pv_other_claim_deleted.py::{RETAINED}"
FRESH_VOLUME = f"{DRILLS}/drill_pv_fresh_volume.py::{RETAINED}"
WIPED = f"{DRILLS}/drill_pv_wiped.py::{RETAINED}"
RUN = (UNBROKEN, CLAIMS_DELETED, READY_OUT_OF_ORDER, CREATED_TOGETHER,
       OTHER_CLAIM, FRESH_VOLUME, WIPED)


@pytest.fixture(scope="module")
def ran(tmp_path_factory, clients):
    """One run: the retained-volume scenario unbroken first, then every broken variant."""
    done = Drill(tmp_path_factory.mktemp("checks-statefulset"), [*RUN, NO_ALLURE], {}).run_clean(clients)
    assert sorted(done.rows) == sorted(RUN), done.output[-6000:]
    assert (done.rc, done.verdict) == (EXIT_CODES[DATA_LOST], f"{EXIT_CODES[DATA_LOST]} {DATA_LOST}\n"), \
        done.output[-6000:]
    return done


def _failed(ran, nodeid: str, verdict: str, check_id: str) -> str:
    row = ran.rows[nodeid]
    assert row["verdict"] == verdict, (row, ran.output[-6000:])
    assert row["reason"].endswith(f" [{check_id}]"), row["reason"]
    return row["reason"]


def test_the_retained_volume_scenario_unbroken_passes(ran):
    row = ran.rows[UNBROKEN]
    unbroken_passed(row, ran.output)


def test_all_pods_back_with_new_claims_are_identity_lost(ran):
    reason = _failed(ran, CLAIMS_DELETED, IDENTITY_LOST, "statefulset.all-claims-kept")
    assert reason.startswith("a pod came back with another claim (PVC UID changed): {'db-0': "), reason


def test_replacements_ready_out_of_ordinal_order_are_identity_lost(ran):
    reason = _failed(ran, READY_OUT_OF_ORDER, IDENTITY_LOST, "statefulset.ready-in-order")
    assert reason.startswith("Ready out of order: (('db-1', "), reason


def test_a_replacement_created_before_the_previous_one_was_ready_is_identity_lost(ran):
    reason = _failed(ran, CREATED_TOGETHER, IDENTITY_LOST, "statefulset.created-after-previous-ready")
    assert reason.startswith("db-1 was created ") and "after the fault, before db-0 was Ready (" in reason, reason


def test_another_volume_released_in_place_of_the_retained_one_is_identity_lost(ran):
    reason = _failed(ran, OTHER_CLAIM, IDENTITY_LOST, "persistent_volumes.released-is-the-retained-pv")
    assert reason.startswith("released pvc-") and " (Retain), not the retained pvc-" in reason, reason


def test_a_claim_bound_to_a_fresh_volume_is_identity_lost(ran):
    reason = _failed(ran, FRESH_VOLUME, IDENTITY_LOST, "persistent_volumes.rebound-same-volume")
    assert reason.startswith("bound pvc-") and ", not the retained pvc-" in reason, reason


def test_a_retained_volume_emptied_on_release_is_data_lost(ran):
    row = ran.rows[WIPED]
    assert row["verdict"] == DATA_LOST, (row, ran.output[-6000:])
    assert row["reason"] == "data lost: records 1–5 missing", row["reason"]
