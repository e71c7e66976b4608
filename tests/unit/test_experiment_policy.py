"""The guard's policy for Chaos Toolkit experiments on every provider type (kubedrill.policy):
chaosk8s actions only in allowed namespaces, read-only probes allowed, process providers and
controls only when the run allows them, other code refused, nothing falls back to 'default'."""

from __future__ import annotations

import pytest

from kubedrill import policy
from kubedrill.errors import GuardRefused
from kubedrill.guard import Guard
from kubedrill.policy import Policy

CONF = {"ns": "kd-r1-a"}


def guard() -> Guard:
    g = Guard("r1", allowed_namespaces=frozenset({"shop"}))
    g.claim("kd-r1-a")
    return g


def exp(*method, probes=(), rollbacks=(), **top):
    return {"title": "t", "steady-state-hypothesis": {"title": "h", "probes": list(probes)},
            "method": list(method), "rollbacks": list(rollbacks), **top}


def python(kind, module, func, **arguments):
    return {"type": kind, "name": f"{func}", "tolerance": True,
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def http(method=None, kind="probe"):
    provider = {"type": "http", "url": "http://web.kd-r1-a.svc/"}
    if method:
        provider["method"] = method
    return {"type": kind, "name": f"http-{method or 'default'}", "tolerance": 200, "provider": provider}


def process(kind="action"):
    return {"type": kind, "name": "psql", "provider": {"type": "process", "path": "psql", "arguments": "-c 'select 1'"}}


def refused(experiment, match, pol=Policy()):
    with pytest.raises(GuardRefused, match=match):
        policy.check(experiment, guard(), CONF, pol)


@pytest.mark.parametrize("ns", ["kd-r1-a", "${ns}", "shop"])
def test_a_chaosk8s_action_in_an_owned_or_allowed_namespace_passes(ns):
    policy.check(exp(python("action", "chaosk8s.pod.actions", "terminate_pods", label_selector="a=b", ns=ns)),
                 guard(), CONF)


def test_a_chaosk8s_action_in_a_namespace_neither_owned_nor_allowed_is_refused():
    refused(exp(python("action", "chaosk8s.pod.actions", "terminate_pods", ns="payments")), "payments")


@pytest.mark.parametrize("ns", ["kd-r1-a", "shop", "payments"])
def test_a_chaosk8s_probe_is_read_only_and_may_name_any_unprotected_namespace(ns):
    policy.check(exp(probes=[python("probe", "chaosk8s.pod.probes", "pods_in_phase", label_selector="a=b", ns=ns)]),
                 guard(), CONF)


def test_a_chaosk8s_probe_without_a_namespace_would_read_default_and_is_refused():
    refused(exp(probes=[python("probe", "chaosk8s.pod.probes", "pods_in_phase", label_selector="a=b")]),
            "names no namespace")


def test_a_tolerance_probe_is_checked_like_any_probe():
    probe = python("probe", "chaosk8s.pod.probes", "count_pods", label_selector="a=b", ns="kd-r1-a")
    probe["tolerance"] = {"type": "probe", "name": "few", "provider": {
        "type": "python", "module": "chaosk8s.pod.probes", "func": "count_pods", "arguments": {"label_selector": "x"}}}
    refused(exp(probes=[probe]), "'count_pods \\(tolerance\\)'.*names no namespace")


@pytest.mark.parametrize("method", [None, "GET", "get"])
def test_an_http_get_is_read_only_and_allowed(method):
    policy.check(exp(probes=[http(method)]), guard(), CONF)


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH"])
def test_an_http_call_that_may_change_something_is_refused(method):
    refused(exp(http(method, kind="action")), f"an http {method} may change what it reaches")


def test_a_process_provider_needs_allow_process():
    refused(exp(process()), "process providers are not allowed in drills unless --allow-process")
    policy.check(exp(process()), guard(), CONF, Policy(allow_process=True))


def test_a_control_needs_allow_controls():
    with_control = exp(controls=[{"name": "tracing", "provider": {"type": "python", "module": "chaostracing.control"}}])
    refused(with_control, "control 'tracing'.*--allow-controls allows them")
    policy.check(with_control, guard(), CONF, Policy(allow_controls=True))


def test_kubedrills_own_providers_are_allowed_they_guard_and_journal_themselves():
    policy.check(exp(python("action", "kubedrill.ctk.actions", "kill_pods", selector="a=b")), guard(), CONF)


@pytest.mark.parametrize("module", ["chaosaws.ec2.actions", "os", "kubedrill.faults.nodes", "chaosk8s_fake"])
def test_any_other_python_module_is_refused(module):
    refused(exp(python("action", module, "f")), f"module '{module}' is neither chaostoolkit-kubernetes nor kubedrill.ctk")


def test_an_unknown_provider_type_is_refused():
    refused(exp({"type": "action", "name": "x", "provider": {"type": "grpc"}}), "'grpc' providers are not allowed")


@pytest.mark.parametrize("module", ["chaosk8s.node.actions", "chaosk8s.node.probes"])
def test_node_activities_go_through_kubedrills_faults(module):
    refused(exp(python("action", module, "drain_nodes", name="kubedrill-worker")), "node actions go through kubedrill")


def test_rollbacks_are_checked_too():
    refused(exp(rollbacks=[python("action", "chaosk8s.deployment.actions", "scale_deployment", name="w", ns="kube-system")]),
            "kube-system")
