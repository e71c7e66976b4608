"""The drill lock's rules (client-go's leader election), on a fake clock and a fake Lease: a
contender takes over only after it has itself seen the lease unchanged for its full duration;
renewals and takeovers are conditioned on the resourceVersion (a conflict means the lock is lost);
transient errors are retried until the lease would expire; no fault after two thirds of it."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import urllib3
from kubernetes.client.rest import ApiException

from kubedrill import guard
from kubedrill.errors import LockHeld, LockLost
from kubedrill.k8s import leases
from kubedrill.lock import DrillLock
from kubedrill.run import Run
from kubedrill.scope import Scope
from tests.unit.lease_fakes import T0, FakeClock, FakeLeases

LEASE = 120          # seconds: the default lease; renew deadline 80 s, retry period 16 s


def contender(store: FakeLeases, clock: FakeClock, identity: str = "run-b", **kw) -> DrillLock:
    return DrillLock(store, identity, LEASE, clock=clock, **kw)


def holder(store: FakeLeases, clock: FakeClock, **kw) -> tuple[DrillLock, list[str], list[LockLost]]:
    """A run holding the lock (created it), its warnings and what it was told when it lost it."""
    warned: list[str] = []
    lost: list[LockLost] = []
    lock = DrillLock(store, "run-a", LEASE, clock=clock, log=warned.append, warn=warned.append,
                     on_lost=lost.append, **kw)
    assert lock.try_acquire()
    return lock, warned, lost


# --- taking over: only after a full unchanged lease, seen on the contender's own clock -------------

@pytest.mark.parametrize("renewed", [T0 - dt.timedelta(hours=5), T0 + dt.timedelta(hours=5)],
                         ids=["renewTime long ago", "renewTime in this host's future"])
def test_a_lease_is_taken_over_only_after_it_was_seen_unchanged_for_its_full_duration(renewed):
    store, clock = FakeLeases(), FakeClock()
    store.put("run-a", renewed, LEASE, transitions=3)
    b = contender(store, clock)
    assert not b.try_acquire()            # first look: whatever its renewTime says, it is held
    clock.advance(LEASE - 1)
    assert not b.try_acquire()
    clock.advance(1)
    assert b.try_acquire()
    assert store.lease.holder == "run-b" and store.lease.transitions == 4
    assert b.held and b.may_inject()


def test_the_duration_that_counts_is_the_one_the_lease_says():
    store, clock = FakeLeases(), FakeClock()
    store.put("ghost", T0, duration_s=15)
    b = contender(store, clock)
    assert not b.try_acquire()
    clock.advance(15)
    assert b.try_acquire()


def test_a_renew_time_change_starts_the_observation_again():
    store, clock = FakeLeases(), FakeClock()
    store.put("run-a", T0, LEASE)
    b = contender(store, clock)
    assert not b.try_acquire()
    clock.advance(100)
    store.put("run-a", T0 + dt.timedelta(seconds=100), LEASE)      # run-a renews
    assert not b.try_acquire()
    clock.advance(LEASE - 1)                                        # 219 s since the first look
    assert not b.try_acquire()
    clock.advance(1)
    assert b.try_acquire()


def test_a_lease_without_a_holder_or_no_lease_is_taken_at_once():
    store, clock = FakeLeases(), FakeClock()
    assert contender(store, clock).try_acquire()
    assert store.lease.holder == "run-b"
    store.put("", T0)
    assert contender(store, clock, "run-c").try_acquire()


def test_a_takeover_is_conditioned_on_the_resource_version_read():
    store, clock = FakeLeases(), FakeClock()
    store.put("run-a", T0)
    b = contender(store, clock)
    assert not b.try_acquire()
    clock.advance(LEASE)
    store.errors = []
    real_read = store.read

    def read_then_someone_writes():
        seen = real_read()
        store.put("run-c", T0)          # another contender took it between the read and the write
        return seen

    store.read = read_then_someone_writes
    assert not b.try_acquire()
    assert store.lease.holder == "run-c"


def test_waiting_for_a_live_drill_polls_with_progress_lines_then_refuses():
    store, clock = FakeLeases(), FakeClock()
    store.put("run-a", T0)
    clock.while_sleeping = lambda t: store.put("run-a", T0 + dt.timedelta(seconds=t))   # run-a renews
    lines: list[str] = []
    b = contender(store, clock, log=lines.append)
    with pytest.raises(LockHeld, match=r"another drill \(run-a\) holds the cluster-wide drill lock") as held:
        b.acquire(wait_s=60)
    assert clock.t - 1000 == pytest.approx(60)
    assert all(s <= guard.retry_period_s(LEASE) for s in clock.slept)
    assert len(lines) == len(clock.slept) >= 3
    assert all("held by run-a" in line and "--wait-for-lock" in line for line in lines)
    assert held.value.watched_s == pytest.approx(60)
    assert store.lease.holder == "run-a"


def test_waiting_for_a_gone_drill_takes_its_lock_once_seen_unchanged_for_the_lease():
    store, clock = FakeLeases(), FakeClock()
    store.put("gone", T0)
    b = contender(store, clock, log=lambda line: None)
    b.acquire(wait_s=152)
    try:
        assert store.lease.holder == "run-b"
        assert LEASE <= clock.t - 1000 <= LEASE + guard.retry_period_s(LEASE)
    finally:
        b.release()
    assert store.lease is None


def test_no_wait_is_one_look():
    store, clock = FakeLeases(), FakeClock()
    store.put("run-a", T0)
    with pytest.raises(LockHeld) as held:
        contender(store, clock).acquire(wait_s=0)
    assert clock.slept == [] and held.value.expires_in_s == pytest.approx(LEASE)
    assert "(waited 0s; --wait-for-lock SECONDS waits longer)" in str(held.value)


def test_an_unreadable_lock_while_waiting_is_tried_again_and_raised_at_the_end():
    store, clock = FakeLeases(), FakeClock()
    store.errors = [urllib3.exceptions.MaxRetryError(None, "/", "refused")] * 10
    lines: list[str] = []
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        contender(store, clock, log=lines.append).acquire(wait_s=30)
    assert lines and all("cannot be read" in line for line in lines)


# --- holding it: renewals conditioned on the resourceVersion; a conflict is a lost lock ------------

def test_renewals_move_the_lease_on():
    store, clock = FakeLeases(), FakeClock()
    a, warned, lost = holder(store, clock)
    before = store.lease
    clock.advance(16)
    a.renew_once()
    assert store.lease.resource_version != before.resource_version
    assert store.lease.renew_time > before.renew_time and store.lease.acquire_time == before.acquire_time
    assert not warned and not lost


def test_another_drill_writing_the_lease_means_the_lock_is_lost_said_once():
    store, clock = FakeLeases(), FakeClock()
    a, warned, lost = holder(store, clock)
    store.put("run-b", T0)                        # someone took it over
    clock.advance(16)
    a.renew_once()
    assert isinstance(a.lost, LockLost) and lost == [a.lost]
    assert "run-b holds it now" in str(a.lost)
    assert len(warned) == 1 and "lost the drill lock default/kubedrill-drill-lock" in warned[0]
    assert not a.may_inject()
    with pytest.raises(LockLost, match="lost the drill lock"):
        a.check_held()
    a.renew_once()                                # lost for good: no further line, no write
    assert len(warned) == 1 and store.lease.holder == "run-b"
    assert not a.release() and store.lease.holder == "run-b"   # never deletes another's lease


def test_a_conflict_under_its_own_name_that_it_never_wrote_is_lost_too():
    store, clock = FakeLeases(), FakeClock()
    a, _, lost = holder(store, clock)
    store.put("run-a", T0 + dt.timedelta(days=1))   # written by someone else, in run-a's name
    clock.advance(16)
    a.renew_once()
    assert lost and "409 Conflict" in str(a.lost)


def test_a_deleted_lease_is_a_lost_lock():
    store, clock = FakeLeases(), FakeClock()
    a, _, lost = holder(store, clock)
    store.lease = None
    clock.advance(16)
    a.renew_once()
    assert lost and "deleted" in str(a.lost)


def test_its_own_write_whose_answer_was_lost_is_no_conflict():
    store, clock = FakeLeases(), FakeClock()
    a, warned, lost = holder(store, clock)
    store.lost_answers = [urllib3.exceptions.ProtocolError("connection reset")]
    clock.advance(16)
    a.renew_once()                               # went through; the answer did not come
    clock.advance(16)
    a.renew_once()                               # 409 on the old resourceVersion: its own write
    assert not lost and a.may_inject()
    clock.advance(16)
    a.renew_once()
    assert not lost and store.writes == 3          # create, the unanswered write, this one
    assert any("renewed again" in line for line in warned)


# --- transient errors: retried until the lease would really expire --------------------------------

TRANSIENT = [ApiException(status=500, reason="Internal Server Error"), ApiException(status=503),
             urllib3.exceptions.MaxRetryError(None, "/", "Connection refused"),
             urllib3.exceptions.ProtocolError("Connection aborted."), ConnectionRefusedError(111, "refused"),
             urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"), TimeoutError("timed out"),
             RuntimeError("anything else")]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_renewal_survives_a_transient_error_and_goes_on(error):
    store, clock = FakeLeases(), FakeClock()
    a, warned, lost = holder(store, clock)
    store.errors = [error] * 4
    for _ in range(4):
        clock.advance(16)
        a.renew_once()
    assert not lost and len(warned) == 1 and "renewal failed" in warned[0]   # said once per outage
    clock.advance(16)
    a.renew_once()                               # 80 s after the last renewal: it succeeds
    assert not lost and a.may_inject()
    assert "renewed again" in warned[-1]


def test_renewal_failing_until_the_lease_would_expire_loses_the_lock():
    store, clock = FakeLeases(), FakeClock()
    a, warned, lost = holder(store, clock)
    store.errors = [ApiException(status=503)] * 100
    for _ in range(7):                           # up to 112 s: still retrying, no new fault after 80 s
        clock.advance(16)
        a.renew_once()
        assert not lost
    assert not a.may_inject()
    clock.advance(8)                             # 120 s: its whole lease
    a.renew_once()
    assert lost and "not renewed for 120s" in str(a.lost)
    assert len([w for w in warned if "lost the drill lock" in w]) == 1


# --- no new fault once the last renewal is older than two thirds of the lease ----------------------

def test_no_fault_once_the_last_renewal_is_older_than_two_thirds_of_the_lease():
    store, clock = FakeLeases(), FakeClock()
    a, _, _ = holder(store, clock)
    scope = Scope(run=Run("run-a", 1, log=lambda line: None), clients=None, guard=None, journal=None,
                  cleanups=None, name="scenario", lock=a)
    clock.advance(guard.renew_deadline_s(LEASE) - 0.5)
    a.check_held()
    with scope.phase("fault"):
        pass
    clock.advance(0.5)                           # 80 s: two thirds of 120
    assert not a.may_inject() and a.lost is None
    with pytest.raises(LockLost, match="more than two thirds of its 120s lease"):
        with scope.phase("fault"):
            pytest.fail("a fault started on a stale lock")
    with scope.phase("recover"):                 # what is not a fault goes on
        pass
    a.renew_once()
    a.check_held()                               # renewed: faults may start again


def test_a_lost_lock_refuses_every_fault():
    store, clock = FakeLeases(), FakeClock()
    a, _, _ = holder(store, clock)
    scope = Scope(run=Run("run-a", 1, log=lambda line: None), clients=None, guard=None, journal=None,
                  cleanups=None, name="scenario", lock=a)
    store.put("run-b", T0)
    a.renew_once()
    with pytest.raises(LockLost):
        with scope.phase("fault"):
            pytest.fail("a fault started without the lock")


# --- the calls: every one with a request timeout, every write conditioned -------------------------

def test_every_lease_call_has_a_request_timeout_and_writes_are_conditioned():
    from kubernetes import client as k8s

    spec = k8s.V1LeaseSpec(holder_identity="run-a", lease_duration_seconds=120, renew_time=T0, acquire_time=T0)
    lease = k8s.V1Lease(metadata=k8s.V1ObjectMeta(name="l", namespace="default", resource_version="7", uid="u"),
                        spec=spec)
    coordination = mock.Mock()
    for verb in ("read_namespaced_lease", "create_namespaced_lease", "replace_namespaced_lease"):
        getattr(coordination, verb).return_value = lease
    store = leases.Leases(mock.Mock(coordination=coordination), "default", "l", {"k": "v"}, timeout_s=4)
    current = store.read()
    assert current.resource_version == "7" and current.record[0] == "run-a"
    store.create("run-a", 120, T0)
    store.write(current, "run-a", 120, T0, T0, 0)
    store.delete(current)
    calls = [coordination.read_namespaced_lease, coordination.create_namespaced_lease,
             coordination.replace_namespaced_lease, coordination.delete_namespaced_lease]
    assert all(c.call_args.kwargs["_request_timeout"] == 4 for c in calls)
    assert coordination.replace_namespaced_lease.call_args.args[2].metadata.resource_version == "7"
    pre = coordination.delete_namespaced_lease.call_args.kwargs["body"].preconditions
    assert (pre.uid, pre.resource_version) == ("u", "7")


def test_a_lock_unrenewed_for_two_thirds_of_the_lease_says_why_a_failure_may_be_the_outage():
    store, clock = FakeLeases(), FakeClock()
    a, _, _ = holder(store, clock)
    clock.advance(guard.renew_deadline_s(LEASE) - 0.5)
    assert a.unrenewed() is None
    clock.advance(1.0)                           # 80.5 s without a renewal: the API server did not answer
    assert "the API server did not answer" in str(a.unrenewed()) and a.lost is None
    a.renew_once()
    assert a.unrenewed() is None                 # renewed: fresh again
