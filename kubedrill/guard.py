"""Safety: context allow-list, ownership labels, namespace scoping, the drill lock's rules.

A destructive action touches only namespaces this run created, or namespaces a drill
explicitly allows; kube-system and the storage driver's namespace are never targets.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Protocol

from kubedrill.errors import GuardRefused, LockHeld, UsageError

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "kubedrill"
RUN_ID = "kubedrill.io/run-id"
APP_NAME = "app.kubernetes.io/name"
TAINT_KEY = "kubedrill.io/fault"

# Never targets, whatever a drill allows. ``default`` is where every namespace-less call lands
# (and where the drill lock lives), so it is never one either.
PROTECTED_NAMESPACES = frozenset({
    "default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage",
    # the storage driver and snapshot controller of the kind cluster (cluster/manifests/storage)
    "kubedrill-storage",
    # the in-cluster game day's runner, its state claim and settings (deploy/gameday)
    "kubedrill-gameday",
    # where upstream CSI hostpath / snapshot-controller deployments usually live
    "csi-hostpath", "csi-driver-hostpath", "snapshot-controller",
})

LOCK_NAME = "kubedrill-drill-lock"
LOCK_NAMESPACE = "default"

_NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def parse_allowed_namespaces(values: Iterable[str]) -> frozenset[str]:
    """The namespaces ``--allow-namespace`` names, checked: UsageError (one line) for an empty
    value, a name that is no namespace name, or a namespace that can never be a drill target."""
    names = tuple(values)
    for name in names:
        if not name.strip():
            raise UsageError("--allow-namespace: empty name")
        if not _NAMESPACE_NAME.fullmatch(name):
            raise UsageError(f"--allow-namespace {name!r}: not a namespace name")
    bad = set(names) & PROTECTED_NAMESPACES
    if bad:
        raise UsageError(f"--allow-namespace: {', '.join(sorted(bad))} can never be a drill target")
    return frozenset(names)


# --- which cluster: the local kind one, or one the user allowed ------------------------------

# what a published address (docker's side) also serves (the server's side), beside itself
_ALSO_SERVES = {"0.0.0.0": {"127.0.0.1", "localhost"}, "::": {"::1", "127.0.0.1", "localhost"},
                "127.0.0.1": {"localhost"}, "::1": {"localhost"}}


def server_address(server: str) -> tuple[str, int] | None:
    """(host, port) of a kubeconfig's server URL; None when it names no host and port."""
    try:
        url = urllib.parse.urlsplit(server.strip())
        port = url.port
    except ValueError:
        return None
    if url.scheme not in ("https", "http") or not url.hostname:
        return None
    return url.hostname.lower(), port or (443 if url.scheme == "https" else 80)


def serves_at(published: Iterable[str], server: str) -> bool:
    """One of the addresses docker publishes a container port at (``docker port`` lines:
    ``127.0.0.1:35121``, ``0.0.0.0:35121``, ``[::]:35121``) is where ``server`` points: the same
    port, on the same address (or on every address, and the server is this machine's loopback).
    A server elsewhere, even on the same port, is not served by this machine's docker."""
    target = server_address(server)
    if target is None:
        return False
    host, port = target
    for line in published:
        address, _, number = line.strip().rpartition(":")
        address = address.strip("[]")
        if not number.isdigit() or int(number) != port:
            continue
        if address == host or host in _ALSO_SERVES.get(address, ()):
            return True
    return False


def reports_kind_nodes(provider_ids: Mapping[str, str], cluster: str) -> bool:
    """The API server's nodes (name -> spec.providerID) are kind cluster ``cluster``'s: kind gives
    each node the provider id ``kind://docker/<cluster>/<node>``."""
    return bool(provider_ids) and all(pid == f"kind://docker/{cluster}/{name}" for name, pid in provider_ids.items())


def check_context(context: str, allowed: Iterable[str] = (), kind_cluster: str | None = None,
                  why: str = "") -> None:
    """The local kind cluster (``kind_cluster``, identified by its server, not by the context's
    name) is allowed; any other context needs --allow-context NAME."""
    if kind_cluster or context in set(allowed):
        return
    raise UsageError(
        f"context {context!r} is not the local kind cluster{f' ({why})' if why else ''}; refusing to drill it "
        f"(pass --allow-context {context} to allow it)")


def labels(run_id: str) -> dict[str, str]:
    """The labels every object kubedrill creates carries."""
    return {MANAGED_BY: MANAGED_BY_VALUE, RUN_ID: run_id}


def app_labels(run_id: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The labels and the pod selector of an app named ``name`` in this run: the one place a
    workload's (or a prober's) labels and selector are made."""
    return {**labels(run_id), APP_NAME: name}, {APP_NAME: name, RUN_ID: run_id}


def run_selector(run_id: str) -> str:
    return f"{MANAGED_BY}={MANAGED_BY_VALUE},{RUN_ID}={run_id}"


@dataclass
class Guard:
    """Decides whether a destructive action may touch a target."""

    run_id: str
    allowed_namespaces: frozenset[str] = frozenset()
    protected_namespaces: frozenset[str] = PROTECTED_NAMESPACES
    _owned: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        parse_allowed_namespaces(self.allowed_namespaces)
        bad = self.allowed_namespaces & self.protected_namespaces
        if bad:
            raise UsageError(f"--allow-namespace: {', '.join(sorted(bad))} can never be a drill target")

    def claim(self, namespace: str) -> None:
        """Record a namespace this run created (call right after creating it)."""
        with self._lock:
            self._owned.add(namespace)

    def release(self, namespace: str) -> None:
        with self._lock:
            self._owned.discard(namespace)

    @property
    def owned(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._owned)

    def check_namespace(self, namespace: str, action: str = "act on") -> None:
        if not namespace:
            raise GuardRefused(f"refusing to {action} objects without a namespace")
        if namespace in self.protected_namespaces:
            raise GuardRefused(f"refusing to {action} namespace {namespace!r}: it is never a drill target")
        if namespace in self.owned or namespace in self.allowed_namespaces:
            return
        raise GuardRefused(
            f"refusing to {action} namespace {namespace!r}: not created by run {self.run_id} "
            f"(allow it explicitly with --allow-namespace {namespace})")

    def check_object(self, obj_labels: dict[str, str] | None, namespace: str, what: str) -> None:
        """Objects in allowed namespaces may be foreign; in owned ones they must carry our run id."""
        self.check_namespace(namespace, f"touch {what} in")
        if namespace in self.allowed_namespaces:
            return
        if (obj_labels or {}).get(RUN_ID) != self.run_id:
            raise GuardRefused(f"refusing to touch {what} in {namespace!r}: it does not carry run id {self.run_id}")

    def check_node(self, node: str, known: Iterable[str],
                   what: str = "a node container of this kind cluster") -> None:
        """Node faults only on nodes of the cluster we drill: ``known`` are its docker containers
        (a node stop) or its worker nodes (a drain or a taint)."""
        if node not in set(known):
            raise GuardRefused(f"refusing to touch node {node!r}: not {what}")


# --- the drill lock's rules: client-go's leader election (kubedrill.lock takes and renews it) ----

# client-go's defaults as shares of the lease (15 s lease, 10 s renew deadline, 2 s retry period):
# the holder injects no new fault once its last renewal is older than the renew deadline, and
# every try (a renewal, a contender's look) comes one retry period after the last
RENEW_DEADLINE = 2 / 3
RETRY_PERIOD = 2 / 15
MIN_LEASE_S = 15


def retry_period_s(duration_s: float) -> float:
    return duration_s * RETRY_PERIOD


def renew_deadline_s(duration_s: float) -> float:
    return duration_s * RENEW_DEADLINE


def may_inject(renewed_at: float | None, duration_s: float, now: float) -> bool:
    """The holder may start a new fault: its last successful renewal (sent at ``renewed_at``, on
    its own monotonic clock) is younger than the renew deadline."""
    return renewed_at is not None and now - renewed_at < renew_deadline_s(duration_s)


@dataclass
class Observation:
    """What a contender saw of a lease another run holds, and since when on its own monotonic
    clock (client-go's observedRecord and observedTime). The times written in the lease are
    never compared with this host's clock: only whether the record changed counts. The lease
    expires once its record has been seen unchanged for its full duration."""

    record: tuple | None = None
    since: float = 0.0
    duration_s: float = 0.0

    def see(self, record: tuple, duration_s: float, now: float) -> bool:
        """Note a read at ``now``; True when the record changed since the last one (or is the first)."""
        changed = record != self.record
        if changed:
            self.record, self.since = record, now
        self.duration_s = duration_s
        return changed

    def unchanged_for(self, now: float) -> float:
        return now - self.since

    def expires_in(self, now: float) -> float:
        return self.since + self.duration_s - now

    def expired(self, now: float) -> bool:
        return self.record is not None and self.expires_in(now) <= 0


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> _dt.datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """This host's clocks: monotonic for every rule, the wall clock only for what the lease says."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def live_holder(leases, wait_s: float | None = None, clock: Clock | None = None,
                progress: Callable[[str], None] | None = None) -> LockHeld | None:
    """Whether a live drill holds the lock, by a contender's rule: None when there is no lease,
    no holder, or its record stays unchanged for its full duration on this host's clock (its run
    is gone); LockHeld when the record changed while watched (its drill renews it) or ``wait_s``
    ran out first (default: long enough to tell). Errors of the API pass."""
    clock = clock or SystemClock()
    observation = Observation()
    start = clock.monotonic()
    while True:
        current = leases.read()
        now = clock.monotonic()
        if current is None or not current.holder:
            return None
        first = observation.record is None
        duration = current.duration_s or MIN_LEASE_S
        if observation.see(current.record, duration, now) and not first:
            return LockHeld(current.holder, observation.expires_in(now))
        if observation.expired(now):
            return None
        retry = retry_period_s(duration)
        left = (duration + retry if wait_s is None else wait_s) - (now - start)
        if left <= 0:
            return LockHeld(current.holder, observation.expires_in(now))
        if first and progress is not None:
            progress(f"kubedrill: the drill lock is held by {current.holder}: watching its lease for up to "
                     f"{left:.0f}s (a lease no drill renews is free once unchanged for its {duration}s)")
        clock.sleep(min(retry, left))
