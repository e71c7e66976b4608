"""Evictions: a pod deleted through the Eviction API, which honours PodDisruptionBudgets (a
budget that allows no disruption refuses with 429)."""

from __future__ import annotations

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

EVICTED, GONE, REFUSED = "evicted", "gone", "refused"


def body(name: str, namespace: str, uid: str) -> k8s.V1Eviction:
    """An Eviction of this exact pod (precondition: its UID)."""
    return k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name=name, namespace=namespace),
                          delete_options=k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=uid)))


def evict(clients, namespace: str, name: str, uid: str) -> str:
    """EVICTED; GONE when the pod no longer exists (404); REFUSED when a PodDisruptionBudget
    allows no disruption now (429). Any other error is raised."""
    try:
        clients.core.create_namespaced_pod_eviction(name, namespace, body(name, namespace, uid))
    except ApiException as exc:
        if exc.status == 404:
            return GONE
        if exc.status != 429:
            raise
        return REFUSED
    return EVICTED
