"""A container killed in place: SIGKILL to the container's task through the node's container
runtime (containerd's ``ctr`` inside the kind node), as an OOM kill or a crash would. The pod
stays (same UID); the kubelet restarts the container (restart count up by one, after its
back-off). Guarded (namespace, run label, a node of this kind cluster) and journalled first."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import docker, journal
from kubedrill.errors import FaultFailed, GuardRefused
from kubedrill.faults.targets import choose_count
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope


@dataclass(frozen=True)
class ContainerKill:
    namespace: str
    workload: str
    pods: tuple[str, ...]
    uid_order: tuple[str, ...]                       # UIDs, in the order of ``pods``
    restarts_before: tuple[tuple[str, int], ...]     # (uid, restart count) just before the kill
    containers: tuple[str, ...]                      # runtime container ids killed
    at: Instant
    seed: int

    @property
    def uids(self) -> frozenset[str]:
        return frozenset(self.uid_order)

    @property
    def count(self) -> int:
        return len(self.pods)

    def describe(self) -> str:
        return f"killed the container of {self.count} pod(s) of {self.workload} in place: {', '.join(self.pods)}"


def _container_id(clients, namespace: str, pod: str) -> str:
    obj = clients.core.read_namespaced_pod(pod, namespace)
    statuses = (obj.status.container_statuses or []) if obj.status else []
    ids = [s.container_id for s in statuses if s.container_id]
    if not ids:
        raise FaultFailed(f"pod {namespace}/{pod} has no running container to kill")
    runtime, _, cid = ids[0].partition("://")
    if runtime != "containerd":
        raise FaultFailed(f"pod {namespace}/{pod}: container runtime {runtime!r} is not containerd")
    return cid


def kill_containers(scope: Scope, target, count: int | None = None, fraction: float | None = None) -> ContainerKill:
    s = scope
    if count is None and fraction is None:
        count = 1
    cluster = s.clients.kind_cluster
    if not cluster:
        raise GuardRefused("killing a container in place needs a kind cluster (the node's runtime is reached with docker)")
    with s.phase("fault"):
        s.guard.check_namespace(target.namespace, "kill containers in")
        candidates = sorted((p for p in target.pods() if p.serving), key=lambda p: p.name)
        n = choose_count(len(candidates), count, fraction)
        chosen = sorted(s.rng.sample(candidates, n), key=lambda p: p.name)
        kind_nodes = tuple(c.name for c in docker.node_containers(cluster))
        for p in chosen:
            s.guard.check_object(dict(p.labels), p.namespace, f"pod {p.name}")
            s.guard.check_node(p.node, kind_nodes)
        cids = [(p, _container_id(s.clients, p.namespace, p.name)) for p in chosen]
        entry = s.journal.record(
            f"kill containers of pods {target.namespace}/{','.join(p.name for p in chosen)}",
            journal.Undo(journal.NOTHING, {"owner": chosen[0].owner},
                         "nothing to undo: the kubelet restarts a killed container"))
        at = Instant.now()
        for p, cid in cids:
            docker.cli("exec", p.node, "ctr", "-n", "k8s.io", "task", "kill", "--signal", "SIGKILL", cid,
                           timeout=30)
        s.journal.resolve(entry)
        kill = ContainerKill(target.namespace, target.name, tuple(p.name for p in chosen),
                             tuple(p.uid for p in chosen), tuple((p.uid, p.restarts) for p in chosen),
                             tuple(c for _, c in cids), at, s.run.seed)
        s.run.log(f"[{s.name}] {kill.describe()} (seed {s.run.seed})")
    return kill
