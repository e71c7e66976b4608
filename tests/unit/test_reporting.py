"""Verdict classes and progress throttling of the pytest layer (pure logic, no cluster)."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from fixtures import outcomes
from fixtures import terminal
from kubedrill.report import results as report
from kubedrill.errors import ClusterUnreachable, DataLost, WaitTimeout


def rep(outcome, when="call"):
    return SimpleNamespace(passed=outcome == "passed", skipped=outcome == "skipped", when=when,
                           failed=outcome == "failed", longrepr=("f", 1, "Skipped: no snapshot class"))


def exc(e):
    return SimpleNamespace(value=e)


@pytest.mark.parametrize("error, verdict", [
    (DataLost("data lost: records 1–5 missing"), report.DATA_LOST),
    (AssertionError("RTO 40s exceeds the objective 30s"), report.OBJECTIVE_MISSED),
    (WaitTimeout("3 Ready", 10, (), "2/3 Ready"), report.NOT_RECOVERED),
    (ClusterUnreachable("cannot reach"), report.HARNESS_ERROR),
    (KeyError("oops"), report.HARNESS_ERROR),
])
def test_failures_get_a_verdict_class_and_a_reason(error, verdict):
    got, reason = outcomes.verdict_of(rep("failed"), exc(error))
    assert got == verdict and reason == str(error).splitlines()[0]


def test_passed_and_skipped():
    assert outcomes.verdict_of(rep("passed"), None) == (report.PASSED, "")
    assert outcomes.verdict_of(rep("skipped"), None) == (report.NOT_APPLICABLE, "no snapshot class")
    assert outcomes.verdict_of(rep("skipped", "setup"), None) == (report.NOT_APPLICABLE, "no snapshot class")


def test_a_failure_before_the_fault_is_a_harness_error():
    timeout = WaitTimeout("3 Ready", 10, (), "image not found")
    assert outcomes.verdict_of(rep("failed", "setup"), exc(timeout), frozenset({"deploy"})) == (
        report.HARNESS_ERROR, "before the fault: " + str(timeout))
    assert outcomes.verdict_of(rep("failed"), exc(timeout), frozenset({"deploy"}))[0] == report.HARNESS_ERROR
    assert outcomes.verdict_of(rep("failed"), exc(timeout), frozenset({"deploy", "fault"}))[0] == report.NOT_RECOVERED
    # teardown: the error's own class (kubedrill.report.verdicts.of_teardown decides what it does)
    assert outcomes.verdict_of(rep("failed", "teardown"), exc(timeout), frozenset({"deploy"}))[0] == report.NOT_RECOVERED


class FakeConfig:
    def __init__(self):
        self.lines = []
        self.pluginmanager = SimpleNamespace(getplugin=lambda name: None)


def test_progress_is_shown_only_after_a_moment_and_on_change(monkeypatch, capsys):
    written = []
    monkeypatch.setattr(terminal, "write_line", lambda config, line: written.append(line))
    clock = iter([100.0, 100.0, 101.0, 102.0])
    monkeypatch.setattr(terminal.time, "monotonic", lambda: next(clock))
    progress = terminal.terminal_progress(FakeConfig(), moment_s=1.0, every_s=5.0)
    progress("web: 3 Ready", "1/3 Ready", 0.2, False)   # a moment: nothing shown
    progress("web: 3 Ready", "1/3 Ready", 1.5, False)   # shown
    progress("web: 3 Ready", "1/3 Ready", 2.0, False)   # unchanged, too soon: not shown
    progress("web: 3 Ready", "2/3 Ready", 2.5, False)   # changed: shown
    progress("web: 3 Ready", "3/3 Ready", 3.0, True)    # done: shown because it was shown
    progress("quick", "done", 0.1, True)                 # never shown, so its end is not either
    assert written == ["kubedrill:   waiting for web: 3 Ready: 1/3 Ready (1.5s)",
                       "kubedrill:   waiting for web: 3 Ready: 2/3 Ready (2.5s)",
                       "kubedrill:   web: 3 Ready: 3/3 Ready (done after 3.0s)"]


def drill_config(tmp_path, rows, leak_lines=()):
    from fixtures.options import settings_key
    from fixtures.state import results_key, state_key

    config = SimpleNamespace(stash=pytest.Stash())
    config.stash[settings_key] = SimpleNamespace(reports_dir=tmp_path / "reports")
    config.stash[results_key] = [report.ScenarioResult(f"scenarios/test_a.py::test_{i}", v) for i, v in enumerate(rows)]
    config.stash[state_key] = SimpleNamespace(leak_lines=tuple(leak_lines))
    return config


def test_the_runs_verdict_is_written_to_reports_verdict_and_a_stale_one_removed(tmp_path):
    config = drill_config(tmp_path, [report.PASSED, report.DATA_LOST, report.OBJECTIVE_MISSED])
    verdict = outcomes.run_verdict(config, 1)
    path = outcomes.write_verdict(config, verdict)
    assert path == tmp_path / "reports" / "verdict" and path.read_text() == "10 data lost\n"
    outcomes.forget_verdict(config)
    assert not path.exists()
    outcomes.forget_verdict(config)   # nothing to remove: fine
    assert outcomes.run_verdict(drill_config(tmp_path, [report.PASSED], ["ConfigMap x"]), 1).line() == \
        "15 harness error\n"
    assert outcomes.run_verdict(drill_config(tmp_path, []), 0) is None


def test_the_summary_names_each_failure_and_the_runs_verdict():
    from kubedrill.report import terminal as summary
    from kubedrill.report.verdicts import RunVerdict

    rows = [report.ScenarioResult("scenarios/test_a.py::test_ok", report.PASSED),
            report.ScenarioResult("scenarios/test_a.py::test_drain", report.NOT_APPLICABLE,
                                  reason="needs --node-fault=drain")]
    lines = summary.summary(rows, "r1", 7, (), Path("reports"), RunVerdict(14, report.NOT_APPLICABLE))
    text = [line.text for line in lines]
    assert "not applicable: scenarios/test_a.py::test_drain: needs --node-fault=drain" in text
    assert f"verdict: not applicable (exit 14; {Path('reports') / 'verdict'})" in text
    assert not any("test_ok:" in t for t in text)


def test_a_run_that_lost_its_drill_lock_stops_after_the_scenario_and_is_a_harness_error(tmp_path):
    from fixtures import cluster
    from fixtures.state import state_key
    from kubedrill.errors import LockLost

    lost = LockLost("lost the drill lock default/kubedrill-drill-lock: run-b holds it now")
    config = drill_config(tmp_path, [report.PASSED])
    config.stash[state_key].lock = SimpleNamespace(lost=None)
    assert outcomes.run_verdict(config, 0).line() == "0 passed\n"
    config.stash[state_key].lock = SimpleNamespace(lost=lost)
    assert outcomes.lock_lost(config.stash[state_key]) is lost
    assert outcomes.run_verdict(config, 0).line() == "15 harness error\n"
    session = SimpleNamespace(shouldfail=False)
    cluster.stop_after_this_test(session)(lost)
    assert session.shouldfail == f"kubedrill: {lost}"
