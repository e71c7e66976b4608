"""Services: a ClusterIP Service in front of a workload, or a headless one for a StatefulSet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubedrill.k8s.common import ignore_not_found


@dataclass(frozen=True)
class ServiceInfo:
    namespace: str
    name: str
    cluster_ip: str
    port: int

    @property
    def url(self) -> str:
        """Reachable from inside the cluster without DNS (the prober uses it)."""
        return f"http://{self.cluster_ip}:{self.port}/"


def manifest(name: str, labels: dict[str, str], selector: dict[str, str], port: int,
             headless: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": port}]}
    if headless:
        spec["clusterIP"] = "None"
        spec["publishNotReadyAddresses"] = False
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels}, "spec": spec}


def create(clients, namespace: str, body: dict[str, Any]) -> ServiceInfo:
    svc = clients.core.create_namespaced_service(namespace, body)
    return ServiceInfo(namespace, svc.metadata.name, svc.spec.cluster_ip or "", int(svc.spec.ports[0].port))


def delete(clients, namespace: str, name: str) -> bool:
    return ignore_not_found(clients.core.delete_namespaced_service, name, namespace)
