"""The drill lock, a Lease that keeps two drills apart, held by client-go's leader election rules
(kubedrill.guard: the rules; kubedrill.k8s.leases: the calls); and ``python -m kubedrill.lock``:
does a live drill hold it?

- A contender takes the lease when there is none, or none holds it, or after it has itself seen
  the same record (holder, renewTime, ...) unchanged for the lease's full duration on its own
  monotonic clock: the times in the lease are never compared with this host's clock.
- Every renewal and takeover replaces the lease at the resourceVersion it was read (or last
  written) at: a 409 Conflict means someone else wrote it, and the holder has lost it (unless
  the lease is exactly what one of its own unanswered writes put there).
- The holder renews every retry period; any other error is retried until the lease would really
  expire (a full duration after the last successful renewal was sent): then it is lost.
- The holder starts no new fault once its last successful renewal is older than two thirds of
  the lease (``check_held``, called where every fault starts: kubedrill.scope).
- Losing it is said in one line, once; the run then stops injecting, undoes what it did and ends
  as a harness error (LockLost).

``python -m kubedrill.lock`` (read by cluster/up.sh and cluster/down.sh before they touch a node):
exit 0 when no live drill holds the lock (no lease, no holder, or a lease seen unchanged for its
full duration: its run is gone); 3 when a live drill holds it (its lease changed while watched,
or ``--wait`` ran out first; one line says which drill); 2 when it cannot be read (one line says
why). Changes nothing.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import threading
from typing import Callable, Iterable, Protocol

import urllib3
from kubernetes.client.rest import ApiException

from kubedrill import client as kclient
from kubedrill import guard
from kubedrill.errors import KubedrillError, LockHeld, LockLost, first_line
from kubedrill.k8s.leases import LeaseInfo, Leases

FREE, UNKNOWN, HELD = 0, 2, 3


class Store(Protocol):
    """One Lease (kubedrill.k8s.leases.Leases, or a fake one)."""

    namespace: str
    name: str

    def read(self) -> LeaseInfo | None: ...

    def create(self, holder: str, duration_s: int, now: _dt.datetime) -> LeaseInfo: ...

    def write(self, current: LeaseInfo, holder: str, duration_s: int, renew_time: _dt.datetime,
              acquire_time: _dt.datetime | None, transitions: int) -> LeaseInfo: ...

    def delete(self, current: LeaseInfo) -> None: ...


def store(clients, run_id: str, timeout_s: float) -> Leases:
    """The drill lock's Lease, each call with a request timeout of ``timeout_s``."""
    return Leases(clients, guard.LOCK_NAMESPACE, guard.LOCK_NAME, guard.labels(run_id), timeout_s)


def status_of(exc: BaseException) -> int | None:
    return exc.status if isinstance(exc, ApiException) else None


class DrillLock:
    """The cluster-wide drill lock, held by one run (``identity``) and renewed in a thread."""

    def __init__(self, leases: Store, identity: str, duration_s: float = 120.0, clock: guard.Clock | None = None,
                 log: Callable[[str], None] = print, warn: Callable[[str], None] = print,
                 on_lost: Callable[[LockLost], None] | None = None):
        self.store = leases
        self.identity = identity
        self.duration_s = int(max(guard.MIN_LEASE_S, duration_s))
        self.retry_s = guard.retry_period_s(self.duration_s)
        self.clock = clock or guard.SystemClock()
        self.log, self.warn, self.on_lost = log, warn, on_lost
        self.observation = guard.Observation()     # the lease as a contender saw it
        self.lost: LockLost | None = None
        self._lease: LeaseInfo | None = None        # the lease as this run last wrote it
        self._renewed_at: float | None = None       # when that write was sent (monotonic)
        self._unanswered: list[tuple[_dt.datetime, float]] = []   # writes never answered: (renewTime, sent)
        self._failing_since: float | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def where(self) -> str:
        return f"{self.store.namespace}/{self.store.name}"

    @property
    def held(self) -> bool:
        return self._lease is not None and self.lost is None

    # --- taking it -------------------------------------------------------------------------
    def try_acquire(self) -> bool:
        """One try as a contender: True when this run now holds the lease. Errors of the API pass."""
        current = self.store.read()
        if current is None:
            sent = self.clock.monotonic()
            try:
                self._took(self.store.create(self.identity, self.duration_s, self.clock.now()), sent)
            except ApiException as exc:
                if exc.status != 409:
                    raise
                return False             # created by another meanwhile: look again next time
            return True
        now = self.clock.monotonic()
        self.observation.see(current.record, current.duration_s or self.duration_s, now)
        ours = current.holder == self.identity
        if current.holder and not ours and not self.observation.expired(now):
            return False
        stamp, sent = self.clock.now(), self.clock.monotonic()
        try:
            lease = self.store.write(current, self.identity, self.duration_s, stamp,
                                     current.acquire_time if ours else stamp,
                                     current.transitions if ours else current.transitions + 1)
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise
            return False                       # written or deleted by another since it was read
        self._took(lease, sent)
        return True

    def acquire(self, wait_s: float = 0.0) -> None:
        """Take the lock and start renewing it. Held by another drill: look again every retry
        period, with a line each time, for up to ``wait_s`` seconds (0: one look), then LockHeld.
        An error of the API on the last look is raised."""
        start = self.clock.monotonic()
        while True:
            error: Exception | None = None
            try:
                if self.try_acquire():
                    break
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                error = exc
            waited = self.clock.monotonic() - start
            left = wait_s - waited
            if left <= 0:
                if error is not None:
                    raise error
                raise self.held_error(waited)
            self.log(self._waiting(error, left))
            self.clock.sleep(min(self.retry_s, left))
        self._thread = threading.Thread(target=self._renew_loop, name="kubedrill-lock", daemon=True)
        self._thread.start()

    def held_error(self, waited_s: float | None = None) -> LockHeld:
        now = self.clock.monotonic()
        holder = self.observation.record[0] if self.observation.record else "unknown"
        return LockHeld(holder, max(0.0, self.observation.expires_in(now)), waited_s)

    def _waiting(self, error: Exception | None, left: float) -> str:
        if error is not None:
            return f"the drill lock {self.where} cannot be read ({first_line(error)}); trying again for {left:.0f}s"
        seen = self.observation.unchanged_for(self.clock.monotonic())
        holder = self.observation.record[0] if self.observation.record else "another drill"
        return (f"the drill lock {self.where} is held by {holder}: its lease unchanged for {seen:.0f}s of "
                f"{self.observation.duration_s:.0f}s here; waiting up to {left:.0f}s more (--wait-for-lock)")

    def _took(self, lease: LeaseInfo, sent: float) -> None:
        self._lease, self._renewed_at = lease, sent
        self._unanswered.clear()

    # --- holding it ------------------------------------------------------------------------
    def may_inject(self) -> bool:
        """This run holds the lock and renewed it less than two thirds of the lease ago."""
        return self.lost is None and guard.may_inject(self._renewed_at, self.duration_s, self.clock.monotonic())

    def unrenewed(self) -> LockLost | None:
        """Why what a scenario just saw may be an outage of the API server rather than the drill's
        recovery: the lock is lost, or its last successful renewal is older than two thirds of the
        lease (the API server has not answered it for that long). None while it is fresh."""
        if self.lost is not None:
            return self.lost
        if self._lease is None or self.may_inject():
            return None
        return self._too_old("the API server did not answer, so what the scenario saw may be that outage")

    def check_held(self) -> None:
        """Before each fault: LockLost when the lock is lost or its last renewal is too old."""
        if self.lost is not None:
            raise LockLost(str(self.lost))
        if not self.may_inject():
            raise self._too_old("no new fault until it is renewed")

    def _too_old(self, consequence: str) -> LockLost:
        age = self.clock.monotonic() - (self._renewed_at or 0.0)
        return LockLost(f"the drill lock {self.where} was last renewed {age:.0f}s ago, more than two thirds of "
                        f"its {self.duration_s}s lease: {consequence}")

    def renew_once(self) -> None:
        """One renewal (the thread calls it every retry period). Never raises."""
        with self._mutex:
            if self.lost is not None or self._lease is None:
                return
            sent = self.clock.monotonic()
            if sent - self._renewed_at >= self.duration_s:
                return self._lose(f"not renewed for {sent - self._renewed_at:.0f}s, its whole {self.duration_s}s "
                                  "lease: another drill may have taken it over")
            stamp, lease = self.clock.now(), self._lease
            try:
                written = self.store.write(lease, self.identity, self.duration_s, stamp, lease.acquire_time,
                                           lease.transitions)
            except Exception as exc:  # noqa: BLE001 - every other error is retried until the lease expires
                if status_of(exc) == 409:
                    return self._conflict(sent)
                if status_of(exc) == 404:
                    return self._lose("its lease was deleted")
                self._unanswered.append((stamp, sent))   # it may have been written all the same
                return self._failing(exc, sent)
            self._renewed(written, sent)

    def _conflict(self, now: float) -> None:
        """Someone wrote the lease since this run did: lost, unless it is what one of this run's
        own unanswered writes put there (the write went through, its answer did not)."""
        try:
            current = self.store.read()
        except Exception as exc:  # noqa: BLE001 - cannot tell yet: the next try asks again
            return self._failing(exc, now)
        if current is None:
            return self._lose("its lease was deleted")
        if current.holder != self.identity:
            return self._lose(f"{current.holder or 'no drill'} holds it now")
        sent = next((s for stamp, s in self._unanswered if stamp == current.renew_time), None)
        if sent is None:
            return self._lose("someone else wrote its lease (409 Conflict on its resourceVersion)")
        self._renewed(current, sent)

    def _renewed(self, lease: LeaseInfo, sent: float) -> None:
        if self._failing_since is not None:
            self.log(f"drill lock {self.where} renewed again, {sent - self._failing_since:.0f}s after "
                     "its renewal began to fail")
            self._failing_since = None
        self._took(lease, sent)

    def _failing(self, exc: BaseException, now: float) -> None:
        if self._failing_since is not None:
            return
        self._failing_since = now
        age = now - (self._renewed_at or now)
        self.warn(f"drill lock {self.where}: renewal failed ({first_line(exc)}); retrying every "
                  f"{self.retry_s:.0f}s until the lease would expire in {self.duration_s - age:.0f}s; no new "
                  f"fault after {guard.renew_deadline_s(self.duration_s) - age:.0f}s without a renewal")

    def _lose(self, reason: str) -> None:
        self.lost = LockLost(f"lost the drill lock {self.where}: {reason}")
        self.warn(f"{self.lost}; no new fault: the run undoes what it did and ends as a harness error")
        if self.on_lost is not None:
            self.on_lost(self.lost)

    def _renew_loop(self) -> None:
        while self.lost is None and not self._stop.wait(self.retry_s):
            self.renew_once()

    def release(self) -> bool:
        """Stop renewing; delete the lease if it is still this run's. True when deleted."""
        self._stop.set()
        with self._mutex:     # waits for a renewal under way
            lease, self._lease = self._lease, None
        if self._thread is not None:
            self._thread.join(timeout=5)
        return lease is not None and delete_if_ours(self.store, self.identity, lease)


def delete_if_ours(leases: Store, identity: str, lease: LeaseInfo) -> bool:
    """Delete the lease as ``identity`` last wrote it (``lease``); when it was written since (a 409:
    an unanswered write of its own went through, or another drill's), only if it still names
    ``identity``. True when deleted."""
    for attempt in range(2):
        if attempt:
            lease = leases.read()
            if lease is None or lease.holder != identity:
                return False
        try:
            leases.delete(lease)
            return True
        except ApiException as exc:
            if exc.status != 409:
                if exc.status == 404:
                    return False
                raise
    return False


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        self.exit(UNKNOWN, f"kubedrill: error: {message} (see --help)\n")


def main(argv: Iterable[str] | None = None) -> int:
    parser = _Parser(prog="python -m kubedrill.lock",
                     description="Exit 0 when no live drill holds the cluster's drill lock, 3 when one does.")
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", default=None, help="context of the cluster (default: kind-<cluster name>)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds the API server has to answer")
    parser.add_argument("--wait", type=float, default=None,
                        help="seconds to watch a held lease (default: its duration, long enough to tell)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    context = args.context or kclient.default_context()
    try:
        # reading one lease is allowed on any context: nothing is changed
        clients = kclient.load(args.kubeconfig, context, (context,), timeout_s=args.timeout)
        held = guard.live_holder(store(clients, "", args.timeout), args.wait,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
    except (KubedrillError, ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        print(f"kubedrill: error: cannot read the drill lock of context {context}: {first_line(exc)}",
              file=sys.stderr)
        return UNKNOWN
    if held is not None:
        print(f"kubedrill: {held} ({guard.LOCK_NAMESPACE}/{guard.LOCK_NAME}, context {context})", flush=True)
        return HELD
    return FREE


if __name__ == "__main__":
    sys.exit(main())
