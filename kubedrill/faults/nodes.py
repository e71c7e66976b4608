"""Node faults: a kubedrill taint, a stopped node container, and a node lost (stopped, or drained:
cordoned, its pods evicted through the Eviction API), the operator's out-of-service taint, and
the node brought back. Each refuses a control-plane node, is journalled before it acts,
registers its undo and returns a frozen record. A change is made, journalled and undone only
when the node as it was just before lacked it: an operator's cordon or taint already there is
never kubedrill's, and survives the drill, its cleanup and a journal replay. What follows a lost
node is watched by kubedrill.observe.nodeloss."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubedrill import docker, guard, journal
from kubedrill.errors import FaultFailed, GuardRefused, WaitTimeout
from kubedrill.faults.targets import refuse_control_plane, report_foreign
from kubedrill.k8s import evictions, nodes, pods, poddisruptionbudgets
from kubedrill.k8s.nodes import OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE
from kubedrill.observe.measure import Instant
from kubedrill.observe.nodestages import HOW, STOP
from kubedrill.scope import Scope
from kubedrill.workloads.base import Workload


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


@dataclass(frozen=True)
class NodeLost:
    """What a node-loss fault did: which node, how, when, and the workload's pods on it."""

    how: str
    node: str
    at: Instant
    workload: str
    pods: tuple[str, ...]
    uids: frozenset[str]
    before: frozenset[str]
    evictions_refused: int = 0        # drain: evictions a PodDisruptionBudget refused (then retried)
    marks: tuple[tuple[str, float, str], ...] = ()   # the fault's own marks: node stopped; cordoned, pods evicted
    cordon: journal.Entry | None = field(default=None, compare=False, repr=False)   # drain: kubedrill's cordon

    def describe(self) -> str:
        verb = "stopped" if self.how == STOP else "drained"
        extra = (f"; {self.evictions_refused} eviction(s) refused by the PodDisruptionBudget, retried"
                 if self.evictions_refused else "")
        return f"{verb} node {self.node} with {len(self.pods)} pod(s) of {self.workload}: {', '.join(self.pods)}{extra}"


@dataclass(frozen=True)
class OutOfService:
    node: str
    at: Instant
    uids_before: frozenset[str]       # UIDs of pods with the held pod's name just before the taint
    entry: journal.Entry | None = field(default=None, compare=False, repr=False)   # resolved by bring_back


@dataclass(frozen=True)
class NodeBack:
    node: str
    started_s: float
    ready_s: float
    untainted_s: float
    at: Instant | None = None         # when it was back: Ready and untainted


def stop_unavailable(clients) -> str:
    """Why a worker cannot be stopped on this cluster ("" when it can): stopping one needs the
    local kind cluster, whose nodes are containers of this machine's docker. On the local kind
    cluster, docker that stops answering is an error (KubedrillError), not a reason to skip."""
    cluster = clients.kind_cluster
    if not cluster:
        return (f"context {clients.context} is not the local kind cluster: a node is stopped through docker, "
                "on the local kind cluster only (a drain runs anywhere)")
    if not docker.installed():
        return f"no docker CLI on this machine: kind cluster {cluster}'s nodes are not local containers"
    if not docker.local_nodes(cluster):
        return f"docker on this machine runs no node container of kind cluster {cluster}: it is not the local one"
    return ""


def kind_nodes(scope: Scope) -> tuple[str, ...]:
    cluster = scope.clients.kind_cluster
    if not cluster:
        raise GuardRefused("node faults need a kind cluster (a node is a docker container)")
    return tuple(c.name for c in docker.node_containers(cluster))


def pick_worker(scope: Scope, node: str | None) -> str:
    """``node`` when named, else a worker chosen from the scenario's seed."""
    if node:
        return node
    workers = sorted(n.name for n in nodes.workers(scope.clients))
    if not workers:
        raise FaultFailed("no worker node to choose from")
    return scope.rng.choice(workers)


def change_node(scope: Scope, node: str, plan: nodes.Plan, revert: nodes.Plan, what: str,
                undo: journal.Undo, already: str) -> tuple[journal.Entry | None, Instant]:
    """Make ``plan``'s change to ``node`` when the node as it is now lacks it: journalled first,
    ``revert`` deferred to teardown. Returns the journal entry (None, with nothing journalled or
    deferred, when the node ``already`` is so: not kubedrill's change, never undone by cleanup or
    replay) and the moment of the change."""
    s = scope
    before = nodes.read(s.clients, node)
    if before is None:
        raise FaultFailed(f"node {node} not found")
    if plan(before) is None:
        s.run.log(f"[{s.name}] node {node} {already}: not kubedrill's doing, left as it is")
        return None, Instant.now()
    entry = s.journal.record(what, undo)
    at = Instant.now()
    if not nodes.apply(s.clients, node, plan, before):   # someone made the same change meanwhile
        s.journal.resolve(entry)
        return None, at
    s.cleanups.defer(undo.description, lambda: revert_once(s, node, revert, entry), kind="fault")
    return entry, at


def revert_once(scope: Scope, node: str, revert: nodes.Plan, entry: journal.Entry | None) -> None:
    """Undo kubedrill's change to ``node`` (its journal ``entry``), unless it is undone already."""
    if entry is not None and scope.journal.is_pending(entry):
        nodes.apply(scope.clients, node, revert)
        scope.journal.resolve(entry)


def add_taint(scope: Scope, node: str, key: str, value: str, effect: str) -> tuple[journal.Entry | None, Instant]:
    """Taint ``node`` (:func:`change_node`): not when it carries a taint of that key and effect already."""
    return change_node(scope, node, nodes.add_taint_plan(key, value, effect),
                       nodes.remove_taint_plan(key, value, effect), f"taint node {node} {key}={value}:{effect}",
                       journal.Undo(journal.REMOVE_TAINT, {"node": node, "key": key, "value": value, "effect": effect},
                                    f"remove taint {key} from node {node}"),
                       f"carries {key}:{effect} already")


def worker_names(scope: Scope) -> tuple[str, ...]:
    return tuple(n.name for n in nodes.workers(scope.clients))


def taint_node(scope: Scope, node: str | None = None, effect: str = "NoSchedule") -> TaintAdded:
    """Add a kubedrill taint to a worker (random from the seed unless named)."""
    s = scope
    with s.phase("fault"):
        name = pick_worker(s, node)
        s.guard.check_node(name, worker_names(s), "a worker node of this cluster")
        refuse_control_plane(s.clients, name, "taint")
        value = s.run.run_id
        _, at = add_taint(s, name, guard.TAINT_KEY, value, effect)
        added = TaintAdded(name, guard.TAINT_KEY, value, effect, at)
        s.run.log(f"[{s.name}] {added.describe()}")
    return added


def stop_node(scope: Scope, node: str | None = None) -> NodeStopped:
    """Stop a worker's node container (docker stop); undone by docker start."""
    s = scope
    with s.phase("fault"):
        name = pick_worker(s, node)
        s.guard.check_node(name, kind_nodes(s))
        refuse_control_plane(s.clients, name, "stop")
        if not docker.is_running(name):
            raise FaultFailed(f"node container {name} is stopped already: not kubedrill's to stop, nor to start again")
        entry = s.journal.record(f"stop node container {name}",
                                 journal.Undo(journal.DOCKER_START, {"container": name}, f"docker start {name}"))
        at = Instant.now()
        docker.stop(name)

        def undo() -> None:
            started = Instant.now().wall
            fresh_after = None  # started earlier (e.g. by the scenario): no new heartbeat is due
            if not docker.is_running(name):
                docker.start(name)
                # heartbeats carry whole seconds: anything from the second of the start counts
                fresh_after = int(started)
            nodes.wait_ready(s.clients, name, s.timeouts.node_s, s.progress, heartbeat_after=fresh_after)
            s.journal.resolve(entry)

        s.cleanups.defer(f"start node container {name}", undo, kind="fault")
        stopped = NodeStopped(name, name, at)
        s.run.log(f"[{s.name}] {stopped.describe()}")
    return stopped


def lose_node(scope: Scope, target: Workload, how: str = STOP) -> NodeLost:
    """Lose the worker that hosts most of ``target``'s pods: ``stop`` its node container
    (journalled; started again at teardown whatever happens) or ``drain`` it (cordon, then
    evict the target's pods there through the Eviction API, which honours PodDisruptionBudgets)."""
    if how not in HOW:
        raise ValueError(f"how must be one of {', '.join(HOW)}, not {how!r}")
    s = scope
    report_foreign(s, target)
    before = tuple(p for p in target.pods() if not p.terminating)
    workers = {n.name for n in nodes.workers(s.clients)}
    counts: dict[str, int] = {}
    for p in before:
        if p.node in workers:
            counts[p.node] = counts.get(p.node, 0) + 1
    if not counts:
        raise FaultFailed(f"no pod of {target.name} runs on a worker")
    most = max(counts.values())
    node = s.rng.choice(sorted(n for n, c in counts.items() if c == most))
    on_node = tuple(p for p in before if p.node == node)
    if how == STOP:
        stopped: list[NodeStopped] = []

        def wait_back() -> None:   # only for a node kubedrill stopped
            if stopped:
                nodes.wait_untainted(s.clients, node, s.timeouts.node_s, s.progress)

        # runs after the node container is started again (cleanups are last-in-first-out)
        s.cleanups.defer(f"wait until node {node} is Ready and untainted", wait_back, kind="fault")
        stopped.append(stop_node(s, node))
        at = stopped[0].at
        refused, cordon = 0, None
        marks: tuple[tuple[str, float, str], ...] = (("node stopped", Instant.now().mono, "docker stop returned"),)
    else:
        at, refused, marks, cordon = drain(s, node, on_node)
    lost = NodeLost(how, node, at, target.name, tuple(p.name for p in on_node),
                    frozenset(p.uid for p in on_node), frozenset(p.uid for p in before), refused, marks, cordon)
    s.run.log(f"[{s.name}] {lost.describe()}")
    return lost


def drain(scope: Scope, node: str, victims: tuple[pods.PodInfo, ...]):
    """Cordon ``node`` (journalled and uncordoned at teardown, unless it was cordoned already),
    then evict ``victims``. Returns (the moment of the cordon, evictions refused, marks:
    cordoned, pods evicted; kubedrill's cordon entry, None when the cordon is not kubedrill's)."""
    s = scope
    with s.phase("fault"):
        s.guard.check_node(node, worker_names(s), "a worker node of this cluster")
        refuse_control_plane(s.clients, node, "drain")
        for p in victims:
            s.guard.check_object(dict(p.labels), p.namespace, f"pod {p.name}")
        entry, at = change_node(s, node, nodes.cordon_plan, nodes.uncordon_plan, f"cordon node {node}",
                                journal.Undo(journal.UNCORDON, {"node": node}, f"uncordon node {node}"),
                                "is cordoned already")
        cordoned = ("cordoned", Instant.now().mono,
                    f"node {node} unschedulable" + ("" if entry else " (cordoned already, not by kubedrill)"))
        refused = evict_all(s, victims)
        evicted = ("pods evicted", Instant.now().mono, f"{len(victims)} evicted, {refused} refused by the PDB first")
    return at, refused, (cordoned, evicted), entry


def evict_all(scope: Scope, victims: tuple[pods.PodInfo, ...]) -> int:
    """Evict each pod; when a PodDisruptionBudget refuses (429), wait for it to allow one.
    Returns how many evictions were refused (and retried)."""
    s = scope
    pending = list(victims)
    refused = 0
    deadline = Instant.now().mono + s.timeouts.recover_s
    while pending:
        left = []
        for p in pending:
            outcome = evictions.evict(s.clients, p.namespace, p.name, p.uid)
            if outcome == evictions.EVICTED:
                s.run.log(f"[{s.name}] evicted pod {p.name}")
            elif outcome == evictions.REFUSED:
                refused += 1
                left.append(p)
        pending = left
        if pending:
            remaining = deadline - Instant.now().mono
            if remaining <= 0:
                raise WaitTimeout("a PodDisruptionBudget to allow an eviction", s.timeouts.recover_s,
                                  tuple(p.name for p in pending), f"{len(pending)} pod(s) not evicted")
            poddisruptionbudgets.wait_disruption_allowed(
                s.clients, s.namespace, f"the PodDisruptionBudget to allow evicting {pending[0].name}",
                remaining, s.progress)
    return refused


def mark_out_of_service(scope: Scope, lost: NodeLost) -> OutOfService:
    """Taint the lost node ``node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`` (what an
    operator does once the node is known to be down): its terminating pods are force-deleted.
    Journalled; removed when the node returns (:func:`bring_back`) or at teardown. An operator's
    out-of-service taint already there is left alone (and never removed)."""
    s = scope
    with s.phase("fault"):
        refuse_control_plane(s.clients, lost.node, "taint")
        same_name = frozenset(p.uid for p in pods.list_pods(s.clients, s.namespace, "") if p.name in lost.pods)
        taint = f"{OUT_OF_SERVICE}={OUT_OF_SERVICE_VALUE}:NoExecute"
        entry, at = add_taint(s, lost.node, OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
        if entry is not None:
            s.run.log(f"[{s.name}] tainted node {lost.node} with {taint}")
    return OutOfService(lost.node, at, same_name, entry)


def bring_back(scope: Scope, lost: NodeLost, fenced: OutOfService | None = None) -> NodeBack:
    """The node returns: start its container (or uncordon it), wait until it is Ready with a
    fresh heartbeat and without the unreachable/not-ready taints, then remove the
    out-of-service taint (``fenced``, when the node was marked so)."""
    s = scope
    with s.phase("recover"):
        started = Instant.now()
        if lost.how == STOP:
            fresh_after = None
            if not docker.is_running(lost.node):
                docker.start(lost.node)
                fresh_after = int(started.wall)  # the kubelet posts its status at start
            try:
                nodes.wait_ready(s.clients, lost.node, s.timeouts.node_s, s.progress, heartbeat_after=fresh_after)
            except WaitTimeout as exc:
                # the container runs but its kubelet never reports: the machine, not Kubernetes
                raise FaultFailed(f"node {lost.node}: its container runs again but the kubelet did not "
                                  f"report Ready within {exc.timeout_s:.0f}s ({exc.summary}); look at "
                                  f"`docker exec {lost.node} systemctl status kubelet`") from None
        else:
            revert_once(s, lost.node, nodes.uncordon_plan, lost.cordon)
        ready = Instant.now()
        nodes.wait_untainted(s.clients, lost.node, s.timeouts.node_s, s.progress)
        if fenced is not None:
            revert_once(s, lost.node, nodes.remove_taint_plan(OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute"),
                        fenced.entry)
        done = Instant.now()
    back = NodeBack(lost.node, started.mono - lost.at.mono, ready.mono - lost.at.mono, done.mono - lost.at.mono, done)
    s.run.log(f"[{s.name}] node {lost.node} back: Ready {back.ready_s - back.started_s:.1f}s after the start")
    return back
