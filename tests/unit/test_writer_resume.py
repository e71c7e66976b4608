"""The shell writer (oracle.WRITER_SH) and the file sink's script go on after the last intact
record: a torn last line (never acknowledged) is cut off, never written over from record 1;
they refuse to append after a corrupt record, another writer's records, or lost acknowledged
records. Run with the local sh, sha256sum and truncate (busybox has the same in the pods)."""

import os
import shutil
import subprocess

import pytest

from kubedrill.data import oracle, sinks

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("sha256sum", "truncate")),
                                reason="needs sha256sum and truncate")


def write(path, count, writer="db-0", check=True):
    env = {**os.environ, "DATA": str(path), "COUNT": str(count), "INTERVAL": "0", "WRITER": writer}
    return subprocess.run(["sh", "-c", oracle.WRITER_SH], env=env, check=check, timeout=60, capture_output=True,
                          text=True)


def acked(path) -> int:
    return int(path.with_name(path.name + ".ack").read_text())


def test_the_writer_resumes_after_a_torn_last_line(tmp_path):
    data = tmp_path / "records"
    write(data, 5)
    with data.open("a") as f:
        f.write(oracle.record(6, 6, "r6", writer="db-0")[:33])     # cut mid-record, never acknowledged
    assert oracle.verify(data.read_text(), expected_through=5, writer="db-0").torn_last == 6
    out = write(data, 3)
    assert "cut off a torn last record" in out.stdout
    rep = oracle.check(data.read_text(), expected_through=acked(data), writer="db-0")
    assert acked(data) == 8 and rep.highest == 8 and rep.torn_last is None and len(data.read_text().splitlines()) == 8


def test_nothing_intact_and_nothing_acknowledged_starts_at_one(tmp_path):
    data = tmp_path / "records"
    data.write_text(oracle.record(1, 1, "r1", writer="db-0")[:10])
    write(data, 2)
    assert oracle.check(data.read_text(), expected_through=2, writer="db-0").valid == frozenset({1, 2})


def test_an_intact_last_record_that_lost_its_newline_keeps_its_number(tmp_path):
    data = tmp_path / "records"
    write(data, 3)
    data.write_text(data.read_text()[:-1])
    write(data, 2)
    assert oracle.check(data.read_text(), expected_through=5, writer="db-0").highest == 5


@pytest.mark.parametrize("case, reason", [
    ("corrupt", "a corrupt last record (line 3)"),
    ("foreign", "records of writer db-1"),
    ("ack lost", "record 5 acknowledged but the last intact record is 3"),
])
def test_the_writer_refuses_rather_than_write_over_records(tmp_path, case, reason):
    data = tmp_path / "records"
    write(data, 3, writer="db-1" if case == "foreign" else "db-0")
    if case == "corrupt":
        data.write_text(data.read_text().replace("|r3-", "|x3-"))
    if case == "ack lost":
        data.with_name("records.ack").write_text("5\n")
    before = data.read_text()
    res = write(data, 2, check=False)
    assert res.returncode == 3, res
    assert res.stderr.strip() == f"kubedrill writer db-0: {reason} in {data}: refusing to append"
    assert data.read_text() == before


def test_the_file_sink_cuts_a_torn_tail_before_it_appends(tmp_path):
    data = tmp_path / "records"
    data.write_text("".join(oracle.record(i, i, f"r{i}", writer="pg") + "\n" for i in (1, 2))
                    + oracle.record(3, 3, "r3", writer="pg")[:12])
    lines = "".join(oracle.record(i, i, f"r{i}", writer="pg") + "\n" for i in (3, 4))
    res = subprocess.run(["sh", "-c", f"F={data}; {sinks.FILE_SINK_SH}"], input=lines, text=True,
                         capture_output=True, timeout=60, check=True)
    assert res.stdout.splitlines()[-3:] == ["ready", "ack 3", "ack 4"]
    assert oracle.check(data.read_text(), expected_through=4, writer="pg").highest == 4
