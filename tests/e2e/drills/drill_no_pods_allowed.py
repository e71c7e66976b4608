"""Broken on purpose (issue 5): the replica scenario where the controller cannot bring its pods
back. Once the workload is Ready, a ResourceQuota allows no more long-running pods in the
namespace (scope NotTerminating; the prober has an active deadline, so it is not counted): the
ReplicationController reports FailedCreate, and the recovery wait must fail at once naming the
pods it waited for, not time out. One replica is enough."""

import pytest

from kubedrill import guard
from scenarios.test_replicas import test_pods_deleted_through_the_api_are_replaced_by_new_pods  # noqa: F401


@pytest.fixture
def replica_count() -> int:
    return 1


@pytest.fixture
def replicated(replicated, drill_cluster, namespace, drill_run):
    drill_cluster.clients.core.create_namespaced_resource_quota(namespace, {
        "metadata": {"name": "no-more-pods", "labels": guard.labels(drill_run.run_id)},
        "spec": {"hard": {"pods": "0"}, "scopes": ["NotTerminating"]}})
    return replicated
