"""A drill used by the harness's own e2e tests: the node-loss StatefulSet scenario with its
data in an emptyDir instead of a PersistentVolumeClaim. The replacement is placed on the other
worker with an empty directory: once the node is back, the data check must say "data lost"."""

import pytest

from scenarios.test_node_loss import (  # noqa: F401
    test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data)


@pytest.fixture
def db_volume():
    return "emptyDir"
