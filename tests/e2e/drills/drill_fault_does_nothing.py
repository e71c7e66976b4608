"""Broken on purpose: the plumbing scenario (and the replica one) with a fault that does nothing. Its ``faults`` chooses
the victims as the real fault does (from the run's seed), records them and returns them, but
deletes nothing. The scenario's check that the killed pod is gone ("plumbing.killed-pod-gone")
must fail: verdict "fault not injected", exit code 13."""

from __future__ import annotations

import pytest

from kubedrill.faults.pods import PodKill
from kubedrill.faults.targets import choose_count
from kubedrill.observe.measure import Instant
from tests.e2e.drills import RealFaults
from scenarios.test_plumbing import test_deployment_replaces_a_killed_pod  # noqa: F401
from scenarios.test_replicas import test_pods_deleted_through_the_api_are_replaced_by_new_pods  # noqa: F401


class KillsNothing(RealFaults):
    """The real faults, except ``kill_pods``: it picks and records its victims, and deletes none."""


    def kill_pods(self, target, count: int | None = None, fraction: float | None = None, grace_s: int = 0) -> PodKill:
        s = self.scope
        if count is None and fraction is None:
            count = 1
        with s.phase("fault"):
            candidates = sorted((p for p in target.pods() if not p.terminating), key=lambda p: p.name)
            chosen = sorted(s.rng.sample(candidates, choose_count(len(candidates), count, fraction)),
                            key=lambda p: p.name)
            kill = PodKill(target.namespace, target.name, tuple(p.name for p in chosen),
                           frozenset(p.uid for p in chosen), Instant.now(), s.run.seed,
                           frozenset(p.uid for p in candidates))
            s.run.log(f"[{s.name}] {kill.describe()} (not really: this fault deletes nothing)")
        return kill


@pytest.fixture
def faults(faults):
    return KillsNothing(faults)
