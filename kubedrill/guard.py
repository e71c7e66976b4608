"""Safety: context allow-list, ownership labels, namespace scoping, the drill lock.

A destructive action touches only namespaces this run created, or namespaces a drill
explicitly allows; kube-system and the storage driver's namespace are never targets.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Iterable, Mapping

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


# --- drill lock: a Lease with an expiry ---------------------------------------------------

def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class LockState:
    holder: str
    renewed: _dt.datetime | None
    duration_s: float

    def expires_in(self, now: _dt.datetime) -> float:
        if self.renewed is None:
            return 0.0
        return (self.renewed - now).total_seconds() + self.duration_s

    def held_against(self, run_id: str, now: _dt.datetime) -> bool:
        """Another run holds the lock, and it has not expired (a dead run's lock expires)."""
        return bool(self.holder) and self.holder != run_id and self.expires_in(now) > 0


def lock_state(lease) -> LockState:
    spec = lease.spec
    return LockState(holder=spec.holder_identity or "", renewed=spec.renew_time or spec.acquire_time,
                     duration_s=float(spec.lease_duration_seconds or 0))


class DrillLock:
    """Cluster-wide lock: a Lease in ``default`` held by one run, expiring unless renewed."""

    def __init__(self, clients, run_id: str, duration_s: float = 120.0,
                 namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME):
        self.clients = clients
        self.run_id = run_id
        self.duration_s = int(max(15, duration_s))
        self.namespace = namespace
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.held = False

    def _body(self, resource_version: str | None = None):
        from kubernetes import client as k8s

        now = _now()
        return k8s.V1Lease(
            metadata=k8s.V1ObjectMeta(name=self.name, namespace=self.namespace,
                                      labels=labels(self.run_id), resource_version=resource_version),
            spec=k8s.V1LeaseSpec(holder_identity=self.run_id, lease_duration_seconds=self.duration_s,
                                 acquire_time=now, renew_time=now))

    def acquire(self) -> None:
        """Take the lock, or take over an expired one; LockHeld when another run holds it."""
        from kubernetes.client.rest import ApiException

        coord = self.clients.coordination
        try:
            coord.create_namespaced_lease(self.namespace, self._body())
        except ApiException as exc:
            if exc.status != 409:
                raise
            current = coord.read_namespaced_lease(self.name, self.namespace)
            state = lock_state(current)
            now = _now()
            if state.held_against(self.run_id, now):
                raise LockHeld(state.holder, state.expires_in(now)) from None
            # expired (or ours): take it over; resourceVersion makes the takeover atomic
            coord.replace_namespaced_lease(self.name, self.namespace,
                                           self._body(current.metadata.resource_version))
        self.held = True
        self._thread = threading.Thread(target=self._renew_loop, name="kubedrill-lock", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        from kubernetes.client.rest import ApiException

        while not self._stop.wait(self.duration_s / 3):
            try:
                lease = self.clients.coordination.read_namespaced_lease(self.name, self.namespace)
                if lease.spec.holder_identity != self.run_id:
                    return
                lease.spec.renew_time = _now()
                self.clients.coordination.replace_namespaced_lease(self.name, self.namespace, lease)
            except (ApiException, OSError):
                continue

    def release(self) -> None:
        """Delete the lease if this run still holds it."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        if not self.held:
            return
        release_lease(self.clients, self.run_id, self.namespace, self.name)
        self.held = False


def check_lock_free(clients, run_id: str = "", namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME) -> None:
    """LockHeld when a run other than ``run_id`` holds the drill lock (and it has not expired).
    Reads the lease; changes nothing."""
    from kubernetes.client.rest import ApiException

    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return
        raise
    state, now = lock_state(lease), _now()
    if state.held_against(run_id, now):
        raise LockHeld(state.holder, state.expires_in(now))


def release_lease(clients, run_id: str, namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME) -> bool:
    """Delete the drill lock lease when ``run_id`` holds it. True when deleted."""
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    try:
        lease = clients.coordination.read_namespaced_lease(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    if lease.spec.holder_identity != run_id:
        return False
    try:
        clients.coordination.delete_namespaced_lease(
            name, namespace, body=k8s.V1DeleteOptions(
                preconditions=k8s.V1Preconditions(uid=lease.metadata.uid)))
    except ApiException as exc:
        if exc.status in (404, 409):
            return False
        raise
    return True
