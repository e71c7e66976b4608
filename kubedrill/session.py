"""A run's hold on the cluster: its fault journal, the drill lock (journalled first, so a crashed
run's lock is released by the next run's replay), and the replay, under the lock, of what crashed
runs left behind. Both drivers take it the same way: pytest (fixtures/cluster.py) and Chaos
Toolkit's ``chaos run`` (kubedrill.ctk.control)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kubedrill import guard as kguard
from kubedrill import journal as kjournal
from kubedrill import lock as klock
from kubedrill import undo
from kubedrill.client import Clients
from kubedrill.errors import LockLost, first_line
from kubedrill.journal import Entry, Journal
from kubedrill.leasewatch import LeaseWatch
from kubedrill.lock import DrillLock
from kubedrill.run import Run


@dataclass
class Hold:
    journal: Journal
    lock: DrillLock
    lock_entry: Entry

    def release(self, warn: Callable[[str], None]) -> None:
        """Release the drill lock (its journal entry resolved), then close the journal (removed
        when nothing is pending). A lock that cannot be released is a warning: its entry stays."""
        try:
            self.lock.release()
            self.journal.resolve(self.lock_entry)
        except Exception as exc:  # noqa: BLE001 - the next run's replay releases it
            warn(f"could not release the drill lock: {first_line(exc)}")
        self.journal.close()


def journal_for(run: Run, clients: Clients, state_dir: Path, worker: str = "") -> Journal:
    """The run's journal; it names the identity the drill lock is held by: the run id. A parallel
    run's worker (``worker``: ``gw0``...) writes its own, in the same directory."""
    journal = Journal(state_dir / "journal", run.run_id, clients.kubeconfig, clients.context, holder=run.run_id,
                      worker=worker)
    journal.pause = run.pause_point   # KUBEDRILL_PAUSE_AT=intent:<action> / resolve:<action>
    return journal


def watch(run: Run, clients: Clients) -> LeaseWatch:
    """A parallel worker's view of the drill lock its controller holds (checked before each fault)."""
    lease_s = run.timeouts.lease_duration_s
    return LeaseWatch(klock.store(clients, run.run_id, min(run.timeouts.api_s, kguard.retry_period_s(lease_s))),
                            run.run_id, lease_s)


def take(run: Run, clients: Clients, journal: Journal, wait_s: float, timeout_scale: float = 1.0,
         on_lost: Callable[[LockLost], None] | None = None) -> Hold:
    """Take the drill lock (journalled first; waiting up to ``wait_s`` for one another run holds:
    LockHeld), then replay stale journals under it. Whatever fails, nothing is left pending."""
    lease_s = run.timeouts.lease_duration_s
    lock = DrillLock(klock.store(clients, run.run_id, min(run.timeouts.api_s, kguard.retry_period_s(lease_s))),
                     run.run_id, lease_s, log=run.log, warn=run.warn, on_lost=on_lost)
    entry = journal.record(
        f"take the drill lock {kguard.LOCK_NAMESPACE}/{kguard.LOCK_NAME}",
        kjournal.Undo(kjournal.RELEASE_LEASE, {"namespace": lock.store.namespace, "name": lock.store.name},
                      "release the drill lock"))
    try:
        lock.acquire(wait_s)
    except BaseException:
        journal.resolve(entry)
        journal.close()
        raise
    # undo what crashed runs left behind, under the lock: no live drill on this cluster is acting,
    # and a journal whose writer still runs on this host is skipped by the replay itself
    report = kjournal.replay(journal.directory, undo.default_executors(timeout_scale), out=run.log,
                             skip_run=run.run_id)
    for line in report.failed:
        run.warn(line)
    return Hold(journal, lock, entry)
