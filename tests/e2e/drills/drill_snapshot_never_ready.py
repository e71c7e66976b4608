"""A drill used by the e2e tests (issue 6): a snapshot that never becomes readyToUse (its
VolumeSnapshotClass does not exist) must report the snapshot's and the content's status."""


def test_a_snapshot_that_never_becomes_ready(file_db):
    file_db.snapshot(quiesce=False, snapshot_class="kubedrill-no-such-class", ready_timeout_s=15)
