"""A parallel run's worker and the drill lock (kubedrill.lock) its controller holds: read, never
written. Before each fault the worker checks that the lease still names its run and was renewed
lately, as seen on the worker's own monotonic clock."""

from __future__ import annotations

from kubedrill import guard
from kubedrill.errors import LockLost, first_line
from kubedrill.lock import Store


class LeaseWatch:
    """A parallel run's worker and the drill lock its controller holds and renews: before each
    fault, the lease must still name the run, and its record must have changed (been renewed)
    within two thirds of the lease as this process saw it, on its own monotonic clock (the times
    in the lease are never compared with a clock). Reads only; never writes the lease."""

    def __init__(self, leases: Store, identity: str, duration_s: float = 120.0, clock: guard.Clock | None = None):
        self.store = leases
        self.identity = identity
        self.duration_s = int(max(guard.MIN_LEASE_S, duration_s))
        self.clock = clock or guard.SystemClock()
        self.lost: LockLost | None = None
        self._seen: tuple[tuple, float] | None = None   # (the lease's record, first seen at, monotonic)

    @property
    def where(self) -> str:
        return f"{self.store.namespace}/{self.store.name}"

    def problem(self) -> LockLost | None:
        """Read the lease: why no fault may start now (None when one may). A lease naming another
        holder, or gone, loses it for good; one not renewed for too long, or unreadable, holds the
        fault back."""
        if self.lost is not None:
            return self.lost
        now = self.clock.monotonic()
        try:
            lease = self.store.read()
        except Exception as exc:  # noqa: BLE001 - cannot tell it is held: no fault
            return LockLost(f"the drill lock {self.where} cannot be read ({first_line(exc)}): no new fault")
        if lease is None or lease.holder != self.identity:
            who = "its lease was deleted" if lease is None else f"{lease.holder or 'no drill'} holds it now"
            self.lost = LockLost(f"this run lost the drill lock {self.where}: {who}")
            return self.lost
        if self._seen is None or self._seen[0] != lease.record:
            self._seen = (lease.record, now)
            return None
        if guard.may_inject(self._seen[1], self.duration_s, now):
            return None
        return LockLost(f"the drill lock {self.where} was not renewed for {now - self._seen[1]:.0f}s, more than "
                        f"two thirds of its {self.duration_s}s lease: no new fault until it is renewed")

    def check_held(self) -> None:
        """Before each fault (kubedrill.scope): LockLost when it may not start."""
        problem = self.problem()
        if problem is not None:
            raise problem

    def unrenewed(self) -> LockLost | None:
        return self.lost
