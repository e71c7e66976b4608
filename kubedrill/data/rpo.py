"""The recovery point and what a recovery brought back: records read back from a restored volume
checked against the snapshot's cut, and the RPO in records and seconds measured from what the
restored data holds.

A snapshot's recovery point is a window in the writer's acknowledgement log (kubedrill.data.writer):

    the cut        the last record acknowledged before the snapshot began: it and every record
                   before it must come back (missing: data lost)
    absent from    the first record written after the snapshot completed: it and every later
                   record must not come back (present: a restore of the wrong point in time)

With the writer paused through the snapshot (quiesced) the window is closed: the record after
the cut is the first one written after it. Otherwise records written while the snapshot was
taken may come back, but only as an unbroken run after the cut.

The RPO is what the restored data does not hold of what was acknowledged: in records, the
acknowledged records absent from it; in seconds, from the acknowledgement of the last record it
holds (in an unbroken run from record 1) to the loss.

The code that takes snapshots and restores them never checks data itself: it hands what it read
back, the cut and the writer's acknowledgements to ``verify_cut``, and ``check`` raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from kubedrill.data import oracle
from kubedrill.data.writer import Ack
from kubedrill.errors import DataLost
from kubedrill.observe.measure import Instant, Rpo


@dataclass(frozen=True)
class Cut:
    """The recovery point a snapshot promises: the last record acknowledged before it began."""

    seq: int
    at: Instant                   # when that record was acknowledged (the request time when none was)
    quiesced: bool                # the writer was paused from before the snapshot began until it completed
    completed: Instant | None = None   # when the snapshot was seen complete (readyToUse); None: not yet

    def describe(self) -> str:
        return f"record {self.seq}" + ("" if self.quiesced else " (not quiesced: the database kept writing)")

    def absent_from(self, acks: Sequence[Ack]) -> int | None:
        """The first record written after the snapshot completed. Quiesced: the one after the cut.
        Otherwise the one after the first record acknowledged after completion: the writer sends
        a record only once the previous one is acknowledged, so that one's write began after the
        snapshot completed (the first acknowledged after it may have been written before). None
        when no record was acknowledged after completion, or completion is unknown."""
        if self.quiesced:
            return self.seq + 1
        if self.completed is None:
            return None
        after = [a.seq for a in acks if a.at.mono > self.completed.mono]
        return min(after) + 1 if after else None


@dataclass(frozen=True)
class Verification:
    cut: Cut
    report: oracle.Report
    absent_from: int | None      # the first record that must not be back (None: no bound known)
    restored_through: int        # the restored data holds records 1..this, unbroken
    last_present: int            # the highest valid record the restored data holds
    rpo: Rpo                     # what the restored data does not hold of what was acknowledged
    rows_after_cut: tuple[int, ...]
    problem: str                 # "" when consistent; else what is wrong (the oracle's words)
    wrong_point: bool            # nothing missing, but records written after the snapshot are back
    statement: str

    @property
    def consistent(self) -> bool:
        return not self.problem

    @property
    def ok(self) -> bool:
        return self.consistent


class NotConsistent(DataLost):
    """A recovery that did not bring back exactly what its cut promised ("data lost: records
    31–40 missing"); carries the whole verification (statement, RPO, the oracle's report)."""

    def __init__(self, message: str, verification: Verification):
        super().__init__(message)
        self.verification = verification


class WrongPointInTime(NotConsistent):
    """A restore of the wrong point in time: every record up to the cut is back, and so are
    records written after the snapshot completed (a later snapshot restored, or a snapshot that
    was not what its cut says). Data lost: what came back is not the data of the recovery point."""


def unbroken_through(held) -> int:
    """N such that records 1..N are all in ``held`` (0 when record 1 is not)."""
    n = 0
    present = set(held)
    while n + 1 in present:
        n += 1
    return n


def measure(held, acks: Sequence[Ack], lost_at: Instant) -> Rpo:
    """The RPO from what the restored data holds (``held``, the valid sequence numbers): the
    acknowledged records it does not hold, and the seconds from the acknowledgement of the last
    record it holds unbroken from record 1 (the first acknowledgement when it holds none) to the
    loss, or to the last lost acknowledgement when that came later (written while the loss was
    under way). Nothing lost: 0 records, 0 seconds."""
    present = set(held)
    lost = [a for a in acks if a.seq not in present]
    if not lost:
        return Rpo(0, 0.0)
    through = unbroken_through(present)
    held_acks = [a for a in acks if a.seq <= through]
    point = (held_acks[-1] if held_acks else acks[0]).at
    end = max(lost_at.mono, max(a.at.mono for a in lost))
    return Rpo(len(lost), max(0.0, end - point.mono))


def verify_cut(text: str, where: str, cut: Cut, acks: Sequence[Ack], lost_at: Instant,
               writer: str | None = None) -> Verification:
    """Check what a restore read back (``text``, read from ``where``) against ``cut`` and the
    acknowledgement log of ``writer`` (its identity, which every record must carry): every
    record up to the cut present, valid, once; none from the first record written after the
    snapshot completed; in between (a snapshot not quiesced) an unbroken run. Returns the
    verification (its statement, its RPO); ``check`` raises."""
    absent = cut.absent_from(acks)
    held = oracle.verify(text, writer=writer).valid
    window = [s for s in held if s > cut.seq and (absent is None or s < absent)]
    through = max([cut.seq, *window])
    report = oracle.verify(text, expected_through=through, absent_from=absent, writer=writer)
    after = tuple(sorted(s for s in report.valid if s > cut.seq))
    problem = "" if report.ok else report.describe()
    wrong_point = bool(problem) and report.intact   # all that is wrong: records past the window
    if cut.quiesced:
        statement = (f"consistent: records 1–{cut.seq} intact, none after the cut" if not problem
                     else f"NOT consistent: {problem}")
    else:
        came_back = [s for s in after if absent is None or s < absent]
        statement = (f"snapshot NOT quiesced; restore {'consistent' if not problem else 'NOT consistent'}: "
                     + (f"records 1–{cut.seq} intact" if not problem else problem)
                     + f", {len(came_back)} record(s) written after the cut came back"
                     + (f" ({oracle.describe_ranges(came_back)})" if came_back else ""))
    rpo = measure(report.valid, acks, lost_at)
    statement += f"; RPO {rpo.records_lost} records / {rpo.seconds_lost:.1f}s [{where}]"
    return Verification(cut, report, absent, unbroken_through(report.valid), report.highest, rpo, after,
                        problem, wrong_point, statement)


def check(verification: Verification, context: str) -> Verification:
    """The verification, or NotConsistent (records missing or corrupt) or WrongPointInTime
    (records written after the snapshot completed came back), both DataLost, naming the records
    and ``context`` (the snapshot, the cut, where the records were read)."""
    if verification.wrong_point:
        raise WrongPointInTime(f"restore of the wrong point in time: {verification.problem} ({context})",
                               verification)
    if verification.problem:
        raise NotConsistent(f"{verification.problem} ({context})", verification)
    return verification
