"""Choosing and refusing targets: how many of the available pods a fault hits, and the one
refusal of a control-plane node every node fault makes before it acts."""

from __future__ import annotations

import math

from kubedrill.errors import FaultFailed, GuardRefused
from kubedrill.k8s import nodes


def choose_count(available: int, count: int | None, fraction: float | None) -> int:
    """How many of ``available`` to hit: an exact count, or a fraction rounded up (at least 1)."""
    if (count is None) == (fraction is None):
        raise ValueError("give exactly one of count or fraction")
    if count is not None:
        if count < 1:
            raise ValueError("count must be at least 1")
        n = count
    else:
        if not 0 < fraction <= 1:  # type: ignore[operator]
            raise ValueError("fraction must be within (0, 1]")
        n = max(1, math.ceil(available * fraction))  # type: ignore[operator]
    if n > available:
        raise FaultFailed(f"asked to kill {n} pods but only {available} are running")
    return n


def refuse_control_plane(clients, node: str, action: str) -> None:
    """Raise GuardRefused when ``node`` is a control-plane node: no fault ``action``s one."""
    if any(n.name == node and n.control_plane for n in nodes.list_nodes(clients)):
        raise GuardRefused(f"refusing to {action} control-plane node {node}")


def report_foreign(scope, target) -> None:
    """Log the pods that match ``target``'s selector without being its own (no ownerReference
    to it): a fault never chooses them, and the run says so."""
    for p in target.foreign_pods():
        scope.run.log(f"[{scope.name}] pod {p.namespace}/{p.name} matches {target.kind} {target.name}'s "
                      f"selector but is not its own (controller: {p.owner or 'none'}): never a victim")
