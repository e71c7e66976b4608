"""What breaks things, bound to one scenario's scope: the ``faults`` fixture's facade.

Each fault lives with its target (kubedrill.faults.pods, .containers, .nodes, .volumes, .chaos):
it checks the guard, writes the journal BEFORE acting, acts, registers its undo (when it has
one) and returns a frozen record of what it did. This class only binds them to a scope."""

from __future__ import annotations

from kubedrill.faults import nodes, pods
from kubedrill.faults.containers import ContainerKill, Unavailable, kill_containers, not_applicable
from kubedrill.faults.nodes import NodeStopped, TaintAdded
from kubedrill.faults.pods import PodKill
from kubedrill.scope import Scope
from kubedrill.workloads.base import Workload


class Faults:
    """Faults bound to one scenario's scope. ``unavailable(capability, reason)``: what a fault
    that cannot act on this cluster does (default: NotApplicable; the ``faults`` fixture skips
    unless ``--require`` names the capability)."""

    def __init__(self, scope: Scope, unavailable: Unavailable = not_applicable):
        self.scope = scope
        self.unavailable = unavailable

    def kill_pods(self, target: Workload, count: int | None = None, fraction: float | None = None,
                  grace_s: int = 0) -> PodKill:
        """Delete pods of ``target`` through the API (chosen from the run's seed)."""
        return pods.kill_pods(self.scope, target, count, fraction, grace_s)

    def kill_containers(self, target: Workload, count: int | None = None,
                        fraction: float | None = None) -> ContainerKill:
        """Kill pods' containers in place (SIGKILL through the node's runtime on the local kind
        cluster; elsewhere a signal PID 1 handles, through exec): same pod UID, the kubelet
        restarts the container."""
        return kill_containers(self.scope, target, count, fraction, self.unavailable)

    def taint_node(self, node: str | None = None, effect: str = "NoSchedule") -> TaintAdded:
        """Add a kubedrill taint to a worker (random from the seed unless named)."""
        return nodes.taint_node(self.scope, node, effect)

    def stop_node(self, node: str | None = None) -> NodeStopped:
        """Stop a worker's node container (docker stop); undone by docker start."""
        return nodes.stop_node(self.scope, node)
