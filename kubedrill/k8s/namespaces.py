"""Namespaces: create (labelled), delete (only ours), wait until emptied or gone."""

from __future__ import annotations

from kubernetes import client as k8s

from kubedrill import guard
from kubedrill.errors import GuardRefused
from kubedrill.k8s import snapshots
from kubedrill.k8s.common import ignore_not_found, read_or_none
from kubedrill.wait import ApiSource, Check, Progress, wait_for


def create(clients, name: str, run_id: str, extra_labels: dict[str, str] | None = None) -> str:
    labels = {**guard.labels(run_id), **(extra_labels or {})}
    clients.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    return name


def terminating(clients, run_id: str) -> list[str]:
    """The namespaces of run ``run_id`` being deleted."""
    found = clients.core.list_namespace(label_selector=guard.run_selector(run_id))
    return sorted(ns.metadata.name for ns in found.items if ns.metadata.deletion_timestamp is not None)


def exists(clients, name: str) -> bool:
    return read_or_none(clients.core.read_namespace, name) is not None


def delete(clients, name: str, run_id: str) -> bool:
    """Delete a namespace this run created, and its pods at once: the namespace controller
    reaches them only after going through every other kind (seconds), and nothing can make new
    pods in a terminating namespace. True when it was already gone."""
    ns = read_or_none(clients.core.read_namespace, name)
    if ns is None:
        return True
    if (ns.metadata.labels or {}).get(guard.RUN_ID) != run_id:
        raise GuardRefused(f"refusing to delete namespace {name!r}: not created by run {run_id}")
    gone = not ignore_not_found(clients.core.delete_namespace, name,
                                body=k8s.V1DeleteOptions(propagation_policy="Foreground"))
    if not gone:
        ignore_not_found(clients.core.delete_collection_namespaced_pod, name)
        if snapshots.supported(clients):
            ignore_not_found(clients.custom.delete_collection_namespaced_custom_object, snapshots.GROUP,
                             snapshots.VERSION, name, "volumesnapshots")
    return gone


def wait_gone(clients, name: str, timeout_s: float, progress: Progress | None = None):
    def gone(items):
        if not items:
            return Check(True, "gone")
        phase = (items[0].get("status") or {}).get("phase", "")
        return Check(False, f"namespace {phase or 'present'}")

    return wait_for(ApiSource(clients.core.list_namespace, field_selector=f"metadata.name={name}"),
                    gone, description=f"namespace {name} to be deleted", timeout_s=timeout_s,
                    progress=progress)


def wait_emptied(clients, name: str, timeout_s: float, progress: Progress | None = None) -> None:
    """Wait until namespace ``name``, being deleted, holds no pod, claim or VolumeSnapshot, and
    the volumes and snapshot contents the cluster deletes with them are gone: its containers have
    stopped and the storage driver is done with its data. The namespace itself goes some seconds
    later, once the namespace controller has gone through every kind the cluster serves (about
    5 s on kind, even for an empty one)."""
    def none(what: str, mine):
        def check(items: list[dict]) -> Check:
            left = [o for o in items if mine(o)]
            return Check(not left, f"{len(left)} {what}(s) left")
        return check

    def spec(o: dict) -> dict:
        return o.get("spec") or {}

    waits = [("pod", ApiSource(clients.core.list_namespaced_pod, name), lambda o: True),
             ("claim", ApiSource(clients.core.list_namespaced_persistent_volume_claim, name), lambda o: True),
             ("volume", ApiSource(clients.core.list_persistent_volume),
              lambda o: (spec(o).get("claimRef") or {}).get("namespace") == name
              and spec(o).get("persistentVolumeReclaimPolicy") == "Delete")]
    if snapshots.supported(clients):
        waits += [("VolumeSnapshot", ApiSource(clients.custom.list_namespaced_custom_object, snapshots.GROUP,
                                               snapshots.VERSION, name, "volumesnapshots"), lambda o: True),
                  ("snapshot content", ApiSource(clients.custom.list_cluster_custom_object, snapshots.GROUP,
                                                 snapshots.VERSION, "volumesnapshotcontents"),
                   lambda o: (spec(o).get("volumeSnapshotRef") or {}).get("namespace") == name
                   and spec(o).get("deletionPolicy") == "Delete")]
    for what, source, mine in waits:
        wait_for(source, none(what, mine), description=f"the {what}s of namespace {name} to be gone",
                 timeout_s=timeout_s, progress=progress)
