"""Broken on purpose (issue 5): the reclaim-policy scenarios on the wrong class.

- The retention scenario on a Delete class: the volume goes with its claim; the scenario must
  fail with "PV deleted" (data lost), at once, not after a timeout.
- The deletion scenario on a Retain class: the volume outlives its claim; the scenario must fail
  with "data lost" as soon as the claim is deleted, naming the reclaim policy.
"""

import pytest

from scenarios.test_persistent_volumes import (  # noqa: F401
    test_a_deleted_claim_takes_its_volume_and_data_with_it, test_a_retained_volume_binds_to_a_new_claim_with_its_data)


@pytest.fixture
def retain_class() -> str:
    return "kubedrill-hostpath"


@pytest.fixture
def delete_class() -> str:
    return "kubedrill-hostpath-retain"


@pytest.fixture
def record_count() -> int:
    return 5
