"""The release gate and the CI job summary (kubedrill.report.gate, `kubedrill gate|summary`): pure
logic over reports/verdict and reports/junit.xml written here (no cluster, no drill)."""

from __future__ import annotations

import pytest

from kubedrill import cli
from kubedrill.errors import UsageError
from kubedrill.report import gate
from kubedrill.report.results import EXIT_CODES, WORST_FIRST
from kubedrill.report.verdicts import RunVerdict

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" failures="1" errors="1" skipped="1">
<testcase classname="scenarios.test_replicas" name="test_pods_deleted[one]" time="12.5"/>
<testcase classname="scenarios.test_snapshot_restore" name="test_restore" time="30.1">
  <failure message="DataLost: records 1-5 missing | after restore">trace</failure></testcase>
<testcase classname="scenarios.test_node_loss" name="test_node_lost[stop]" time="0.0">
  <skipped message="not applicable: no docker"/></testcase>
<testcase classname="scenarios.test_plumbing" name="test_plumbing" time="1.0">
  <error message="harness error: image missing"/></testcase>
</testsuite></testsuites>
"""


@pytest.mark.parametrize("line, allowed, passed, code", [
    ("0 passed", "passed", True, 0),
    ("14 not applicable", "passed", False, 14),
    ("14 not applicable", "not applicable", True, 0),
    ("1 objective missed", "not applicable", False, 1),
    ("10 data lost", "objective missed", False, 10),
    ("2 interrupted", "data lost", False, 2),         # pytest's own code: never through
    ("4 usage error", "data lost", False, 4),
    ("16 interrupted", "data lost", True, 0),        # the class, whose code is 16
])
def test_the_gate_opens_only_for_a_verdict_no_worse_than_allowed(tmp_path, line, allowed, passed, code):
    (tmp_path / "verdict").write_text(line + "\n")
    result = gate.gate(gate.read_verdict(tmp_path / "verdict"), allowed)
    assert (result.passed, result.code) == (passed, code)
    assert line in result.line


def test_no_verdict_closes_the_gate_as_a_harness_error(tmp_path):
    result = gate.gate(gate.read_verdict(tmp_path / "verdict"))
    assert not result.passed and result.code == EXIT_CODES["harness error"]


def test_every_class_worse_than_passed_closes_the_default_gate():
    for name in WORST_FIRST[:-1]:
        assert not gate.gate(RunVerdict(EXIT_CODES[name], name)).passed


@pytest.mark.parametrize("text", ["", "data lost", "ten data lost", "10"])
def test_a_verdict_file_that_is_not_a_verdict_line_is_refused(tmp_path, text):
    (tmp_path / "verdict").write_text(text)
    with pytest.raises(UsageError, match="not a verdict line"):
        gate.read_verdict(tmp_path / "verdict")


def test_an_unknown_class_to_allow_is_refused():
    with pytest.raises(UsageError, match="not a verdict class"):
        gate.parse_allowed("failed")


def test_the_summary_has_the_verdict_totals_and_one_escaped_row_per_scenario(tmp_path):
    (tmp_path / "junit.xml").write_text(JUNIT)
    lines = gate.junit_summary(tmp_path / "junit.xml", RunVerdict(10, "data lost"))
    text = "\n".join(lines)
    assert "Verdict: **10 data lost**" in text
    assert "4 scenarios: 1 error, 1 failed, 1 passed, 1 skipped" in text
    rows = [line for line in lines if line.startswith("| scenarios.")]
    assert len(rows) == 4
    assert r"DataLost: records 1-5 missing \| after restore" in rows[1]
    assert all(row.count(" | ") == 3 for row in rows)   # no cell broken by a | of its own


def test_a_missing_or_broken_junit_file_is_said_in_the_summary(tmp_path):
    assert "no scenario ran" in gate.junit_summary(tmp_path / "junit.xml", None)[-1]
    (tmp_path / "junit.xml").write_text("<testsuites>")
    assert "is not JUnit XML" in gate.junit_summary(tmp_path / "junit.xml", None)[-1]


def test_kubedrill_summary_appends_to_the_job_summary(tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "junit.xml").write_text(JUNIT)
    (reports / "verdict").write_text("10 data lost\n")
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv(cli.SUMMARY_ENV, str(summary))
    args, _ = cli.parse(["summary", "--reports-dir", str(reports)])
    assert args.output == str(summary)
    assert cli.summary(reports, args.output) == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n## kubedrill game day") and "10 data lost" in text


def test_kubedrill_gate_exits_with_the_runs_code(tmp_path, capsys):
    (tmp_path / "verdict").write_text("12 not recovered\n")
    assert cli.gate_command(tmp_path, "passed") == 12
    assert "worse than passed" in capsys.readouterr().err
    assert cli.gate_command(tmp_path, "not recovered") == 0
    assert cli.gate_command(tmp_path, "bogus") == cli.USAGE_ERROR
