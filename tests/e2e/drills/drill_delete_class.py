"""Broken on purpose (issue 5): the retention scenario on a Delete class. The volume goes with
its claim: the scenario must fail with "PV deleted", at once, not after a timeout."""

import pytest

from scenarios.test_persistent_volumes import test_a_retained_volume_binds_to_a_new_claim_with_its_data  # noqa: F401


@pytest.fixture
def retain_class() -> str:
    return "kubedrill-hostpath"


@pytest.fixture
def record_count() -> int:
    return 5
