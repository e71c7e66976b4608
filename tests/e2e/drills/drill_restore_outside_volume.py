"""A drill used by the e2e tests (issue 6): PostgreSQL keeps its data outside its volume
(PGDATA in the container's own filesystem), so the snapshot holds nothing and the restore must
fail with "data lost"."""

import pytest

from kubedrill.workloads import postgres


@pytest.fixture
def postgres_outside_its_volume(database_factory):
    return database_factory("postgres", pod_spec=postgres.pod_spec(pgdata="/tmp/pgdata"))


def test_restore_of_a_database_writing_outside_its_volume(postgres_outside_its_volume):
    db = postgres_outside_its_volume
    snap = db.snapshot()
    db.wait_records(5)
    loss = db.lose_volume()
    restored = db.restore(snap, after=loss)
    db.verify(restored)   # DataLost: records 1–cut missing
