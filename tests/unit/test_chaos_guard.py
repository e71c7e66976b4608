"""Chaos Toolkit activities go through the same guard as kubedrill's own faults."""

import copy
from pathlib import Path

import pytest

from kubedrill.faults import chaos
from kubedrill.errors import GuardRefused, UsageError
from kubedrill import guard
from kubedrill.guard import Guard

EXPERIMENT = Path(__file__).resolve().parents[1] / "e2e" / "drills" / "terminate-one-pod.json"


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
    with pytest.raises(GuardRefused, match="'default': it is never a drill target"):
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


def with_method(experiment, *acts):
    exp = copy.deepcopy(experiment)
    exp["method"] = list(acts)
    return exp


def action(title, module, func, **arguments):
    return {"type": "action", "name": title,
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def test_a_namespace_less_action_is_refused_not_sent_to_default(experiment):
    exp = with_method(experiment, action("kill-some", "chaosk8s.pod.actions", "terminate_pods",
                                         label_selector="app=web", qty=1))
    with pytest.raises(GuardRefused, match="'kill-some' .*terminate_pods\\) names no namespace: it would act on "
                                           "'default' or on the whole cluster"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


def test_a_namespace_less_probe_is_refused_too(experiment):
    exp = copy.deepcopy(experiment)
    exp["steady-state-hypothesis"] = {"title": "t", "probes": [{
        "type": "probe", "name": "events", "tolerance": True,
        "provider": {"type": "python", "module": "chaosk8s.event.probes", "func": "get_events"}}]}
    with pytest.raises(GuardRefused, match="'events' .*names no namespace"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


@pytest.mark.parametrize("target", ["kube-system", "default", "staging-app", "", "${ns}"])
def test_a_cluster_scoped_action_on_a_namespace_the_run_did_not_create_is_refused(experiment, target):
    g = Guard("r1", allowed_namespaces=frozenset({"staging-app"}))
    g.claim("kd-r1-a")
    exp = with_method(experiment, action("drop", "chaosk8s.namespace.actions", "delete_namespace", name=target))
    with pytest.raises(GuardRefused, match="'drop': namespace .* was not created by run r1"):
        chaos.check(exp, g, {"ns": "kd-r1-b"})


def test_a_cluster_scoped_action_on_the_runs_own_namespace_passes(experiment):
    exp = with_method(experiment, action("drop", "chaosk8s.namespace.actions", "delete_namespace", name="${ns}"))
    chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


def test_cluster_scoped_custom_objects_are_refused(experiment):
    exp = with_method(experiment, action("crd", "chaosk8s.crd.actions", "delete_cluster_custom_object",
                                         group="g", version="v1", plural="things", name="x"))
    with pytest.raises(GuardRefused, match="names no namespace"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


def test_allow_namespace_default_is_refused_at_option_parsing():
    with pytest.raises(UsageError, match="^--allow-namespace: default can never be a drill target$"):
        guard.parse_allowed_namespaces(["staging-app", "default"])
    with pytest.raises(UsageError, match="default can never be a drill target"):
        Guard("r1", allowed_namespaces=frozenset({"default"}))


@pytest.mark.parametrize("value, message", [
    ("", "--allow-namespace: empty name"),
    ("  ", "--allow-namespace: empty name"),
    ("Kube_System", "--allow-namespace 'Kube_System': not a namespace name"),
    ("kube-system", "--allow-namespace: kube-system can never be a drill target"),
    ("kubedrill-storage", "--allow-namespace: kubedrill-storage can never be a drill target"),
])
def test_allow_namespace_refuses_empty_malformed_and_protected_values_in_one_line(value, message):
    with pytest.raises(UsageError) as refused:
        guard.parse_allowed_namespaces([value])
    assert str(refused.value) == message


def test_a_chaos_mesh_selector_pointing_at_another_namespace_is_refused(experiment):
    exp = with_method(experiment, action("latency", "chaosk8s.chaosmesh.network.actions", "add_latency",
                                         name="slow", ns="${ns}", namespaces_selectors="kd-r1-a,kube-system"))
    with pytest.raises(GuardRefused, match="kube-system"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


@pytest.mark.parametrize("where", ["experiment", "activity"])
def test_controls_are_refused(experiment, where):
    control = {"name": "tracing", "provider": {"type": "python", "module": "chaostracing.control"}}
    exp = copy.deepcopy(experiment)
    if where == "experiment":
        exp["controls"] = [control]
    else:
        exp["method"][0]["controls"] = [control]
    with pytest.raises(GuardRefused, match="control 'tracing': controls run their own code"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})


def test_secrets_that_pick_another_cluster_are_refused(experiment):
    exp = copy.deepcopy(experiment)
    exp["secrets"] = {"k8s": {"KUBERNETES_CONTEXT": "prod"}}
    with pytest.raises(GuardRefused, match="secrets 'k8s' set KUBERNETES_CONTEXT"):
        chaos.check(exp, guard_owning("kd-r1-a"), {"ns": "kd-r1-a"})
