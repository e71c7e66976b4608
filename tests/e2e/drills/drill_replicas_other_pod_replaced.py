"""Broken on purpose: the replica scenario (containers killed in place, one of two replicas) with a
fault that also replaces a pod it does not report. Its ``faults`` kills the chosen container in
place through the real fault, then deletes the workload's other pod through the API. The killed
container restarts in its own pod, so the recovery wait (which follows the killed pods) is
satisfied once the deleted pod's replacement is Ready too; but the workload's pods are no longer
the pods it had: "replicas.same-pods" must fail: verdict "identity lost", exit code 11."""

from __future__ import annotations

import pytest

from kubedrill.faults.containers import ContainerKill
from kubedrill.k8s import pods
from tests.e2e.drills import RealFaults
from scenarios.test_replicas import test_containers_killed_in_place_restart_in_the_same_pods  # noqa: F401


@pytest.fixture
def replica_count() -> int:
    return 2


class AlsoReplacesAnotherPod(RealFaults):
    """The real faults, except ``kill_containers``: the real kill in place, then every pod of the
    target whose container was not killed deleted through the API (not reported)."""


    def kill_containers(self, target, count: int | None = None, fraction: float | None = None) -> ContainerKill:
        kill = self.real.kill_containers(target, count, fraction)
        s = self.scope
        others = [p for p in target.pods() if p.uid not in kill.uids and not p.terminating]
        for p in others:
            pods.delete(s.clients, p.namespace, p.name, p.uid)
        s.run.log(f"[{s.name}] also deleted {', '.join(p.name for p in others)} (not reported)")
        return kill


@pytest.fixture
def faults(faults):
    return AlsoReplacesAnotherPod(faults)
