"""What one scenario acts with: the run, the clients, the guard, the drill lock, the journal, its
cleanups, its namespace and its random generator. Every fault starts in ``Scope.phase("fault")``:
there, a run whose drill lock is lost or stale (kubedrill.lock) is refused (LockLost)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

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
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = self.run.rng(self.name)

    @property
    def timeouts(self) -> Timeouts:
        return self.run.timeouts

    def phase(self, name: str):
        """The run's phase ``name`` for this scenario; a fault phase starts only while the run
        holds its drill lock, renewed less than two thirds of the lease ago (LockLost otherwise)."""
        if name == "fault" and self.lock is not None:
            self.lock.check_held()
        return self.run.phase(name, self.name)
