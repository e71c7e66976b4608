"""Namespaces: create (labelled), delete (only ours), wait until gone."""

from __future__ import annotations

from kubernetes import client as k8s

from kubedrill import guard
from kubedrill.errors import GuardRefused
from kubedrill.k8s.common import ignore_not_found, read_or_none
from kubedrill.wait import ApiSource, Check, Progress, wait_for


def create(clients, name: str, run_id: str, extra_labels: dict[str, str] | None = None) -> str:
    labels = {**guard.labels(run_id), **(extra_labels or {})}
    clients.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    return name


def exists(clients, name: str) -> bool:
    return read_or_none(clients.core.read_namespace, name) is not None


def delete(clients, name: str, run_id: str) -> bool:
    """Delete a namespace this run created. True when it was already gone."""
    ns = read_or_none(clients.core.read_namespace, name)
    if ns is None:
        return True
    if (ns.metadata.labels or {}).get(guard.RUN_ID) != run_id:
        raise GuardRefused(f"refusing to delete namespace {name!r}: not created by run {run_id}")
    return not ignore_not_found(clients.core.delete_namespace, name,
                                body=k8s.V1DeleteOptions(propagation_policy="Foreground"))


def wait_gone(clients, name: str, timeout_s: float, progress: Progress | None = None):
    def gone(items):
        if not items:
            return Check(True, "gone")
        phase = (items[0].get("status") or {}).get("phase", "")
        return Check(False, f"namespace {phase or 'present'}")

    return wait_for(ApiSource(clients.core.list_namespace, field_selector=f"metadata.name={name}"),
                    gone, description=f"namespace {name} to be deleted", timeout_s=timeout_s,
                    progress=progress)
