"""Broken on purpose: the plumbing scenario and the replica scenario (API deletion, one replica)
with a Deployment scaled up by one during the fault. Its ``faults`` kills the pods through the
real fault, then scales the target's Deployment up by one and returns once the controller has
created every pod that brings (the replacements and the extra one), so that what the scenario
sees next does not depend on timing. The recovery wait is satisfied (every replica Ready, none a
killed one), but there is one new pod more than pods killed: "plumbing.one-replacement" and
"replicas.replacements" must fail: verdict "not recovered", exit code 12."""

from __future__ import annotations

import pytest

from kubedrill.faults.pods import PodKill
from kubedrill.k8s import deployments, pods
from kubedrill.wait import Check, wait_for
from tests.e2e.drills import RealFaults
from scenarios.test_plumbing import test_deployment_replaces_a_killed_pod  # noqa: F401
from scenarios.test_replicas import test_pods_deleted_through_the_api_are_replaced_by_new_pods  # noqa: F401


@pytest.fixture
def replica_count() -> int:
    return 1


class KillsThenScalesUp(RealFaults):
    """The real faults, except ``kill_pods``: the real kill, then the Deployment scaled up by one."""


    def kill_pods(self, target, count: int | None = None, fraction: float | None = None, grace_s: int = 0) -> PodKill:
        kill = self.real.kill_pods(target, count, fraction, grace_s)
        s = self.scope
        want = target.replicas + 1
        deployments.scale(s.clients, target.namespace, target.name, want)
        s.run.log(f"[{s.name}] scaled deployment {target.name} to {want} during the fault")
        old = kill.before | kill.uids

        def created(items: list[dict]) -> Check:
            new = [p for p in map(pods.info, items) if p.uid not in old and not p.terminating]
            return Check(len(new) >= kill.count + 1, f"{len(new)}/{kill.count + 1} new pods created")

        wait_for(pods.source(s.clients, target.namespace, target.selector_string), created,
                 description=f"deployment {target.name} scaled to {want}: {kill.count + 1} new pods created",
                 timeout_s=s.timeouts.recover_s, progress=s.progress)
        return kill


@pytest.fixture
def faults(faults):
    return KillsThenScalesUp(faults)
