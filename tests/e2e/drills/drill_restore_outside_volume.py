"""Broken on purpose: the PostgreSQL restore scenario, unchanged, on a PostgreSQL that keeps its
data outside its volume (PGDATA in the container's own filesystem). The snapshot holds nothing
of it: the scenario's verification must fail with "data lost", every record up to the cut
missing."""

import pytest

from fixtures.snapshot_restore import DatabaseDrill
from kubedrill.workloads import database, postgres
from scenarios.test_snapshot_restore import (  # noqa: F401
    test_postgresql_is_restored_from_a_consistent_snapshot_up_to_the_cut)


@pytest.fixture
def postgres_db(database_factory) -> DatabaseDrill:
    return database_factory(database.POSTGRES, pod_spec=postgres.pod_spec(pgdata="/tmp/pgdata"))
