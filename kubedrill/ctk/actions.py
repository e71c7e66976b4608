"""kubedrill's faults as Chaos Toolkit actions (``type: python``, ``module: kubedrill.ctk.actions``).

Each acts in the drill's namespace, through the run's guard and fault journal (an experiment's
faults are undone after a crash like the built-in scenarios'), chosen from the run's seed, and
returns what it acted on. Pod faults say how they remove a pod: ``mode: delete`` (the default, as
chaos tools do: it bypasses PodDisruptionBudgets) or ``mode: evict`` (the Eviction API, which
honours them; an eviction still refused at ``deadline_s`` is "fault not injected" and names the
budget).

    {"type": "action", "name": "kill-one-db-pod",
     "provider": {"type": "python", "module": "kubedrill.ctk.actions", "func": "kill_pods",
                  "arguments": {"kind": "StatefulSet", "name": "db", "count": 1, "mode": "evict"}}}
"""

from __future__ import annotations

from chaoslib.exceptions import ActivityFailed

from kubedrill.ctk import current, recover
from kubedrill.ctk import volumes as kvolumes
from kubedrill.ctk.handles import workload
from kubedrill.errors import CapabilityMissing, FaultFailed, KubedrillError, WaitTimeout
from kubedrill.faults import containers as kcontainers
from kubedrill.faults import nodes as knodes
from kubedrill.faults import pods as kpods
from kubedrill.k8s.pods import info as kpods_info
from kubedrill.observe.nodestages import HOW, STOP
from kubedrill.wait import Check, wait_for

MODES = ("delete", "evict")


def _failed(exc: KubedrillError) -> ActivityFailed:
    """What chaoslib marks the activity failed with: a failed action is "fault not injected"
    (kubedrill.ctk.verdict), its reason this error's."""
    return ActivityFailed(str(exc))


def kill_pods(kind: str, name: str, count: int | None = None, fraction: float | None = None,
              mode: str = "delete", deadline_s: float = 60, ns: str | None = None) -> list[str]:
    """Remove ``count`` (or ``fraction`` of) the workload's pods; returns their names."""
    if mode not in MODES:
        raise ActivityFailed(f"kill_pods: mode {mode!r} is not one of {', '.join(MODES)}")
    s = current.scope(ns)
    try:
        kill = kpods.kill_pods(s, workload(s, kind, name), count=count, fraction=fraction,
                               evict_within_s=float(deadline_s) if mode == "evict" else None)
    except (KubedrillError, ValueError) as exc:
        raise _failed(exc if isinstance(exc, KubedrillError) else FaultFailed(str(exc))) from None
    return list(kill.pods)


def kill_containers(kind: str, name: str, count: int | None = None, fraction: float | None = None,
                    deadline_s: float = 30, ns: str | None = None) -> list[str]:
    """Kill the main container of ``count`` (or ``fraction`` of) the workload's pods in place,
    and return once the kubelet has seen each kill (the pod NotReady or its restart counted):
    the recovery is watched from there. A kill not seen within ``deadline_s`` is "fault not
    injected"."""
    s = current.scope(ns)

    def unavailable(capability: str, why: str):
        raise CapabilityMissing(capability, why)   # "not applicable" (kubedrill.ctk.verdict)

    try:
        kill = kcontainers.kill_containers(s, workload(s, kind, name), count=count, fraction=fraction,
                                           unavailable=unavailable)
        _wait_seen(s, dict(kill.restarts_before), kill.pods, float(deadline_s), "the kubelet to see the kill of")
    except (KubedrillError, ValueError) as exc:
        raise _failed(exc if isinstance(exc, KubedrillError) else FaultFailed(str(exc))) from None
    return list(kill.pods)


def _wait_seen(s, before: dict[str, int], names, deadline_s: float, what: str) -> None:
    """Until each pod of ``before`` (uid -> its restart count) is NotReady, restarted, terminating
    or gone: the fault seen by Kubernetes, so that the recovery is watched from there (its RTO
    still runs from the method's first action). FaultFailed at the deadline."""
    def seen(items: list[dict]) -> Check:
        pods = {p.uid: p for p in map(kpods_info, items)}
        left = sorted(pods[u].name for u, n in before.items()
                      if u in pods and pods[u].ready and pods[u].restarts <= n and not pods[u].terminating)
        return Check(not left, f"not seen yet: {', '.join(left)}" if left else "every pod seen")

    try:
        wait_for(recover.source(s.clients, s.namespace), seen, description=f"{what} {', '.join(names)}",
                 timeout_s=deadline_s, progress=s.progress)
    except WaitTimeout as exc:
        raise FaultFailed(f"{what} {', '.join(names)}: not within {deadline_s:g}s: {exc.summary}") from None


def lose_node(kind: str, name: str, how: str = "drain", ns: str | None = None) -> dict:
    """Lose the worker that hosts most of the workload's pods: ``drain`` it (cordon, then evict
    the workload's pods there through the Eviction API, which honours PodDisruptionBudgets; any
    cluster) or ``stop`` its node container (the local kind cluster only: the node goes
    unreachable, its pods are evicted once their toleration ends; the action returns once
    Kubernetes sees them NotReady, some 40-50 s later, the RTO running from the stop). Journalled; the node is
    uncordoned, or started again and waited Ready and untainted, at the drill's end whatever
    happens. Returns the node and the workload's pods that were on it."""
    if how not in HOW:
        raise ActivityFailed(f"lose_node: how {how!r} is not one of {', '.join(HOW)}")
    s = current.scope(ns)
    if how == STOP and (why := knodes.stop_unavailable(s.clients)):
        raise ActivityFailed(f"lose_node how=stop: {why}")
    try:
        handle = workload(s, kind, name)
        restarts = {p.uid: p.restarts for p in handle.pods()}
        lost = knodes.lose_node(s, handle, how)
        if how == STOP:   # the pods look Ready until the node controller finds the node unreachable
            _wait_seen(s, {u: restarts.get(u, 0) for u in lost.uids}, lost.pods, s.timeouts.node_s,
                       f"node {lost.node} stopped: Kubernetes to see its pods NotReady:")
    except (KubedrillError, ValueError) as exc:
        raise _failed(exc if isinstance(exc, KubedrillError) else FaultFailed(str(exc))) from None
    return {"node": lost.node, "pods": list(lost.pods)}


def delete_claim(claim: str, ns: str | None = None) -> list[str]:
    """Delete claim ``claim`` (one the drill's own manifests made) and the pods that mount it: its
    volume is lost, as a disk is; a StatefulSet makes its claim anew, empty. Returns the pods
    deleted."""
    s = current.scope(ns)
    try:
        return kvolumes.delete_claim(s, claim)
    except KubedrillError as exc:
        raise _failed(exc) from None


def snapshot_claims(name: str, kind: str = "StatefulSet", ns: str | None = None) -> list[str]:
    """A VolumeSnapshot of each claim of the StatefulSet, readyToUse (not a fault: RTO starts
    at the next action). When kubedrill's writer (data.stream) writes into a pod of it, the
    writer is paused from before the first snapshot until the last is readyToUse: a consistent
    snapshot, whose cut (the last record acknowledged) a restore must bring back exactly."""
    stream = current.check("stream")
    if kind != "StatefulSet" or stream is None or not stream.in_statefulset(name):
        return _volumes(kvolumes.snapshot_claims, kind, name, ns)
    with stream.quiesced():
        return _volumes(kvolumes.snapshot_claims, kind, name, ns)


def restore_claims(name: str, kind: str = "StatefulSet", ns: str | None = None) -> list[str]:
    """The StatefulSet's claims deleted (its volumes lost) and created again from their last
    snapshots (snapshot_claims); the StatefulSet scaled to 0 for it and back."""
    return _volumes(kvolumes.restore_claims, kind, name, ns)


def _volumes(act, kind: str, name: str, ns: str | None) -> list[str]:
    if kind != "StatefulSet":
        raise ActivityFailed(f"kind {kind!r}: only a StatefulSet's claims are snapshotted and restored")
    s = current.scope(ns)
    try:
        return act(s, name)
    except KubedrillError as exc:
        raise _failed(exc) from None
