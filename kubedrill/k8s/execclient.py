"""An ApiClient of its own for one-shot execs (kubedrill.k8s.podexec.run): ``stream()`` swaps
the request method of the ApiClient it is given while it runs, which must never happen to the
shared one (the drill lock's renewal thread and the watches use it)."""

from __future__ import annotations

import threading
import weakref
from types import SimpleNamespace

from kubernetes import client as k8s

_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def for_exec(clients) -> SimpleNamespace:
    """Something podexec.run accepts as ``clients``, with a CoreV1Api on its own ApiClient."""
    with _lock:
        got = _cache.get(clients.api)
        if got is None:
            got = SimpleNamespace(core=k8s.CoreV1Api(k8s.ApiClient(clients.api.configuration)),
                                  api=clients.api)
            _cache[clients.api] = got
        return got
