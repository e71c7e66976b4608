"""Broken on purpose (issue 5): the StatefulSet scenario (all pods killed) with an emptyDir where
the claim belongs. The killed pod comes back empty: the data oracle must say "data lost: records 1–5
missing". The smallest setup that proves it: one replica, five records."""

import pytest

from scenarios.test_statefulset import test_all_pods_killed_come_back_in_order_with_all_their_data  # noqa: F401


@pytest.fixture
def statefulset_volume() -> str:
    return "emptyDir"


@pytest.fixture
def statefulset_replicas() -> int:
    return 1


@pytest.fixture
def record_count() -> int:
    return 5
