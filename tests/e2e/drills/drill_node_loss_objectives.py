"""Broken on purpose: both node-loss StatefulSet scenarios, unchanged, held to an objective no
recovery can meet, one that comes after every other check of its scenario: the stopped one to a
node-back RTO of 1 ms (node back -> pod Ready), the drained one to a fault -> pod Ready RTO of
1 ms. Each must get through its data and identity checks and fail with "objective missed" at
that objective's check."""

from dataclasses import replace

import pytest

from scenarios.test_node_loss import (  # noqa: F401
    test_statefulset_pod_drained_off_its_node_waits_for_its_volume_then_returns_with_its_data,
    test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data)


@pytest.fixture
def objectives(objectives):
    return replace(objectives, node_back_rto_s=0.001, node_drain_statefulset_rto_s=0.001)
