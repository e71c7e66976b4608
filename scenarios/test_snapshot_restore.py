"""Snapshot-based restore (issue 6): a volume is lost and a VolumeSnapshot brings the data
back, exactly up to the snapshot and nothing after, measured (RPO in records and seconds,
restore RTO from the loss to the first successful query)."""

import pytest

pytestmark = [pytest.mark.snapshot, pytest.mark.slow]

RECORDS_PAST_THE_CUT = 20


def test_postgresql_is_restored_from_a_consistent_snapshot_up_to_the_cut(postgres_db, objectives):
    snap = postgres_db.snapshot(quiesce=True)
    postgres_db.wait_records(RECORDS_PAST_THE_CUT)
    loss = postgres_db.lose_volume()
    restored = postgres_db.restore(snap, after=loss)
    verified = postgres_db.verify(restored)

    assert verified.consistent, verified.statement
    assert verified.rpo.records_lost >= RECORDS_PAST_THE_CUT
    assert restored.rto_s <= objectives.restore_rto_s, (
        f"restore RTO {restored.rto_s:.1f}s exceeds the objective {objectives.restore_rto_s}s")


def test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut(file_db, objectives):
    snap = file_db.snapshot(quiesce=True)
    file_db.wait_records(RECORDS_PAST_THE_CUT)
    loss = file_db.lose_volume()
    restored = file_db.restore(snap, after=loss)
    verified = file_db.verify(restored)

    assert verified.consistent, verified.statement
    assert verified.rpo.records_lost >= RECORDS_PAST_THE_CUT
    assert restored.rto_s <= objectives.restore_rto_s, (
        f"restore RTO {restored.rto_s:.1f}s exceeds the objective {objectives.restore_rto_s}s")
