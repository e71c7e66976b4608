"""Broken on purpose: both node-loss StatefulSet scenarios (stopped, drained) on a pod that keeps
its data outside its volume: the node-local claim is mounted at /claim, /data is the container's
own filesystem. The claim still holds the replacement to its node, so every identity check
passes; once the node is back the pod starts in a new container with an empty /data, and the
data check must say "data lost", records 1-20 missing."""

import pytest

from scenarios.test_node_loss import (  # noqa: F401
    test_statefulset_pod_drained_off_its_node_waits_for_its_volume_then_returns_with_its_data,
    test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data)


@pytest.fixture
def db_volume():
    return "outside"
