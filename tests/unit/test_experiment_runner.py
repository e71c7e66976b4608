"""kubedrill.ctk.runner on chaoslib itself (no cluster: the providers are plain Python, in
tests/unit/data/ctk_providers.py): the stages run in order with kubedrill's recovery wait between
the method and the hypothesis after, rollbacks always run, and the verdict is strict."""

from __future__ import annotations

import pytest

from kubedrill.ctk import runner
from kubedrill.errors import UsageError
from kubedrill.report.results import FAULT_NOT_INJECTED, HARNESS_ERROR, NOT_RECOVERED, PASSED
from tests.unit.data import ctk_providers

MODULE = "tests.unit.data.ctk_providers"


def activity(kind, func, name=None, tolerance=None, **arguments):
    a = {"type": kind, "name": name or func, "provider": {"type": "python", "module": MODULE, "func": func,
                                                         "arguments": arguments}}
    if tolerance is not None:
        a["tolerance"] = tolerance
    return a


def experiment(method=None, probes=None, rollbacks=None, **top):
    return {"title": "the web survives", "description": "d",
            "steady-state-hypothesis": {"title": "it answers",
                                        "probes": probes or [activity("probe", "probe", "answers", 200)]},
            "method": method or [activity("action", "act", "kill-web", who="${who}")],
            "rollbacks": rollbacks if rollbacks is not None else [activity("action", "rollback")],
            "configuration": {"who": "web"}, **top}


@pytest.fixture(autouse=True)
def seen():
    ctk_providers.SEEN.clear()
    yield ctk_providers.SEEN


def run(exp, after=lambda fault_at: ctk_providers.SEEN.append("wait") or "back", **vars_):
    prepared, v = runner.prepared(exp, vars_)
    return runner.run(prepared, v, after)


def test_the_recovery_wait_runs_between_the_method_and_the_hypothesis_after(seen):
    out = run(experiment())
    assert seen == ["probe", "act web", "wait", "probe", "rollback"]
    assert out.verdict.verdict == PASSED and out.recovery == "back" and out.waited
    (step,) = out.journal["run"]
    assert step["output"] == ["web"] and any("acting on web" in line for line in step["log"])


def test_a_var_the_experiment_does_not_declare_is_not_dropped(seen):
    exp = experiment(method=[activity("action", "act", "kill", who="${target}")])
    run(exp, target="db")
    assert "act db" in seen


def test_a_failed_action_fails_though_chaos_toolkit_completes(seen):
    out = run(experiment(method=[activity("action", "fail", "break-it")]))
    assert out.journal["status"] == "completed"          # Chaos Toolkit's own view
    assert (out.verdict.verdict, out.verdict.reason) == (FAULT_NOT_INJECTED,
                                                         "action 'break-it' failed: RuntimeError: the action broke")
    assert seen[-1] == "rollback"


def test_a_hypothesis_not_met_before_the_method_is_a_harness_error_and_nothing_is_injected(seen):
    out = run(experiment(probes=[activity("probe", "probe", "answers", [200, 204], answer=503)]))
    assert out.journal["deviated"] is False and out.journal["status"] == "completed"   # Chaos Toolkit's view
    assert out.verdict.verdict == HARNESS_ERROR and "not met before the method" in out.verdict.reason
    assert seen == ["probe", "rollback"]


def test_a_hypothesis_that_does_not_come_back_is_not_recovered(seen, monkeypatch):
    def wait_and_find_it_broken(fault_at):
        monkeypatch.setattr(ctk_providers, "ANSWER", 503)
    out = run(experiment(), after=wait_and_find_it_broken)
    assert out.journal["deviated"] is True
    assert out.verdict.verdict == NOT_RECOVERED
    assert out.verdict.reason == ("the steady state did not come back after the method: probe 'answers' got 503, "
                                  "outside its tolerance 200")
    assert seen[-1] == "rollback"


def test_an_exception_escaping_chaoslib_still_runs_the_rollbacks_and_is_a_harness_error(seen):
    # a two-item list tolerance is a range: None compared with ints raises TypeError inside chaoslib
    out = run(experiment(probes=[activity("probe", "nothing", "empty", [1, 3])]))
    assert out.verdict.verdict == HARNESS_ERROR
    assert seen[-1] == "rollback" and not out.waited


def test_a_recovery_wait_that_failed_is_kept_for_the_verdict(seen):
    def broken(fault_at):
        raise TimeoutError("web not back")
    out = run(experiment(), after=broken)
    assert isinstance(out.recovery_error, TimeoutError) and out.waited
    assert seen == ["probe", "act web", "probe", "rollback"]


def test_an_experiment_file_that_cannot_be_read_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: [unclosed\n")
    with pytest.raises(UsageError, match=r"^experiment .*bad.yaml: "):
        runner.load(bad)
    with pytest.raises(UsageError, match=r"^experiment .*missing.json: no such file$"):
        runner.load(tmp_path / "missing.json")


def test_yaml_and_json_load_alike(tmp_path):
    import json

    import yaml
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(experiment()))
    (tmp_path / "e.json").write_text(json.dumps(experiment()))
    assert runner.load(tmp_path / "e.yaml") == runner.load(tmp_path / "e.json")


def test_an_invalid_experiment_is_one_line():
    exp = experiment()
    del exp["title"]
    with pytest.raises(UsageError, match="^experiment '\\?': .*title"):
        runner.prepared(exp)


def test_chaostoolkit_kubernetes_is_bound_to_the_drilled_context_only_while_it_runs(monkeypatch, tmp_path):
    from kubernetes.config import kube_config
    monkeypatch.setenv("KUBECONFIG", "/home/someone/.kube/config")
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    monkeypatch.setenv("CHAOSTOOLKIT_IN_POD", "true")
    before = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    import os
    with runner.bound_to(str(tmp_path / "kubeconfig"), "kind-kubedrill"):
        assert os.environ["KUBECONFIG"] == str(tmp_path / "kubeconfig")
        assert os.environ["KUBERNETES_CONTEXT"] == "kind-kubedrill" and "CHAOSTOOLKIT_IN_POD" not in os.environ
        assert kube_config.KUBE_CONFIG_DEFAULT_LOCATION == str(tmp_path / "kubeconfig")
    assert os.environ["KUBECONFIG"] == "/home/someone/.kube/config" and "KUBERNETES_CONTEXT" not in os.environ
    assert os.environ["CHAOSTOOLKIT_IN_POD"] == "true" and kube_config.KUBE_CONFIG_DEFAULT_LOCATION == before


def test_the_fault_moment_is_when_the_first_action_started_and_before_method_runs_first(seen):
    seen_at = []
    out = run(experiment(), after=lambda fault_at: seen_at.append(fault_at))
    assert out.fault_at is not None and seen_at == [out.fault_at]
    calls = []
    prepared, v = runner.prepared(experiment())
    runner.run(prepared, v, lambda at: calls.append("after"), before_method=lambda: calls.append("before"))
    assert calls == ["before", "after"]


def test_a_before_method_that_failed_stops_the_recovery_wait_and_is_kept(seen):
    prepared, v = runner.prepared(experiment())

    def lost():
        raise RuntimeError("lock lost")
    out = runner.run(prepared, v, lambda at: seen.append("wait"), before_method=lost)
    assert isinstance(out.before_error, RuntimeError) and not out.waited and "wait" not in seen


def test_the_values_of_the_secrets_are_known_so_that_they_are_never_reported(seen):
    exp = experiment(secrets={"db": {"password": "s3cr3t-planted"}})
    out = run(exp)
    assert "s3cr3t-planted" in out.secret_values
