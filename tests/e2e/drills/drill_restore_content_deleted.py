"""A drill used by the e2e tests (issue 6): the snapshot's VolumeSnapshotContent is deleted
before the restore, which must fail loudly with RestoreFailed carrying the ProvisioningFailed
event, not with a timeout."""

from kubedrill.faults import database as restore


def test_restore_from_a_snapshot_whose_content_was_deleted(file_db, drill_scope):
    snap = file_db.snapshot()
    loss = file_db.lose_volume()
    file_db.clear_for_restore(loss)   # no claim of the source's name left to re-snapshot
    restore.lose_snapshot_content(drill_scope, snap)
    file_db.restore(snap, after=loss)   # RestoreFailed with the ProvisioningFailed event
