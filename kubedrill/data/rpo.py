"""The recovery point and what a recovery brought back: records read back from a restored (or
surviving) volume checked against a cut, and the RPO in records and seconds.

The code that takes snapshots and restores them never checks data itself: it hands what it read
back, the cut it recovered to and the writer's acknowledgements to ``verify_cut``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill.data import oracle
from kubedrill.errors import DataLost
from kubedrill.observe.measure import Instant, Rpo


@dataclass(frozen=True)
class Cut:
    """The recovery point: the last record acknowledged before the snapshot."""

    seq: int
    at: Instant          # when that record was acknowledged (the request time when none was)
    quiesced: bool

    def describe(self) -> str:
        return f"record {self.seq}" + ("" if self.quiesced else " (not quiesced: the database kept writing)")


@dataclass(frozen=True)
class Verification:
    cut: Cut
    expected_through: int
    report: oracle.Report
    rpo: Rpo                     # what the recovery could not bring back: records and seconds
    rows_after_cut: tuple[int, ...]
    consistent: bool
    statement: str

    @property
    def ok(self) -> bool:
        return self.consistent


class NotConsistent(DataLost):
    """A recovery that did not bring back exactly what its cut promised ("data lost: records
    31–40 missing"); carries the whole verification (statement, RPO, the oracle's report)."""

    def __init__(self, message: str, verification: Verification):
        super().__init__(message)
        self.verification = verification


def rpo(recovered: Cut, last_acknowledged: int, lost_at: Instant) -> Rpo:
    """Records acknowledged after the recovered cut (all lost) and the seconds from the cut to
    the loss."""
    return Rpo(max(0, last_acknowledged - recovered.seq), max(0.0, lost_at.wall - recovered.at.wall))


def verify_cut(text: str, where: str, cut: Cut, recovered: Cut, last_acknowledged: int,
               lost_at: Instant) -> Verification:
    """Every record up to ``cut`` present and valid; when the ``recovered`` cut was quiesced,
    none after ``cut``. ``cut`` is the recovered one, or a later one to see what an older
    recovery point misses. The statement says whether the recovery was consistent, and for a
    cut that was not quiesced, how many records written after it came back."""
    quiesced = recovered.quiesced
    report = oracle.verify(text, expected_through=cut.seq, absent_from=(cut.seq + 1) if quiesced else None)
    after = tuple(sorted(x for x in report.valid if x > cut.seq))
    intact = not report.missing and not report.corrupt_lines
    consistent = intact and not report.unexpected
    if quiesced:
        statement = (f"consistent: records 1–{cut.seq} intact, none after the cut" if consistent
                     else f"NOT consistent: {report.describe()}")
    else:
        state = "consistent" if intact else "NOT consistent"
        statement = (f"snapshot NOT quiesced; restore {state}: "
                     + (f"records 1–{cut.seq} intact" if intact else report.describe())
                     + f", {len(after)} record(s) written after the cut came back"
                     + (f" ({oracle.describe_ranges(after)})" if after else ""))
        consistent = intact
    statement += f" [{where}]"
    return Verification(cut, cut.seq, report, rpo(recovered, max(last_acknowledged, cut.seq), lost_at), after,
                        consistent, statement)
