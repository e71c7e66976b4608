"""StorageClasses and VolumeSnapshotClasses: which classes a drill runs its storage scenarios on
(``--storage-class NAME|all``), and the snapshot class of each one's driver.

A StorageClass's snapshots are taken with the VolumeSnapshotClass whose ``driver`` is the class's
``provisioner`` (the one annotated default when there are several, else the first by name). A
class whose driver has none cannot take snapshots: ``ClassPlan.snapshot_class`` is None and
``ClassPlan.no_snapshots`` says why, naming the class and its provisioner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from kubernetes.client.rest import ApiException

from kubedrill.errors import UsageError
from kubedrill.k8s.snapshots import GROUP, VERSION

ALL = "all"
DEFAULT_STORAGE_CLASS = "storageclass.kubernetes.io/is-default-class"
DEFAULT_SNAPSHOT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"


@dataclass(frozen=True, order=True)
class StorageClassInfo:
    name: str
    provisioner: str
    reclaim_policy: str = "Delete"
    binding_mode: str = "Immediate"
    default: bool = False


@dataclass(frozen=True, order=True)
class SnapshotClassInfo:
    name: str
    driver: str
    deletion_policy: str = "Delete"
    default: bool = False


@dataclass(frozen=True)
class ClassPlan:
    """One StorageClass a drill's storage scenarios run on, and the snapshot class of its driver."""

    storage: StorageClassInfo
    snapshot_class: str | None

    @property
    def name(self) -> str:
        return self.storage.name

    @property
    def no_snapshots(self) -> str:
        """Why this class's snapshot scenarios cannot run ("" when they can)."""
        if self.snapshot_class:
            return ""
        return (f"StorageClass {self.name} (provisioner {self.storage.provisioner}) has no VolumeSnapshotClass "
                f"of its driver")

    def reclaims(self, policy: str) -> str:
        """Why a scenario that needs reclaim policy ``policy`` cannot run on this class ("" when it can)."""
        if self.storage.reclaim_policy == policy:
            return ""
        return (f"StorageClass {self.name} reclaims its volumes with {self.storage.reclaim_policy}: "
                f"this scenario needs a class with reclaimPolicy {policy}")

    def as_dict(self) -> dict[str, Any]:
        return {"provisioner": self.storage.provisioner, "reclaim_policy": self.storage.reclaim_policy,
                "binding_mode": self.storage.binding_mode, "default": self.storage.default,
                "snapshot_class": self.snapshot_class}


def _annotated(obj: dict[str, Any], key: str) -> bool:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(key, "")).lower() == "true"


def storage_class_info(obj: dict[str, Any]) -> StorageClassInfo:
    return StorageClassInfo((obj.get("metadata") or {}).get("name", ""), obj.get("provisioner", ""),
                            obj.get("reclaimPolicy") or "Delete", obj.get("volumeBindingMode") or "Immediate",
                            _annotated(obj, DEFAULT_STORAGE_CLASS))


def snapshot_class_info(obj: dict[str, Any]) -> SnapshotClassInfo:
    return SnapshotClassInfo((obj.get("metadata") or {}).get("name", ""), obj.get("driver", ""),
                             obj.get("deletionPolicy") or "Delete", _annotated(obj, DEFAULT_SNAPSHOT_CLASS))


def list_storage_classes(clients) -> tuple[StorageClassInfo, ...]:
    data = clients.api.sanitize_for_serialization(clients.storage.list_storage_class())
    return tuple(sorted(storage_class_info(c) for c in data.get("items") or []))


def list_snapshot_classes(clients) -> tuple[SnapshotClassInfo, ...]:
    """The VolumeSnapshotClasses; () on a cluster without the VolumeSnapshot CRDs."""
    try:
        data = clients.custom.list_cluster_custom_object(GROUP, VERSION, "volumesnapshotclasses")
    except ApiException as exc:
        if exc.status == 404:
            return ()
        raise
    return tuple(sorted(snapshot_class_info(c) for c in data.get("items") or []))


def parse(values: Iterable[str]) -> tuple[str, ...]:
    """``--storage-class`` values (each ``NAME[,NAME]`` or ``all``) -> the names asked for, in
    order, once each (``all`` alone when it is among them). UsageError for an empty name."""
    names: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                raise UsageError(f"--storage-class {value!r}: empty name; give a StorageClass's name or {ALL}")
            if name not in names:
                names.append(name)
    return (ALL,) if ALL in names else tuple(names)


def snapshot_class_for(storage: StorageClassInfo,
                       snapshot_classes: Iterable[SnapshotClassInfo]) -> SnapshotClassInfo | None:
    """The VolumeSnapshotClass of ``storage``'s driver: the default one, else the first by name."""
    same = sorted((v for v in snapshot_classes if v.driver == storage.provisioner),
                  key=lambda v: (not v.default, v.name))
    return same[0] if same else None


def resolve(requested: Iterable[str], classes: Iterable[StorageClassInfo],
            snapshot_classes: Iterable[SnapshotClassInfo]) -> tuple[ClassPlan, ...]:
    """The plan of each class asked for (``all``: every class on the cluster, by name).
    UsageError names a class the cluster does not have, and the ones it has."""
    classes, snapshot_classes = tuple(sorted(classes)), tuple(snapshot_classes)
    by_name = {c.name: c for c in classes}
    requested = tuple(requested)
    names = tuple(by_name) if ALL in requested else requested
    unknown = [n for n in names if n not in by_name]
    if unknown:
        have = ", ".join(by_name) or "none"
        raise UsageError(f"--storage-class: no StorageClass {', '.join(unknown)} on this cluster; "
                         f"it has: {have} (or give {ALL})")
    if not names:
        raise UsageError("--storage-class all: the cluster has no StorageClass")
    plans = []
    for name in names:
        snap = snapshot_class_for(by_name[name], snapshot_classes)
        plans.append(ClassPlan(by_name[name], snap.name if snap else None))
    return tuple(plans)


def plan(clients, requested: Iterable[str]) -> tuple[ClassPlan, ...]:
    """:func:`resolve` against the cluster's classes (read only)."""
    return resolve(requested, list_storage_classes(clients), list_snapshot_classes(clients))
