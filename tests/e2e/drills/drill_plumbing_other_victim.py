"""Broken on purpose: the plumbing scenario with a fault that hits the wrong workload. Its
``faults`` kills, through the real fault, a pod of another Deployment in the namespace ("other",
one replica) instead of a pod of ``web``. Nothing of ``web`` is touched, so it is "recovered" at
once; the scenario's check that the killed pods were pods of ``web`` ("plumbing.victim-was-ours")
must fail: verdict "fault not injected", exit code 13."""

from __future__ import annotations

import pytest

from kubedrill.faults.pods import PodKill
from tests.e2e.drills import RealFaults
from scenarios.test_plumbing import test_deployment_replaces_a_killed_pod  # noqa: F401


class KillsAnotherWorkload(RealFaults):
    """The real faults, except ``kill_pods``: it kills pods of ``other``, whatever the target."""

    def __init__(self, real, other):
        super().__init__(real)
        self.other = other

    def kill_pods(self, target, count: int | None = None, fraction: float | None = None, grace_s: int = 0) -> PodKill:
        return self.real.kill_pods(self.other, count, fraction, grace_s)


@pytest.fixture
def faults(faults, deployment_factory):
    return KillsAnotherWorkload(faults, deployment_factory("other", 1))
