"""Broken on purpose: the drain StatefulSet scenario with its data in an emptyDir instead of a
node-local claim. Nothing holds the replacement to the drained node: it is placed on the other
worker at once instead of waiting for its volume, and the scenario must say "identity lost"
as soon as it sees that, before the node is back."""

import pytest

from scenarios.test_node_loss import (  # noqa: F401
    test_statefulset_pod_drained_off_its_node_waits_for_its_volume_then_returns_with_its_data)


@pytest.fixture
def db_volume():
    return "emptyDir"
