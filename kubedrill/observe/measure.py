"""Timelines, RTO, RPO and simple statistics, as frozen dataclasses.

Times are taken on the monotonic clock; a wall-clock anchor taken at the same instant lets a
timeline be shown in UTC.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence


@dataclass(frozen=True)
class Instant:
    """One moment: monotonic seconds plus the wall clock read at the same time."""

    mono: float
    wall: float

    @staticmethod
    def now() -> "Instant":
        return Instant(time.monotonic(), time.time())

    def at(self, mono: float) -> "Instant":
        """Another monotonic moment expressed against this anchor's wall clock."""
        return Instant(mono, self.wall + (mono - self.mono))


@dataclass(frozen=True)
class Mark:
    name: str        # fault, first NotReady, replacement scheduled, Ready, data verified
    mono: float
    detail: str = ""


@dataclass(frozen=True)
class Timeline:
    origin: Instant
    marks: tuple[Mark, ...] = ()

    def add(self, name: str, mono: float, detail: str = "") -> "Timeline":
        return Timeline(self.origin, tuple(sorted(self.marks + (Mark(name, mono, detail),),
                                                  key=lambda m: m.mono)))

    def first(self, name: str) -> Mark | None:
        return next((m for m in self.marks if m.name == name), None)

    def offsets(self) -> tuple[tuple[str, float, str], ...]:
        """(name, seconds since origin, detail) per mark."""
        return tuple((m.name, round(m.mono - self.origin.mono, 3), m.detail) for m in self.marks)

    def as_dict(self) -> dict:
        return {"origin_unix": self.origin.wall,
                "marks": [{"name": n, "t_s": t, "detail": d} for n, t, d in self.offsets()]}


def rto_s(fault_mono: float, recovered_mono: float) -> float:
    """Recovery time: from the fault to the first moment the recovery condition holds."""
    if recovered_mono < fault_mono:
        raise ValueError("recovery observed before the fault")
    return recovered_mono - fault_mono


class Disruption(Protocol):
    """What a wait for recovery reads of the fault it follows (kubedrill.faults.pods.PodKill is
    one): when it struck, the pods it removed (names and UIDs), and the UIDs that were there
    before it, so that a replacement is a UID not among them."""

    @property
    def at(self) -> Instant: ...

    @property
    def pods(self) -> tuple[str, ...]: ...

    @property
    def uids(self) -> frozenset[str]: ...

    @property
    def before(self) -> frozenset[str]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Recovery:
    """A measured recovery: what was waited for, RTO, and the timeline that shows it."""

    description: str
    rto_s: float
    timeline: Timeline
    summary: str = ""

    def as_dict(self) -> dict:
        return {"description": self.description, "rto_s": round(self.rto_s, 3),
                "summary": self.summary, "timeline": self.timeline.as_dict()}


@dataclass(frozen=True)
class Rpo:
    """Recovery point: records (and seconds of writes) lost."""

    records_lost: int
    seconds_lost: float


@dataclass(frozen=True)
class SnapshotReady:
    """How long a VolumeSnapshot took: from its creation to readyToUse."""

    snapshot: str
    snapshot_ready_s: float


@dataclass(frozen=True)
class RestoreTime:
    """How long a restore took: from the claim created from the snapshot to the data verified."""

    claim: str
    restore_s: float


def rpo(acknowledged_seq: int, recovered_seq: int, acknowledged_ts: float, recovered_ts: float) -> Rpo:
    lost = max(0, acknowledged_seq - recovered_seq)
    seconds = max(0.0, acknowledged_ts - recovered_ts) if lost else 0.0
    return Rpo(lost, seconds)


def percentile(values: Iterable[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default method); p in [0, 100]."""
    data = sorted(values)
    if not data:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    rank = (len(data) - 1) * p / 100.0
    lo, hi = math.floor(rank), math.ceil(rank)
    return data[lo] + (data[hi] - data[lo]) * (rank - lo)


@dataclass(frozen=True)
class Stats:
    n: int
    median: float
    p95: float
    max: float

    @staticmethod
    def of(values: Sequence[float]) -> "Stats":
        return Stats(len(values), percentile(values, 50), percentile(values, 95), max(values))

    def objective(self, factor: float = 1.5) -> float:
        """The house rule for a default objective: p95 × 1.5."""
        return self.p95 * factor
