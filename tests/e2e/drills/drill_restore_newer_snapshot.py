"""Broken on purpose: the file restore scenario, unchanged, with a snapshot step that hands the
restore a NEWER snapshot than the one it reports (the cut of a snapshot, the VolumeSnapshot of
one taken ten records later). What comes back holds records written after the reported
snapshot completed: the scenario's verification must fail, a restore of the wrong point in
time (class "data lost"), naming them."""

from dataclasses import replace

import pytest

from fixtures.snapshot_restore import DatabaseDrill
from kubedrill.workloads import database
from kubedrill.workloads.snapshot import SnapshotTaken
from scenarios.test_snapshot_restore import (  # noqa: F401
    test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut)


class NewerSnapshotRestored(DatabaseDrill):
    def snapshot(self, quiesce: bool = True, name: str | None = None, snapshot_class: str | None = None,
                 ready_timeout_s: float | None = None) -> SnapshotTaken:
        older = super().snapshot(quiesce, name, snapshot_class, ready_timeout_s)
        self.wait_records(10)
        newer = super().snapshot(quiesce, None, snapshot_class, ready_timeout_s)
        return replace(older, name=newer.name, content=newer.content)


@pytest.fixture
def file_db(database_factory) -> DatabaseDrill:
    return database_factory(database.FILE, drill_class=NewerSnapshotRestored)
