"""A fake clock and a fake Lease for the drill lock's rules (kubedrill.lock, kubedrill.guard):
pure logic, no cluster. The fake Lease behaves as the API server does: every write is
conditioned on the resourceVersion it was read at (409 otherwise), a missing lease is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from kubernetes.client.rest import ApiException

from kubedrill.k8s.leases import LeaseInfo

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class FakeClock:
    """Monotonic seconds that move only when told (or slept); a wall clock ``skew_s`` off."""

    def __init__(self, t: float = 1000.0, skew_s: float = 0.0):
        self.t = t
        self.skew_s = skew_s
        self.slept: list[float] = []
        self.while_sleeping: Callable[[float], None] | None = None   # what happens elsewhere meanwhile

    def monotonic(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.t + self.skew_s)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        if self.while_sleeping is not None:
            self.while_sleeping(self.t)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def conflict() -> ApiException:
    return ApiException(status=409, reason="Conflict")


def not_found() -> ApiException:
    return ApiException(status=404, reason="Not Found")


class FakeLeases:
    namespace = "default"
    name = "kubedrill-drill-lock"

    def __init__(self) -> None:
        self.lease: LeaseInfo | None = None
        self._rv = 0
        self.errors: list[BaseException] = []          # raised (first first) instead of answering
        self.lost_answers: list[BaseException] = []    # raised after the write went through
        self.writes = 0

    def _version(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _maybe_fail(self) -> None:
        if self.errors:
            raise self.errors.pop(0)

    def _answer(self, lease: LeaseInfo) -> LeaseInfo:
        self.lease = lease
        self.writes += 1
        if self.lost_answers:
            raise self.lost_answers.pop(0)
        return lease

    # what another drill (or a person) does
    def put(self, holder: str, renew_time: dt.datetime, duration_s: int = 120, transitions: int = 0) -> LeaseInfo:
        self.lease = LeaseInfo(holder, renew_time, renew_time, duration_s, transitions, self._version(), "uid-1")
        return self.lease

    # the Store protocol (kubedrill.lock.Store)
    def read(self) -> LeaseInfo | None:
        self._maybe_fail()
        return self.lease

    def create(self, holder: str, duration_s: int, now: dt.datetime) -> LeaseInfo:
        self._maybe_fail()
        if self.lease is not None:
            raise conflict()
        return self._answer(LeaseInfo(holder, now, now, duration_s, 0, self._version(), "uid-1"))

    def write(self, current: LeaseInfo, holder: str, duration_s: int, renew_time: dt.datetime,
              acquire_time: dt.datetime | None, transitions: int) -> LeaseInfo:
        self._maybe_fail()
        if self.lease is None:
            raise not_found()
        if current.resource_version != self.lease.resource_version:
            raise conflict()
        return self._answer(LeaseInfo(holder, renew_time, acquire_time, duration_s, transitions,
                                      self._version(), self.lease.uid))

    def delete(self, current: LeaseInfo) -> None:
        self._maybe_fail()
        if self.lease is None:
            raise not_found()
        if current.resource_version != self.lease.resource_version:
            raise conflict()
        self.lease = None
