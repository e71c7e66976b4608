"""What breaks things. Each fault checks the guard, writes the journal BEFORE acting, acts,
registers its undo (when it has one) and returns a frozen record of what it did."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import docker, guard, journal
from kubedrill.errors import FaultFailed, GuardRefused
from kubedrill.faults.containers import kill_containers
from kubedrill.faults.targets import choose_count, refuse_control_plane
from kubedrill.k8s import nodes, pods
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope


@dataclass(frozen=True)
class PodKill:
    namespace: str
    workload: str
    pods: tuple[str, ...]
    uids: frozenset[str]
    at: Instant           # when the first delete was sent
    seed: int
    before: frozenset[str] = frozenset()   # UIDs of the workload's pods just before the kill

    @property
    def count(self) -> int:
        return len(self.pods)

    def describe(self) -> str:
        return f"killed {self.count} pod(s) of {self.workload}: {', '.join(self.pods)}"


@dataclass(frozen=True)
class TaintAdded:
    node: str
    key: str
    value: str
    effect: str
    at: Instant

    def describe(self) -> str:
        return f"tainted node {self.node} with {self.key}={self.value}:{self.effect}"


@dataclass(frozen=True)
class NodeStopped:
    node: str
    container: str
    at: Instant

    def describe(self) -> str:
        return f"stopped node container {self.container}"


class Faults:
    """Faults bound to one scenario's scope."""

    def __init__(self, scope: Scope):
        self.scope = scope

    # --- pods ---------------------------------------------------------------------------
    def kill_pods(self, target, count: int | None = None, fraction: float | None = None,
                  grace_s: int = 0) -> PodKill:
        """Delete pods of ``target`` through the API (chosen from the run's seed)."""
        s = self.scope
        if count is None and fraction is None:
            count = 1
        with s.phase("fault"):
            s.guard.check_namespace(target.namespace, "kill pods in")
            candidates = sorted((p for p in target.pods() if not p.terminating), key=lambda p: p.name)
            n = choose_count(len(candidates), count, fraction)
            chosen = sorted(s.rng.sample(candidates, n), key=lambda p: p.name)
            for p in chosen:
                s.guard.check_object(dict(p.labels), p.namespace, f"pod {p.name}")
            entry = s.journal.record(
                f"delete pods {target.namespace}/{','.join(p.name for p in chosen)}",
                journal.Undo(journal.NOTHING, {"owner": chosen[0].owner},
                             f"nothing to undo: {chosen[0].owner or 'the owner'} recreates the deleted pods"))
            at = Instant.now()
            for p in chosen:
                pods.delete(s.clients, p.namespace, p.name, p.uid, grace_s)
            s.journal.resolve(entry)  # nothing to undo once sent: the owner recreates them
            kill = PodKill(target.namespace, target.name, tuple(p.name for p in chosen),
                           frozenset(p.uid for p in chosen), at, s.run.seed,
                           frozenset(p.uid for p in candidates))
            s.run.log(f"[{s.name}] {kill.describe()} (seed {s.run.seed})")
        return kill

    def kill_containers(self, target, count: int | None = None, fraction: float | None = None):
        """Kill pods' containers in place (SIGKILL through the node's runtime): same pod UID,
        the kubelet restarts the container. Returns a ContainerKill (kubedrill.faults.containers)."""
        return kill_containers(self.scope, target, count, fraction)

    # --- nodes --------------------------------------------------------------------------
    def _kind_nodes(self) -> tuple[str, ...]:
        cluster = getattr(self.scope.clients, "kind_cluster", None)
        if not cluster:
            raise GuardRefused("node faults need a kind cluster (a node is a docker container)")
        return tuple(c.name for c in docker.node_containers(cluster))

    def _pick_worker(self, node: str | None) -> str:
        if node:
            return node
        workers = sorted(n.name for n in nodes.workers(self.scope.clients))
        if not workers:
            raise FaultFailed("no worker node to choose from")
        return self.scope.rng.choice(workers)

    def taint_node(self, node: str | None = None, effect: str = "NoSchedule") -> TaintAdded:
        """Add a kubedrill taint to a worker (random from the seed unless named)."""
        s = self.scope
        with s.phase("fault"):
            name = self._pick_worker(node)
            refuse_control_plane(s.clients, name, "taint")
            value = s.run.run_id
            entry = s.journal.record(
                f"taint node {name} {guard.TAINT_KEY}={value}:{effect}",
                journal.Undo(journal.REMOVE_TAINT, {"node": name, "key": guard.TAINT_KEY,
                                                    "value": value, "effect": effect},
                             f"remove taint {guard.TAINT_KEY} from node {name}"))
            at = Instant.now()
            nodes.add_taint(s.clients, name, guard.TAINT_KEY, value, effect)

            def undo() -> None:
                nodes.remove_taint(s.clients, name, guard.TAINT_KEY, value, effect)
                s.journal.resolve(entry)

            s.cleanups.defer(f"remove taint from node {name}", undo, kind="fault")
            added = TaintAdded(name, guard.TAINT_KEY, value, effect, at)
            s.run.log(f"[{s.name}] {added.describe()}")
        return added

    def stop_node(self, node: str | None = None) -> NodeStopped:
        """Stop a worker's node container (docker stop); undone by docker start."""
        s = self.scope
        with s.phase("fault"):
            name = self._pick_worker(node)
            s.guard.check_node(name, self._kind_nodes())
            refuse_control_plane(s.clients, name, "stop")
            entry = s.journal.record(f"stop node container {name}",
                                     journal.Undo(journal.DOCKER_START, {"container": name},
                                                  f"docker start {name}"))
            at = Instant.now()
            docker.stop(name)

            def undo() -> None:
                started = Instant.now().wall
                fresh_after = None  # started earlier (e.g. by the scenario): no new heartbeat is due
                if not docker.is_running(name):
                    docker.start(name)
                    # heartbeats carry whole seconds: anything from the second of the start counts
                    fresh_after = int(started)
                nodes.wait_ready(s.clients, name, s.timeouts.node_s, s.progress,
                                 heartbeat_after=fresh_after)
                s.journal.resolve(entry)

            s.cleanups.defer(f"start node container {name}", undo, kind="fault")
            stopped = NodeStopped(name, name, at)
            s.run.log(f"[{s.name}] {stopped.describe()}")
        return stopped
