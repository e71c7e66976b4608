"""Node loss as a scenario drives it: the node faults (kubedrill.faults.nodes) and the observer
that follows what Kubernetes does next (kubedrill.observe.nodeloss), bound to one scope.

Each fault hands its own marks and moments to the observer, so that the stages of a recovery
run from the fault: node unreachable, taint added, pods evicted, ... replacements Ready."""

from __future__ import annotations

from kubedrill.faults import nodes
from kubedrill.faults.nodes import NodeBack, NodeLost, OutOfService
from kubedrill.k8s.nodes import OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE
from kubedrill.observe.nodeloss import NodeLossObserver
from kubedrill.observe.nodestages import STOP, HeldPod, NodeLossRecovery, Replacement, Watched
from kubedrill.scope import Scope
from kubedrill.workloads.base import Workload


def watched(target: Workload, lost: NodeLost) -> Watched:
    """What the observer follows: the lost node and ``target``'s pods."""
    return Watched(lost.how, lost.node, lost.at, target.namespace, target.selector_string, target.kind,
                   target.name, target.replicas, lost.pods, lost.uids, lost.before, target.owners.owns)


class NodeLoss:
    """Lose a worker (stop or drain), then watch what follows, stage by stage."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.observer = NodeLossObserver(scope)
        self._fenced: dict[str, OutOfService] = {}    # node -> its out-of-service taint, until it is back

    # --- faults -------------------------------------------------------------------------
    def lose(self, target: Workload, how: str = STOP) -> NodeLost:
        """Lose the worker that hosts most of ``target``'s pods (kubedrill.faults.nodes.lose_node)."""
        lost = nodes.lose_node(self.scope, target, how)
        self.observer.marks.begin(lost.node, lost.at, lost.marks)
        return lost

    def mark_out_of_service(self, lost: NodeLost) -> OutOfService:
        """Taint the lost node out-of-service: its terminating pods are force-deleted."""
        fenced = nodes.mark_out_of_service(self.scope, lost)
        self._fenced[lost.node] = fenced
        self.observer.marks.mark(lost.node, "out-of-service taint", fenced.at.mono,
                                 f"{OUT_OF_SERVICE}={OUT_OF_SERVICE_VALUE}:NoExecute")
        return fenced

    def bring_back(self, lost: NodeLost) -> NodeBack:
        """Start the node again (or uncordon it); its out-of-service taint goes once it is Ready."""
        back = nodes.bring_back(self.scope, lost, self._fenced.pop(lost.node, None))
        self.observer.marks.mark(lost.node, "node back", back.at.mono, f"{lost.node} Ready and untainted")
        return back

    # --- what follows -------------------------------------------------------------------
    def wait_replaced(self, target: Workload, lost: NodeLost, within_s: float) -> NodeLossRecovery:
        """All of ``target``'s replicas Ready again, none from the lost node, within ``within_s``
        of the fault (ObjectiveMissed names the stage that took the time)."""
        return self.observer.wait_replaced(watched(target, lost), within_s)

    def wait_held(self, target: Workload, lost: NodeLost) -> HeldPod:
        return self.observer.wait_held(watched(target, lost))

    def wait_replacement(self, target: Workload, lost: NodeLost) -> Replacement:
        return self.observer.wait_replacement(watched(target, lost))

    def wait_recovered(self, target: Workload, lost: NodeLost, back: NodeBack) -> NodeLossRecovery:
        """After the node returned (``back``): the pods are Ready again (new UIDs, same names)."""
        return self.observer.wait_recovered(watched(target, lost))
