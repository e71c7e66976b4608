"""What one scenario acts with: the run, the clients, the guard, the drill lock, the journal, its
cleanups, its namespace and its random generator. Every fault starts in ``Scope.phase("fault")``:
there, a run whose drill lock is lost or stale (kubedrill.lock) is refused (LockLost). For a
scenario that runs alone (``settle`` given), what earlier scenarios left terminating (their
namespaces' pods, claims, snapshots and volumes) is waited for at the end of its deploy phase, and
again before its fault."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from kubedrill.client import Clients
from kubedrill.config import Timeouts
from kubedrill.guard import Guard
from kubedrill.journal import Journal
from kubedrill.run import Cleanups, Run
from kubedrill.wait import Progress


class LockCheck(Protocol):
    """The drill lock as a fault sees it (kubedrill.lock.DrillLock)."""

    def check_held(self) -> None: ...


@dataclass
class Scope:
    run: Run
    clients: Clients
    guard: Guard
    journal: Journal
    cleanups: Cleanups
    name: str                      # the scenario's id (for logs, rng)
    namespace: str = ""
    progress: Progress | None = None
    lock: LockCheck | None = None  # the run's drill lock: no fault starts without it fresh
    # waits until what earlier scenarios left terminating is gone (fixtures.namespace.settle)
    settle: Callable[[Progress | None], None] | None = None
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = self.run.rng(self.name)

    @property
    def timeouts(self) -> Timeouts:
        return self.run.timeouts

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """The run's phase ``name`` for this scenario; a fault phase starts only while the run
        holds its drill lock, renewed less than two thirds of the lease ago (LockLost otherwise).
        A deploy phase ends, and a fault phase starts, once the namespaces earlier scenarios
        deleted are emptied (pods, claims, snapshots and their volumes gone): the workload
        deploys while an earlier namespace terminates, and is measured once nothing of it runs."""
        if name == "fault":
            self._settle()
            if self.lock is not None:
                self.lock.check_held()
        with self.run.phase(name, self.name):
            yield
            if name == "deploy":
                self._settle()

    def _settle(self) -> None:
        if self.settle is not None:
            self.settle(self.progress)
