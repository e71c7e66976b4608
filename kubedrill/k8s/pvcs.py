"""PersistentVolumeClaims and PersistentVolumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class PvInfo:
    name: str
    uid: str
    phase: str
    reclaim_policy: str
    claim_namespace: str
    claim_name: str
    volume_handle: str


def pv_info(pv) -> PvInfo:
    ref = pv.spec.claim_ref
    csi = pv.spec.csi
    return PvInfo(pv.metadata.name, pv.metadata.uid, (pv.status.phase if pv.status else "") or "",
                  pv.spec.persistent_volume_reclaim_policy or "", ref.namespace if ref else "",
                  ref.name if ref else "", csi.volume_handle if csi else "")


def list_pvs(clients) -> tuple[PvInfo, ...]:
    return tuple(sorted(pv_info(p) for p in clients.core.list_persistent_volume().items))


def pvs_pointing_at(clients, namespaces: Iterable[str]) -> tuple[PvInfo, ...]:
    """PVs whose claimRef points into one of ``namespaces`` (left behind by a run)."""
    wanted = set(namespaces)
    return tuple(p for p in list_pvs(clients) if p.claim_namespace in wanted)


@dataclass(frozen=True, order=True)
class PvcInfo:
    name: str
    uid: str
    phase: str
    volume_name: str


def list_pvcs(clients, namespace: str, selector: str = "") -> tuple[PvcInfo, ...]:
    items = clients.core.list_namespaced_persistent_volume_claim(namespace, label_selector=selector).items
    return tuple(sorted(PvcInfo(c.metadata.name, c.metadata.uid, (c.status.phase if c.status else "") or "",
                                c.spec.volume_name or "") for c in items))


# --- claims: create (optionally from a VolumeSnapshot), read, delete ----------------------

# the annotation the scheduler sets on a WaitForFirstConsumer claim; set by hand, it makes that
# node's provisioner create the volume there (how a restore is pinned to a snapshot's node)
SELECTED_NODE = "volume.kubernetes.io/selected-node"


def claim_manifest(name: str, labels: dict[str, str], size: str, storage_class: str | None = None,
                   snapshot: str | None = None, node: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    if snapshot:
        spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": snapshot}
    meta: dict = {"name": name, "labels": labels}
    if node:
        meta["annotations"] = {SELECTED_NODE: node}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}


def create_claim(clients, namespace: str, body: dict) -> PvcInfo:
    c = clients.core.create_namespaced_persistent_volume_claim(namespace, body)
    return PvcInfo(c.metadata.name, c.metadata.uid, (c.status.phase if c.status else "") or "",
                   c.spec.volume_name or "")


def get_claim(clients, namespace: str, name: str) -> dict | None:
    from kubernetes.client.rest import ApiException

    try:
        return clients.api.sanitize_for_serialization(
            clients.core.read_namespaced_persistent_volume_claim(name, namespace))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def delete_claim(clients, namespace: str, name: str, uid: str | None = None) -> bool:
    """Delete a claim (precondition: this exact UID when given). False when already gone."""
    from kubernetes import client as k8s

    from kubedrill.k8s.common import ignore_not_found

    body = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=uid)) if uid else None
    return ignore_not_found(clients.core.delete_namespaced_persistent_volume_claim, name, namespace, body=body)


def claim_source(clients, namespace: str, name: str):
    from kubedrill.wait import ApiSource

    return ApiSource(clients.core.list_namespaced_persistent_volume_claim, namespace,
                     field_selector=f"metadata.name={name}")


def get_pv(clients, name: str) -> dict | None:
    from kubernetes.client.rest import ApiException

    try:
        return clients.api.sanitize_for_serialization(clients.core.read_persistent_volume(name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def pv_node(pv: dict | None) -> str:
    """The node a node-local PV is pinned to (its node affinity), "" when none."""
    terms = ((((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms") or []
    for term in terms:
        for expr in term.get("matchExpressions") or []:
            if expr.get("operator") == "In" and expr.get("values"):
                return expr["values"][0]
    return ""
