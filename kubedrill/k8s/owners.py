"""Who controls a pod: its controller ownerReference, followed up to the workload kubedrill
deployed or was told to drill. A Deployment's pods are controlled by its ReplicaSets; a
StatefulSet's, a ReplicationController's and a ReplicaSet's by the object itself.

A pod that merely matches a workload's selector (same labels, no ownerReference to it) is
not the workload's: it is never a fault's victim and never counted as a recovered replica.
"""

from __future__ import annotations

from typing import Any, Iterable

from kubedrill.k8s.common import meta, read_or_none

# kinds whose pods name the workload itself as their controller
DIRECT = ("StatefulSet", "ReplicationController", "ReplicaSet", "DaemonSet", "Job")


def controller_uid(obj: dict[str, Any]) -> str:
    """The UID of the object's controller ownerReference ("" when it has none)."""
    return next((o.get("uid", "") for o in meta(obj).get("ownerReferences") or [] if o.get("controller")), "")


def controllers(kind: str, workload_uid: str, replica_sets: Iterable[dict[str, Any]] = ()) -> frozenset[str]:
    """UIDs a pod's controller ownerReference may name for the pod to belong to the workload
    (``kind``, ``workload_uid``): the workload's own, and for a Deployment the ReplicaSets it
    controls (``replica_sets``: the namespace's ReplicaSets)."""
    if not workload_uid:
        return frozenset()
    if kind == "Deployment":
        return frozenset(meta(rs).get("uid", "") for rs in replica_sets if controller_uid(rs) == workload_uid)
    if kind in DIRECT:
        return frozenset({workload_uid})
    raise ValueError(f"cannot tell which pods a {kind} owns")


def read(clients, namespace: str, kind: str, name: str):
    """The workload object (the client's model), None when it does not exist."""
    readers = {
        "Deployment": clients.apps.read_namespaced_deployment,
        "StatefulSet": clients.apps.read_namespaced_stateful_set,
        "ReplicaSet": clients.apps.read_namespaced_replica_set,
        "DaemonSet": clients.apps.read_namespaced_daemon_set,
        "ReplicationController": clients.core.read_namespaced_replication_controller,
    }
    if kind not in readers:
        raise ValueError(f"cannot read a {kind}")
    return read_or_none(readers[kind], name, namespace)


def workload_controllers(clients, namespace: str, kind: str, name: str) -> frozenset[str]:
    """controllers() of the named workload as the API has it now (empty when it does not exist)."""
    obj = read(clients, namespace, kind, name)
    if obj is None:
        return frozenset()
    uid = obj.metadata.uid or ""
    replica_sets: list[dict] = []
    if kind == "Deployment":
        items = clients.apps.list_namespaced_replica_set(namespace).items
        replica_sets = [clients.api.sanitize_for_serialization(rs) for rs in items]
    return controllers(kind, uid, replica_sets)


class Owners:
    """Answers "is this pod the workload's?" from the pod's controller UID. The controller UIDs
    are read once and read again only when a pod names a controller not seen before (a
    Deployment's new ReplicaSet), so a watch predicate can ask on every event."""

    def __init__(self, clients, namespace: str, kind: str, name: str):
        self._args = (clients, namespace, kind, name)
        self._uids: frozenset[str] | None = None
        self._foreign: set[str] = set()

    def owns(self, owner_uid: str) -> bool:
        if not owner_uid or owner_uid in self._foreign:
            return False
        if self._uids is None or owner_uid not in self._uids:
            self._uids = workload_controllers(*self._args)
            if owner_uid not in self._uids:
                self._foreign.add(owner_uid)
        return owner_uid in self._uids
