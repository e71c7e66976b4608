"""The drill an experiment's kubedrill.ctk providers act in: bound by kubedrill for the length of
one experiment's run (one at a time in a process), so that every action goes through the run's
guard, journal and drill lock, in the experiment's namespace."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from chaoslib.exceptions import ActivityFailed

from kubedrill.scope import Scope

_lock = threading.Lock()
_scope: Scope | None = None
_checks: dict[str, Any] = {}   # what the drill checks, for kubedrill.ctk.probes: records, stream, prober


@contextlib.contextmanager
def bound(scope: Scope, **checks: Any) -> Iterator[Scope]:
    global _scope
    with _lock:
        if _scope is not None:
            raise RuntimeError("an experiment is already running in this process")
        _scope = scope
        _checks.clear()
        _checks.update({k: v for k, v in checks.items() if v is not None})
    try:
        yield scope
    finally:
        with _lock:
            _scope = None
            _checks.clear()


def active() -> bool:
    """A drill is bound in this process (kubedrill's own runner is running an experiment)."""
    return _scope is not None


def check(name: str) -> Any:
    """The drill's ``name`` (records, stream, prober), or None when its extension has none."""
    return _checks.get(name)


def scope(ns: str | None = None) -> Scope:
    """The drill's scope; ActivityFailed outside a drill, or when ``ns`` names another namespace."""
    s = _scope
    if s is None:
        raise ActivityFailed("kubedrill.ctk providers act only inside a kubedrill drill (make drill EXPERIMENTS=...)")
    if ns not in (None, "", s.namespace):
        raise ActivityFailed(f"kubedrill.ctk acts in the drill's namespace {s.namespace} only, not {ns!r}")
    return s
