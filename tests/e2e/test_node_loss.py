"""The node-loss scenarios fail for the right reason on a broken setup (issue 7): a Deployment
left with Kubernetes' default tolerations misses its objective and the failure names the stage
that took the time; a StatefulSet whose data lived in an emptyDir fails with "data lost" once the
node is back. Each stops a worker's node container (about two minutes each); every node is Ready
and untainted afterwards."""

import json

import pytest

from kubedrill.k8s import nodes
from tests.e2e.conftest import leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Kubernetes' defaults keep the pods ~6 min: with this objective the wait stops after the node is
# unreachable (~55 s) and well into the 300 s toleration, so the eviction stage is the longest.
TIGHT_OBJECTIVE_S = 150


def assert_nodes_ready_and_untainted(clients):
    for n in nodes.list_nodes(clients):
        assert n.ready, f"node {n.name} is not Ready"
        assert n.control_plane or not n.taints, f"node {n.name} keeps taints {n.taints}"
    raw = clients.core.list_node().items
    assert not [n.metadata.name for n in raw if n.spec.unschedulable], "a node is left cordoned"


def only_row(d) -> tuple[dict, dict]:
    results = json.loads((d.tmp / "reports" / "results.json").read_text())
    (row,) = results["scenarios"]
    return results, row


def test_a_deployment_with_default_tolerations_misses_its_objective_in_the_eviction_stage(drill, clients):
    d = drill("tests/e2e/drills/drill_node_loss_defaults.py", "--objective",
              f"node_loss_rto_s={TIGHT_OBJECTIVE_S}")
    assert d.run() == 1, d.output[-6000:]
    results, row = only_row(d)
    assert row["verdict"] == "objective missed", row
    reason = row["reason"]
    assert f"not reached within {TIGHT_OBJECTIVE_S}s of the fault" in reason, reason
    assert "stage 'pods evicted' took the time" in reason, reason
    assert "the pods tolerate node.kubernetes.io/unreachable for 300 s" in reason, reason
    marks = [m["name"] for m in row["timeline"]["marks"]]
    assert marks[:4] == ["fault", "node stopped", "node unreachable", "taint added"], marks
    assert "pods evicted" not in marks
    assert leftovers(clients, results["run_id"]) == []
    assert_nodes_ready_and_untainted(clients)


def test_a_statefulset_with_its_data_in_an_emptydir_fails_with_data_lost(drill, clients):
    d = drill("tests/e2e/drills/drill_node_loss_emptydir.py")
    assert d.run() == 1, d.output[-6000:]
    results, row = only_row(d)
    assert row["verdict"] == "data lost", row
    assert row["reason"].startswith("data lost: records 1–20 missing"), row["reason"]
    marks = [m["name"] for m in row["timeline"]["marks"]]
    assert "node back" in marks and marks[-1] == "replacements Ready", marks
    assert leftovers(clients, results["run_id"]) == []
    assert_nodes_ready_and_untainted(clients)
