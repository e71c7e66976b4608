"""Broken on purpose (issue 13): the StatefulSet scenario (all pods killed) with a fault that
deletes the killed pods' claims with them. The claims are deleted first (each stays Terminating
while its pod uses it), then the pods: the StatefulSet controller makes each pod again only once
its old claim is gone, with a new claim of the same name and a new UID (and an empty volume). The
scenario must end "identity lost" at "statefulset.all-claims-kept", before the data check (the
experiment's own claim check: tests/e2e/experiments/claim-deleted.yaml). One replica, so the killed pod is the one whose claim goes. One fixture overridden:
``faults``."""

from __future__ import annotations

import pytest

from kubedrill.faults.pods import PodKill
from kubedrill.k8s import claims
from tests.e2e.drills import RealFaults
from scenarios.test_statefulset import test_all_pods_killed_come_back_in_order_with_all_their_data  # noqa: F401


class ClaimsDeletedWithPods(RealFaults):
    """The real faults, except ``kill_pods``: the claims of the target's pods are deleted first."""


    def kill_pods(self, target, count: int | None = None, fraction: float | None = None, grace_s: int = 0) -> PodKill:
        s = self.scope
        for claim, uid in sorted(target.claims().items()):
            claims.delete_claim(s.clients, target.namespace, f"data-{claim}", uid)
            s.run.log(f"[{s.name}] deleted claim data-{claim} ({uid}) of the pod about to be killed")
        return self.real.kill_pods(target, count, fraction, grace_s)


@pytest.fixture
def statefulset_replicas() -> int:
    return 1


@pytest.fixture
def faults(faults):
    return ClaimsDeletedWithPods(faults)
