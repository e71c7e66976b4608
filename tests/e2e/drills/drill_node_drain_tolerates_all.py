"""Broken on purpose: the Deployment node-loss scenario, drained, on a Deployment that tolerates
every taint (``operator: Exists``, a common copy-paste) and is pinned to one worker. The drain
cordons that worker and evicts the pods; their replacements tolerate the cordon and come back
on the drained node, so every replica is Ready again and none was really lost: the scenario's
check that no replacement runs on the lost node must say "fault not injected"."""

import pytest

from kubedrill.k8s import nodes
from kubedrill.workloads.base import web_pod_spec
from scenarios.test_node_loss import test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker  # noqa: F401


@pytest.fixture
def spread_web(deployment_factory, drill_cluster):
    worker = sorted(n.name for n in nodes.workers(drill_cluster.clients))[0]
    spec = web_pod_spec()
    spec["tolerations"] = [{"operator": "Exists"}]
    spec["nodeSelector"] = {"kubernetes.io/hostname": worker}
    return deployment_factory("web", 3, spec)
