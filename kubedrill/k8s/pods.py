"""Pods. Probes: list, readiness. Verbs: delete (kill). A pod is identified by its UID."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from kubernetes import client as k8s

from kubedrill.errors import ImageUnavailable
from kubedrill.k8s.common import condition, ignore_not_found, meta
from kubedrill.k8s.nodes import UNREACHABLE
from kubedrill.wait import ApiSource, Check


@dataclass(frozen=True, order=True)
class PodInfo:
    name: str
    uid: str
    namespace: str
    node: str
    phase: str
    ready: bool
    terminating: bool
    restarts: int
    owner: str          # Kind/name of the controller, "" when none
    labels: tuple[tuple[str, str], ...] = ()
    owner_uid: str = ""  # UID of the controller ownerReference, "" when none

    @property
    def serving(self) -> bool:
        """Ready and not being deleted."""
        return self.ready and not self.terminating


def info(obj: dict[str, Any]) -> PodInfo:
    m = meta(obj)
    status = obj.get("status") or {}
    ctrl = next((o for o in m.get("ownerReferences") or [] if o.get("controller")), {})
    owner = f"{ctrl.get('kind')}/{ctrl.get('name')}" if ctrl else ""
    restarts = sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or [])
    return PodInfo(
        name=m.get("name", ""), uid=m.get("uid", ""), namespace=m.get("namespace", ""),
        node=(obj.get("spec") or {}).get("nodeName") or "", phase=status.get("phase", ""),
        ready=condition(obj, "Ready") == "True", terminating=bool(m.get("deletionTimestamp")),
        restarts=restarts, owner=owner, labels=tuple(sorted((m.get("labels") or {}).items())),
        owner_uid=ctrl.get("uid", "") if ctrl else "")


def source(clients, namespace: str, selector: str) -> ApiSource:
    return ApiSource(clients.core.list_namespaced_pod, namespace, label_selector=selector)


def list_pods(clients, namespace: str, selector: str) -> tuple[PodInfo, ...]:
    items, _ = source(clients, namespace, selector).list()
    return tuple(sorted(info(o) for o in items))


def mounting(clients, namespace: str, claim: str) -> tuple[PodInfo, ...]:
    """The pods of ``namespace`` that mount claim ``claim``."""
    items, _ = source(clients, namespace, "").list()
    return tuple(info(o) for o in items
                 if any((v.get("persistentVolumeClaim") or {}).get("claimName") == claim
                        for v in (o.get("spec") or {}).get("volumes") or []))


def all_serving(want: int, excluding: Iterable[str] = (), owns: Callable[[str], bool] | None = None):
    """Predicate: ``want`` pods Ready and not terminating, none of them in ``excluding`` UIDs;
    with ``owns`` (a controller UID -> the workload's?), only the workload's own pods count."""
    gone = frozenset(excluding)

    def check(items: list[dict]) -> Check:
        pods = [p for p in map(info, items) if owns is None or owns(p.owner_uid)]
        serving = [p for p in pods if p.serving and p.uid not in gone]
        old = [p for p in pods if p.uid in gone]
        extra = f", {len(old)} killed still present" if old else ""
        return Check(len(serving) >= want and not [p for p in old if p.serving],
                     f"{len(serving)}/{want} Ready{extra}")

    return check


# a container waiting for an image it cannot get: the kubelet only backs off and tries again
IMAGE_FAILURES = frozenset({"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"})


def image_failure(obj: dict[str, Any]) -> str:
    """Why a pod's container cannot get its image (``image <ref>: <reason> (<message>)``); "" when
    none is waiting for that."""
    status = obj.get("status") or {}
    for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_FAILURES:
            message = " ".join(str(waiting.get("message") or "").split())
            return (f"image {c.get('image') or '?'}: {waiting['reason']}"
                    + (f" ({message[:300]})" if message else ""))
    return ""


def serving_with_image(want: int, what: str):
    """``all_serving(want)``, for pods kubedrill starts itself (``what``, e.g. "prober pod"): a
    pod that cannot get its image ends the wait at once with ImageUnavailable."""
    base = all_serving(want)

    def check(items: list[dict]) -> Check:
        verdict = base(items)
        if not verdict.done:
            for obj in items:
                if reason := image_failure(obj):
                    raise ImageUnavailable(f"{what} {meta(obj).get('namespace', '')}/{meta(obj).get('name', '')} "
                                           f"cannot start: {reason}")
        return verdict

    return check


def not_evicted(items: list[dict], uids: Iterable[str]) -> tuple[str, ...]:
    """Names of the pods with one of ``uids`` that are still bound: no deletionTimestamp yet."""
    wanted = frozenset(uids)
    return tuple(sorted(p.name for p in map(info, items) if p.uid in wanted and not p.terminating))


def deletion_timestamp(obj: dict[str, Any]) -> str:
    """When the pod was marked for deletion ("" when it is not)."""
    return meta(obj).get("deletionTimestamp") or ""


def toleration_s(obj: dict[str, Any], key: str = UNREACHABLE) -> float:
    """How long the pod tolerates ``key``:NoExecute (0: not at all; inf: for ever)."""
    for t in (obj.get("spec") or {}).get("tolerations") or []:
        if (t.get("key") in (key, None, "") and t.get("effect") in ("NoExecute", None, "")
                and (t.get("key") or t.get("operator") == "Exists")):
            seconds = t.get("tolerationSeconds")
            return float("inf") if seconds is None else float(seconds)
    return 0.0


def scheduled_condition(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod's PodScheduled condition ({} when it has none)."""
    return next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == "PodScheduled"), {})


def unschedulable(obj: dict[str, Any]) -> bool:
    """The scheduler said it cannot place the pod (PodScheduled=False, reason Unschedulable)."""
    c = scheduled_condition(obj)
    return c.get("status") == "False" and c.get("reason") == "Unschedulable"


def delete(clients, namespace: str, name: str, uid: str, grace_s: int = 0) -> bool:
    """Delete one pod (precondition: this exact UID). False when it was already gone."""
    body = k8s.V1DeleteOptions(grace_period_seconds=grace_s, preconditions=k8s.V1Preconditions(uid=uid))
    return ignore_not_found(clients.core.delete_namespaced_pod, name, namespace, body=body)
