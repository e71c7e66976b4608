"""A drill used by the harness's own e2e tests: the node-loss Deployment scenario, with
Kubernetes' default tolerations (300 s, added at admission) instead of the sample's own
tolerationSeconds. Run with a tight objective, it must miss it and name the eviction stage."""

import pytest

from scenarios.test_node_loss import test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker  # noqa: F401


@pytest.fixture
def node_toleration_s():
    return None
