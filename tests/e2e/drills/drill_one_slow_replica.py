"""Broken on purpose: the replica scenario (API deletion) on one replica instead of three, whose
pods become Ready 3 s after they start. Every case then deletes the only pod, and the Service
has no endpoint for at least those 3 s: the prober (which starts with a success) sees requests
fail and an outage every time. With its availability or outage objective set beyond that
(``--objective``), the scenario's own objective check must fail."""

import pytest

from kubedrill.workloads import replicated as replicas
from kubedrill.workloads.base import web_pod_spec
from scenarios.test_replicas import test_pods_deleted_through_the_api_are_replaced_by_new_pods  # noqa: F401


@pytest.fixture(params=replicas.KINDS)
def replicated(request, drill_scope) -> replicas.Replicated:
    spec = web_pod_spec()
    spec["containers"][0]["readinessProbe"]["initialDelaySeconds"] = 3
    return replicas.create(drill_scope, request.param, "web", 1, spec)
