"""Node loss: a worker is lost with a Deployment and a StatefulSet on it. Lost two ways: its node
container stopped (``stop``: the local kind cluster only) or drained (``drain``: cordoned, its
pods evicted through the Eviction API; any cluster). The Deployment scenario runs with each
(ids ``[stop]``, ``[drain]``); the StatefulSet scenarios are each about one.

Kubernetes' defaults keep a lost node's pods for about six minutes; the sample workloads set their
own tolerationSeconds (docs/node-loss.md). Each recovery reports its stages: node unreachable,
taint added, pods evicted, replacements Ready. Objectives: ``node_<method>_rto_s`` (Deployment),
``node_<method>_statefulset_rto_s`` (StatefulSet, fault to pod Ready) and ``node_back_rto_s`` (the
node back, Ready and untainted, to the pod Ready). Each check is a row of docs/checks.md.
"""

import pytest

from kubedrill import checks

pytestmark = [pytest.mark.node, pytest.mark.slow]


def test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker(
        node_fault, spread_web, node_loss, objectives, phase):
    objective = f"node_{node_fault}_rto_s"
    lost = node_loss.lose(spread_web, how=node_fault)
    recovery = node_loss.wait_replaced(spread_web, lost, within_s=getattr(objectives, objective))

    with phase("verify"):
        checks.injected("node_loss.pods-on-lost-node", lost.pods,
                        f"no pod of {spread_web.name} was on node {lost.node}")
        checks.objective("node_loss.deployment-rto", objectives, objective, recovery.rto_s)
        checks.recovered("node_loss.lost-pods-gone", not lost.uids & spread_web.pod_uids(),
                         "a pod of the lost node still counts")
        serving_on = {p.node for p in spread_web.pods() if p.serving}
        checks.injected("node_loss.no-replacement-on-lost-node", lost.node not in serving_on,
                        f"a replacement runs on the lost node {lost.node}: it was not lost")
        checks.recovered("node_loss.deployment-count", spread_web.ready_count() == spread_web.replicas,
                         f"{spread_web.ready_count()} of {spread_web.replicas} pods Ready")
        checks.recovered("node_loss.every-stage", [s.name for s in recovery.stages.stages()]
                         == list(recovery.stages.order), f"stages seen: {recovery.stages.summary()}")


def test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data(
        hard_node_stop, node_local_db, node_loss, objectives, phase):
    seeded = node_local_db.seed(records=20)
    lost = node_loss.lose(node_local_db, how=hard_node_stop)
    held = node_loss.wait_held(node_local_db, lost)
    fenced = node_loss.mark_out_of_service(lost)
    replacement = node_loss.wait_replacement(node_local_db, lost)
    back = node_loss.bring_back(lost)
    recovery = node_loss.wait_recovered(node_local_db, lost, back)

    with phase("verify"):
        node_local_db.verify(seeded)  # DataLost names the missing records
        # what Kubernetes guarantees while the node is unreachable: at most one pod per identity
        checks.identity("node_loss.held-on-lost-node", held.deletion_timestamp and held.node == lost.node,
                        f"pod {held.name} was not held on {lost.node} (node {held.node!r}, "
                        f"deletionTimestamp {held.deletion_timestamp!r})")
        checks.identity("node_loss.held-one-pod-per-name", held.uids_seen == lost.uids == fenced.uids_before,
                        f"a second pod with the same name appeared: UIDs {sorted(held.uids_seen)}")
        # a node-local volume cannot follow its pod: the replacement waits, with the scheduler's reason
        checks.identity("node_loss.replacement-unschedulable",
                        replacement.pending and replacement.reason == "Unschedulable",
                        f"the replacement of {replacement.name} did not wait: {replacement}")
        checks.identity("node_loss.replacement-waits-for-volume", replacement.waits_for_its_volume,
                        f"the replacement of {replacement.name} is not waiting for its volume: "
                        f"{replacement.message or 'placed on ' + replacement.node}")
        # once the node is back, the pod (same name, new UID) runs there again with all its data
        serving = [p for p in node_local_db.pods() if p.serving]
        checks.recovered("node_loss.one-pod-back", len(serving) == 1,
                         f"{len(serving)} pods of {node_local_db.name} Ready, 1 wanted")
        checks.identity("node_loss.back-same-name-on-its-node",
                        (serving[0].name, serving[0].node) == (held.name, lost.node)
                        and serving[0].uid not in lost.uids,
                        f"{serving[0].name} on {serving[0].node}, not a new {held.name} on {lost.node}")
        checks.objective("node_loss.statefulset-stop-rto", objectives, "node_stop_statefulset_rto_s",
                         recovery.rto_s)
        checks.objective("node_loss.stop-node-back-rto", objectives, "node_back_rto_s",
                         recovery.rto_s - back.untainted_s, what="node back to pod Ready")


def test_statefulset_pod_drained_off_its_node_waits_for_its_volume_then_returns_with_its_data(
        node_drain, node_local_db, node_loss, objectives, phase):
    seeded = node_local_db.seed(records=20)
    lost = node_loss.lose(node_local_db, how=node_drain)
    replacement = node_loss.wait_replacement(node_local_db, lost)
    # known now: a replacement placed elsewhere has left its volume behind
    checks.identity("node_loss.drained-replacement-waits-for-volume",
                    replacement.pending and replacement.waits_for_its_volume,
                    f"the replacement of {replacement.name} did not wait for its volume: "
                    f"{replacement.message or 'placed on ' + replacement.node}")
    back = node_loss.bring_back(lost)
    recovery = node_loss.wait_recovered(node_local_db, lost, back)

    with phase("verify"):
        node_local_db.verify(seeded)
        serving = [p for p in node_local_db.pods() if p.serving]
        checks.recovered("node_loss.drained-one-pod-back", len(serving) == 1,
                         f"{len(serving)} pods of {node_local_db.name} Ready, 1 wanted")
        checks.identity("node_loss.drained-back-same-name-on-its-node",
                        (serving[0].name, serving[0].node) == (replacement.name, lost.node)
                        and serving[0].uid not in lost.uids,
                        f"{serving[0].name} on {serving[0].node}, not a new {replacement.name} on {lost.node}")
        checks.objective("node_loss.statefulset-drain-rto", objectives, "node_drain_statefulset_rto_s",
                         recovery.rto_s)
        checks.objective("node_loss.drain-node-back-rto", objectives, "node_back_rto_s",
                         recovery.rto_s - back.untainted_s, what="node back to pod Ready")
