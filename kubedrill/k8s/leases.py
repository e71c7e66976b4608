"""Leases (coordination.k8s.io/v1): one named Lease, the drill lock's. Every call carries a request
timeout; every write is conditioned (a replace on the resourceVersion it was read at, a delete
on its uid and resourceVersion), so a 409 Conflict means someone else wrote it meanwhile."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from kubedrill.k8s.common import read_or_none


@dataclass(frozen=True)
class LeaseInfo:
    holder: str
    renew_time: _dt.datetime | None
    acquire_time: _dt.datetime | None
    duration_s: int
    transitions: int
    resource_version: str = ""
    uid: str = ""

    @property
    def record(self) -> tuple:
        """What a contender compares between two reads (client-go's leader election record):
        whether it changed, never the times in it against a clock."""
        return self.holder, self.renew_time, self.acquire_time, self.duration_s, self.transitions


def info(lease: k8s.V1Lease) -> LeaseInfo:
    spec, meta = lease.spec, lease.metadata
    return LeaseInfo(holder=spec.holder_identity or "", renew_time=spec.renew_time,
                     acquire_time=spec.acquire_time, duration_s=int(spec.lease_duration_seconds or 0),
                     transitions=int(spec.lease_transitions or 0),
                     resource_version=meta.resource_version or "", uid=meta.uid or "")


class Leases:
    """The Lease ``namespace/name``, read and written with a request timeout of ``timeout_s``."""

    def __init__(self, clients, namespace: str, name: str, labels: dict[str, str], timeout_s: float):
        self.clients = clients
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.timeout_s = timeout_s

    def _body(self, holder: str, duration_s: int, renew_time: _dt.datetime, acquire_time: _dt.datetime | None,
              transitions: int, resource_version: str | None = None) -> k8s.V1Lease:
        return k8s.V1Lease(
            metadata=k8s.V1ObjectMeta(name=self.name, namespace=self.namespace, labels=dict(self.labels),
                                      resource_version=resource_version),
            spec=k8s.V1LeaseSpec(holder_identity=holder, lease_duration_seconds=duration_s,
                                 renew_time=renew_time, acquire_time=acquire_time,
                                 lease_transitions=transitions))

    def read(self) -> LeaseInfo | None:
        lease = read_or_none(self.clients.coordination.read_namespaced_lease, self.name, self.namespace,
                             _request_timeout=self.timeout_s)
        return info(lease) if lease is not None else None

    def create(self, holder: str, duration_s: int, now: _dt.datetime) -> LeaseInfo:
        """A 409 when the lease exists."""
        return info(self.clients.coordination.create_namespaced_lease(
            self.namespace, self._body(holder, duration_s, now, now, 0), _request_timeout=self.timeout_s))

    def write(self, current: LeaseInfo, holder: str, duration_s: int, renew_time: _dt.datetime,
              acquire_time: _dt.datetime | None, transitions: int) -> LeaseInfo:
        """Replace the lease as it was read (``current``): a 409 when anyone wrote it since, a 404
        when it is gone."""
        return info(self.clients.coordination.replace_namespaced_lease(
            self.name, self.namespace,
            self._body(holder, duration_s, renew_time, acquire_time, transitions, current.resource_version),
            _request_timeout=self.timeout_s))

    def delete(self, current: LeaseInfo) -> None:
        """Delete the lease as it was read (``current``): a 409 when anyone wrote it since."""
        self.clients.coordination.delete_namespaced_lease(
            self.name, self.namespace, _request_timeout=self.timeout_s,
            body=k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(
                uid=current.uid or None, resource_version=current.resource_version or None)))

    def release(self, holder: str) -> bool:
        """Delete the lease when ``holder`` holds it, conditioned on what was read. True when
        deleted; False when it is gone, held by another, or written meanwhile (409)."""
        current = self.read()
        if current is None or current.holder != holder:
            return False
        try:
            self.delete(current)
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True
