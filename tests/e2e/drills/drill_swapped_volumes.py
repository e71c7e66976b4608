"""Broken on purpose (issue 13): the StatefulSet scenario where pods db-0 and db-1 have each
other's volumes: each one's records, stamped with its own name, land in the other's volume before
the fault. Before the writers stamped their identity, every pod wrote the same records 1..50 and
this verified; now db-0's volume holds db-1's records and the scenario ends "data lost" naming
db-1. One fixture overridden: ``statefulset``."""

import dataclasses

import pytest

from kubedrill.workloads import statefulset as stateful
from scenarios.test_statefulset import test_all_pods_killed_come_back_in_order_with_all_their_data  # noqa: F401

SWAPPED = {"db-0": "db-1", "db-1": "db-0"}


class SwappedVolumes(stateful.StatefulSet):
    """db-0's records are written into db-1's volume and db-1's into db-0's."""

    def write_records(self, pod: str, count: int, writer: str | None = None) -> stateful.Written:
        written = super().write_records(SWAPPED.get(pod, pod), count, writer or pod)
        return dataclasses.replace(written, pod=pod)


@pytest.fixture
def statefulset(drill_scope, statefulset_replicas, statefulset_volume) -> stateful.StatefulSet:
    made = stateful.create(drill_scope, "db", statefulset_replicas, statefulset_volume)
    return SwappedVolumes(drill_scope, made.name, made.selector, made.replicas, made.volume)
