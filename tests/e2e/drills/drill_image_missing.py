"""Broken on purpose: the plumbing scenario whose workload names an image that does not exist.
The Deployment never becomes Ready, so the scenario fails while deploying, before its fault:
verdict "harness error" (exit code 15), not a recovery that failed."""

from __future__ import annotations

import pytest

from kubedrill.workloads.base import web_pod_spec
from scenarios.test_plumbing import test_deployment_replaces_a_killed_pod  # noqa: F401

MISSING_IMAGE = "registry.kubedrill.invalid/no-such-image:0"


@pytest.fixture
def web(deployment_factory):
    return deployment_factory("web", 3, web_pod_spec(image=MISSING_IMAGE))
