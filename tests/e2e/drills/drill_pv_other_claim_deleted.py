"""Broken on purpose (issue 13): the retained-volume scenario with a fault that deletes another
claim of the same Retain class (a second claim and pod, ``keep-other``) instead of the scenario's
own. A volume goes Released, and is rebound, but it is not the one the scenario's claim was bound
to: the scenario must end "identity lost" at "persistent_volumes.released-is-the-retained-pv".
One fixture overridden: ``data_volume``."""

import pytest

from kubedrill.faults import volumes
from scenarios.test_persistent_volumes import test_a_retained_volume_binds_to_a_new_claim_with_its_data  # noqa: F401


@pytest.fixture
def data_volume(drill_scope):
    def make(name, storage_class):
        other = volumes.create(drill_scope, f"{name}-other", storage_class)
        vol = volumes.create(drill_scope, name, storage_class)
        vol.delete_claim = other.delete_claim   # the fault takes the other claim (and its pod)
        return vol

    return make


@pytest.fixture
def record_count() -> int:
    return 5
