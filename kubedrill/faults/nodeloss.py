"""Node loss: a worker lost (its container stopped) or drained, and what Kubernetes does next.

Kubernetes' defaults make a lost node's pods wait about six minutes: the node lifecycle
controller marks the node Unknown after ``--node-monitor-grace-period`` (50 s since 1.32) and
taints it ``node.kubernetes.io/unreachable:NoExecute``; every pod tolerates that taint for 300 s
unless it says otherwise (the DefaultTolerationSeconds admission plugin adds the toleration).
So the sample workloads here set their own ``tolerationSeconds`` (:func:`tolerations`).

The stages of a node loss, measured from watch events on a monotonic clock::

    stop:  fault -> node unreachable -> taint added -> pods evicted -> replacements Ready
    drain: fault -> cordoned -> pods evicted -> replacements Ready

A StatefulSet pod on a lost node is different: once evicted it keeps its deletionTimestamp
(the kubelet that would confirm the deletion is gone), and no second pod with its name appears.
The operator's ``node.kubernetes.io/out-of-service`` taint lets Kubernetes force-delete it; the
replacement then needs its volume, which on a node-local class lives on the lost node: it stays
Pending with the scheduler's reason until the node returns.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from kubedrill import guard, journal, pins
from kubedrill.data import oracle
from kubedrill.errors import DataLost, FaultFailed, GuardRefused, ObjectiveMissed, WaitTimeout
from kubedrill.k8s import claims, deployments, execclient, nodes, pods, podexec, statefulsets
from kubedrill.faults.targets import refuse_control_plane
from kubedrill.k8s.common import ignore_not_found, selector_string
from kubedrill.observe.measure import Instant, Recovery, Timeline
from kubedrill.scope import Scope
from kubedrill.wait import ApiSource, Check, wait_for
from kubedrill.workloads.base import Workload, web_pod_spec

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
OUT_OF_SERVICE_VALUE = "nodeshutdown"
DEFAULT_TOLERATION_S = 300        # DefaultTolerationSeconds admission plugin
NODE_MONITOR_GRACE_S = 50         # kube-controller-manager --node-monitor-grace-period (1.32+)

# the scheduler's words for "this pod's volume is on another node" (1.35; before 1.30)
VOLUME_AFFINITY_REASONS = ("didn't match PersistentVolume's node affinity", "volume node affinity conflict")

STOP, DRAIN = "stop", "drain"
HOW = (STOP, DRAIN)

# The stages, in order, each named after the mark that ends it.
DEPLOYMENT_STAGES = {
    STOP: ("node unreachable", "taint added", "pods evicted", "replacements Ready"),
    DRAIN: ("cordoned", "pods evicted", "replacements Ready"),
}
STATEFULSET_STAGES = {
    STOP: ("node unreachable", "taint added", "pods evicted", "out-of-service taint",
           "replacement Pending", "node back", "replacements Ready"),
    DRAIN: ("cordoned", "pods evicted", "replacement Pending", "node back", "replacements Ready"),
}

WHY = {
    "node unreachable": "the node lifecycle controller waits --node-monitor-grace-period "
                        f"(default {NODE_MONITOR_GRACE_S} s) without a kubelet heartbeat before it "
                        "marks the node Unknown (docker stop itself takes ~10 s)",
    "taint added": f"the node lifecycle controller adds {UNREACHABLE}:NoExecute on its next pass "
                   "(--node-monitor-period, 5 s)",
    "pods evicted": f"a pod stays bound to the lost node as long as it tolerates {UNREACHABLE}: "
                    f"tolerationSeconds, {DEFAULT_TOLERATION_S} s unless the pod sets its own "
                    "(the DefaultTolerationSeconds admission plugin adds it)",
    "replacements Ready": "the controller creates replacements once the old pods are terminating; "
                          "they are scheduled, started and must pass their readiness probe",
    "cordoned": "the drain marks the node unschedulable",
    "out-of-service taint": "an operator (here the scenario) declares the node shut down",
    "replacement Pending": "the pod garbage collector force-deletes the terminating pod of an "
                           "out-of-service node (it looks every 20 s); the StatefulSet recreates it",
    "node back": "the node container starts and its kubelet reports Ready again",
}


def tolerations(seconds: int | None) -> list[dict[str, Any]]:
    """How long a pod stays bound to a not-ready or unreachable node (None: Kubernetes' 300 s)."""
    if seconds is None:
        return []
    return [{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": int(seconds)}
            for key in (NOT_READY, UNREACHABLE)]


def spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Spread replicas across nodes when possible (soft: replacements may all go to one node)."""
    return [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": selector}}]


# --- the timeline -------------------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    """One stage of a node loss: from the previous mark (or the fault) to its own mark."""

    name: str
    start_s: float             # seconds since the fault
    end_s: float | None        # None: still running when the wait stopped
    detail: str = ""

    @property
    def done(self) -> bool:
        return self.end_s is not None

    def duration_s(self, now_s: float | None = None) -> float:
        end = self.end_s if self.end_s is not None else (now_s if now_s is not None else self.start_s)
        return max(0.0, end - self.start_s)

    def describe(self, now_s: float | None = None) -> str:
        if self.done:
            return f"{self.name} {self.duration_s():.1f}s"
        return f"{self.name} >{self.duration_s(now_s):.1f}s (still running)"


@dataclass(frozen=True)
class NodeLossTimeline:
    """Marks of one node loss (name, monotonic moment, detail) and the stages they bound."""

    how: str
    node: str
    origin: Instant
    order: tuple[str, ...]
    marks: tuple[tuple[str, float, str], ...] = ()
    ended_s: float | None = None       # seconds since the fault when observation stopped

    def at(self, name: str) -> float | None:
        """Seconds since the fault when ``name`` was first observed."""
        return next((t - self.origin.mono for n, t, _ in self.marks if n == name), None)

    def stages(self) -> tuple[Stage, ...]:
        out: list[Stage] = []
        start = 0.0
        for name in self.order:
            end = self.at(name)
            detail = next((d for n, _, d in self.marks if n == name), "")
            if end is None:
                out.append(Stage(name, start, None, detail))
                break
            end = max(end, start)
            out.append(Stage(name, start, end, detail))
            start = end
        return tuple(out)

    def running(self) -> Stage | None:
        return next((s for s in self.stages() if not s.done), None)

    def slowest(self) -> Stage:
        """The stage that took the time (a running stage counts up to the end of observation)."""
        return max(self.stages(), key=lambda s: s.duration_s(self.ended_s))

    def summary(self) -> str:
        return ", ".join(s.describe(self.ended_s) for s in self.stages())

    def timeline(self) -> Timeline:
        t = Timeline(self.origin).add("fault", self.origin.mono, f"{self.how} node {self.node}")
        for name, mono, detail in self.marks:
            t = t.add(name, mono, detail)
        return t

    def as_dict(self) -> dict:
        return {"how": self.how, "node": self.node,
                "stages": [{"name": s.name, "start_s": round(s.start_s, 3),
                            "end_s": None if s.end_s is None else round(s.end_s, 3),
                            "duration_s": round(s.duration_s(self.ended_s), 3), "detail": s.detail}
                           for s in self.stages()]}


@dataclass(frozen=True)
class NodeLossRecovery(Recovery):
    """A measured recovery from a node loss, with its stages."""

    stages: NodeLossTimeline | None = None

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages.stages() if s.name == name)

    def as_dict(self) -> dict:
        d = super().as_dict()
        if self.stages is not None:
            d["node_loss"] = self.stages.as_dict()
        return d


# --- records ------------------------------------------------------------------------------

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

    def describe(self) -> str:
        verb = "stopped" if self.how == STOP else "drained"
        extra = (f"; {self.evictions_refused} eviction(s) refused by the PodDisruptionBudget, retried"
                 if self.evictions_refused else "")
        return f"{verb} node {self.node} with {len(self.pods)} pod(s) of {self.workload}: {', '.join(self.pods)}{extra}"


@dataclass(frozen=True)
class HeldPod:
    """A StatefulSet pod on the lost node after its eviction: still there, terminating."""

    name: str
    uid: str
    node: str
    deletion_timestamp: str
    uids_seen: frozenset[str]         # every UID a pod with this name had since the fault
    held_s: float                     # seconds since the fault when the deletionTimestamp was seen


@dataclass(frozen=True)
class OutOfService:
    node: str
    at: Instant
    uids_before: frozenset[str]       # UIDs of pods with the held pod's name just before the taint


@dataclass(frozen=True)
class Replacement:
    """The replacement of a held pod: Pending with the scheduler's reason, or placed on a node."""

    name: str
    uid: str
    pending: bool
    reason: str
    message: str
    node: str
    at_s: float

    @property
    def waits_for_its_volume(self) -> bool:
        """The scheduler says the pod's PersistentVolume is bound to another node."""
        return self.pending and any(r in self.message for r in VOLUME_AFFINITY_REASONS)


@dataclass(frozen=True)
class NodeBack:
    node: str
    started_s: float
    ready_s: float
    untainted_s: float


@dataclass(frozen=True)
class Seeded:
    pod: str
    records: int


# --- workloads ----------------------------------------------------------------------------

class StatefulSet(Workload):
    kind = "StatefulSet"
    container = "db"
    data_file = "/data/records"

    def pod_name(self, ordinal: int = 0) -> str:
        return f"{self.name}-{ordinal}"

    def seed(self, records: int = 20, ordinal: int = 0) -> Seeded:
        """Write ``records`` oracle records into the pod's /data (synced, then acknowledged)."""
        s = self.scope
        pod = self.pod_name(ordinal)
        script = f"DATA={self.data_file} COUNT={int(records)} INTERVAL=0\n{oracle.WRITER_SH}\ncat {self.data_file}.ack"
        out = podexec.run(execclient.for_exec(s.clients), self.namespace, pod, ["sh", "-c", script], self.container,
                          s.timeouts.verify_s).stdout.strip()
        acked = int(out.splitlines()[-1]) if out else 0
        if acked < records:
            raise FaultFailed(f"the writer acknowledged {acked} of {records} records in {pod}")
        s.run.log(f"[{s.name}] seeded {acked} records in {self.namespace}/{pod}:{self.data_file}")
        return Seeded(pod, acked)

    def verify(self, seeded: Seeded) -> oracle.Report:
        """Every acknowledged record is back, byte-exact; DataLost names what is missing."""
        s = self.scope
        text = podexec.run(execclient.for_exec(s.clients), self.namespace, seeded.pod,
                           ["sh", "-c", f"cat {self.data_file} 2>/dev/null || true"], self.container,
                           s.timeouts.verify_s).stdout
        report = oracle.verify(text, expected_through=seeded.records)
        s.run.log(f"[{s.name}] {seeded.pod}: {report.describe()}")
        if not report.ok:
            raise DataLost(f"{report.describe()} in {self.namespace}/{seeded.pod}:{self.data_file} "
                           f"({seeded.records} acknowledged before the fault)")
        return report


def db_pod_spec(volume: str, toleration_s: int | None, image: str | None = None) -> dict[str, Any]:
    """An idle busybox pod whose /data is a PVC (``volume="pvc"``) or an emptyDir (the broken one)."""
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 2,
        "tolerations": tolerations(toleration_s),
        "containers": [{
            "name": "db", "image": image or pins.shell_image(), "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "readinessProbe": {"exec": {"command": ["test", "-d", "/data"]},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
        }],
    }
    if volume == "emptyDir":
        spec["volumes"] = [{"name": "data", "emptyDir": {}}]
    elif volume != "pvc":
        raise ValueError(f"volume must be 'pvc' or 'emptyDir', not {volume!r}")
    return spec


def _pdb(clients):
    return k8s.PolicyV1Api(clients.api)


def create_pdb(scope: Scope, name: str, selector: dict[str, str], max_unavailable: int = 1) -> None:
    body = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "labels": guard.labels(scope.run.run_id)},
            "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": selector}}}
    _pdb(scope.clients).create_namespaced_pod_disruption_budget(scope.namespace, body)
    scope.cleanups.defer(f"delete PodDisruptionBudget {scope.namespace}/{name}", lambda: ignore_not_found(
        _pdb(scope.clients).delete_namespaced_pod_disruption_budget, name, scope.namespace))


def create_spread_deployment(scope: Scope, name: str, replicas: int, toleration_s: int | None):
    """A web Deployment spread over the workers, with its own tolerationSeconds and a PDB
    (maxUnavailable 1) that a drain must respect."""
    from kubedrill.workloads.base import Deployment

    with scope.phase("deploy"):
        scope.guard.check_namespace(scope.namespace, "create a deployment in")
        labels, selector = guard.app_labels(scope.run.run_id, name)
        spec = web_pod_spec()
        spec["tolerations"] = tolerations(toleration_s)
        spec["topologySpreadConstraints"] = spread(selector)
        deployments.create(scope.clients, scope.namespace,
                           deployments.manifest(name, labels, replicas, spec, selector))
        scope.cleanups.defer(f"delete deployment {scope.namespace}/{name}",
                             lambda: deployments.delete(scope.clients, scope.namespace, name))
        create_pdb(scope, name, selector)
        handle = Deployment(scope, name, selector, replicas)
        handle.wait_ready()
    return handle


def create_statefulset(scope: Scope, name: str = "db", volume: str = "pvc",
                       toleration_s: int | None = None, size: str = "16Mi") -> StatefulSet:
    """A one-replica StatefulSet whose /data is a node-local PVC (default class) or an emptyDir."""
    with scope.phase("deploy"):
        scope.guard.check_namespace(scope.namespace, "create a statefulset in")
        labels, selector = guard.app_labels(scope.run.run_id, name)
        templates = [] if volume == "emptyDir" else [{
            "metadata": {"name": "data", "labels": labels},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}]
        body = statefulsets.manifest(name, labels, 1, db_pod_spec(volume, toleration_s), selector, name, templates)
        # the claims (and their node-local PVs) go after the StatefulSet, before the namespace
        scope.cleanups.defer(f"delete the claims of statefulset {scope.namespace}/{name}",
                             lambda: claims.delete_claims_and_wait(scope.clients, scope.namespace, selector_string(selector), scope.timeouts.delete_s, scope.progress))
        statefulsets.create(scope.clients, scope.namespace, body)
        scope.cleanups.defer(f"delete statefulset {scope.namespace}/{name}",
                             lambda: statefulsets.delete(scope.clients, scope.namespace, name))
        create_pdb(scope, name, selector)
        handle = StatefulSet(scope, name, selector, 1)
        handle.wait_ready()
    return handle


# --- the faults and waits -----------------------------------------------------------------

def _node_source(clients, node: str) -> ApiSource:
    return ApiSource(clients.core.list_node, field_selector=f"metadata.name={node}")


def _has_taint(obj: dict, key: str, effect: str | None = None) -> bool:
    return any(t.get("key") == key and (effect is None or t.get("effect") == effect)
               for t in (obj.get("spec") or {}).get("taints") or [])


def _ready(obj: dict) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") or "Unknown"
    return "Unknown"


def _toleration_s(pod_obj: dict, key: str = UNREACHABLE) -> float:
    """How long the pod tolerates ``key``:NoExecute (0: not at all; inf: for ever)."""
    for t in (pod_obj.get("spec") or {}).get("tolerations") or []:
        if (t.get("key") in (key, None, "") and t.get("effect") in ("NoExecute", None, "")
                and (t.get("key") or t.get("operator") == "Exists")):
            seconds = t.get("tolerationSeconds")
            return float("inf") if seconds is None else float(seconds)
    return 0.0


class NodeFaults:
    """Node loss bound to one scenario's scope: stop or drain a worker, then watch what follows."""

    def __init__(self, scope: Scope, faults):
        self.scope = scope
        self.faults = faults
        self._marks: dict[str, list[tuple[str, float, str]]] = {}
        self._tolerations: dict[str, float | None] = {}

    # --- marks --------------------------------------------------------------------------
    def _mark(self, lost: NodeLost, name: str, mono: float, detail: str = "") -> None:
        marks = self._marks.setdefault(lost.node, [])
        if not any(n == name for n, _, _ in marks):
            marks.append((name, max(mono, lost.at.mono), detail))

    def timeline(self, lost: NodeLost, order: Iterable[str], ended_mono: float | None = None) -> NodeLossTimeline:
        return NodeLossTimeline(lost.how, lost.node, lost.at, tuple(order),
                                tuple(sorted(self._marks.get(lost.node, ()), key=lambda m: m[1])),
                                None if ended_mono is None else ended_mono - lost.at.mono)

    # --- the fault ----------------------------------------------------------------------
    def lose(self, target: Workload, how: str = STOP) -> NodeLost:
        """Lose the worker that hosts most of ``target``'s pods: ``stop`` its node container
        (journalled; started again at teardown whatever happens) or ``drain`` it (cordon, then
        evict the target's pods there through the Eviction API, which honours PodDisruptionBudgets)."""
        if how not in HOW:
            raise ValueError(f"how must be one of {', '.join(HOW)}, not {how!r}")
        s = self.scope
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
            # runs after the node container is started again (cleanups are last-in-first-out)
            s.cleanups.defer(f"wait until node {node} is Ready and untainted",
                             lambda: self._wait_untainted(node), kind="fault")
            stopped = self.faults.stop_node(node)
            at = stopped.at
            refused = 0
            self._marks[node] = [("node stopped", Instant.now().mono, "docker stop returned")]
        else:
            at, refused = self._drain(node, on_node)
        lost = NodeLost(how, node, at, target.name, tuple(p.name for p in on_node),
                        frozenset(p.uid for p in on_node), frozenset(p.uid for p in before), refused)
        if how == DRAIN:
            self._marks[node] = [(n, t, d) for n, t, d in self._drain_marks]
        s.run.log(f"[{s.name}] {lost.describe()}")
        return lost

    def _drain(self, node: str, victims: tuple[pods.PodInfo, ...]) -> tuple[Instant, int]:
        s = self.scope
        with s.phase("fault"):
            refuse_control_plane(s.clients, node, "drain")
            for p in victims:
                s.guard.check_object(dict(p.labels), p.namespace, f"pod {p.name}")
            entry = s.journal.record(f"cordon node {node}", journal.Undo(
                journal.UNCORDON, {"node": node}, f"uncordon node {node}"))
            at = Instant.now()
            nodes.set_unschedulable(s.clients, node, True)

            def undo() -> None:
                nodes.set_unschedulable(s.clients, node, False)
                s.journal.resolve(entry)

            s.cleanups.defer(f"uncordon node {node}", undo, kind="fault")
            self._drain_marks = [("cordoned", Instant.now().mono, f"node {node} unschedulable")]
            refused = self._evict(victims)
            self._drain_marks.append(("pods evicted", Instant.now().mono,
                                      f"{len(victims)} evicted, {refused} refused by the PDB first"))
        return at, refused

    def _evict(self, victims: tuple[pods.PodInfo, ...]) -> int:
        """Evict each pod; when a PodDisruptionBudget refuses (429), wait for it to allow one."""
        s = self.scope
        pending = list(victims)
        refused = 0
        deadline = Instant.now().mono + s.timeouts.recover_s
        while pending:
            left = []
            for p in pending:
                body = k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name=p.name, namespace=p.namespace),
                                      delete_options=k8s.V1DeleteOptions(
                                          preconditions=k8s.V1Preconditions(uid=p.uid)))
                try:
                    s.clients.core.create_namespaced_pod_eviction(p.name, p.namespace, body)
                    s.run.log(f"[{s.name}] evicted pod {p.name}")
                except ApiException as exc:
                    if exc.status == 404:
                        continue
                    if exc.status != 429:
                        raise
                    refused += 1
                    left.append(p)
            pending = left
            if pending:
                remaining = deadline - Instant.now().mono
                if remaining <= 0:
                    raise WaitTimeout("a PodDisruptionBudget to allow an eviction", s.timeouts.recover_s,
                                      tuple(p.name for p in pending), f"{len(pending)} pod(s) not evicted")
                wait_for(ApiSource(_pdb(s.clients).list_namespaced_pod_disruption_budget, s.namespace),
                         lambda items: Check(any(int((o.get("status") or {}).get("disruptionsAllowed") or 0) > 0
                                                 for o in items), "no disruption allowed"),
                         description=f"the PodDisruptionBudget to allow evicting {pending[0].name}",
                         timeout_s=remaining, progress=s.progress)
        return refused

    # --- Deployment: replaced elsewhere ---------------------------------------------------
    def wait_replaced(self, target: Workload, lost: NodeLost, within_s: float) -> NodeLossRecovery:
        """Wait, stage by stage, until ``target`` has all its replicas Ready again, none of them
        a pod of the lost node. The wait stops at ``within_s`` after the fault (the objective):
        ObjectiveMissed then names the stage that took the time."""
        s = self.scope
        order = DEPLOYMENT_STAGES[lost.how]
        limit = float(within_s)
        description = f"{target.kind.lower()} {target.name}: {target.replicas} pods Ready away from node {lost.node}"
        with s.phase("recover"):
            try:
                if lost.how == STOP:
                    self._wait_node_unreachable(lost, limit)
                    self._wait_pods_evicted(target, lost, limit)
                result = self._wait_serving_elsewhere(target, lost, limit)
            except WaitTimeout as exc:
                raise self._missed(target, lost, order, exc, within_s, description) from None
        timeline = self.timeline(lost, order)
        recovery = NodeLossRecovery(description, max(0.0, result.satisfied_at - lost.at.mono),
                                    timeline.timeline(), timeline.summary(), timeline)
        s.run.results.append((s.name, recovery))
        s.run.log(f"[{s.name}] node loss stages: {timeline.summary()}")
        return recovery

    def _missed(self, target, lost: NodeLost, order, exc: WaitTimeout, within_s: float,
                description: str) -> WaitTimeout:
        s = self.scope
        ended = lost.at.mono + float(within_s)
        timeline = self.timeline(lost, order, ended)
        s.run.results.append((s.name, NodeLossRecovery(
            description + " (not recovered)", float(within_s), timeline.timeline(),
            f"not recovered within {within_s:g}s: {timeline.summary()}", timeline)))
        slow = timeline.slowest()
        running = timeline.running()
        why = WHY.get(slow.name, "")
        if slow.name == "pods evicted" and lost.how == STOP:
            tol = self._tolerations.get(lost.node)
            if tol == float("inf"):
                why = f"the pods tolerate {UNREACHABLE} for ever (no tolerationSeconds): they are never evicted"
            elif tol is not None:
                why = (f"the pods tolerate {UNREACHABLE} for {tol:g} s"
                       + (" (Kubernetes' default, added at admission by DefaultTolerationSeconds; "
                          "set tolerationSeconds in the pod spec to shorten it)"
                          if tol == DEFAULT_TOLERATION_S else ""))
        took = (f"still running after {slow.duration_s(timeline.ended_s):.1f}s" if not slow.done
                else f"{slow.duration_s():.1f}s" + (f"; '{running.name}' still running" if running else ""))
        msg = (f"objective missed: {description} not reached within {within_s:g}s of the fault; "
               f"stage '{slow.name}' took the time ({took}): {why}. Stages: {timeline.summary()}")
        s.run.log(f"[{s.name}] {msg}")
        return ObjectiveMissed(msg, description, float(within_s), exc.last_state, slow.name, timeline)

    def _wait_node_unreachable(self, lost: NodeLost, limit: float) -> None:
        s = self.scope

        def check(items):
            now = Instant.now().mono
            if not items:
                return Check(False, "node not found")
            obj = items[0]
            ready = _ready(obj)
            if ready != "True":
                self._mark(lost, "node unreachable", now, f"Ready={ready}")
            if _has_taint(obj, UNREACHABLE, "NoExecute") or _has_taint(obj, NOT_READY, "NoExecute"):
                self._mark(lost, "node unreachable", now, f"Ready={ready}")
                self._mark(lost, "taint added", now, f"{UNREACHABLE}:NoExecute")
                return Check(True, f"Ready={ready}, tainted")
            return Check(False, f"Ready={ready}, not tainted yet")

        wait_for(_node_source(s.clients, lost.node), check,
                 description=f"node {lost.node} unreachable and tainted {UNREACHABLE}:NoExecute",
                 timeout_s=limit, started_at=lost.at.mono, progress=s.progress)

    def _wait_pods_evicted(self, target: Workload, lost: NodeLost, limit: float) -> None:
        s = self.scope

        def check(items):
            now = Instant.now().mono
            state = {(o.get("metadata") or {}).get("uid"): o for o in items}
            for o in items:
                if (o.get("metadata") or {}).get("uid") in lost.uids:
                    self._tolerations.setdefault(lost.node, _toleration_s(o))
            waiting = [pods.info(o).name for uid, o in state.items()
                       if uid in lost.uids and not (o.get("metadata") or {}).get("deletionTimestamp")]
            if not waiting:
                self._mark(lost, "pods evicted", now, f"{len(lost.uids)} pod(s) terminating or gone")
                return Check(True, "evicted")
            return Check(False, f"{len(waiting)} pod(s) still bound to {lost.node}: {', '.join(sorted(waiting))}")

        wait_for(pods.source(s.clients, target.namespace, target.selector_string), check,
                 description=f"the pods of {target.name} on node {lost.node} to be evicted",
                 timeout_s=limit, started_at=lost.at.mono, progress=s.progress)

    def _wait_serving_elsewhere(self, target: Workload, lost: NodeLost, limit: float):
        s = self.scope
        serving = pods.all_serving(target.replicas, lost.uids)

        def check(items):
            now = Instant.now().mono
            for o in items:
                p = pods.info(o)
                if p.uid not in lost.before and p.node:
                    self._mark(lost, "replacement scheduled", now, f"{p.name} on {p.node}")
            verdict = serving(items)
            verdict = Check(verdict.done, verdict.summary.replace("killed still present", "of the lost node still listed"))
            if verdict.done:
                self._mark(lost, "replacements Ready", now, verdict.summary)
            return verdict

        return wait_for(pods.source(s.clients, target.namespace, target.selector_string), check,
                        description=f"{target.replicas} pods of {target.name} Ready, none from node {lost.node}",
                        timeout_s=limit, started_at=lost.at.mono, progress=s.progress)

    # --- StatefulSet: held, fenced, pending, back -----------------------------------------
    def wait_held(self, target: StatefulSet, lost: NodeLost) -> HeldPod:
        """Wait until the pod on the lost node is evicted: it keeps its deletionTimestamp (its
        kubelet cannot confirm), and no pod with its name but another UID appears meanwhile."""
        s = self.scope
        name = lost.pods[0]
        seen: set[str] = set(lost.uids)
        limit = s.timeouts.node_s

        with s.phase("recover"):
            self._wait_node_unreachable(lost, limit)

            def check(items):
                now = Instant.now().mono
                for o in items:
                    m = o.get("metadata") or {}
                    if m.get("name") == name:
                        seen.add(m.get("uid"))
                        if m.get("uid") in lost.uids and m.get("deletionTimestamp"):
                            self._mark(lost, "pods evicted", now, f"{name} deletionTimestamp {m['deletionTimestamp']}")
                            return Check(True, f"{name} terminating since {m['deletionTimestamp']}")
                return Check(False, f"{name} not evicted yet")

            result = wait_for(pods.source(s.clients, target.namespace, target.selector_string), check,
                              description=f"pod {name} on node {lost.node} to be evicted",
                              timeout_s=limit, started_at=lost.at.mono, progress=s.progress)
        obj = next(o for o in result.items if (o.get("metadata") or {}).get("name") == name)
        held = HeldPod(name, obj["metadata"]["uid"], (obj.get("spec") or {}).get("nodeName", ""),
                       obj["metadata"].get("deletionTimestamp", ""), frozenset(seen),
                       result.satisfied_at - lost.at.mono)
        s.run.log(f"[{s.name}] {name} held on {lost.node}: terminating since {held.deletion_timestamp}")
        return held

    def mark_out_of_service(self, lost: NodeLost) -> OutOfService:
        """Taint the lost node ``node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`` (what an
        operator does once the node is known to be down): its terminating pods are force-deleted.
        Journalled; removed when the node returns (:meth:`bring_back`) or at teardown."""
        s = self.scope
        with s.phase("fault"):
            refuse_control_plane(s.clients, lost.node, "taint")
            same_name = frozenset(p.uid for p in pods.list_pods(s.clients, s.namespace, "")
                                  if p.name in lost.pods)
            entry = s.journal.record(
                f"taint node {lost.node} {OUT_OF_SERVICE}={OUT_OF_SERVICE_VALUE}:NoExecute",
                journal.Undo(journal.REMOVE_TAINT, {"node": lost.node, "key": OUT_OF_SERVICE,
                                                    "value": OUT_OF_SERVICE_VALUE, "effect": "NoExecute"},
                             f"remove taint {OUT_OF_SERVICE} from node {lost.node}"))
            at = Instant.now()
            nodes.add_taint(s.clients, lost.node, OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
            self._oos_entry = entry

            def undo() -> None:
                nodes.remove_taint(s.clients, lost.node, OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
                s.journal.resolve(entry)

            s.cleanups.defer(f"remove taint {OUT_OF_SERVICE} from node {lost.node}", undo, kind="fault")
            self._mark(lost, "out-of-service taint", at.mono, f"{OUT_OF_SERVICE}={OUT_OF_SERVICE_VALUE}:NoExecute")
            s.run.log(f"[{s.name}] tainted node {lost.node} with {OUT_OF_SERVICE}={OUT_OF_SERVICE_VALUE}:NoExecute")
        return OutOfService(lost.node, at, same_name)

    def wait_replacement(self, target: StatefulSet, lost: NodeLost) -> Replacement:
        """Wait until the held pod is gone and its replacement's fate is known: Pending with the
        scheduler's reason (PodScheduled=False), or placed on a node."""
        s = self.scope
        name = lost.pods[0]

        def check(items):
            now = Instant.now().mono
            for o in items:
                m = o.get("metadata") or {}
                if m.get("name") != name or m.get("uid") in lost.uids:
                    continue
                node = (o.get("spec") or {}).get("nodeName") or ""
                cond = next((c for c in (o.get("status") or {}).get("conditions") or []
                             if c.get("type") == "PodScheduled"), None)
                if node:
                    self._mark(lost, "replacement Pending", now, f"{name} placed on {node}")
                    return Check(True, f"{name} placed on {node}")
                if cond and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
                    self._mark(lost, "replacement Pending", now, cond.get("message", ""))
                    return Check(True, f"{name} Pending: {cond.get('message', '')}")
                return Check(False, f"{name} recreated, not scheduled yet")
            return Check(False, f"{name} still held on {lost.node}")

        with s.phase("recover"):
            result = wait_for(pods.source(s.clients, target.namespace, target.selector_string), check,
                              description=f"pod {name} force-deleted and its replacement scheduled or Pending",
                              timeout_s=s.timeouts.recover_s, progress=s.progress)
        obj = next(o for o in result.items if (o.get("metadata") or {}).get("name") == name
                   and (o.get("metadata") or {}).get("uid") not in lost.uids)
        node = (obj.get("spec") or {}).get("nodeName") or ""
        cond = next((c for c in (obj.get("status") or {}).get("conditions") or []
                     if c.get("type") == "PodScheduled"), {})
        rep = Replacement(name, obj["metadata"]["uid"], not node, "" if node else cond.get("reason", ""),
                          "" if node else cond.get("message", ""), node, result.satisfied_at - lost.at.mono)
        s.run.log(f"[{s.name}] replacement {name}: "
                  + (f"placed on {node}" if node else f"Pending ({rep.reason}: {rep.message})"))
        return rep

    def bring_back(self, lost: NodeLost) -> NodeBack:
        """The node returns: start its container (or uncordon it), wait until it is Ready with a
        fresh heartbeat and without the unreachable/not-ready taints, then remove the
        out-of-service taint."""
        s = self.scope
        with s.phase("recover"):
            started = Instant.now()
            if lost.how == STOP:
                from kubedrill import docker

                fresh_after = None
                if not docker.is_running(lost.node):
                    docker.start(lost.node)
                    fresh_after = int(started.wall)  # the kubelet posts its status at start
                try:
                    nodes.wait_ready(s.clients, lost.node, s.timeouts.node_s, s.progress,
                                     heartbeat_after=fresh_after)
                except WaitTimeout as exc:
                    # the container runs but its kubelet never reports: the machine, not Kubernetes
                    raise FaultFailed(f"node {lost.node}: its container runs again but the kubelet did not "
                                      f"report Ready within {exc.timeout_s:.0f}s ({exc.summary}); look at "
                                      f"`docker exec {lost.node} systemctl status kubelet`") from None
            else:
                nodes.set_unschedulable(s.clients, lost.node, False)
            ready = Instant.now()
            self._wait_untainted(lost.node)
            entry = getattr(self, "_oos_entry", None)
            if entry is not None:
                nodes.remove_taint(s.clients, lost.node, OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
                s.journal.resolve(entry)
                self._oos_entry = None
            done = Instant.now()
            self._mark(lost, "node back", done.mono, f"{lost.node} Ready and untainted")
        back = NodeBack(lost.node, started.mono - lost.at.mono, ready.mono - lost.at.mono, done.mono - lost.at.mono)
        s.run.log(f"[{s.name}] node {lost.node} back: Ready {back.ready_s - back.started_s:.1f}s after the start")
        return back

    def wait_recovered(self, target: StatefulSet, lost: NodeLost, back: NodeBack) -> NodeLossRecovery:
        """After the node returned: the StatefulSet's pod is Ready again (a new UID, same name)."""
        s = self.scope
        order = STATEFULSET_STAGES[lost.how]
        with s.phase("recover"):
            result = self._wait_serving_elsewhere_or_back(target, lost)
        timeline = self.timeline(lost, order)
        recovery = NodeLossRecovery(
            f"statefulset {target.name}: {target.replicas} pod(s) Ready after node {lost.node} returned",
            max(0.0, result.satisfied_at - lost.at.mono), timeline.timeline(), timeline.summary(), timeline)
        s.run.results.append((s.name, recovery))
        s.run.log(f"[{s.name}] node loss stages: {timeline.summary()}")
        return recovery

    def _wait_serving_elsewhere_or_back(self, target: Workload, lost: NodeLost):
        s = self.scope
        serving = pods.all_serving(target.replicas, lost.uids)

        def check(items):
            verdict = serving(items)
            if verdict.done:
                self._mark(lost, "replacements Ready", Instant.now().mono, verdict.summary)
            return verdict

        return wait_for(pods.source(s.clients, target.namespace, target.selector_string), check,
                        description=f"{target.replicas} pod(s) of {target.name} Ready, none of the lost ones",
                        timeout_s=s.timeouts.recover_s, progress=s.progress)

    def _wait_untainted(self, node: str) -> None:
        """The node is Ready and carries neither the unreachable nor the not-ready taint."""
        s = self.scope

        def check(items):
            if not items:
                return Check(False, "node not found")
            obj = items[0]
            left = sorted({t.get("key") for t in (obj.get("spec") or {}).get("taints") or []
                           if t.get("key") in (UNREACHABLE, NOT_READY)})
            ready = _ready(obj)
            return Check(ready == "True" and not left, f"Ready={ready}" + (f", tainted {', '.join(left)}" if left else ""))

        wait_for(_node_source(s.clients, node), check, description=f"node {node} Ready and untainted",
                 timeout_s=s.timeouts.node_s, progress=s.progress)
