"""What one scenario acts with: the run, the clients, the guard, the journal, its cleanups,
its namespace and its random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kubedrill.client import Clients
from kubedrill.config import Timeouts
from kubedrill.guard import Guard
from kubedrill.journal import Journal
from kubedrill.run import Cleanups, Run
from kubedrill.wait import Progress


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
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = self.run.rng(self.name)

    @property
    def timeouts(self) -> Timeouts:
        return self.run.timeouts

    def phase(self, name: str):
        return self.run.phase(name, self.name)
