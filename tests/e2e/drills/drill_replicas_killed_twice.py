"""Broken on purpose: the replica scenario (containers killed in place, one replica) with a fault
that kills the container twice. Its ``faults`` kills the container in place through the real
fault, waits until the kubelet has restarted it and it is Ready, kills it again, and returns
(the first kill's record) once the kubelet has restarted it a second time, so that what the
scenario sees next does not depend on timing. Same pod, Ready again, but restarted twice: the
scenario's check that each killed container restarted exactly once ("replicas.restarted-once")
must fail: verdict "fault not injected", exit code 13."""

from __future__ import annotations

import pytest

from kubedrill.faults.containers import ContainerKill
from kubedrill.k8s import pods
from kubedrill.wait import Check, wait_for
from tests.e2e.drills import RealFaults
from scenarios.test_replicas import test_containers_killed_in_place_restart_in_the_same_pods  # noqa: F401


@pytest.fixture
def replica_count() -> int:
    return 1


class KillsTwice(RealFaults):
    """The real faults, except ``kill_containers``: the real kill in place, twice."""


    def _wait_restarts(self, target, kill: ContainerKill, more: int) -> None:
        """Until every killed pod has restarted ``more`` times since the first kill and is Ready."""
        s = self.scope
        before = dict(kill.restarts_before)

        def restarted(items: list[dict]) -> Check:
            infos = {p.uid: p for p in map(pods.info, items)}
            done = [u for u in kill.uid_order
                    if u in infos and infos[u].restarts >= before[u] + more and infos[u].serving]
            return Check(len(done) == kill.count, f"{len(done)}/{kill.count} restarted {more} time(s) and Ready")

        wait_for(pods.source(s.clients, target.namespace, target.selector_string), restarted,
                 description=f"{target.name}: killed container(s) restarted {more} time(s), Ready",
                 timeout_s=s.timeouts.recover_s, progress=s.progress)

    def kill_containers(self, target, count: int | None = None, fraction: float | None = None) -> ContainerKill:
        first = self.real.kill_containers(target, count, fraction)
        self._wait_restarts(target, first, 1)
        self.real.kill_containers(target, count, fraction)
        self._wait_restarts(target, first, 2)
        return first


@pytest.fixture
def faults(faults):
    return KillsTwice(faults)
