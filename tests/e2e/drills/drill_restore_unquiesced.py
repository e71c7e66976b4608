"""A drill used by the e2e tests (issue 6): the snapshot is taken while PostgreSQL writes (no
quiescing). The report must say so, and state whether the restore was still consistent."""


def test_restore_from_a_snapshot_taken_without_quiescing(postgres_db):
    snap = postgres_db.snapshot(quiesce=False)
    postgres_db.wait_records(5)
    loss = postgres_db.lose_volume()
    restored = postgres_db.restore(snap, after=loss)
    postgres_db.verify(restored)   # passes when consistent, DataLost when not: the report says which
