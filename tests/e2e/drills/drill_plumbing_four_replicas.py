"""Broken on purpose: the plumbing scenario ("a Deployment of three") given a Deployment of four.
The pod is killed and replaced as it should be (one new pod, every replica Ready, none a killed
one), but four pods are Ready where the scenario wants three: its count check
("plumbing.count") must fail: verdict "not recovered", exit code 12. One fixture overridden:
``web``."""

from __future__ import annotations

import pytest

from scenarios.test_plumbing import test_deployment_replaces_a_killed_pod  # noqa: F401


@pytest.fixture
def web(deployment_factory):
    return deployment_factory("web", 4)
