"""Node loss: a worker is lost (its node container stopped, or drained with --node-fault=drain)
with a Deployment and a StatefulSet on it. Kubernetes' defaults keep a lost node's pods for
about six minutes; the sample workloads set their own tolerationSeconds (docs/node-loss.md).
Each recovery reports its stages: node unreachable, taint added, pods evicted, replacements Ready."""

import pytest

pytestmark = [pytest.mark.node, pytest.mark.slow]


def test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker(
        spread_web, node_loss, node_fault, objectives, phase):
    lost = node_loss.lose(spread_web, how=node_fault)
    recovery = node_loss.wait_replaced(spread_web, lost, within_s=objectives.node_loss_rto_s)

    with phase("verify"):
        assert lost.pods, f"no pod of {spread_web.name} was on node {lost.node}"
        assert recovery.rto_s <= objectives.node_loss_rto_s, recovery.summary
        assert not lost.uids & spread_web.pod_uids(), "a pod of the lost node still counts"
        assert lost.node not in {p.node for p in spread_web.pods() if p.serving}, "a replacement runs on the lost node"
        assert spread_web.ready_count() == spread_web.replicas
        assert [s.name for s in recovery.stages.stages()] == list(recovery.stages.order)


def test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data(
        hard_node_stop, node_local_db, node_loss, objectives, phase):
    seeded = node_local_db.seed(records=20)
    lost = node_loss.lose(node_local_db)
    held = node_loss.wait_held(node_local_db, lost)
    fenced = node_loss.mark_out_of_service(lost)
    replacement = node_loss.wait_replacement(node_local_db, lost)
    back = node_loss.bring_back(lost)
    recovery = node_loss.wait_recovered(node_local_db, lost, back)

    with phase("verify"):
        node_local_db.verify(seeded)  # DataLost names the missing records
        # what Kubernetes guarantees while the node is unreachable: at most one pod per identity
        assert held.deletion_timestamp and held.node == lost.node
        assert held.uids_seen == lost.uids == fenced.uids_before, "a second pod with the same name appeared"
        # a node-local volume cannot follow its pod: the replacement waits, with the scheduler's reason
        assert replacement.pending and replacement.reason == "Unschedulable", replacement
        assert replacement.waits_for_its_volume, replacement.message
        # once the node is back, the pod (same name, new UID) runs there again with all its data
        (pod,) = [p for p in node_local_db.pods() if p.serving]
        assert (pod.name, pod.node) == (held.name, lost.node) and pod.uid not in lost.uids
        assert recovery.rto_s <= objectives.node_loss_rto_s, recovery.summary
        # from the node's return to the pod Ready again
        assert recovery.rto_s - back.ready_s <= objectives.statefulset_rto_s, recovery.summary


def test_statefulset_pod_drained_off_its_node_waits_for_its_volume_then_returns_with_its_data(
        node_drain, node_local_db, node_loss, objectives, phase):
    seeded = node_local_db.seed(records=20)
    lost = node_loss.lose(node_local_db, how="drain")
    replacement = node_loss.wait_replacement(node_local_db, lost)
    back = node_loss.bring_back(lost)
    recovery = node_loss.wait_recovered(node_local_db, lost, back)

    with phase("verify"):
        node_local_db.verify(seeded)
        assert replacement.pending and replacement.waits_for_its_volume, replacement.message
        (pod,) = [p for p in node_local_db.pods() if p.serving]
        assert (pod.name, pod.node) == (replacement.name, lost.node) and pod.uid not in lost.uids
        assert recovery.rto_s <= objectives.node_loss_rto_s, recovery.summary
        # from the node's return to the pod Ready again
        assert recovery.rto_s - back.ready_s <= objectives.statefulset_rto_s, recovery.summary
