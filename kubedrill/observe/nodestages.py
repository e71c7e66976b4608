"""The stages of a node loss: a worker lost (its container stopped) or drained, and what Kubernetes does next.

Kubernetes' defaults make a lost node's pods wait about six minutes: the node lifecycle
controller marks the node Unknown after ``--node-monitor-grace-period`` (50 s since 1.32) and
taints it ``node.kubernetes.io/unreachable:NoExecute``; every pod tolerates that taint for 300 s
unless it says otherwise (the DefaultTolerationSeconds admission plugin adds the toleration).
So the sample workloads set their own ``tolerationSeconds`` (kubedrill.workloads.base.tolerations).

The stages of a node loss, measured from watch events on a monotonic clock::

    stop:  fault -> node unreachable -> taint added -> pods evicted -> replacements Ready
    drain: fault -> cordoned -> pods evicted -> replacements Ready

A StatefulSet pod on a lost node is different: once evicted it keeps its deletionTimestamp
(the kubelet that would confirm the deletion is gone), and no second pod with its name appears.
The operator's ``node.kubernetes.io/out-of-service`` taint lets Kubernetes force-delete it; the
replacement then needs its volume, which on a node-local class lives on the lost node: it stays
Pending with the scheduler's reason until the node returns.

This module holds the model (stage orders, the timeline, what was seen); the waits that set
the marks are in kubedrill.observe.nodeloss, the faults in kubedrill.faults.nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from kubedrill.k8s.nodes import UNREACHABLE
from kubedrill.observe.measure import Instant, Recovery, Timeline

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


@dataclass(frozen=True)
class Watched:
    """What a node-loss observer watches: the lost node, how and since when, and the workload
    whose pods were on it (``selector``: its label selector string)."""

    how: str
    node: str
    at: Instant
    namespace: str
    selector: str
    kind: str
    name: str
    replicas: int
    pods: tuple[str, ...]             # the workload's pods on the node
    uids: frozenset[str]
    before: frozenset[str]            # UIDs of all the workload's pods just before the fault
    # a controller UID -> is it the workload's? (only its own pods count as replicas)
    owns: Callable[[str], bool] | None = field(default=None, compare=False)


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


def missed_message(timeline: NodeLossTimeline, description: str, within_s: float,
                   tolerated_s: float | None = None) -> str:
    """Why an objective was missed: the stage that took the time, and why that stage is slow
    (``tolerated_s``: how long the lost pods tolerated the unreachable taint, when known)."""
    slow = timeline.slowest()
    running = timeline.running()
    why = WHY.get(slow.name, "")
    if slow.name == "pods evicted" and timeline.how == STOP:
        if tolerated_s == float("inf"):
            why = f"the pods tolerate {UNREACHABLE} for ever (no tolerationSeconds): they are never evicted"
        elif tolerated_s is not None:
            why = (f"the pods tolerate {UNREACHABLE} for {tolerated_s:g} s"
                   + (" (Kubernetes' default, added at admission by DefaultTolerationSeconds; "
                      "set tolerationSeconds in the pod spec to shorten it)"
                      if tolerated_s == DEFAULT_TOLERATION_S else ""))
    took = (f"still running after {slow.duration_s(timeline.ended_s):.1f}s" if not slow.done
            else f"{slow.duration_s():.1f}s" + (f"; '{running.name}' still running" if running else ""))
    return (f"objective missed: {description} not reached within {within_s:g}s of the fault; "
            f"stage '{slow.name}' took the time ({took}): {why}. Stages: {timeline.summary()}")


# --- what the observer saw -------------------------------------------------------------

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
