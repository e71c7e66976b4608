"""Broken on purpose: the PostgreSQL restore scenario, unchanged, with a snapshot step that hands
the restore an OLDER snapshot than the one it reports (the cut of a newer snapshot, the
VolumeSnapshot of one taken ten records earlier). What comes back misses the records between
the two cuts: the scenario's verification must fail with "data lost" naming them."""

from dataclasses import replace

import pytest

from fixtures.snapshot_restore import DatabaseDrill
from kubedrill.workloads import database
from kubedrill.workloads.snapshot import SnapshotTaken
from scenarios.test_snapshot_restore import (  # noqa: F401
    test_postgresql_is_restored_from_a_consistent_snapshot_up_to_the_cut)


class OlderSnapshotRestored(DatabaseDrill):
    def snapshot(self, quiesce: bool = True, name: str | None = None, snapshot_class: str | None = None,
                 ready_timeout_s: float | None = None) -> SnapshotTaken:
        older = super().snapshot(quiesce, None, snapshot_class, ready_timeout_s)
        self.wait_records(10)
        newer = super().snapshot(quiesce, name, snapshot_class, ready_timeout_s)
        return replace(newer, name=older.name, content=older.content)


@pytest.fixture
def postgres_db(database_factory) -> DatabaseDrill:
    return database_factory(database.POSTGRES, drill_class=OlderSnapshotRestored)
