"""What a scenario measured, read into its row of results.json (:class:`ScenarioResult`).

The library records each measurement as ``(scenario, measurement)`` in ``run.results``: a
recovery (``rto_s`` + ``timeline``), an RPO (``records_lost`` + ``seconds_lost``), an
availability (``success_ratio`` + ``longest_outage_s``). Each kind is a Protocol below, so any
record of that shape counts (Recovery and its subclasses, Rpo, ProbeResult).
"""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence, runtime_checkable

from kubedrill.observe.measure import Timeline
from kubedrill.observe.prober import ProbeResult
from kubedrill.report.objectives import ObjectivesRead
from kubedrill.report.results import ScenarioResult


@runtime_checkable
class MeasuredRecovery(Protocol):
    description: str
    rto_s: float
    timeline: Timeline

    def as_dict(self) -> dict: ...


@runtime_checkable
class MeasuredRpo(Protocol):
    records_lost: int
    seconds_lost: float


@runtime_checkable
class MeasuredAvailability(Protocol):
    success_ratio: float
    longest_outage_s: float
    requests: int | None


@runtime_checkable
class MeasuredSnapshotReady(Protocol):
    snapshot_ready_s: float


@runtime_checkable
class MeasuredRestore(Protocol):
    restore_s: float


def measurements(results: Iterable[tuple[str, object]], scenario: str) -> list[object]:
    """The measurements recorded for ``scenario``, in order."""
    return [m for name, m in results if name == scenario]


def recoveries(measured: Iterable[object]) -> list[MeasuredRecovery]:
    return [m for m in measured if isinstance(m, MeasuredRecovery)]


def rpo_dict(m: MeasuredRpo) -> dict:
    return {"records_lost": int(m.records_lost), "seconds_lost": round(float(m.seconds_lost), 3)}


def availability_dict(m: MeasuredAvailability) -> dict:
    d = dict(m.as_dict()) if isinstance(m, ProbeResult) else {}
    d.update({"success_ratio": round(float(m.success_ratio), 4),
              "longest_outage_s": round(float(m.longest_outage_s), 3)})
    if m.requests is not None:
        d["requests"] = int(m.requests)
    return d


def scenario_result(scenario: str, verdict: str, reason: str, measured: Sequence[object], seed: int | None,
                    duration_s: float = 0.0, objectives: ObjectivesRead = ObjectivesRead(),
                    component: str = "", storage_class: str = "") -> ScenarioResult:
    """A scenario's row: its last recovery, RPO, availability, snapshot ready time and restore
    time, every recovery, the objectives it read, the StorageClass it ran on."""
    recs = recoveries(measured)
    rpos = [m for m in measured if isinstance(m, MeasuredRpo)]
    avails = [m for m in measured if isinstance(m, MeasuredAvailability)]
    snaps = [m for m in measured if isinstance(m, MeasuredSnapshotReady)]
    restores = [m for m in measured if isinstance(m, MeasuredRestore)]
    return ScenarioResult(
        scenario, verdict, round(recs[-1].rto_s, 3) if recs else None, objectives.rto_objective(), reason,
        recs[-1].timeline.as_dict() if recs else None, seed, duration_s,
        rpo=rpo_dict(rpos[-1]) if rpos else None,
        availability=availability_dict(avails[-1]) if avails else None,
        objectives=objectives.as_dict(),
        component=component,
        recoveries=tuple(r.as_dict() for r in recs),
        storage_class=storage_class,
        snapshot_ready_s=round(float(snaps[-1].snapshot_ready_s), 3) if snaps else None,
        restore_s=round(float(restores[-1].restore_s), 3) if restores else None)
