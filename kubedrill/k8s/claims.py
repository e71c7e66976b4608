"""PersistentVolumeClaims and the PersistentVolumes that bind them: the one claims module.

Probes read (frozen ``PvcInfo`` / ``PvInfo`` records, or the raw object where a caller needs its
labels or node affinity); verbs act (create, from a VolumeSnapshot or bound to a volume by name;
delete, with a UID precondition; release a Retained volume; delete a run's claims and wait until
their volumes are gone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from kubernetes import client as k8s

from kubedrill.errors import KubedrillError
from kubedrill.k8s.common import ignore_not_found, meta, read_or_none
from kubedrill.wait import ApiSource, Check, Progress, wait_for

# the annotation the scheduler sets on a WaitForFirstConsumer claim; set by hand, it makes that
# node's provisioner create the volume there (how a restore is pinned to a snapshot's node)
SELECTED_NODE = "volume.kubernetes.io/selected-node"


@dataclass(frozen=True, order=True)
class PvInfo:
    name: str
    uid: str
    phase: str
    reclaim_policy: str
    claim_namespace: str
    claim_name: str
    volume_handle: str


@dataclass(frozen=True, order=True)
class PvcInfo:
    name: str
    uid: str
    phase: str
    volume_name: str


def pv_of(obj: dict[str, Any]) -> PvInfo:
    """PvInfo from a raw PV dict (watch events, reads)."""
    spec, m = obj.get("spec") or {}, meta(obj)
    ref = spec.get("claimRef") or {}
    return PvInfo(m.get("name", ""), m.get("uid", ""), (obj.get("status") or {}).get("phase", ""),
                  spec.get("persistentVolumeReclaimPolicy", ""), ref.get("namespace", ""),
                  ref.get("name", ""), (spec.get("csi") or {}).get("volumeHandle", ""))


def pvc_of(obj: dict[str, Any]) -> PvcInfo:
    """PvcInfo from a raw claim dict (watch events, reads)."""
    m = meta(obj)
    return PvcInfo(m.get("name", ""), m.get("uid", ""), (obj.get("status") or {}).get("phase", ""),
                   (obj.get("spec") or {}).get("volumeName") or "")


# --- claims ---------------------------------------------------------------------------------

def claim_manifest(name: str, labels: dict[str, str], size: str, storage_class: str | None = None,
                   snapshot: str | None = None, node: str | None = None,
                   volume_name: str | None = None) -> dict[str, Any]:
    """A ReadWriteOnce claim; from a VolumeSnapshot (``snapshot``), pinned to a node's
    provisioner (``node``), or bound to an existing volume by name (``volume_name``)."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    if snapshot:
        spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": snapshot}
    if volume_name:
        spec["volumeName"] = volume_name
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if node:
        metadata["annotations"] = {SELECTED_NODE: node}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


def create_claim(clients, namespace: str, body: dict[str, Any]) -> PvcInfo:
    obj = clients.core.create_namespaced_persistent_volume_claim(namespace, body)
    return pvc_of(clients.api.sanitize_for_serialization(obj))


def list_claims(clients, namespace: str, selector: str = "") -> tuple[PvcInfo, ...]:
    items = clients.api.sanitize_for_serialization(
        clients.core.list_namespaced_persistent_volume_claim(namespace, label_selector=selector)).get("items") or []
    return tuple(sorted(pvc_of(c) for c in items))


def read_claim(clients, namespace: str, name: str) -> dict[str, Any] | None:
    """The raw claim (its labels are checked by the guard), None when it does not exist."""
    obj = read_or_none(clients.core.read_namespaced_persistent_volume_claim, name, namespace)
    return None if obj is None else clients.api.sanitize_for_serialization(obj)


def claim_info(clients, namespace: str, name: str) -> PvcInfo:
    """The claim as a record (raises when it does not exist)."""
    obj = clients.core.read_namespaced_persistent_volume_claim(name, namespace)
    return pvc_of(clients.api.sanitize_for_serialization(obj))


def delete_claim(clients, namespace: str, name: str, uid: str | None = None) -> bool:
    """Delete a claim (precondition: this exact UID when given). False when already gone."""
    body = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=uid)) if uid else None
    return ignore_not_found(clients.core.delete_namespaced_persistent_volume_claim, name, namespace, body=body)


def claim_source(clients, namespace: str, name: str) -> ApiSource:
    return ApiSource(clients.core.list_namespaced_persistent_volume_claim, namespace,
                     field_selector=f"metadata.name={name}")


def delete_claims(clients, namespace: str, selector: str) -> set[str]:
    """Delete the claims matching ``selector`` (a StatefulSet's), their volumes switched to the
    Delete reclaim policy first; the names of the volumes provisioned for them, which the cluster
    deletes once their pods are gone (a namespace's deletion waits for them: k8s.namespaces)."""
    found = list_claims(clients, namespace, selector)
    # only the volumes provisioned for these claims: a pre-made volume that bound one is not ours
    names = {c.volume_name for c in found if c.volume_name and provisioned_for(c.volume_name, c.uid)}
    reclaim_with_delete(clients, namespace, {c.uid for c in found})
    for c in found:
        delete_claim(clients, namespace, c.name)
    return names


def delete_claims_and_wait(clients, namespace: str, selector: str, timeout_s: float,
                           progress: Progress | None = None) -> None:
    """Delete the claims matching ``selector`` and wait until their volumes are gone."""
    names = delete_claims(clients, namespace, selector)
    if not names:
        return

    def gone(objs: list[dict]) -> Check:
        left = sorted(n for n in names if any(meta(o).get("name") == n for o in objs))
        return Check(not left, f"{len(left)} volume(s) left: {', '.join(left)}" if left else "gone")

    wait_for(ApiSource(clients.core.list_persistent_volume), gone,
             description=f"the {len(names)} volume(s) of the claims {selector} in {namespace} to be deleted",
             timeout_s=timeout_s, progress=progress)


# --- volumes --------------------------------------------------------------------------------

def list_pvs(clients) -> tuple[PvInfo, ...]:
    items = clients.api.sanitize_for_serialization(clients.core.list_persistent_volume()).get("items") or []
    return tuple(sorted(pv_of(p) for p in items))


DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def premade(pvs: list[dict[str, Any]], storage_class: str) -> tuple[str, ...]:
    """Volumes of ``storage_class`` that a new claim of that class could bind instead of a
    provisioned one: Available, and not pre-bound to a claim (no claimRef)."""
    return tuple(sorted(meta(p).get("name", "") for p in pvs
                        if (p.get("status") or {}).get("phase") == "Available"
                        and not (p.get("spec") or {}).get("claimRef")
                        and (p.get("spec") or {}).get("storageClassName", "") == storage_class))


def refuse_premade(clients, storage_class: str | None, what: str) -> None:
    """KubedrillError (before anything is created) when a pre-made volume could bind the claim
    of ``what`` (``storage_class`` None: the cluster's default class): the claim would take a
    volume kubedrill did not make, and deleting the claim would release (or delete) it."""
    if storage_class is None:
        classes = clients.api.sanitize_for_serialization(clients.storage.list_storage_class()).get("items") or []
        storage_class = next((meta(c)["name"] for c in classes
                              if (meta(c).get("annotations") or {}).get(DEFAULT_CLASS) == "true"), "")
        if not storage_class:
            return  # no default class: a claim without a class binds only volumes without one
    pvs = clients.api.sanitize_for_serialization(clients.core.list_persistent_volume()).get("items") or []
    found = premade(pvs, storage_class)
    if found:
        raise KubedrillError(
            f"refusing to create {what}: PersistentVolume {', '.join(found)} of class {storage_class} is Available "
            "and not kubedrill's; the claim could bind it instead of a volume provisioned for it (pre-bind that "
            "volume to its own claim, or drill another class)")


def pv_info(clients, name: str) -> PvInfo:
    return pv_of(clients.api.sanitize_for_serialization(clients.core.read_persistent_volume(name)))


def read_pv(clients, name: str) -> dict[str, Any] | None:
    """The raw volume (for its node affinity), None when it does not exist."""
    obj = read_or_none(clients.core.read_persistent_volume, name)
    return None if obj is None else clients.api.sanitize_for_serialization(obj)


def pv_node(pv: dict[str, Any] | None) -> str:
    """The node a node-local PV is pinned to (its node affinity), "" when none."""
    terms = ((((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms") or []
    for term in terms:
        for expr in term.get("matchExpressions") or []:
            if expr.get("operator") == "In" and expr.get("values"):
                return expr["values"][0]
    return ""


def pv_source(clients, name: str) -> ApiSource:
    return ApiSource(clients.core.list_persistent_volume, field_selector=f"metadata.name={name}")


def wait_pv_gone(clients, name: str, timeout_s: float, progress: Progress | None = None) -> None:
    wait_for(pv_source(clients, name), lambda items: Check(not items, "gone" if not items else "present"),
             description=f"volume {name} to be deleted", timeout_s=timeout_s, progress=progress)


def wait_deleting_volumes_gone(clients, namespace: str, timeout_s: float, progress: Progress | None = None) -> None:
    """Wait until no volume of Delete policy is left pointing at a claim in ``namespace`` (the
    namespace is gone: its claims went, their volumes follow). Retain volumes are not waited for."""
    def check(items: list[dict]) -> Check:
        left = sorted(pv.name for pv in map(pv_of, items)
                      if pv.claim_namespace == namespace and pv.reclaim_policy == "Delete")
        return Check(not left, f"left: {', '.join(left)}" if left else "none left")
    wait_for(ApiSource(clients.core.list_persistent_volume), check,
             description=f"the volumes of namespace {namespace}'s claims to be deleted", timeout_s=timeout_s,
             progress=progress)


def provisioned_for(pv_name: str, claim_uid: str) -> bool:
    """Was the volume provisioned for the claim with ``claim_uid``? Dynamic provisioning names a
    volume ``pvc-<claim UID>``; a volume made before the claim (a user's pre-made PV that
    happened to match it) is not the claim's, and kubedrill never changes or deletes it."""
    return bool(claim_uid) and pv_name == f"pvc-{claim_uid}"


def provisioned_volume(clients, namespace: str, claim: str) -> tuple[str, str]:
    """(the volume the claim holds when it was provisioned for it, else "";
    the volume it holds when it was not, else ""). ("", "") when the claim is gone or unbound."""
    obj = read_claim(clients, namespace, claim)
    held = pvc_of(obj) if obj else None
    if held is None or not held.volume_name:
        return "", ""
    return (held.volume_name, "") if provisioned_for(held.volume_name, held.uid) else ("", held.volume_name)


def bind_to_claim(clients, name: str, namespace: str, claim: str, claim_uid: str) -> bool:
    """Pre-bind a Released volume to an existing claim (that names it in spec.volumeName): its
    claimRef is replaced by the claim's namespace, name and UID in one patch, so the volume is
    never Available and no other claim can take it. False when the volume is gone."""
    return ignore_not_found(clients.core.patch_persistent_volume, name, {"spec": {"claimRef": {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": namespace, "name": claim,
        "uid": claim_uid, "resourceVersion": None}}})


def set_reclaim_policy(clients, name: str, policy: str) -> bool:
    """False when the PV is already gone."""
    return ignore_not_found(clients.core.patch_persistent_volume, name,
                            {"spec": {"persistentVolumeReclaimPolicy": policy}})


def reclaim_with_delete(clients, namespace: str, claim_uids: Iterable[str] | None = None) -> tuple[str, ...]:
    """The volumes provisioned for claims in ``namespace`` (``claim_uids``: for those claims
    only), bound or already released, that a class of reclaim policy Retain made, switched to
    Delete: deleting their claims (or the namespace) then deletes them, a released one goes at
    once, and no volume outlives the run. Returns the volumes switched."""
    uids = None if claim_uids is None else set(claim_uids)
    items = clients.api.sanitize_for_serialization(clients.core.list_persistent_volume()).get("items") or []
    switched = []
    for pv in items:
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        name = meta(pv).get("name", "")
        if ref.get("namespace") != namespace or not provisioned_for(name, ref.get("uid", "")):
            continue
        if uids is not None and ref.get("uid") not in uids:
            continue
        if pv_of(pv).reclaim_policy == "Retain" and set_reclaim_policy(clients, name, "Delete"):
            switched.append(name)
    return tuple(sorted(switched))


def delete_pv(clients, name: str) -> bool:
    return ignore_not_found(clients.core.delete_persistent_volume, name)
