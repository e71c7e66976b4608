"""PodDisruptionBudgets (policy/v1): create, delete, and the wait for a budget to allow a
disruption (what a drain needs after an eviction was refused)."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from kubedrill.k8s.common import ignore_not_found
from kubedrill.wait import ApiSource, Check, Progress, WaitResult, wait_for


def api(clients) -> k8s.PolicyV1Api:
    return k8s.PolicyV1Api(clients.api)


def manifest(name: str, labels: dict[str, str], selector: dict[str, str], max_unavailable: int = 1) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "labels": labels},
            "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": selector}}}


def create(clients, namespace: str, body: dict[str, Any]) -> None:
    api(clients).create_namespaced_pod_disruption_budget(namespace, body)


def delete(clients, namespace: str, name: str) -> bool:
    return ignore_not_found(api(clients).delete_namespaced_pod_disruption_budget, name, namespace)


def source(clients, namespace: str) -> ApiSource:
    return ApiSource(api(clients).list_namespaced_pod_disruption_budget, namespace)


def disruption_allowed(items: list[dict]) -> Check:
    """Some budget of the namespace allows a disruption now (status.disruptionsAllowed > 0)."""
    return Check(any(int((o.get("status") or {}).get("disruptionsAllowed") or 0) > 0 for o in items),
                 "no disruption allowed")


def wait_disruption_allowed(clients, namespace: str, description: str, timeout_s: float,
                            progress: Progress | None = None) -> WaitResult:
    return wait_for(source(clients, namespace), disruption_allowed, description=description,
                    timeout_s=timeout_s, progress=progress)
