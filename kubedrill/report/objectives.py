"""The objectives a scenario read, to report them with its result.

A scenario reads its objectives as attributes (``objectives.pod_kill_rto_s``, or
``getattr(objectives, name)``). The pytest layer hands it a :class:`NotedObjectives`: the
session's :class:`~kubedrill.config.Objectives`, whose every field is a property that goes
through :meth:`NotedObjectives.value`, which tells ``note`` the name and value read. What was read
is kept as an :class:`ObjectivesRead`, a frozen record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from kubedrill.config import Objectives

Note = Callable[[str, float], None]


@dataclass(frozen=True)
class ObjectivesRead:
    """The objectives one scenario read: (name, value) in the order first read."""

    values: tuple[tuple[str, float], ...] = ()

    def noting(self, name: str, value: float) -> "ObjectivesRead":
        """A read: the first value read of an objective is the one reported."""
        if any(n == name for n, _ in self.values):
            return self
        return ObjectivesRead(self.values + ((name, value),))

    def setting(self, name: str, value: float) -> "ObjectivesRead":
        """An objective the scenario states itself (drill_report.objective): it wins."""
        if any(n == name for n, _ in self.values):
            return ObjectivesRead(tuple((n, value if n == name else v) for n, v in self.values))
        return ObjectivesRead(self.values + ((name, value),))

    def as_dict(self) -> dict[str, float]:
        return {name: float(value) for name, value in self.values}

    def rto_objective(self) -> float | None:
        """The RTO objective the scenario checked: an experiment's own ``rto_s`` (every workload
        back), else the first ``*_rto_s`` objective it read."""
        overall = [float(v) for k, v in self.values if k == "rto_s"]
        return overall[0] if overall else next((float(v) for k, v in self.values if k.endswith("_rto_s")), None)


OBJECTIVE_NAMES = tuple(f.name for f in dataclasses.fields(Objectives))


class NotedObjectives(Objectives):
    """The session's objectives as one scenario sees them: reading one tells ``note``."""

    def __init__(self, objectives: Objectives | None = None, note: Note | None = None,
                 **values: float) -> None:  # noqa: D107
        # ``**values``: dataclasses.replace() builds a copy from every field; the copy notes nothing
        # Objectives is frozen: set once here, as its own generated __init__ does
        object.__setattr__(self, "objectives", objectives if objectives is not None else Objectives(**values))
        object.__setattr__(self, "note", note if note is not None else _ignore)

    def value(self, name: str) -> float:
        """The objective ``name``, noted as read."""
        value = getattr(self.objectives, name)
        self.note(name, value)
        return value


def _ignore(name: str, value: float) -> None:
    return None


def _noted_field(name: str) -> property:
    return property(lambda self: self.value(name), doc=f"the objective {name} (noted as read)")


for _name in OBJECTIVE_NAMES:
    setattr(NotedObjectives, _name, _noted_field(_name))
