"""Snapshot-based restore (issue 6): a volume is lost and a VolumeSnapshot brings the data
back, exactly up to the snapshot and nothing after, measured: the RPO from the restored data
(records and seconds), the restore RTO from the loss to the restored data answering the oracle's
query. Each is held to its objective (kubedrill.config.Objectives: restore_rpo_records,
restore_rpo_s, restore_rto_s). Each check is a row of docs/checks.md."""

import pytest

from kubedrill import checks

pytestmark = [pytest.mark.snapshot, pytest.mark.slow]

RECORDS_PAST_THE_CUT = 20


@pytest.mark.plan(faults=("lose StatefulSet pg's volume: its claim and pod deleted",
                          "restore the claim from the snapshot"))
def test_postgresql_is_restored_from_a_consistent_snapshot_up_to_the_cut(postgres_db, objectives):
    snap = postgres_db.snapshot(quiesce=True)
    postgres_db.wait_records(RECORDS_PAST_THE_CUT)
    loss = postgres_db.lose_volume()
    restored = postgres_db.restore(snap, after=loss)
    verified = postgres_db.verify(restored)   # data lost: records before the cut missing, or after it present

    checks.objective("snapshot_restore.postgres-rpo-records", objectives, "restore_rpo_records",
                     verified.rpo.records_lost, what="RPO", unit=" records")
    checks.objective("snapshot_restore.postgres-rpo-s", objectives, "restore_rpo_s", verified.rpo.seconds_lost,
                     what="RPO")
    checks.objective("snapshot_restore.postgres-rto", objectives, "restore_rto_s", restored.rto_s,
                     what="restore RTO")


@pytest.mark.plan(faults=("lose StatefulSet files' volume: its claim and pod deleted",
                          "restore the claim from the snapshot"))
def test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut(file_db, objectives):
    snap = file_db.snapshot(quiesce=True)
    file_db.wait_records(RECORDS_PAST_THE_CUT)
    loss = file_db.lose_volume()
    restored = file_db.restore(snap, after=loss)
    verified = file_db.verify(restored)   # data lost: records before the cut missing, or after it present

    checks.objective("snapshot_restore.file-rpo-records", objectives, "restore_rpo_records",
                     verified.rpo.records_lost, what="RPO", unit=" records")
    checks.objective("snapshot_restore.file-rpo-s", objectives, "restore_rpo_s", verified.rpo.seconds_lost,
                     what="RPO")
    checks.objective("snapshot_restore.file-rto", objectives, "restore_rto_s", restored.rto_s,
                     what="restore RTO")
