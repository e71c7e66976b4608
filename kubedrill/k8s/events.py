"""Events about one object (core/v1 Events): what a controller or provisioner said about it."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill.wait import ApiSource


@dataclass(frozen=True, order=True)
class EventInfo:
    time: str
    reason: str
    type: str
    message: str
    object: str          # Kind/namespace/name
    source: str
    count: int

    def describe(self) -> str:
        return f"{self.type} {self.reason} on {self.object} at {self.time}: {self.message}"


def info(obj: dict) -> EventInfo:
    inv = obj.get("involvedObject") or {}
    src = obj.get("source") or {}
    when = (obj.get("lastTimestamp") or obj.get("eventTime") or obj.get("firstTimestamp")
            or (obj.get("metadata") or {}).get("creationTimestamp") or "")
    return EventInfo(str(when), obj.get("reason", ""), obj.get("type", ""), obj.get("message", ""),
                     f"{inv.get('kind', '')}/{inv.get('namespace', '')}/{inv.get('name', '')}",
                     src.get("component", "") or obj.get("reportingComponent", ""), int(obj.get("count") or 1))


def source(clients, namespace: str, kind: str, name: str, uid: str | None = None) -> ApiSource:
    """Events about one object (by kind and name, and UID when given)."""
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    if uid:
        selector += f",involvedObject.uid={uid}"
    return ApiSource(clients.core.list_namespaced_event, namespace, field_selector=selector)
