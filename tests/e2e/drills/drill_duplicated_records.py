"""Broken on purpose (issue 13): the StatefulSet scenario (all pods killed) with a writer that
stores a record twice, as an at-least-once writer does when it resends a record whose
acknowledgement it never saw.
Every acknowledged record is there, and one of them twice: the oracle must not read that as
"records 1–50 intact"; the scenario ends "data lost" ("records 10 stored more than once").
One fixture overridden: ``statefulset``."""

import dataclasses

import pytest

from kubedrill.k8s import podexec
from kubedrill.k8s.execclient import for_exec
from kubedrill.workloads import statefulset as stateful
from scenarios.test_statefulset import test_all_pods_killed_come_back_in_order_with_all_their_data  # noqa: F401

RESENT = 10   # the record stored a second time


class ResendingWriter(stateful.StatefulSet):
    """Writes records 1..RESENT, stores record RESENT again, then goes on to ``count``."""

    def write_records(self, pod: str, count: int, writer: str | None = None) -> stateful.Written:
        first = super().write_records(pod, RESENT, writer)
        f = self.data_file
        podexec.run(for_exec(self.scope.clients), self.namespace, pod,
                    ["sh", "-c", f'l=$(tail -n 1 {f}) && printf "%s\\n" "$l" >> {f} && sync'],
                    container=self.container, timeout_s=self.scope.timeouts.verify_s)
        rest = super().write_records(pod, count - RESENT, writer)
        return dataclasses.replace(rest, started=first.started)


@pytest.fixture
def statefulset(drill_scope, statefulset_replicas, statefulset_volume) -> stateful.StatefulSet:
    made = stateful.create(drill_scope, "db", statefulset_replicas, statefulset_volume)
    return ResendingWriter(drill_scope, made.name, made.selector, made.replicas, made.volume)
