"""Broken on purpose (issue 13): the all-pods StatefulSet scenario on a StatefulSet with
``podManagementPolicy: Parallel`` whose db-0, once replaced, starts only when db-1 is Ready
(drill_statefulset_gates.py). Both replacements are created at once and db-1 is Ready first:
the scenario must end "identity lost" at its first order check ("statefulset.ready-in-order").
One fixture overridden: ``statefulset``."""

import pytest

from scenarios.test_statefulset import test_all_pods_killed_come_back_in_order_with_all_their_data  # noqa: F401
from tests.e2e.drills.drill_statefulset_gates import DB_1_READY, create


@pytest.fixture
def statefulset(drill_scope):
    return create(drill_scope, gate_0=DB_1_READY)
