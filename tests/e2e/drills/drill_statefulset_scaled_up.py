"""Broken on purpose (issue 13): the killed-pod StatefulSet scenario on a StatefulSet scaled up
by one during the recovery (a change of someone else's, or an autoscaler). The killed pod comes
back under its name with a new UID, but the set of pods is no longer the one the scenario saw
before the fault (db-0 before; db-0 and db-1 after): the scenario must end "identity lost" at
"statefulset.ordinals-kept". One replica, two after the scale. One fixture overridden:
``statefulset``."""

import pytest

from kubedrill.k8s import statefulsets
from kubedrill.workloads import statefulset as stateful
from scenarios.test_statefulset import test_a_killed_pod_comes_back_with_its_name_claim_and_data  # noqa: F401


class ScaledUpDuringRecovery(stateful.StatefulSet):
    """Scales the StatefulSet up by one as the recovery wait begins, then waits for them all."""

    def wait_all_ready(self, after=None, on_event=None, extra_marks=None):
        self.replicas += 1
        statefulsets.scale(self.scope.clients, self.namespace, self.name, self.replicas)
        self.scope.run.log(f"[{self.scope.name}] scaled statefulset {self.name} up to {self.replicas} replicas")
        return super().wait_all_ready(after, on_event, extra_marks)


@pytest.fixture
def statefulset(drill_scope) -> stateful.StatefulSet:
    made = stateful.create(drill_scope, "db", 1)
    return ScaledUpDuringRecovery(drill_scope, made.name, made.selector, made.replicas, made.volume)
