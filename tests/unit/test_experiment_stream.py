"""data.stream's verification (kubedrill.ctk.stream): what a file read back after the recovery
holds, against the writer's acknowledgements. Pure logic: the file's text is given, not read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kubedrill.ctk import stream as kstream
from kubedrill.data import oracle
from kubedrill.data.writer import Ack
from kubedrill.errors import DataLost
from kubedrill.observe.measure import Instant

POD = "db-0"


def acked(n: int, every_s: float = 0.5) -> tuple[Ack, ...]:
    return tuple(Ack(seq, Instant(100.0 + seq * every_s, 1e9 + seq * every_s)) for seq in range(1, n + 1))


def text(seqs, writer: str = POD, torn: bool = False) -> str:
    out = "".join(oracle.record(s, 1_000_000_000 * s, f"r{s}", writer=writer) + "\n" for s in seqs)
    return out + ("7|db-0|70" if torn else "")


def verified(monkeypatch, content: str, acks, allow_loss: bool):
    monkeypatch.setattr(kstream.inpod, "read_records", lambda *a, **k: content)
    s = kstream.Stream(None, "ns", {"pod": POD, "path": "/data/stream"}, log=lambda line: None, allow_loss=allow_loss)
    s.writer = SimpleNamespace(acks=lambda: acks)
    got = []
    try:
        return s.verify(record=got.append), got
    finally:
        assert len(got) == 1   # the RPO is recorded before any verdict


def test_every_acknowledged_record_back_is_rpo_zero(monkeypatch):
    lost, _ = verified(monkeypatch, text(range(1, 21)), acked(20), allow_loss=False)
    assert (lost.records_lost, lost.seconds_lost) == (0, 0.0)


def test_an_unacknowledged_record_stored_and_a_torn_last_line_are_not_losses(monkeypatch):
    lost, _ = verified(monkeypatch, text(range(1, 7), torn=True), acked(5), allow_loss=False)
    assert lost.records_lost == 0


def test_records_lost_at_the_tail_are_the_rpo_within_an_objective(monkeypatch):
    lost, _ = verified(monkeypatch, text(range(1, 11)), acked(20), allow_loss=True)
    # records 11-20 lost: from record 10's acknowledgement (105 s) to record 20's (110 s)
    assert lost.records_lost == 10 and lost.seconds_lost == pytest.approx(5.0)


def test_records_lost_without_an_rpo_objective_are_data_lost(monkeypatch):
    with pytest.raises(DataLost, match=r"^db-0: 10 acknowledged records lost \(records 11–20\), and no RPO "
                                       r"objective \(rpo_records, rpo_s\) allows a loss \[experiment.stream\]$"):
        verified(monkeypatch, text(range(1, 11)), acked(20), allow_loss=False)


@pytest.mark.parametrize("content, reason", [
    (text([1, 2, 3, 5, 6]), "db-0: records 5–6 came back after record 4 was lost (a gap) [experiment.stream]"),
    (text([1, 2, 2, 3]), "db-0: records 2 stored more than once (1 extra copy) [experiment.stream]"),
    (text([1, 2]) + text([3], writer="db-1"), "db-0: records 3 written by db-1, not db-0 [experiment.stream]"),
], ids=["gap", "duplicate", "another-writer"])
def test_what_is_not_records_1_to_k_once_is_data_lost_even_within_an_objective(monkeypatch, content, reason):
    with pytest.raises(DataLost) as err:
        verified(monkeypatch, content, acked(3), allow_loss=True)
    assert str(err.value) == reason


def restored_at_cut(monkeypatch, content: str, cut_seq: int, n_acked: int = 10):
    """The pod's claim restored from a quiesced snapshot cut at ``cut_seq``."""
    from kubedrill.data import rpo
    monkeypatch.setattr(kstream.kvolumes, "restored", lambda ns: {"data-db-0": "uid-2"})
    monkeypatch.setattr(kstream.inpod, "read_records", lambda *a, **k: content)
    acks = acked(n_acked)
    s = kstream.Stream(None, "ns", {"pod": POD, "path": "/data/stream"}, log=lambda line: None)
    s.writer = SimpleNamespace(acks=lambda: acks)
    s.cut = rpo.Cut(cut_seq, acks[cut_seq - 1].at, True, acks[cut_seq - 1].at)
    return s.verify()


def test_a_restore_to_the_cut_loses_what_came_after_as_its_rpo_not_as_data_lost(monkeypatch):
    lost = restored_at_cut(monkeypatch, text(range(1, 6)), cut_seq=5)
    assert lost.records_lost == 5 and lost.seconds_lost == pytest.approx(2.5)


def test_records_after_the_cut_back_from_a_restore_are_the_wrong_point_in_time(monkeypatch):
    with pytest.raises(DataLost, match=r"^db-0: restore of the wrong point in time: .*records? 6"):
        restored_at_cut(monkeypatch, text(range(1, 8)), cut_seq=5)


def test_records_up_to_the_cut_missing_from_a_restore_are_data_lost(monkeypatch):
    with pytest.raises(DataLost, match=r"^db-0: data lost: records 4–5 missing"):
        restored_at_cut(monkeypatch, text(range(1, 4)), cut_seq=5)


def test_the_writers_pod_belongs_to_a_statefulset_by_its_name():
    s = kstream.Stream(None, "ns", {"pod": "shop-db-0", "path": "/d"})
    assert s.in_statefulset("shop-db") and not s.in_statefulset("db") and not s.in_statefulset("shop")
