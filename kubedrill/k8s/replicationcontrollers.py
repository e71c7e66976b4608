"""ReplicationControllers (the seed's example: three replicas)."""

from __future__ import annotations

from typing import Any

from kubedrill.k8s.common import ignore_not_found


def manifest(name: str, labels: dict[str, str], replicas: int, pod_spec: dict[str, Any],
             selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "selector": selector,
                 "template": {"metadata": {"labels": {**labels, **selector}}, "spec": pod_spec}},
    }


def create(clients, namespace: str, body: dict[str, Any]) -> str:
    return clients.core.create_namespaced_replication_controller(namespace, body).metadata.uid


def ready_replicas(clients, namespace: str, name: str) -> int:
    rc = clients.core.read_namespaced_replication_controller(name, namespace)
    return int(rc.status.ready_replicas or 0)


def delete(clients, namespace: str, name: str) -> bool:
    return ignore_not_found(clients.core.delete_namespaced_replication_controller, name, namespace,
                            propagation_policy="Foreground")
