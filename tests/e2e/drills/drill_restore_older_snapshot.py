"""A drill used by the e2e tests (issue 6): the restore uses an OLDER snapshot than the one
the data should come back from, so the verification must fail naming the missing records."""


def test_restore_from_an_older_snapshot(postgres_db):
    older = postgres_db.snapshot()
    postgres_db.wait_records(10)
    newer = postgres_db.snapshot()
    postgres_db.wait_records(5)
    loss = postgres_db.lose_volume()
    restored = postgres_db.restore(older, after=loss)
    postgres_db.verify(restored, cut=newer.cut)   # DataLost: records older.cut+1 – newer.cut missing
