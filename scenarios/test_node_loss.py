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


@pytest.mark.plan(faults=("lose one worker ({node_fault}) with Deployment web's pods on it",))
def test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker(
        node_fault, spread_web, node_loss, objectives, phase):
    objective = f"node_{node_fault}_rto_s"
    lost = node_loss.lose(spread_web, how=node_fault)
    recovery = node_loss.wait_replaced(spread_web, lost, within_s=getattr(objectives, objective))

    with phase("verify"):
        # wait_replaced already holds every replica Ready, none of the lost node's pods among them
        checks.objective("node_loss.deployment-rto", objectives, objective, recovery.rto_s)
        serving_on = {p.node for p in spread_web.pods() if p.serving}
        checks.injected("node_loss.no-replacement-on-lost-node", lost.node not in serving_on,
                        f"a replacement runs on the lost node {lost.node}: it was not lost")


@pytest.mark.plan(faults=("stop the worker of StatefulSet db's pod", "mark it out of service",
                          "bring it back (started, Ready, the out-of-service taint removed)"),
                  nodes=("the same worker: tainted out of service, then untainted",))
def test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data(
        hard_node_stop, node_local_db, node_loss, objectives, phase):
    seeded = node_local_db.seed(records=20)
    lost = node_loss.lose(node_local_db, how=hard_node_stop)
    node_loss.wait_held(node_local_db, lost)
    node_loss.mark_out_of_service(lost)
    replacement = node_loss.wait_replacement(node_local_db, lost)
    # known now: a node-local volume cannot follow its pod, so the replacement waits for it with
    # the scheduler's reason (the waits hold the rest: the pod held until the out-of-service
    # taint, then back under its name with a new UID)
    checks.identity("node_loss.replacement-waits-for-volume",
                    replacement.pending and replacement.reason == "Unschedulable"
                    and replacement.waits_for_its_volume,
                    f"the replacement of {replacement.name} did not wait for its volume: "
                    f"{replacement.message or 'placed on ' + replacement.node}")
    back = node_loss.bring_back(lost)
    recovery = node_loss.wait_recovered(node_local_db, lost, back)

    with phase("verify"):
        node_local_db.verify(seeded)  # DataLost names the missing records
        checks.objective("node_loss.statefulset-stop-rto", objectives, "node_stop_statefulset_rto_s",
                         recovery.rto_s)
        checks.objective("node_loss.stop-node-back-rto", objectives, "node_back_rto_s",
                         recovery.rto_s - back.untainted_s, what="node back to pod Ready")


@pytest.mark.plan(faults=("drain the worker of StatefulSet db's pod", "bring it back (uncordoned)"))
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
        checks.objective("node_loss.statefulset-drain-rto", objectives, "node_drain_statefulset_rto_s",
                         recovery.rto_s)
        checks.objective("node_loss.drain-node-back-rto", objectives, "node_back_rto_s",
                         recovery.rto_s - back.untainted_s, what="node back to pod Ready")
