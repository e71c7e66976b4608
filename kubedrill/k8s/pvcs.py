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
