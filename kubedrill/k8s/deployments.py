"""Deployments and their ReplicaSets. Probes read status; verbs create, scale, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubedrill.k8s.common import ignore_not_found, meta


@dataclass(frozen=True)
class DeploymentStatus:
    name: str
    uid: str
    replicas: int
    ready: int
    available: int
    updated: int
    observed_generation: int
    generation: int


def manifest(name: str, labels: dict[str, str], replicas: int, pod_spec: dict[str, Any],
             selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": {**labels, **selector}}, "spec": pod_spec}},
    }


def create(clients, namespace: str, body: dict[str, Any]) -> DeploymentStatus:
    obj = clients.apps.create_namespaced_deployment(namespace, body)
    return status_of(clients.api.sanitize_for_serialization(obj))


def status_of(obj: dict[str, Any]) -> DeploymentStatus:
    m, st, sp = meta(obj), obj.get("status") or {}, obj.get("spec") or {}
    return DeploymentStatus(m.get("name", ""), m.get("uid", ""), int(sp.get("replicas") or 0),
                            int(st.get("readyReplicas") or 0), int(st.get("availableReplicas") or 0),
                            int(st.get("updatedReplicas") or 0), int(st.get("observedGeneration") or 0),
                            int(m.get("generation") or 0))


def get(clients, namespace: str, name: str) -> DeploymentStatus:
    obj = clients.apps.read_namespaced_deployment(name, namespace)
    return status_of(clients.api.sanitize_for_serialization(obj))


def scale(clients, namespace: str, name: str, replicas: int) -> None:
    clients.apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}})


def delete(clients, namespace: str, name: str) -> bool:
    return ignore_not_found(clients.apps.delete_namespaced_deployment, name, namespace,
                            propagation_policy="Foreground")
