"""PersistentVolumes and the claims that bind them: verbs for retention drills (delete a
claim, release a Retained volume, bind a new claim to it by name), probes as frozen records.
Listing lives in kubedrill.k8s.pvcs (PvInfo, PvcInfo)."""

from __future__ import annotations

from typing import Any

from kubedrill.k8s.common import ignore_not_found, meta
from kubedrill.k8s.pvcs import PvcInfo, PvInfo
from kubedrill.wait import ApiSource


def pv_of(obj: dict[str, Any]) -> PvInfo:
    """PvInfo from a raw PV dict (watch events)."""
    spec, m = obj.get("spec") or {}, meta(obj)
    ref = spec.get("claimRef") or {}
    return PvInfo(m.get("name", ""), m.get("uid", ""), (obj.get("status") or {}).get("phase", ""),
                  spec.get("persistentVolumeReclaimPolicy", ""), ref.get("namespace", ""),
                  ref.get("name", ""), (spec.get("csi") or {}).get("volumeHandle", ""))


def pvc_of(obj: dict[str, Any]) -> PvcInfo:
    m = meta(obj)
    return PvcInfo(m.get("name", ""), m.get("uid", ""), (obj.get("status") or {}).get("phase", ""),
                   (obj.get("spec") or {}).get("volumeName") or "")


def claim_manifest(name: str, labels: dict[str, str], storage_class: str, size: str = "16Mi",
                   volume_name: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                            "resources": {"requests": {"storage": size}}}
    if volume_name:
        spec["volumeName"] = volume_name
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "labels": labels}, "spec": spec}


def create_claim(clients, namespace: str, body: dict[str, Any]) -> PvcInfo:
    obj = clients.core.create_namespaced_persistent_volume_claim(namespace, body)
    return pvc_of(clients.api.sanitize_for_serialization(obj))


def get_claim(clients, namespace: str, name: str) -> PvcInfo:
    obj = clients.core.read_namespaced_persistent_volume_claim(name, namespace)
    return pvc_of(clients.api.sanitize_for_serialization(obj))


def delete_claim(clients, namespace: str, name: str) -> bool:
    return ignore_not_found(clients.core.delete_namespaced_persistent_volume_claim, name, namespace)


def claim_source(clients, namespace: str, name: str) -> ApiSource:
    return ApiSource(clients.core.list_namespaced_persistent_volume_claim, namespace,
                     field_selector=f"metadata.name={name}")


def get(clients, name: str) -> PvInfo:
    return pv_of(clients.api.sanitize_for_serialization(clients.core.read_persistent_volume(name)))


def source(clients, name: str) -> ApiSource:
    return ApiSource(clients.core.list_persistent_volume, field_selector=f"metadata.name={name}")


def clear_claim_ref(clients, name: str) -> None:
    """Make a Released volume Available again (the documented manual reclaim)."""
    clients.core.patch_persistent_volume(name, {"spec": {"claimRef": None}})


def set_reclaim_policy(clients, name: str, policy: str) -> bool:
    """False when the PV is already gone."""
    return ignore_not_found(clients.core.patch_persistent_volume, name,
                            {"spec": {"persistentVolumeReclaimPolicy": policy}})


def delete(clients, name: str) -> bool:
    return ignore_not_found(clients.core.delete_persistent_volume, name)
