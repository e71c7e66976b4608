"""VolumeSnapshots and VolumeSnapshotContents (snapshot.storage.k8s.io/v1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from kubernetes.client.rest import ApiException

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


def contents_pointing_at(clients, namespaces: Iterable[str]) -> tuple[ContentInfo, ...]:
    wanted = set(namespaces)
    return tuple(c for c in list_contents(clients) if c.snapshot_namespace in wanted)
