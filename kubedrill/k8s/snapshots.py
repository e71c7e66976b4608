"""VolumeSnapshots and VolumeSnapshotContents (snapshot.storage.k8s.io/v1)."""

from __future__ import annotations

from dataclasses import dataclass

from kubernetes.client.rest import ApiException

from kubedrill.errors import SnapshotNotReady, WaitTimeout
from kubedrill.wait import ApiSource, Check, Progress, WaitResult, wait_for

GROUP, VERSION = "snapshot.storage.k8s.io", "v1"


@dataclass(frozen=True, order=True)
class ContentInfo:
    name: str
    snapshot_namespace: str
    snapshot_name: str
    deletion_policy: str


def supported(clients) -> bool:
    """True when the VolumeSnapshot CRDs are installed."""
    try:
        clients.custom.list_cluster_custom_object(GROUP, VERSION, "volumesnapshotcontents", limit=1)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def list_contents(clients) -> tuple[ContentInfo, ...]:
    try:
        data = clients.custom.list_cluster_custom_object(GROUP, VERSION, "volumesnapshotcontents")
    except ApiException as exc:
        if exc.status == 404:  # no snapshot CRDs on this cluster
            return ()
        raise
    out = []
    for item in data.get("items") or []:
        ref = (item.get("spec") or {}).get("volumeSnapshotRef") or {}
        out.append(ContentInfo(item["metadata"]["name"], ref.get("namespace", ""), ref.get("name", ""),
                               (item.get("spec") or {}).get("deletionPolicy", "")))
    return tuple(sorted(out))


# --- VolumeSnapshots: create, read, wait readyToUse; contents: read, force-delete ---------

# the snapshot-controller (--enable-distributed-snapshotting) labels each content with the node
# whose csi-snapshotter took it (docs/storage.md)
NODE_LABEL = "snapshot.storage.kubernetes.io/managed-by"


@dataclass(frozen=True)
class SnapshotInfo:
    namespace: str
    name: str
    uid: str
    claim: str
    ready: bool
    content_name: str
    error: str
    restore_size: str


def snapshot_info(obj: dict) -> SnapshotInfo:
    m, sp, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    err = st.get("error") or {}
    return SnapshotInfo(m.get("namespace", ""), m.get("name", ""), m.get("uid", ""),
                        (sp.get("source") or {}).get("persistentVolumeClaimName", ""),
                        st.get("readyToUse") is True, st.get("boundVolumeSnapshotContentName") or "",
                        err.get("message") or "", str(st.get("restoreSize") or ""))


def manifest(name: str, labels: dict, claim: str, snapshot_class: str | None = None) -> dict:
    spec: dict = {"source": {"persistentVolumeClaimName": claim}}
    if snapshot_class:
        spec["volumeSnapshotClassName"] = snapshot_class
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "labels": labels}, "spec": spec}


def create(clients, namespace: str, body: dict) -> SnapshotInfo:
    return snapshot_info(clients.custom.create_namespaced_custom_object(GROUP, VERSION, namespace,
                                                                        "volumesnapshots", body))


def get(clients, namespace: str, name: str) -> dict | None:
    try:
        return clients.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "volumesnapshots", name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def get_content(clients, name: str) -> dict | None:
    if not name:
        return None
    try:
        return clients.custom.get_cluster_custom_object(GROUP, VERSION, "volumesnapshotcontents", name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def content_node(content: dict | None) -> str:
    """The node that took the snapshot (and, with node-local stores, the only one that can
    restore it); "" when unknown."""
    return ((content or {}).get("metadata") or {}).get("labels", {}).get(NODE_LABEL, "")


def source(clients, namespace: str, name: str) -> ApiSource:
    return ApiSource(clients.custom.list_namespaced_custom_object, GROUP, VERSION, namespace,
                     "volumesnapshots", field_selector=f"metadata.name={name}")


def wait_ready(clients, namespace: str, name: str, timeout_s: float,
               progress: Progress | None = None) -> WaitResult:
    """Wait until the snapshot is readyToUse. SnapshotNotReady (a WaitTimeout) carries the
    snapshot's and its content's status as last seen."""

    def ready(items):
        if not items:
            return Check(False, "snapshot absent")
        s = snapshot_info(items[0])
        state = "readyToUse" if s.ready else "not readyToUse"
        state += f", content {s.content_name or 'not bound yet'}"
        return Check(s.ready, state + (f", error: {s.error}" if s.error else ""))

    description = f"VolumeSnapshot {namespace}/{name} to be readyToUse"
    try:
        return wait_for(source(clients, namespace, name), ready, description=description,
                        timeout_s=timeout_s, progress=progress)
    except WaitTimeout as exc:
        snap = get(clients, namespace, name) or {}
        content = get_content(clients, ((snap.get("status") or {}).get("boundVolumeSnapshotContentName")) or "")
        raise SnapshotNotReady(description, timeout_s, snap.get("status") if snap else "absent",
                               (content or {}).get("status") if content else "no VolumeSnapshotContent",
                               exc.summary and f"{exc.summary}; snapshot status "
                               f"{snap.get('status') if snap else 'absent'}; content status "
                               f"{(content or {}).get('status') if content else 'no VolumeSnapshotContent'}") from None


def delete(clients, namespace: str, name: str) -> bool:
    try:
        clients.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "volumesnapshots", name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def force_delete_content(clients, name: str) -> bool:
    """Delete a VolumeSnapshotContent outright, finalizers and all (what an operator's
    ``kubectl delete`` plus a finalizer patch does). False when it was already gone. The
    snapshot on the node's store stays: the driver is not asked to delete it."""
    try:
        clients.custom.delete_cluster_custom_object(GROUP, VERSION, "volumesnapshotcontents", name)
        clients.custom.patch_cluster_custom_object(GROUP, VERSION, "volumesnapshotcontents", name,
                                                   {"metadata": {"finalizers": None}})
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True
