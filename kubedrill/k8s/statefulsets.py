"""StatefulSets: identity (name, ordinal) and their volumeClaimTemplates."""

from __future__ import annotations

from typing import Any

from kubedrill.k8s.common import ignore_not_found


def manifest(name: str, labels: dict[str, str], replicas: int, pod_spec: dict[str, Any],
             selector: dict[str, str], service_name: str,
             volume_claim_templates: list[dict[str, Any]] | None = None,
             pod_management_policy: str = "OrderedReady") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "serviceName": service_name,
                 "podManagementPolicy": pod_management_policy,
                 "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": {**labels, **selector}}, "spec": pod_spec},
                 "volumeClaimTemplates": volume_claim_templates or []},
    }


def create(clients, namespace: str, body: dict[str, Any]) -> str:
    return clients.apps.create_namespaced_stateful_set(namespace, body).metadata.uid


def ordinal(pod_name: str) -> int:
    return int(pod_name.rsplit("-", 1)[1])


def ready_replicas(clients, namespace: str, name: str) -> int:
    sts = clients.apps.read_namespaced_stateful_set(name, namespace)
    return int(sts.status.ready_replicas or 0)


def delete(clients, namespace: str, name: str) -> bool:
    return ignore_not_found(clients.apps.delete_namespaced_stateful_set, name, namespace)


def scale(clients, namespace: str, name: str, replicas: int) -> None:
    clients.apps.patch_namespaced_stateful_set_scale(name, namespace, {"spec": {"replicas": replicas}})
