"""kubedrill's checks as Chaos Toolkit probes (``type: python``, ``module: kubedrill.ctk.probes``):
read-only, in the drill's namespace.

    {"type": "probe", "name": "db-all-ready", "tolerance": true,
     "provider": {"type": "python", "module": "kubedrill.ctk.probes", "func": "all_ready",
                  "arguments": {"kind": "StatefulSet", "name": "db"}}}
"""

from __future__ import annotations

from kubedrill.ctk import current
from kubedrill.ctk.handles import workload


def ready_count(kind: str, name: str, ns: str | None = None) -> int:
    """How many of the workload's own pods are Ready and not terminating."""
    s = current.scope(ns)
    return workload(s, kind, name).ready_count()


def all_ready(kind: str, name: str, ns: str | None = None) -> bool:
    """Every replica the workload wants is Ready (none terminating)."""
    s = current.scope(ns)
    handle = workload(s, kind, name)
    return handle.ready_count() >= handle.replicas
