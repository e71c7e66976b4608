"""What an experiment says must recover (the extension's ``recover``), watched back to health.

Each workload is named by kind and name (its pods: those its controller owns, kubedrill.k8s.owners)
or by a label selector (its pods: those the selector matches). Before the method, a snapshot:
which of its pods serve, and their restart counts. After the method, one watch on the
namespace's pods until every workload has as many pods serving as it had before (the controller's
desired count for a named one), none of them a pod the method deleted. RTO runs from the
method's first action to the watch event that made it all true; each workload's own RTO to the
event that made its own part true and kept it so.

The method must be seen to disturb one of them (a pod deleted or terminating, a restart counted,
a pod NotReady), or the fault was not injected: a drill that changed nothing proves nothing.

A StatefulSet named by kind and name must come back as itself (:func:`check_identity`): the same
pod names, each on the same claims (their UIDs), or its identity is lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from kubedrill import checks
from kubedrill.ctk.extension import Workload
from kubedrill.errors import FaultNotInjected, UsageError
from kubedrill.k8s import claims as kclaims
from kubedrill.k8s import owners as kowners
from kubedrill.k8s import pods as kpods
from kubedrill.k8s.common import read_or_none
from kubedrill.observe.measure import Instant, Recovery, Timeline
from kubedrill.wait import ApiSource, Check, WaitResult, wait_for


def parse_selector(selector: str) -> dict[str, str]:
    """``a=b,c=d`` (equality only: what the extension's schema documents); UsageError otherwise."""
    out: dict[str, str] = {}
    for part in selector.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip().lstrip("=")
        if not sep or not key or "!" in key:
            raise UsageError(f"selector {selector!r}: only key=value pairs, joined by commas, are supported")
        out[key] = value
    return out


@dataclass
class Watched:
    """One workload to recover, as found in the namespace before the method."""

    workload: Workload
    want: int                                     # pods that must serve again
    owners: kowners.Owners | None = None           # named workloads: who owns a pod
    labels: dict[str, str] = field(default_factory=dict)   # selector workloads: the labels
    before: dict[str, int] = field(default_factory=dict)   # uid -> restarts, of the pods serving before
    ok_since: float | None = None                  # monotonic: since when its part holds
    # a named StatefulSet: the names of its pods serving before, and their claims (name -> UID)
    names: frozenset[str] | None = None
    claims: dict[str, str] = field(default_factory=dict)

    def member(self, p: kpods.PodInfo) -> bool:
        if self.owners is not None:
            return self.owners.owns(p.owner_uid)
        got = dict(p.labels)
        return all(got.get(k) == v for k, v in self.labels.items())

    def describe(self) -> str:
        return self.workload.describe()


_DESIRED = {
    "Deployment": "read_namespaced_deployment",
    "StatefulSet": "read_namespaced_stateful_set",
    "ReplicaSet": "read_namespaced_replica_set",
    "DaemonSet": "read_namespaced_daemon_set",
}


def desired(clients, namespace: str, kind: str, name: str) -> int | None:
    """The replicas the controller wants (a DaemonSet: the pods it schedules); None when it does not exist."""
    if kind == "ReplicationController":
        obj = read_or_none(clients.core.read_namespaced_replication_controller, name, namespace)
    else:
        obj = read_or_none(getattr(clients.apps, _DESIRED[kind]), name, namespace)
    if obj is None:
        return None
    if kind == "DaemonSet":
        return int(obj.status.desired_number_scheduled or 0)
    replicas = obj.spec.replicas
    return 1 if replicas is None else int(replicas)


def list_pods(clients, namespace: str) -> list[kpods.PodInfo]:
    items, _ = source(clients, namespace).list()
    return [kpods.info(o) for o in items]


def source(clients, namespace: str) -> ApiSource:
    return ApiSource(clients.core.list_namespaced_pod, namespace)


def snapshot(clients, namespace: str, workloads: Iterable[Workload]) -> list[Watched]:
    """Each workload as it is now (before the method); UsageError naming one that is not there."""
    pods = list_pods(clients, namespace)
    out = []
    for w in workloads:
        if w.name:
            want = desired(clients, namespace, w.kind, w.name)
            if want is None:
                raise UsageError(f"recover: {w.kind} {w.name} does not exist in namespace {namespace}")
            watched = Watched(w, want, owners=kowners.Owners(clients, namespace, w.kind, w.name))
        else:
            watched = Watched(w, 0, labels=parse_selector(w.selector))
        serving = [p for p in pods if watched.member(p) and p.serving]
        watched.before = {p.uid: p.restarts for p in serving}
        if w.kind == "StatefulSet" and w.name:
            watched.names = frozenset(p.name for p in serving)
            watched.claims = stateful_claims(clients, namespace, w.name, watched.names)
        if not w.name:
            watched.want = len(serving)
            if not serving:
                raise UsageError(f"recover: no pod in namespace {namespace} matches {w.selector!r}")
        out.append(watched)
    return out


def stateful_claims(clients, namespace: str, name: str, pod_names: Iterable[str]) -> dict[str, str]:
    """The claims (name -> UID) StatefulSet ``name``'s volumeClaimTemplates give the pods
    ``pod_names``: ``<template>-<pod name>``; one that does not exist is left out."""
    sts = kowners.read(clients, namespace, "StatefulSet", name)
    templates = [t.metadata.name for t in (sts.spec.volume_claim_templates or [])] if sts is not None else []
    wanted = {f"{t}-{pod}" for t in templates for pod in pod_names}
    return {c.name: c.uid for c in kclaims.list_claims(clients, namespace) if c.name in wanted}


def check_identity(clients, namespace: str, watched: list[Watched], restored: dict[str, str] | None = None) -> None:
    """Each named StatefulSet back as itself: the pods that served before serve again under
    their names, each on the claims it had (same UIDs; a claim the method restored from a
    snapshot on purpose, ``restored``: claim name -> its new UID, on that one); IdentityLost
    otherwise."""
    pods = list_pods(clients, namespace)
    for w in watched:
        if w.names is None:
            continue
        now = frozenset(p.name for p in pods if w.member(p) and p.serving)
        checks.identity("experiment.identity", now == w.names,
                        f"{w.describe()}: pod names changed: {sorted(w.names)} before, {sorted(now)} after")
        claims = stateful_claims(clients, namespace, w.workload.name, w.names)
        expected = {**w.claims, **{n: uid for n, uid in (restored or {}).items() if n in w.claims}}
        changed = sorted(name for name, uid in expected.items() if claims.get(name) != uid)
        checks.identity("experiment.identity", not changed,
                        f"{w.describe()}: a pod came back on another claim (PVC UID changed): "
                        + "; ".join(f"{n} {expected[n]} expected, {claims.get(n) or 'none'} now" for n in changed))


def _disturbed(watched: list[Watched], pods: list[kpods.PodInfo]) -> list[str]:
    """What the method was seen to do to the workloads, from the pods as they are now."""
    seen = []
    by_uid = {p.uid: p for p in pods}
    for w in watched:
        for uid, restarts in w.before.items():
            p = by_uid.get(uid)
            if p is None or p.terminating:
                seen.append(f"{w.describe()}: a pod deleted")
            elif p.restarts > restarts:
                seen.append(f"{w.describe()}: {p.name} restarted")
            elif not p.ready:
                seen.append(f"{w.describe()}: {p.name} NotReady")
    return seen


def predicate(watched: list[Watched], gone: frozenset[str], clock=time.monotonic):
    """All workloads back: each has ``want`` pods serving, none of them one in ``gone``."""

    def check(items: list[dict]) -> Check:
        now = clock()
        pods = [kpods.info(o) for o in items]
        parts, done = [], True
        for w in watched:
            mine = [p for p in pods if w.member(p)]
            serving = [p for p in mine if p.serving and p.uid not in gone]
            ok = len(serving) >= w.want and not any(p.serving for p in mine if p.uid in gone)
            if ok and w.ok_since is None:
                w.ok_since = now
            elif not ok:
                w.ok_since = None
                done = False
            parts.append((ok, f"{w.describe()}: {len(serving)}/{w.want} Ready" + ("" if ok else ", not back")))
        # what is not back first: a WaitTimeout's summary names it
        return Check(done, "; ".join(text for _, text in sorted(parts, key=lambda p: p[0])))

    return check


@dataclass(frozen=True)
class Recovered:
    recovery: Recovery
    per_workload: tuple[tuple[Workload, float], ...]    # (workload, its RTO)
    disturbed: tuple[str, ...]


def wait(clients, namespace: str, watched: list[Watched], fault_at: Instant | None, timeout_s: float,
         progress=None) -> Recovered:
    """Wait until every workload is back (WaitTimeout naming what is not, in its summary);
    FaultNotInjected when the method disturbed none of them."""
    origin = fault_at or Instant.now()
    pods_now = list_pods(clients, namespace)
    gone = frozenset(uid for w in watched for uid in w.before
                     if uid not in {p.uid for p in pods_now if not p.terminating})
    seen = _disturbed(watched, pods_now)
    marks: dict[str, tuple[float, str]] = {}

    def note(t: float, etype: str, obj: dict[str, Any]) -> None:
        p = kpods.info(obj)
        for w in watched:
            if not w.member(p):
                continue
            if p.uid in w.before and (etype == "DELETED" or p.terminating or not p.ready
                                      or p.restarts > w.before[p.uid]):
                seen.append(f"{w.describe()}: {p.name} disturbed")
                marks.setdefault("first NotReady", (t, p.name))
            elif p.uid not in w.before and p.node:
                marks.setdefault("replacement scheduled", (t, f"{p.name} on {p.node}"))

    names = ", ".join(w.describe() for w in watched)
    result: WaitResult = wait_for(source(clients, namespace), predicate(watched, gone),
                                  description=f"{names} back (in {namespace})", timeout_s=timeout_s,
                                  progress=progress, on_event=note)
    if not seen:
        raise FaultNotInjected(f"the method disturbed none of {names}: no pod of theirs was deleted, "
                               "restarted or NotReady")
    timeline = Timeline(origin).add("fault", origin.mono, "the method's first action")
    for name, (t, detail) in marks.items():
        timeline = timeline.add(name, max(t, origin.mono), detail)
    timeline = timeline.add("Ready", result.satisfied_at, result.summary)
    per = tuple((w.workload, max(0.0, (w.ok_since or result.satisfied_at) - origin.mono)) for w in watched)
    recovery = Recovery(result.description, max(0.0, result.satisfied_at - origin.mono), timeline, result.summary)
    return Recovered(recovery, per, tuple(dict.fromkeys(seen)))
