"""Nodes: readiness, heartbeats and taints. Probes read (conditions of a node object), verbs
cordon and add or remove taints; the node faults are in kubedrill.faults.nodes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


from kubedrill.k8s.common import condition, read_or_none
from kubedrill.wait import ApiSource, Check, Progress, WaitResult, wait_for

# the taints of a lost node (the node lifecycle controller's) and the operator's "it is down"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
OUT_OF_SERVICE_VALUE = "nodeshutdown"


@dataclass(frozen=True, order=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True, order=True)
class NodeInfo:
    name: str
    ready: bool
    control_plane: bool
    taints: tuple[Taint, ...]


def info(obj: dict) -> NodeInfo:
    m = obj.get("metadata") or {}
    taints = tuple(sorted(Taint(t.get("key", ""), t.get("value") or "", t.get("effect", ""))
                          for t in (obj.get("spec") or {}).get("taints") or []))
    labels = m.get("labels") or {}
    return NodeInfo(m.get("name", ""), condition(obj, "Ready") == "True",
                    "node-role.kubernetes.io/control-plane" in labels, taints)


def source(clients, node: str) -> ApiSource:
    """One node, by name (for wait_for)."""
    return ApiSource(clients.core.list_node, field_selector=f"metadata.name={node}")


def ready_status(obj: dict) -> str:
    """The node's Ready condition: "True", "False" or "Unknown" (also when it has none)."""
    return condition(obj, "Ready") or "Unknown"


def has_taint(obj: dict, key: str, effect: str | None = None) -> bool:
    return any(t.get("key") == key and (effect is None or t.get("effect") == effect)
               for t in (obj.get("spec") or {}).get("taints") or [])


def unreachable(obj: dict) -> bool:
    """Tainted unreachable or not-ready with NoExecute: what evicts the pods that do not tolerate it."""
    return has_taint(obj, UNREACHABLE, "NoExecute") or has_taint(obj, NOT_READY, "NoExecute")


def lost_taints(obj: dict) -> tuple[str, ...]:
    """The unreachable / not-ready taint keys the node still carries (sorted)."""
    return tuple(sorted({t.get("key") for t in (obj.get("spec") or {}).get("taints") or []
                         if t.get("key") in (UNREACHABLE, NOT_READY)}))


def list_nodes(clients) -> tuple[NodeInfo, ...]:
    items, _ = ApiSource(clients.core.list_node).list()
    return tuple(sorted(info(o) for o in items))


def workers(clients) -> tuple[NodeInfo, ...]:
    return tuple(n for n in list_nodes(clients) if not n.control_plane)


def add_taint(clients, node: str, key: str, value: str, effect: str) -> None:
    obj = clients.core.read_node(node)
    taints = list(obj.spec.taints or [])
    if any(t.key == key and t.effect == effect for t in taints):
        return
    body = {"metadata": {"resourceVersion": obj.metadata.resource_version},
            "spec": {"taints": [clients.api.sanitize_for_serialization(t) for t in taints]
                     + [{"key": key, "value": value, "effect": effect}]}}
    clients.core.patch_node(node, body)


def remove_taint(clients, node: str, key: str, value: str | None = None, effect: str | None = None) -> bool:
    """Remove a taint; False when it was not there."""
    obj = read_or_none(clients.core.read_node, node)
    if obj is None:
        return False
    taints = list(obj.spec.taints or [])
    keep = [t for t in taints if not (t.key == key and (effect is None or t.effect == effect)
                                      and (value is None or (t.value or "") == value))]
    if len(keep) == len(taints):
        return False
    body = {"metadata": {"resourceVersion": obj.metadata.resource_version},
            "spec": {"taints": [clients.api.sanitize_for_serialization(t) for t in keep] or None}}
    clients.core.patch_node(node, body)
    return True


def _heartbeat(obj: dict) -> float:
    """Unix time of the kubelet's last Ready heartbeat (0 when unknown)."""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("lastHeartbeatTime"):
            text = c["lastHeartbeatTime"].replace("Z", "+00:00")
            try:
                return dt.datetime.fromisoformat(text).timestamp()
            except ValueError:
                return 0.0
    return 0.0


def wait_ready(clients, node: str, timeout_s: float, progress: Progress | None = None, want: bool = True,
               heartbeat_after: float | None = None):
    """Wait for a node's Ready condition. ``heartbeat_after`` (unix seconds): the kubelet must
    have reported after that moment, so a stale Ready from before a node stop does not count."""

    def check(items):
        if not items:
            return Check(False, "node not registered")
        n = info(items[0])
        fresh = heartbeat_after is None or _heartbeat(items[0]) >= heartbeat_after
        state = ("Ready" if n.ready else "NotReady") + ("" if fresh else " (stale heartbeat)")
        return Check(n.ready == want and fresh, state)

    return wait_for(source(clients, node), check,
                    description=f"node {node} to be {'Ready' if want else 'NotReady'}",
                    timeout_s=timeout_s, progress=progress)


def set_unschedulable(clients, node: str, unschedulable: bool) -> bool:
    """Cordon (True) or uncordon (False) a node; False when it already was so (or is gone)."""
    obj = read_or_none(clients.core.read_node, node)
    if obj is None:
        return False
    if bool(obj.spec.unschedulable) == unschedulable:
        return False
    clients.core.patch_node(node, {"spec": {"unschedulable": unschedulable or None}})
    return True


def wait_untainted(clients, node: str, timeout_s: float, progress: Progress | None = None) -> WaitResult:
    """The node is Ready and carries neither the unreachable nor the not-ready taint."""

    def check(items):
        if not items:
            return Check(False, "node not found")
        left = lost_taints(items[0])
        ready = ready_status(items[0])
        return Check(ready == "True" and not left, f"Ready={ready}" + (f", tainted {', '.join(left)}" if left else ""))

    return wait_for(source(clients, node), check, description=f"node {node} Ready and untainted",
                    timeout_s=timeout_s, progress=progress)
