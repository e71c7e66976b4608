"""Broken on purpose (issue 13): the all-pods StatefulSet scenario on a StatefulSet with
``podManagementPolicy: Parallel`` whose replacements become Ready in ordinal order but are
created together (drill_statefulset_gates.py): db-0 starts only once db-1 exists, db-1 only once
db-0 is Ready. db-0 is Ready first, so the Ready order is right; db-1 was created before db-0 was
Ready, so the scenario must end "identity lost" at "statefulset.created-after-previous-ready",
the check of OrderedReady itself. One fixture overridden: ``statefulset``."""

import pytest

from scenarios.test_statefulset import test_all_pods_killed_come_back_in_order_with_all_their_data  # noqa: F401
from tests.e2e.drills.drill_statefulset_gates import DB_0_READY, DB_1_UP, create


@pytest.fixture
def statefulset(drill_scope):
    return create(drill_scope, gate_0=DB_1_UP, gate_1=DB_0_READY)
