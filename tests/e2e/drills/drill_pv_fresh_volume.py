"""Broken on purpose (issue 13): the retained-volume scenario whose rebind makes the new claim
without ``spec.volumeName``, as a restore procedure that forgets it would: the claim provisions a
fresh volume of the class, and its pod is Ready on it, while the retained volume stays Released.
The scenario must end "identity lost" at "persistent_volumes.rebound-same-volume", before it reads
the (empty) volume. One fixture overridden: ``data_volume``."""

import pytest

from kubedrill.faults import volumes
from kubedrill.observe.measure import Instant, Recovery, Timeline
from scenarios.test_persistent_volumes import test_a_retained_volume_binds_to_a_new_claim_with_its_data  # noqa: F401


@pytest.fixture
def data_volume(drill_scope):
    def make(name, storage_class):
        vol = volumes.create(drill_scope, name, storage_class)

        def rebind_without_volume_name(after, claim=None, pod=None):
            again = volumes.create(drill_scope, claim or f"{name}-again", storage_class)
            ready = Instant.now()
            timeline = (Timeline(after.at).add("fault", after.at.mono, after.describe())
                        .add("Ready", ready.mono, f"pod {again.pod} on claim {again.claim} (a fresh volume)"))
            recovery = Recovery(f"claim {again.claim} bound (no volumeName), pod {again.pod} Ready",
                                max(0.0, ready.mono - after.at.mono), timeline)
            drill_scope.run.results.append((drill_scope.name, recovery))
            return again, recovery

        vol.rebind = rebind_without_volume_name
        return vol

    return make


@pytest.fixture
def record_count() -> int:
    return 5
