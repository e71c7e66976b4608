"""The node-loss observer: the waits that follow a lost node stage by stage, and the marks they
set (the model, stage orders and records are in kubedrill.observe.nodestages).

One observer per scenario; it keeps the marks of each lost node (the fault's own marks come
from the fault record: ``begin``) and, after a stop, how long the lost pods tolerated the
unreachable taint (to say why the eviction took the time)."""

from __future__ import annotations

from typing import Iterable

from kubedrill.errors import ObjectiveMissed, WaitTimeout
from kubedrill.k8s import nodes, pods
from kubedrill.observe.measure import Instant
from kubedrill.observe.nodestages import (DEPLOYMENT_STAGES, STATEFULSET_STAGES, STOP, HeldPod, NodeLossRecovery, NodeLossTimeline, Replacement, Watched,
                                          missed_message)
from kubedrill.scope import Scope
from kubedrill.wait import Check, WaitResult, wait_for

Mark = tuple[str, float, str]      # (name, monotonic moment, detail)


class NodeMarks:
    """The marks of each lost node: (name, monotonic moment, detail), the first of each name."""

    def __init__(self) -> None:
        self._origins: dict[str, float] = {}
        self._marks: dict[str, list[Mark]] = {}

    def begin(self, node: str, at: Instant, marks: Iterable[Mark] = ()) -> None:
        """A new loss of ``node`` at ``at``: forget its earlier marks, start from the fault's."""
        self._origins[node] = at.mono
        self._marks[node] = list(marks)

    def mark(self, node: str, name: str, mono: float, detail: str = "") -> None:
        """The first moment ``name`` was seen (never before the fault); later ones are ignored."""
        marks = self._marks.setdefault(node, [])
        if not any(n == name for n, _, _ in marks):
            marks.append((name, max(mono, self._origins.get(node, mono)), detail))

    def timeline(self, w: Watched, order: Iterable[str], ended_mono: float | None = None) -> NodeLossTimeline:
        return NodeLossTimeline(w.how, w.node, w.at, tuple(order),
                                tuple(sorted(self._marks.get(w.node, ()), key=lambda m: m[1])),
                                None if ended_mono is None else ended_mono - w.at.mono)


class NodeLossObserver:
    """The waits that follow a lost node; they set its marks (``marks``)."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.marks = NodeMarks()
        self._tolerations: dict[str, float] = {}     # node -> seconds its lost pods tolerate UNREACHABLE

    def _record(self, recovery: NodeLossRecovery) -> NodeLossRecovery:
        s = self.scope
        s.run.results.append((s.name, recovery))
        return recovery

    # --- Deployment: replaced elsewhere ---------------------------------------------------
    def wait_replaced(self, w: Watched, within_s: float) -> NodeLossRecovery:
        """Wait, stage by stage, until the workload has all its replicas Ready again, none of
        them a pod of the lost node. The wait stops at ``within_s`` after the fault (the
        objective): ObjectiveMissed then names the stage that took the time."""
        s = self.scope
        order = DEPLOYMENT_STAGES[w.how]
        limit = float(within_s)
        description = f"{w.kind.lower()} {w.name}: {w.replicas} pods Ready away from node {w.node}"
        with s.phase("recover"):
            try:
                if w.how == STOP:
                    self.wait_unreachable(w, limit)
                    self.wait_evicted(w, limit)
                result = self.wait_serving_elsewhere(w, limit)
            except WaitTimeout as exc:
                raise self.missed(w, order, exc, within_s, description) from None
        timeline = self.marks.timeline(w, order)
        recovery = self._record(NodeLossRecovery(description, max(0.0, result.satisfied_at - w.at.mono),
                                                 timeline.timeline(), timeline.summary(), timeline))
        s.run.log(f"[{s.name}] node loss stages: {timeline.summary()}")
        return recovery

    def missed(self, w: Watched, order, exc: WaitTimeout, within_s: float, description: str) -> ObjectiveMissed:
        """The objective passed: record the partial recovery, and name the stage that took the time."""
        s = self.scope
        timeline = self.marks.timeline(w, order, w.at.mono + float(within_s))
        self._record(NodeLossRecovery(description + " (not recovered)", float(within_s), timeline.timeline(),
                                      f"not recovered within {within_s:g}s: {timeline.summary()}", timeline))
        slow = timeline.slowest()
        msg = missed_message(timeline, description, within_s, self._tolerations.get(w.node))
        s.run.log(f"[{s.name}] {msg}")
        return ObjectiveMissed(msg, description, float(within_s), exc.last_state, slow.name, timeline)

    def wait_unreachable(self, w: Watched, limit: float) -> None:
        """The node is marked not Ready, then tainted unreachable (or not-ready) NoExecute."""
        s = self.scope

        def check(items):
            now = Instant.now().mono
            if not items:
                return Check(False, "node not found")
            ready = nodes.ready_status(items[0])
            if ready != "True":
                self.marks.mark(w.node, "node unreachable", now, f"Ready={ready}")
            if nodes.unreachable(items[0]):
                self.marks.mark(w.node, "node unreachable", now, f"Ready={ready}")
                self.marks.mark(w.node, "taint added", now, f"{nodes.UNREACHABLE}:NoExecute")
                return Check(True, f"Ready={ready}, tainted")
            return Check(False, f"Ready={ready}, not tainted yet")

        wait_for(nodes.source(s.clients, w.node), check,
                 description=f"node {w.node} unreachable and tainted {nodes.UNREACHABLE}:NoExecute",
                 timeout_s=limit, started_at=w.at.mono, progress=s.progress)

    def wait_evicted(self, w: Watched, limit: float) -> None:
        """Every pod of the lost node has its deletionTimestamp (or is gone)."""
        s = self.scope

        def check(items):
            now = Instant.now().mono
            for o in items:
                if pods.info(o).uid in w.uids:
                    self._tolerations.setdefault(w.node, pods.toleration_s(o))
            waiting = pods.not_evicted(items, w.uids)
            if not waiting:
                self.marks.mark(w.node, "pods evicted", now, f"{len(w.uids)} pod(s) terminating or gone")
                return Check(True, "evicted")
            return Check(False, f"{len(waiting)} pod(s) still bound to {w.node}: {', '.join(waiting)}")

        wait_for(pods.source(s.clients, w.namespace, w.selector), check,
                 description=f"the pods of {w.name} on node {w.node} to be evicted",
                 timeout_s=limit, started_at=w.at.mono, progress=s.progress)

    def wait_serving_elsewhere(self, w: Watched, limit: float) -> WaitResult:
        s = self.scope
        serving = pods.all_serving(w.replicas, w.uids, w.owns)

        def check(items):
            now = Instant.now().mono
            for o in items:
                p = pods.info(o)
                if p.uid not in w.before and p.node:
                    self.marks.mark(w.node, "replacement scheduled", now, f"{p.name} on {p.node}")
            verdict = serving(items)
            verdict = Check(verdict.done, verdict.summary.replace("killed still present", "of the lost node still listed"))
            if verdict.done:
                self.marks.mark(w.node, "replacements Ready", now, verdict.summary)
            return verdict

        return wait_for(pods.source(s.clients, w.namespace, w.selector), check,
                        description=f"{w.replicas} pods of {w.name} Ready, none from node {w.node}",
                        timeout_s=limit, started_at=w.at.mono, progress=s.progress)

    # --- StatefulSet: held, pending, back ---------------------------------------------------
    def wait_held(self, w: Watched) -> HeldPod:
        """Wait until the pod on the lost node is evicted: it keeps its deletionTimestamp (its
        kubelet cannot confirm), and no pod with its name but another UID appears meanwhile."""
        s = self.scope
        name = w.pods[0]
        seen: set[str] = set(w.uids)
        limit = s.timeouts.node_s

        with s.phase("recover"):
            self.wait_unreachable(w, limit)

            def check(items):
                now = Instant.now().mono
                for o in items:
                    p = pods.info(o)
                    if p.name == name:
                        seen.add(p.uid)
                        if p.uid in w.uids and p.terminating:
                            stamp = pods.deletion_timestamp(o)
                            self.marks.mark(w.node, "pods evicted", now, f"{name} deletionTimestamp {stamp}")
                            return Check(True, f"{name} terminating since {stamp}")
                return Check(False, f"{name} not evicted yet")

            result = wait_for(pods.source(s.clients, w.namespace, w.selector), check,
                              description=f"pod {name} on node {w.node} to be evicted",
                              timeout_s=limit, started_at=w.at.mono, progress=s.progress)
        obj = next(o for o in result.items if pods.info(o).name == name)
        p = pods.info(obj)
        held = HeldPod(name, p.uid, p.node, pods.deletion_timestamp(obj), frozenset(seen),
                       result.satisfied_at - w.at.mono)
        s.run.log(f"[{s.name}] {name} held on {w.node}: terminating since {held.deletion_timestamp}")
        return held

    def wait_replacement(self, w: Watched) -> Replacement:
        """Wait until the held pod is gone and its replacement's fate is known: Pending with the
        scheduler's reason (PodScheduled=False), or placed on a node."""
        s = self.scope
        name = w.pods[0]

        def check(items):
            now = Instant.now().mono
            for o in items:
                p = pods.info(o)
                if p.name != name or p.uid in w.uids:
                    continue
                if p.node:
                    self.marks.mark(w.node, "replacement Pending", now, f"{name} placed on {p.node}")
                    return Check(True, f"{name} placed on {p.node}")
                if pods.unschedulable(o):
                    message = pods.scheduled_condition(o).get("message", "")
                    self.marks.mark(w.node, "replacement Pending", now, message)
                    return Check(True, f"{name} Pending: {message}")
                return Check(False, f"{name} recreated, not scheduled yet")
            return Check(False, f"{name} still held on {w.node}")

        with s.phase("recover"):
            result = wait_for(pods.source(s.clients, w.namespace, w.selector), check,
                              description=f"pod {name} force-deleted and its replacement scheduled or Pending",
                              timeout_s=s.timeouts.recover_s, progress=s.progress)
        obj = next(o for o in result.items if pods.info(o).name == name and pods.info(o).uid not in w.uids)
        p = pods.info(obj)
        cond = pods.scheduled_condition(obj)
        rep = Replacement(name, p.uid, not p.node, "" if p.node else cond.get("reason", ""),
                          "" if p.node else cond.get("message", ""), p.node, result.satisfied_at - w.at.mono)
        s.run.log(f"[{s.name}] replacement {name}: "
                  + (f"placed on {p.node}" if p.node else f"Pending ({rep.reason}: {rep.message})"))
        return rep

    def wait_recovered(self, w: Watched) -> NodeLossRecovery:
        """After the node returned: the StatefulSet's pods are Ready again (new UIDs, same names)."""
        s = self.scope
        order = STATEFULSET_STAGES[w.how]
        serving = pods.all_serving(w.replicas, w.uids, w.owns)

        def check(items):
            verdict = serving(items)
            if verdict.done:
                self.marks.mark(w.node, "replacements Ready", Instant.now().mono, verdict.summary)
            return verdict

        with s.phase("recover"):
            result = wait_for(pods.source(s.clients, w.namespace, w.selector), check,
                              description=f"{w.replicas} pod(s) of {w.name} Ready, none of the lost ones",
                              timeout_s=s.timeouts.recover_s, progress=s.progress)
        timeline = self.marks.timeline(w, order)
        recovery = self._record(NodeLossRecovery(
            f"statefulset {w.name}: {w.replicas} pod(s) Ready after node {w.node} returned",
            max(0.0, result.satisfied_at - w.at.mono), timeline.timeline(), timeline.summary(), timeline))
        s.run.log(f"[{s.name}] node loss stages: {timeline.summary()}")
        return recovery
