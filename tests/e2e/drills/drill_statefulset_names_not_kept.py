"""Broken on purpose (issue 13): the killed-pod StatefulSet scenario on a workload that does not
keep its pods' names: the StatefulSet's own pod template under a Deployment (its ReplicaSet
names every replacement afresh; an emptyDir where the claim template was, since a Deployment has
none). The killed pod is replaced, Ready, but under another name: the scenario must end
"identity lost" at its first identity check ("statefulset.killed-pod-name-back"). One replica.
One fixture overridden: ``statefulset``."""

import pytest

from kubedrill.workloads import base, statefulset as stateful
from scenarios.test_statefulset import test_a_killed_pod_comes_back_with_its_name_claim_and_data  # noqa: F401


class NamesNotKept(stateful.StatefulSet):
    """The StatefulSet handle over a Deployment's pods: its pods are the ones it has now."""

    kind = "Deployment"

    def pod_names(self) -> tuple[str, ...]:
        return tuple(sorted(p.name for p in self.pods() if not p.terminating))


@pytest.fixture
def statefulset(drill_scope) -> stateful.StatefulSet:
    spec = stateful.pod_spec()
    spec["volumes"] = [{"name": "data", "emptyDir": {}}]
    made = base.create_deployment(drill_scope, "db", 1, spec)
    return NamesNotKept(drill_scope, made.name, made.selector, made.replicas, "emptyDir")
