"""The RTO/RPO trend across runs without a server (issue 19): the results history beside Allure's,
appended once per run id and bounded, each scenario's series run by run with its objective, and
the plots that reach the HTML report, all from real results.json files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubedrill.errors import UsageError
from kubedrill.report import allure as report_allure
from kubedrill.report import html as report_html
from kubedrill.report import results as report
from kubedrill.report import trends

FAST = "scenarios/test_a.py::test_ok"
RESTORE = "scenarios/test_snapshot_restore.py::test_restore"
GONE = "scenarios/test_b.py::test_only_first"


def results_json(path: Path, run_id: str, rto: float, objective: float, rpo_records: int | None = None,
                 with_gone: bool = False) -> Path:
    """A results.json as a drill writes it (report.write_results): a fast scenario, a restore
    with its RPO, and (``with_gone``) a scenario that ran in this run only."""
    rows = [report.ScenarioResult(FAST, report.PASSED if rto <= objective else report.OBJECTIVE_MISSED, rto,
                                  objective, objectives={"pod_kill_rto_s": objective}, seed=7),
            report.ScenarioResult(RESTORE, report.PASSED, 20.0, 60.0, seed=7,
                                  rpo=None if rpo_records is None else {"records_lost": rpo_records, "seconds_lost": 1.5},
                                  objectives={"restore_rto_s": 60.0, "restore_rpo_records": 3.0, "restore_rpo_s": 5.0})]
    if with_gone:
        rows.append(report.ScenarioResult(GONE, report.NOT_APPLICABLE, reason="no snapshot class", seed=7))
    report.write_results(path, run_id, 7, "kind-kubedrill", rows)
    return path


@pytest.fixture
def three_runs(tmp_path) -> list[Path]:
    return [results_json(tmp_path / "r1.json", "1201t010000-aaaa", 1.0, 2.9, 0, with_gone=True),
            results_json(tmp_path / "r2.json", "1202t010000-bbbb", 3.5, 2.9, 2),
            results_json(tmp_path / "r3.json", "1203t010000-cccc", 1.5, 2.0, None)]


def test_each_scenario_gets_its_values_and_objective_run_by_run(tmp_path, three_runs):
    history = tmp_path / "history" / trends.HISTORY_NAME
    for path in three_runs:
        records = trends.update(path, history)
    assert [r["run_id"] for r in records] == ["1201t010000-aaaa", "1202t010000-bbbb", "1203t010000-cccc"]
    by_name = {s.scenario: s for s in trends.series(trends.read_history(history))}
    assert list(by_name) == [FAST, RESTORE, GONE]
    fast = by_name[FAST]
    assert fast.runs == ("1201t010000-aaaa", "1202t010000-bbbb", "1203t010000-cccc")
    assert fast.rto_s == (1.0, 3.5, 1.5)
    assert fast.rto_objective_s == (2.9, 2.9, 2.0)          # the objective changed in the third run
    assert fast.verdicts == ("passed", "objective missed", "passed")
    restore = by_name[RESTORE]
    assert restore.rpo_records == (0.0, 2.0, None)          # the third run measured no RPO: a gap
    assert restore.rpo_objective_records == (3.0, 3.0, 3.0) and restore.rpo_objective_s == (5.0, 5.0, 5.0)
    gone = by_name[GONE]
    assert gone.verdicts == ("not applicable", None, None) and not gone.measured
    # the plot's lines: the values and the objective of every run, per panel measured
    (rto,) = trends.chart(fast)
    assert (rto.title, rto.values, rto.objective) == ("RTO", (1.0, 3.5, 1.5), (2.9, 2.9, 2.0))
    panels = [(p.title, p.unit, p.objective) for p in trends.chart(restore)]
    assert panels == [("RTO", "s", (60.0, 60.0, 60.0)), ("RPO", "records", (3.0, 3.0, 3.0)),
                      ("RPO", "s", (5.0, 5.0, 5.0))]


def test_a_run_reported_twice_counts_once_and_the_history_keeps_the_last_runs(tmp_path, three_runs):
    history = tmp_path / trends.HISTORY_NAME
    trends.update(three_runs[0], history)
    trends.update(three_runs[1], history)
    trends.update(three_runs[0], history)          # make report again for the first run
    assert [r["run_id"] for r in trends.read_history(history)] == ["1201t010000-aaaa", "1202t010000-bbbb"]
    assert len(history.read_text().splitlines()) == 2
    trends.update(three_runs[2], history, limit=2)
    assert [r["run_id"] for r in trends.read_history(history)] == ["1202t010000-bbbb", "1203t010000-cccc"]
    # pure: in place of the same run id, else at the end; bounded
    old = [{"run_id": "a", "scenarios": {}, "n": 1}, {"run_id": "b", "scenarios": {}}]
    assert trends.appended(old, {"run_id": "a", "scenarios": {}, "n": 2}) == [
        {"run_id": "a", "scenarios": {}, "n": 2}, {"run_id": "b", "scenarios": {}}]
    assert [r["run_id"] for r in trends.appended(old, {"run_id": "c", "scenarios": {}}, limit=2)] == ["b", "c"]
    with pytest.raises(UsageError):
        trends.appended(old, {"run_id": "c", "scenarios": {}}, limit=0)


@pytest.mark.parametrize("content, says", [
    (None, "not found: run a drill first"),
    ('{"run_id": 3', "is not JSON"),
    ("[1, 2]", "is not a results document (a JSON object), but list"),
    ('{"run_id": "x", "scenarios": []}', "is not a valid results.json: (root): 'schema_version' is a required"),
])
def test_a_results_json_missing_or_invalid_says_so_and_leaves_the_history_alone(tmp_path, three_runs, content, says):
    history = tmp_path / trends.HISTORY_NAME
    trends.update(three_runs[0], history)
    before = history.read_bytes()
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    with pytest.raises(UsageError, match=r"^" + str(bad).replace(".", r"\.")) as err:
        trends.update(bad, history)
    assert says in str(err.value)
    assert history.read_bytes() == before


def test_a_history_line_that_is_not_a_run_is_left_out_with_a_warning(tmp_path, three_runs):
    history = tmp_path / trends.HISTORY_NAME
    trends.update(three_runs[0], history)
    with history.open("a") as f:
        f.write('{"run_id": "half-writ\n')
    warnings = []
    assert len(trends.read_history(history, warnings.append)) == 1
    assert warnings == [f"{history}:2 is not a run record: left out"]


def test_the_trend_reaches_the_report_as_one_result_with_a_plot_per_scenario(tmp_path, three_runs):
    history = tmp_path / "history" / trends.HISTORY_NAME
    for path in three_runs[:2]:
        records = trends.update(path, history)
    series = trends.series(records)
    out = tmp_path / "trend-results"
    result = json.loads(report_allure.write_trends(out, series, history).read_text())
    assert result["name"] == report_allure.TRENDS_NAME and result["status"] == "passed"
    assert {"name": "suite", "value": "trends"} in result["labels"]
    pngs = [a for a in result["attachments"] if a["type"] == "image/png"]
    assert [a["name"] for a in pngs] == [f"{FAST}: RTO and RPO over runs", f"{RESTORE}: RTO and RPO over runs"]
    for a in pngs:
        assert (out / a["source"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (data,) = [a for a in result["attachments"] if a["type"] == "application/json"]
    drawn = json.loads((out / data["source"]).read_text())
    assert [d["scenario"] for d in drawn] == [FAST, RESTORE]     # GONE measured nothing: no plot
    assert drawn[0]["rto_s"] == [1.0, 3.5] and drawn[0]["rto_objective_s"] == [2.9, 2.9]
    assert report_allure.write_trends(tmp_path / "none", [s for s in series if not s.measured], history) is None


def test_a_results_json_of_another_run_than_the_allure_results_is_left_out(tmp_path, three_runs):
    allure_dir = tmp_path / "allure"
    report_allure.write_environment(allure_dir, {"run_id": "1202t010000-bbbb"})
    trend = tmp_path / trends.HISTORY_NAME
    records, problem = report_html.update_trend(three_runs[0], allure_dir, trend, trends.TREND_RUNS)
    assert records == [] and "is of run 1201t010000-aaaa, the Allure results" in problem
    assert problem.endswith("the RTO/RPO trend leaves this run out") and not trend.exists()
    records, problem = report_html.update_trend(three_runs[1], allure_dir, trend, trends.TREND_RUNS)
    assert problem is None and [r["run_id"] for r in records] == ["1202t010000-bbbb"]
