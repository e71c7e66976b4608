"""Verdict classes and progress throttling of the pytest layer (pure logic, no cluster)."""

from types import SimpleNamespace

import pytest

from fixtures import outcomes
from fixtures import terminal
from kubedrill.report import results as report
from kubedrill.errors import ClusterUnreachable, DataLost, WaitTimeout


def rep(outcome):
    return SimpleNamespace(passed=outcome == "passed", skipped=outcome == "skipped",
                           failed=outcome == "failed", longrepr=("f", 1, "Skipped: no snapshot class"))


def exc(e):
    return SimpleNamespace(value=e)


@pytest.mark.parametrize("error, verdict", [
    (DataLost("data lost: records 1–5 missing"), report.DATA_LOST),
    (AssertionError("RTO 40s exceeds the objective 30s"), report.OBJECTIVE_MISSED),
    (WaitTimeout("3 Ready", 10, (), "2/3 Ready"), report.OBJECTIVE_MISSED),
    (ClusterUnreachable("cannot reach"), report.INFRA_ERROR),
    (KeyError("oops"), report.HARNESS_ERROR),
])
def test_failures_get_a_verdict_class_and_a_reason(error, verdict):
    got, reason = outcomes.verdict_of(rep("failed"), exc(error))
    assert got == verdict and reason == str(error).splitlines()[0]


def test_passed_and_skipped():
    assert outcomes.verdict_of(rep("passed"), None) == (report.PASSED, "")
    assert outcomes.verdict_of(rep("skipped"), None) == (report.SKIPPED, "Skipped: no snapshot class")


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
