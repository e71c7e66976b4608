"""Snapshot/restore pieces that need no cluster: the record writer's acknowledgements, pause
and failure; the claim, snapshot and event readers; the oracle on what a restore reads back.
The cut and the RPO: tests/unit/test_rpo.py."""

from __future__ import annotations

import threading

import pytest

from kubedrill.data import oracle
from kubedrill.errors import DataLost, ExecFailed, RecoveryFailed, RestoreFailed, SnapshotNotReady, WaitTimeout
from kubedrill.k8s import claims, events, snapshots
from kubedrill.data.writer import RecordWriter


class ListSink:
    """Stores lines like a durable sink; fails from record ``fail_from`` on."""

    def __init__(self, fail_from: int | None = None):
        self.lines: list[str] = []
        self.fail_from = fail_from
        self.closed = False
        self.gate = threading.Event()
        self.gate.set()

    def write(self, seq: int, line: str, timeout_s: float) -> None:
        self.gate.wait(timeout_s)
        if self.fail_from is not None and seq >= self.fail_from:
            raise ExecFailed("session ended")
        self.lines.append(line)

    def close(self) -> None:
        self.closed = True


def test_the_writer_acknowledges_oracle_records_in_order_and_pauses_with_nothing_in_flight():
    sink = ListSink()
    w = RecordWriter("t", interval_s=0.001, log=lambda _: None)
    w.start(sink)
    w.wait_acknowledged(10, 10)
    paused = w.pause(10)
    assert paused.seq == len(sink.lines) >= 10       # the cut: every acknowledged record is stored
    oracle.check("\n".join(sink.lines) + "\n", expected_through=paused.seq)
    other = ListSink()
    w.resume(other)
    w.wait_acknowledged(paused.seq + 5, 10)
    st = w.stop()
    assert sink.closed and other.closed
    assert [int(x.split("|")[0]) for x in other.lines][:1] == [paused.seq + 1]   # numbering goes on
    assert [a.seq for a in w.acks()] == list(range(1, st.seq + 1))
    assert all(b.at.mono >= a.at.mono for a, b in zip(w.acks(), w.acks()[1:]))


def test_a_failed_write_is_not_acknowledged_and_stops_the_writer():
    w = RecordWriter("t", interval_s=0.001, log=lambda _: None)
    w.start(ListSink(fail_from=4))
    with pytest.raises(WaitTimeout) as exc:
        w.wait_acknowledged(10, 5)
    assert "3 acknowledged" in str(exc.value) and "record 4: session ended" in str(exc.value)
    st = w.stop()
    assert st.seq == 3 and st.failures == ("record 4: session ended",)


def test_the_oracle_names_what_an_older_snapshot_misses_and_what_came_back_after_the_cut():
    text = "".join(oracle.record(i, i, f"r{i}") + "\n" for i in range(1, 31))
    assert oracle.verify(text, expected_through=40, absent_from=41).describe() == "data lost: records 31–40 missing"
    with pytest.raises(DataLost, match="records 26–30 present but written after the recovery point"):
        oracle.check(text, expected_through=25, absent_from=26)
    with pytest.raises(DataLost, match="data lost: records 1–30 missing"):
        oracle.check("", expected_through=30, absent_from=31)


def test_a_restore_claim_is_pinned_to_the_snapshots_node_and_names_its_source():
    body = claims.claim_manifest("data-pg-0", {"a": "b"}, "256Mi", snapshot="snap", node="worker2")
    assert body["spec"]["dataSource"] == {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                          "name": "snap"}
    assert body["metadata"]["annotations"] == {claims.SELECTED_NODE: "worker2"}
    assert "annotations" not in claims.claim_manifest("x", {}, "1Mi")["metadata"]


def test_the_node_of_a_volume_and_of_a_snapshot():
    pv = {"spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.hostpath.csi.kubedrill.io/node", "operator": "In", "values": ["kubedrill-worker"]}]}]}}}}
    assert claims.pv_node(pv) == "kubedrill-worker" and claims.pv_node({}) == ""
    assert snapshots.content_node({"metadata": {"labels": {snapshots.NODE_LABEL: "kubedrill-worker2"}}}) == \
        "kubedrill-worker2"
    assert snapshots.content_node(None) == ""


def test_snapshot_and_event_readers():
    s = snapshots.snapshot_info({"metadata": {"name": "s", "namespace": "n", "uid": "u"},
                                 "spec": {"source": {"persistentVolumeClaimName": "c"}},
                                 "status": {"readyToUse": False, "error": {"message": "boom"}}})
    assert (s.name, s.claim, s.ready, s.error, s.content_name) == ("s", "c", False, "boom", "")
    e = events.info({"reason": "ProvisioningFailed", "type": "Warning", "message": "snapshot s not bound",
                     "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": "n", "name": "c"},
                     "lastTimestamp": "2026-11-26T06:35:33Z", "count": 2})
    assert e.describe() == ("Warning ProvisioningFailed on PersistentVolumeClaim/n/c at 2026-11-26T06:35:33Z: "
                            "snapshot s not bound")


def test_the_typed_errors_carry_what_they_saw():
    err = SnapshotNotReady("VolumeSnapshot n/s to be readyToUse", 15, {"error": {"message": "no class"}},
                           "no VolumeSnapshotContent")
    assert isinstance(err, WaitTimeout) and err.content_status == "no VolumeSnapshotContent"
    assert "no class" in str(err) and "content status no VolumeSnapshotContent" in str(err)
    failed = RestoreFailed("restore failed", event="ProvisioningFailed ...", elapsed_s=2.0)
    assert isinstance(failed, RecoveryFailed) and failed.event and failed.elapsed_s == 2.0
