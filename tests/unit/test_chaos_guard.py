"""Chaos Toolkit activities go through the same guard as kubedrill's own faults."""

import copy
from pathlib import Path

import pytest

from kubedrill.faults import chaos
from kubedrill.errors import GuardRefused
from kubedrill.guard import Guard

EXPERIMENT = Path(__file__).resolve().parents[2] / "scenarios" / "experiments" / "terminate-one-pod.json"


@pytest.fixture
def experiment():
    return chaos.load(EXPERIMENT)


def guard_owning(ns):
    g = Guard("r1")
    g.claim(ns)
    return g


def test_actions_in_the_runs_namespace_pass(experiment):
    chaos.check(experiment, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


def test_the_experiments_own_default_namespace_is_refused(experiment):
    with pytest.raises(GuardRefused, match="'default': not created by run r1"):
        chaos.check(experiment, guard_owning("kd-r1-a"))


def test_kube_system_is_refused(experiment):
    with pytest.raises(GuardRefused, match="kube-system"):
        chaos.check(experiment, guard_owning("kd-r1-a"), {"ns": "kube-system"})


def test_node_actions_and_process_providers_are_refused(experiment):
    nodey = copy.deepcopy(experiment)
    nodey["method"][0]["provider"]["module"] = "chaosk8s.node.actions"
    with pytest.raises(GuardRefused, match="node actions go through kubedrill faults"):
        chaos.check(nodey, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})
    shell = copy.deepcopy(experiment)
    shell["method"].append({"type": "action", "name": "rm", "provider": {"type": "process", "path": "rm"}})
    with pytest.raises(GuardRefused, match="process providers are not allowed"):
        chaos.check(shell, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


def test_activities_cover_hypothesis_method_and_rollbacks(experiment):
    exp = copy.deepcopy(experiment)
    probe = {"type": "probe", "name": "probe-kube-system", "provider": {
        "type": "python", "module": "chaosk8s.pod.probes", "func": "pods_in_phase",
        "arguments": {"ns": "kube-system"}}}
    exp["steady-state-hypothesis"] = {"title": "t", "probes": [probe]}
    exp["rollbacks"] = [dict(exp["method"][0], name="rollback")]
    assert [a["name"] for a in chaos.activities(exp)] == ["probe-kube-system", "terminate-one-pod", "rollback"]
    with pytest.raises(GuardRefused, match="probe-kube-system.*never a drill target"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})
