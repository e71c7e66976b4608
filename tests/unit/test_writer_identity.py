"""The record writer stamps its identity (its name, a stream id) into every record, and the
oracle checks it: the same records read as another writer's fail."""

import pytest

from kubedrill.data import oracle
from kubedrill.data.writer import RecordWriter
from kubedrill.errors import DataLost


class ListSink:
    def __init__(self):
        self.lines: list[str] = []

    def write(self, seq: int, line: str, timeout_s: float) -> None:
        self.lines.append(line)

    def close(self) -> None:
        pass


def test_every_record_carries_the_writers_identity():
    sink = ListSink()
    w = RecordWriter("pg", interval_s=0.001, log=lambda _: None)
    w.start(sink)
    w.wait_acknowledged(5, 10)
    st = w.stop()
    text = "\n".join(sink.lines[:st.seq]) + "\n"
    assert {oracle.parse(x).writer for x in sink.lines} == {"pg"}
    assert oracle.check(text, expected_through=st.seq, writer="pg").highest == st.seq
    with pytest.raises(DataLost, match=rf"written by pg, not files$"):
        oracle.check(text, expected_through=st.seq, writer="files")


def test_a_writer_name_that_cannot_be_an_identity_is_refused():
    with pytest.raises(ValueError):
        RecordWriter("a|b")
