"""The recovery point and the RPO measured from the restored data (kubedrill.data.rpo), on
hand-made acknowledgement logs: record n acknowledged at second n (monotonic clock 100 + n)."""

from __future__ import annotations

import pytest

from kubedrill.data import oracle, rpo
from kubedrill.data.writer import Ack
from kubedrill.errors import DataLost
from kubedrill.observe.measure import Instant, Rpo


def at(t: float) -> Instant:
    return Instant(100.0 + t, 1_000.0 + t)


def acks(last: int) -> tuple[Ack, ...]:
    """Records 1..last, record n acknowledged at second n."""
    return tuple(Ack(n, at(n)) for n in range(1, last + 1))


def data(*seqs: int, writer: str = "pg") -> str:
    """The restored data: these records of ``writer``, valid."""
    return "".join(oracle.record(n, n, f"r{n}", writer=writer) + "\n" for n in seqs)


def cut(seq: int, quiesced: bool = True, completed: float | None = None) -> rpo.Cut:
    return rpo.Cut(seq, at(seq), quiesced, at(completed) if completed is not None else None)


LOSS = at(52.5)     # the volume lost half a second after record 52 was acknowledged


def test_an_exact_restore_loses_what_was_acknowledged_after_the_cut():
    v = rpo.verify_cut(data(*range(1, 31)), "t", cut(30), acks(52), LOSS)
    assert v.consistent and not v.wrong_point and rpo.check(v, "ctx") is v
    assert (v.restored_through, v.last_present, v.absent_from) == (30, 30, 31)
    # 22 acknowledged records are not in the restored data; from record 30's acknowledgement to the loss
    assert (v.rpo.records_lost, v.rpo.seconds_lost) == (22, 22.5)
    assert v.statement == "consistent: records 1–30 intact, none after the cut; RPO 22 records / 22.5s [t]"


def test_the_rpo_is_what_the_data_holds_not_the_cut():
    # the cut says 30, the data holds 1–25: the RPO counts from record 25, and the check says data lost
    v = rpo.verify_cut(data(*range(1, 26)), "t", cut(30), acks(52), LOSS)
    assert (v.restored_through, v.rpo.records_lost, v.rpo.seconds_lost) == (25, 27, 27.5)
    assert v.problem == "data lost: records 26–30 missing" and not v.wrong_point
    with pytest.raises(rpo.NotConsistent, match=r"^data lost: records 26–30 missing \(ctx\)$") as exc:
        rpo.check(v, "ctx")
    assert not isinstance(exc.value, rpo.WrongPointInTime) and exc.value.verification is v


def test_a_record_missing_in_the_middle_is_data_lost_and_the_rpo_counts_it():
    held = [n for n in range(1, 31) if n != 12]
    v = rpo.verify_cut(data(*held), "t", cut(30), acks(52), LOSS)
    assert v.problem == "data lost: records 12 missing"
    assert (v.restored_through, v.last_present) == (11, 30)
    # 23 acknowledged records absent (12 and 31–52); the recovery point is record 11
    assert (v.rpo.records_lost, v.rpo.seconds_lost) == (23, 41.5)
    with pytest.raises(DataLost):
        rpo.check(v, "ctx")


def test_nothing_restored_loses_everything_since_the_first_acknowledgement():
    v = rpo.verify_cut("", "table drill_records does not exist", cut(30), acks(52), LOSS)
    assert v.problem == "data lost: records 1–30 missing"
    assert (v.restored_through, v.rpo.records_lost, v.rpo.seconds_lost) == (0, 52, 51.5)


def test_records_past_the_cut_are_a_restore_of_the_wrong_point_in_time():
    v = rpo.verify_cut(data(*range(1, 41)), "t", cut(30), acks(52), LOSS)
    assert v.wrong_point and v.problem == "records 31–40 present but written after the recovery point"
    assert v.rows_after_cut == tuple(range(31, 41))
    assert (v.restored_through, v.rpo.records_lost, v.rpo.seconds_lost) == (40, 12, 12.5)
    assert v.statement.startswith("NOT consistent: records 31–40 present")
    with pytest.raises(rpo.WrongPointInTime, match=r"^restore of the wrong point in time: records 31–40 present"):
        rpo.check(v, "ctx")
    assert isinstance(rpo.WrongPointInTime("x", v), DataLost)


def test_records_missing_and_records_past_the_cut_together_are_data_lost():
    v = rpo.verify_cut(data(*range(1, 21), *range(31, 36)), "t", cut(30), acks(52), LOSS)
    assert not v.wrong_point
    assert v.problem == ("data lost: records 21–30 missing; records 31–35 present but written after the "
                         "recovery point")
    with pytest.raises(rpo.NotConsistent) as exc:
        rpo.check(v, "ctx")
    assert not isinstance(exc.value, rpo.WrongPointInTime)


def test_what_else_the_oracle_fails_on_is_data_lost_not_a_wrong_point_in_time():
    # a record stored twice; another writer's record past the cut; neither is the wrong snapshot
    twice = rpo.verify_cut(data(*range(1, 31), 30), "t", cut(30), acks(52), LOSS, writer="pg")
    other = rpo.verify_cut(data(*range(1, 31)) + data(31, writer="pg-1"), "t", cut(30), acks(52), LOSS,
                           writer="pg")
    for v in (twice, other):
        assert v.problem and not v.wrong_point
        with pytest.raises(rpo.NotConsistent) as exc:
            rpo.check(v, "ctx")
        assert not isinstance(exc.value, rpo.WrongPointInTime)
    assert "pg-1" in other.problem and other.restored_through == 30


def test_a_torn_last_record_never_acknowledged_is_not_a_loss():
    torn = data(*range(1, 31)) + oracle.record(31, 31, "r31", writer="pg")[:20]   # no newline: cut mid-write
    v = rpo.verify_cut(torn, "t", cut(30), acks(30), at(31), writer="pg")
    assert v.consistent and (v.restored_through, v.rpo.records_lost) == (30, 0)


def test_a_snapshot_not_quiesced_may_hold_what_was_written_while_it_was_taken():
    # cut at 30 (snapshot requested), snapshot seen complete at second 34.5: records 31–34 were
    # acknowledged while it was taken, 35 was written before or after completion; 36 after it
    loose = cut(30, quiesced=False, completed=34.5)
    assert loose.absent_from(acks(52)) == 36
    v = rpo.verify_cut(data(*range(1, 35)), "t", loose, acks(52), LOSS)
    assert v.consistent and v.rows_after_cut == (31, 32, 33, 34)
    assert (v.restored_through, v.rpo.records_lost, v.rpo.seconds_lost) == (34, 18, 18.5)
    assert v.statement == ("snapshot NOT quiesced; restore consistent: records 1–30 intact, 4 record(s) written "
                           "after the cut came back (31–34); RPO 18 records / 18.5s [t]")
    assert rpo.verify_cut(data(*range(1, 36)), "t", loose, acks(52), LOSS).consistent


def test_a_snapshot_not_quiesced_fails_on_a_record_written_after_it_completed_or_a_gap():
    loose = cut(30, quiesced=False, completed=34.5)
    late = rpo.verify_cut(data(*range(1, 37)), "t", loose, acks(52), LOSS)
    assert late.wrong_point and late.problem == "records 36 present but written after the recovery point"
    gap = rpo.verify_cut(data(*range(1, 32), 33), "t", loose, acks(52), LOSS)
    assert gap.problem == "data lost: records 32 missing" and not gap.wrong_point
    assert gap.statement.startswith("snapshot NOT quiesced; restore NOT consistent: data lost: records 32 missing")


def test_the_window_of_a_snapshot():
    log = acks(52)
    assert cut(30).absent_from(log) == 31                                  # quiesced: closed
    assert cut(30, quiesced=False).absent_from(log) is None                # completion unknown
    assert cut(30, quiesced=False, completed=60).absent_from(log) is None  # nothing acknowledged after it
    assert cut(30, quiesced=False, completed=30.5).absent_from(log) == 32


def test_the_rpo_time_figure():
    # nothing lost: 0 and 0, whatever the clock says
    assert rpo.measure(range(1, 53), acks(52), LOSS) == Rpo(0, 0.0)
    # a record acknowledged after the loss began (in flight when the claim was deleted) extends it
    assert rpo.measure(range(1, 31), acks(52), at(50)) == Rpo(22, 22.0)
    # a record present that was never acknowledged does not move the recovery point past the log
    assert rpo.measure(range(1, 32), acks(30), at(40)).seconds_lost == 0.0
    assert rpo.measure((), (), LOSS) == Rpo(0, 0.0)
    assert rpo.unbroken_through({1, 2, 3, 5}) == 3 and rpo.unbroken_through({2}) == 0
