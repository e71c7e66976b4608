"""An operator at work: the drained Deployment scenario, with the worker the drill will drain
(the one holding most of the workload's pods) cordoned and given an out-of-service taint by
someone else after the pods are placed and before the drain. kubedrill must drain it without
making the cordon its own: the cordon and the taint are still there after the run. The node's
name is written to $KUBEDRILL_E2E_OUT."""

import os
from collections import Counter
from pathlib import Path

import pytest

from kubedrill.k8s import nodes
from scenarios.test_node_loss import test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker  # noqa: F401

OPERATOR_TAINT = {"key": "node.kubernetes.io/out-of-service", "value": "operator", "effect": "NoSchedule"}


@pytest.fixture
def spread_web(spread_web, drill_cluster):
    c = drill_cluster.clients
    workers = {n.name for n in nodes.workers(c)}
    (node, _), = Counter(p.node for p in spread_web.pods() if p.node in workers).most_common(1)
    taints = c.core.read_node(node).spec.taints or []
    c.core.patch_node(node, {"spec": {"unschedulable": True,
                                      "taints": [c.api.sanitize_for_serialization(t) for t in taints] + [OPERATOR_TAINT]}})
    Path(os.environ["KUBEDRILL_E2E_OUT"]).write_text(node + "\n")
    return spread_web
