"""Nodes: readiness, heartbeats and taints. Probes read (conditions of a node object), verbs
cordon and add or remove taints; the node faults are in kubedrill.faults.nodes.

Every change is planned from the node as it is (a pure function of the node object: a patch, or
None when the node already is so) and made with that object's resourceVersion as a
precondition, so what kubedrill records as its own change is exactly what it changed: a node an
operator already cordoned, or a taint already there, is never kubedrill's to undo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from kubernetes.client.rest import ApiException

from kubedrill.errors import KubedrillError
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


def provider_ids(clients) -> dict[str, str]:
    """Each node's spec.providerID, by node name ("" when it has none)."""
    items, _ = ApiSource(clients.core.list_node).list()
    return {(o.get("metadata") or {}).get("name", ""): (o.get("spec") or {}).get("providerID") or "" for o in items}


def workers(clients) -> tuple[NodeInfo, ...]:
    return tuple(n for n in list_nodes(clients) if not n.control_plane)


# --- changes, planned from the node as it is -----------------------------------------------

Plan = Callable[[dict], "dict | None"]


def unschedulable(obj: dict) -> bool:
    return bool((obj.get("spec") or {}).get("unschedulable"))


def _taints(obj: dict) -> list[dict]:
    return list((obj.get("spec") or {}).get("taints") or [])


def _matches(t: dict, key: str, value: str | None, effect: str | None) -> bool:
    return (t.get("key") == key and (effect is None or t.get("effect") == effect)
            and (value is None or (t.get("value") or "") == value))


def _at_version(obj: dict, spec: dict) -> dict:
    """A patch of ``spec`` that applies only to the node as ``obj`` shows it."""
    return {"metadata": {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion")}, "spec": spec}


def cordon_plan(obj: dict) -> dict | None:
    """Cordon a schedulable node; None when it is cordoned already (by whoever did it: not
    kubedrill's cordon, so nothing of it is journalled or undone)."""
    return None if unschedulable(obj) else _at_version(obj, {"unschedulable": True})


def uncordon_plan(obj: dict) -> dict | None:
    return _at_version(obj, {"unschedulable": None}) if unschedulable(obj) else None


def add_taint_plan(key: str, value: str, effect: str) -> Plan:
    """Add the taint; the plan is None when the node carries a taint with that key and effect
    already (an operator's identical taint: left alone, neither added, journalled nor removed)."""

    def plan(obj: dict) -> dict | None:
        taints = _taints(obj)
        if any(_matches(t, key, None, effect) for t in taints):
            return None
        return _at_version(obj, {"taints": taints + [{"key": key, "value": value, "effect": effect}]})

    return plan


def remove_taint_plan(key: str, value: str | None = None, effect: str | None = None) -> Plan:
    """Remove the taint (key, and value and effect when given); None when it is not there."""

    def plan(obj: dict) -> dict | None:
        taints = _taints(obj)
        keep = [t for t in taints if not _matches(t, key, value, effect)]
        return None if len(keep) == len(taints) else _at_version(obj, {"taints": keep or None})

    return plan


def read(clients, node: str) -> dict | None:
    """The node as the API returns it (a plain dict); None when there is no such node."""
    obj = read_or_none(clients.core.read_node, node)
    return None if obj is None else clients.api.sanitize_for_serialization(obj)


def apply(clients, node: str, plan: Plan, obj: dict | None = None, attempts: int = 5) -> bool:
    """Make ``plan``'s change to the node as ``obj`` (or a fresh read) shows it; when the node
    changed meanwhile (409), read it again and plan again. False when the plan finds nothing to
    change, or the node is gone."""
    for _ in range(attempts):
        obj = obj if obj is not None else read(clients, node)
        body = None if obj is None else plan(obj)
        if body is None:
            return False
        try:
            clients.core.patch_node(node, body)
            return True
        except ApiException as exc:
            if exc.status != 409:
                raise
            obj = None
    raise KubedrillError(f"node {node} changed under every one of {attempts} attempts to patch it")


def add_taint(clients, node: str, key: str, value: str, effect: str) -> bool:
    """Add a taint; False when the node already carried one with that key and effect."""
    return apply(clients, node, add_taint_plan(key, value, effect))


def remove_taint(clients, node: str, key: str, value: str | None = None, effect: str | None = None) -> bool:
    """Remove a taint; False when it was not there."""
    return apply(clients, node, remove_taint_plan(key, value, effect))


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


def set_unschedulable(clients, node: str, cordon: bool) -> bool:
    """Cordon (True) or uncordon (False) a node; False when it already was so (or is gone)."""
    return apply(clients, node, cordon_plan if cordon else uncordon_plan)


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
