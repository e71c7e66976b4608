"""The oracle's outcomes beyond "missing": duplicates, another writer's records, a torn record
in the middle, a torn last record (never acknowledged), records out of order; and the RPO the
data shows."""

import pytest

from kubedrill.data import oracle
from kubedrill.errors import DataLost
from kubedrill.observe.measure import Rpo


def line(seq: int, writer: str = "db-0", ts: int | None = None) -> str:
    return oracle.record(seq, ts if ts is not None else seq * 1_000_000_000, f"r{seq}", writer=writer)


def text(*lines: str, end: str = "\n") -> str:
    return "\n".join(lines) + end


def test_duplicates_fail_and_never_read_as_intact():
    rep = oracle.verify(text(*(line(s) for s in (1, 2, 2, 3, 3, 3))), expected_through=3, writer="db-0")
    assert rep.duplicates == (2, 3) and rep.extra_copies == 3 and not rep.ok
    assert "intact" not in rep.describe()
    with pytest.raises(DataLost, match=r"^records 2–3 stored more than once \(3 extra copies\)$"):
        oracle.check(text(*(line(s) for s in (1, 2, 2, 3, 3, 3))), expected_through=3, writer="db-0")


def test_a_file_appended_to_itself_is_duplicates_not_disorder():
    rep = oracle.verify(text(*(line(s) for s in (1, 2, 3, 1, 2, 3))), expected_through=3)
    assert rep.duplicates == (1, 2, 3) and rep.out_of_order == () and not rep.ok


def test_another_writers_records_fail_naming_it():
    other = text(*(line(s, "db-1") for s in range(1, 51)))
    with pytest.raises(DataLost) as exc:
        oracle.check(other, expected_through=50, writer="db-0")
    assert str(exc.value) == "data lost: records 1–50 missing; records 1–50 written by db-1, not db-0"


def test_a_foreign_record_among_the_writers_own_fails_even_when_all_are_present():
    mixed = text(line(1), line(2), line(3, "db-2"), line(3))
    rep = oracle.verify(mixed, expected_through=3, writer="db-0")
    assert rep.valid == frozenset({1, 2, 3}) and rep.foreign == (("db-2", (3,)),) and not rep.ok
    assert rep.describe() == "records 3 written by db-2, not db-0"


def test_without_an_expected_writer_the_first_records_writer_owns_the_stream():
    rep = oracle.verify(text(line(1, "pg"), line(2, "pg"), line(3, "files")), expected_through=2)
    assert rep.writer == "pg" and rep.foreign == (("files", (3,)),) and not rep.ok


def test_a_torn_record_in_the_middle_is_corrupt():
    torn = line(2)[:25]
    rep = oracle.verify(torn + line(3) + "\n", expected_through=3, writer="db-0")   # glued onto by the next write
    assert rep.corrupt_lines == (1,) and rep.torn_last is None and not rep.ok
    rep = oracle.verify(text(line(1), torn, line(3)), expected_through=3, writer="db-0")
    assert rep.corrupt_lines == (2,) and rep.missing == ((2, 2),)
    assert rep.describe() == "data lost: records 2 missing; corrupt records on lines 2"


def test_a_torn_last_record_never_acknowledged_is_reported_not_lost():
    torn = text(line(1), line(2), line(3)) + line(4)[:30]
    rep = oracle.check(torn, expected_through=3, writer="db-0")
    assert rep.ok and rep.torn_last == 4 and rep.valid == frozenset({1, 2, 3})
    assert rep.describe() == ("records 1–3 intact; torn last record on line 4: the write in progress when the "
                              "writer was cut, never acknowledged")


def test_a_torn_last_record_that_was_acknowledged_is_data_lost():
    torn = text(line(1), line(2), line(3)) + line(4)[:30]
    with pytest.raises(DataLost, match=r"^data lost: records 4 missing; torn last record on line 4$"):
        oracle.check(torn, expected_through=4, writer="db-0")


def test_a_bad_last_line_with_its_newline_is_corrupt_not_torn():
    rep = oracle.verify(text(line(1), line(2), line(3)[:-1] + "x"), expected_through=2, writer="db-0")
    assert rep.torn_last is None and rep.corrupt_lines == (3,) and not rep.ok


def test_an_intact_last_record_without_its_newline_counts():
    rep = oracle.check(text(line(1), line(2), end=""), expected_through=2, writer="db-0")
    assert rep.ok and rep.torn_last is None and rep.highest == 2


def test_records_out_of_order_fail():
    rep = oracle.verify(text(line(1), line(3), line(2)), expected_through=3)
    assert rep.out_of_order == (3,) and not rep.ok
    assert rep.describe() == "records out of order on lines 3"


def test_the_rpo_the_data_shows():
    rep = oracle.verify(text(*(line(s) for s in (1, 2, 3, 7))), expected_through=9, writer="db-0")
    assert rep.records_lost == 5
    assert oracle.rpo(rep, acknowledged_at_wall=12.5, started_at_wall=0.5) == Rpo(5, 9.5)  # from record 3 (3 s)
    everything = oracle.verify("", expected_through=4, writer="db-0")
    assert oracle.rpo(everything, acknowledged_at_wall=12.5, started_at_wall=10.0) == Rpo(4, 2.5)
    whole = oracle.verify(text(line(1), line(2)), expected_through=2, writer="db-0")
    assert oracle.rpo(whole, 12.5, 0.0) == Rpo(0, 0.0)


def test_intact_ignores_only_records_after_the_recovery_point():
    rep = oracle.verify(text(*(line(s) for s in range(1, 6))), expected_through=3, absent_from=4)
    assert rep.intact and not rep.ok and rep.unexpected == (4, 5)
    dup = oracle.verify(text(line(1), line(1)), expected_through=1, absent_from=2)
    assert not dup.intact
