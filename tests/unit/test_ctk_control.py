"""kubedrill's Chaos Toolkit control (kubedrill.ctk.control): its settings, the guard on each
activity, the fault's moment, and when the recovery wait is skipped (pure logic: no cluster)."""

from types import SimpleNamespace

import pytest
from chaoslib.exceptions import InterruptExecution

from kubedrill import policy
from kubedrill.ctk import chaosrun, control, current
from kubedrill.errors import GuardRefused, UsageError
from kubedrill.guard import Guard

OWN = {"name": "kubedrill", "provider": {"type": "python", "module": "kubedrill.ctk.control"}}
KILL = {"type": "action", "name": "kill", "provider": {"type": "python", "module": "chaosk8s.pod.actions",
                                                       "func": "terminate_pods", "arguments": {"ns": "${ns}"}}}
SNAP = {"type": "action", "name": "snap", "provider": {"type": "python", "module": "kubedrill.ctk.actions",
                                                       "func": "snapshot_claims"}}
PROBE = {"type": "probe", "name": "ready", "provider": {"type": "python", "module": "kubedrill.ctk.probes",
                                                        "func": "all_ready"}}


def test_arguments_come_before_the_environment():
    o = chaosrun.options({"context": "staging", "allow_contexts": ["staging"]},
                        {"KUBEDRILL_CONTEXT": "other", "KUBEDRILL_ALLOW_NAMESPACES": "shop, web",
                         "KUBEDRILL_TIMEOUT_SCALE": "2", "KUBEDRILL_WAIT_FOR_LOCK": "0"})
    assert (o.context, o.allow_contexts, o.allow_namespaces) == ("staging", ("staging",), ("shop", "web"))
    assert (o.timeout_scale, o.wait_for_lock_s) == (2.0, 0.0)


def test_no_argument_and_no_environment_is_the_local_kind_cluster():
    o = chaosrun.options({}, {})
    assert (o.context, o.kubeconfig, o.allow_contexts, o.allow_namespaces) == (None, None, (), ())


@pytest.mark.parametrize("args, env, said", [
    ({"contxt": "x"}, {}, "unknown argument 'contxt'"),
    ({}, {"KUBEDRILL_TIMEOUT_SCALE": "fast"}, "--timeout-scale"),
    ({}, {"KUBEDRILL_ALLOW_NAMESPACES": "kube-system"}, "kube-system"),
    ({"wait_for_lock_s": -1}, {}, "--wait-for-lock"),
])
def test_bad_settings_are_one_line(args, env, said):
    with pytest.raises(UsageError) as e:
        chaosrun.options(args, env)
    assert said in str(e.value) and "\n" not in str(e.value)


def test_kubedrills_own_control_is_allowed_and_another_is_not():
    exp = {"controls": [OWN], "method": [KILL]}
    policy.check(exp, Guard("r1", frozenset({"shop"})), {"ns": "shop"})
    with pytest.raises(GuardRefused, match="--allow-controls"):
        policy.check({**exp, "controls": [OWN, {"name": "other", "provider": {"type": "python", "module": "x"}}]},
                     Guard("r1", frozenset({"shop"})), {"ns": "shop"})


def _running(method=(SNAP, KILL), ns="kd-run-x-1"):
    r = chaosrun.ChaosRun({"method": list(method)}, {"ns": ns}, {})
    r.opts = chaosrun.Options()
    guard = Guard("r1")
    guard.claim(ns)
    r.scope = SimpleNamespace(guard=guard, namespace=ns)
    return r


def test_the_faults_moment_is_the_first_action_of_the_method_that_breaks_something():
    r = _running()
    r.before_activity(PROBE)
    r.in_method = True
    r.before_activity(SNAP)
    assert r.fault_at is None
    r.before_activity(KILL)
    first = r.fault_at
    r.before_activity(KILL)
    assert first is not None and r.fault_at is first


def test_an_activity_the_guard_refuses_interrupts_the_run(monkeypatch):
    r = _running()
    monkeypatch.setattr(control, "_run", r)
    elsewhere = {**KILL, "provider": {**KILL["provider"], "arguments": {"ns": "default"}}}
    with pytest.raises(InterruptExecution, match="activity 'kill'.*'default'"):
        control.before_activity_control(elsewhere)
    assert isinstance(r.error, GuardRefused)
    process = {"type": "action", "name": "sh", "provider": {"type": "process", "path": "rm"}}
    r.error = None
    with pytest.raises(InterruptExecution, match="--allow-process"):
        control.before_activity_control(process)


def test_no_recovery_wait_when_the_method_did_not_end(monkeypatch):
    r = _running()
    waited = []
    r.stages = SimpleNamespace(after_method=lambda at: waited.append(at))
    r.after_method([{"status": "succeeded"}])        # one of two activities ran: aborted
    assert waited == [] and not r.waited
    r.error = GuardRefused("no")
    r.after_method([{}, {}])
    assert waited == [] and not r.waited
    r.error = None
    r.after_method([{}, {}])
    assert len(waited) == 1 and r.waited


def test_under_kubedrills_own_runner_the_control_does_nothing(monkeypatch):
    monkeypatch.setattr(current, "active", lambda: True)
    control.configure_control({"method": [KILL]}, {"ns": "x"})
    assert control._run is None
    control.before_experiment_control({})
    control.before_activity_control(KILL)   # no guard of its own: kubedrill's runner guards it


def test_the_helper_images_are_settings_too():
    o = chaosrun.options({"prober_image": "registry.example:5000/tools/shell:1"}, {"KUBEDRILL_WRITER_IMAGE": "w:2"})
    assert (o.images.prober, o.images.writer) == ("registry.example:5000/tools/shell:1", "w:2")
    with pytest.raises(UsageError, match="prober"):
        chaosrun.options({"prober_image": "Not An Image"}, {})
