import os
import shutil
import subprocess

import pytest

from kubedrill.data import oracle
from kubedrill.errors import DataLost


def records(seqs, ts=1_000):
    return "".join(oracle.record(s, ts + s, f"r{s}") + "\n" for s in seqs)


def test_intact_records_verify_without_a_copy():
    rep = oracle.check(records(range(1, 101)), expected_through=100)
    assert rep.ok and rep.highest == 100 and rep.describe() == "records 1–100 intact"


def test_everything_gone_names_the_whole_range():
    with pytest.raises(DataLost, match="^data lost: records 1–250 missing$"):
        oracle.check("", expected_through=250)


def test_missing_ranges_are_named():
    rep = oracle.verify(records([1, 2, 3, 7, 8, 10]), expected_through=12)
    assert rep.missing == ((4, 6), (9, 9), (11, 12))
    assert rep.describe() == "data lost: records 4–6, 9, 11–12 missing"


def test_a_corrupt_record_is_caught_by_its_checksum():
    text = records(range(1, 6)).replace("|r3\n", "|r3x\n")
    rep = oracle.verify(text, expected_through=5)
    assert rep.corrupt_lines == (3,) and rep.missing == ((3, 3),)
    assert "corrupt records on lines 3" in rep.describe()


def test_garbage_is_corrupt_and_a_torn_end_is_the_torn_last_record():
    text = records([1, 2]) + "garbage\n" + oracle.record(3, 5, "r3")[:20]
    rep = oracle.verify(text)
    assert rep.corrupt_lines == (3,) and rep.torn_last == 4 and rep.valid == frozenset({1, 2})
    assert not rep.ok


def test_records_written_after_the_recovery_point_must_be_absent():
    with pytest.raises(DataLost, match="records 6–8 present but written after the recovery point"):
        oracle.check(records(range(1, 9)), expected_through=5, absent_from=6)


def test_payload_must_not_break_the_format():
    with pytest.raises(ValueError):
        oracle.record(1, 1, "a|b")


@pytest.mark.skipif(not shutil.which("sha256sum"), reason="needs sha256sum")
def test_the_shell_writer_produces_records_the_oracle_accepts(tmp_path):
    data = tmp_path / "d" / "records"
    env = {**os.environ, "DATA": str(data), "COUNT": "5", "INTERVAL": "0"}
    subprocess.run(["sh", "-c", oracle.WRITER_SH], env=env, check=True, timeout=60)
    subprocess.run(["sh", "-c", oracle.WRITER_SH], env={**env, "COUNT": "3"}, check=True, timeout=60)
    rep = oracle.check(data.read_text(), expected_through=int((tmp_path / "d" / "records.ack").read_text()))
    assert rep.highest == 8 and rep.ok


def test_the_record_carries_its_writer_and_its_checksum_covers_it():
    line = oracle.record(7, 42, "r7", writer="db-1")
    assert line.split("|")[:3] == ["7", "db-1", "42"]
    assert oracle.parse(line) == oracle.Parsed(7, "db-1", 42)
    assert oracle.parse(line.replace("|db-1|", "|db-0|", 1)) is None     # the identity cannot be edited
    for bad in ("", "db|0", "db 0", "-db", "a\nb", "x" * 64):
        with pytest.raises(ValueError):
            oracle.record(1, 1, "r1", writer=bad)
