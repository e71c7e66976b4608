"""A handle on a workload of the drill's namespace that kubedrill did not create (kind and name),
as kubedrill's faults and waits take it (kubedrill.workloads.base.Workload)."""

from __future__ import annotations

from chaoslib.exceptions import ActivityFailed

from kubedrill.ctk.recover import desired
from kubedrill.k8s import owners
from kubedrill.scope import Scope
from kubedrill.workloads.base import Workload

KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DaemonSet")


def workload(scope: Scope, kind: str, name: str) -> Workload:
    if kind not in KINDS:
        raise ActivityFailed(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    replicas = desired(scope.clients, scope.namespace, kind, name)
    if replicas is None:
        raise ActivityFailed(f"{kind} {name} does not exist in namespace {scope.namespace}")
    obj = owners.read(scope.clients, scope.namespace, kind, name)
    match = dict(((obj.spec.selector.match_labels if kind != "ReplicationController" else obj.spec.selector)
                  or {}))
    handle = type(kind, (Workload,), {"kind": kind})(scope, name, match, replicas)
    return handle
