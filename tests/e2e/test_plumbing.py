"""The plumbing scenario passes on the real cluster, measured and reported, leaving nothing."""

import json
import re

import pytest

from tests.e2e.conftest import leftovers, unbroken_passed

pytestmark = pytest.mark.e2e


def test_plumbing_scenario_passes_and_reports_its_rto(drill, clients):
    d = drill("scenarios/test_plumbing.py", "--seed", "7")
    rc = d.run()
    results = json.loads((d.tmp / "reports" / "results.json").read_text())
    (row,) = results["scenarios"]
    assert row["scenario"] == "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod"
    assert row["rto_s"] > 0 and results["seed"] == 7
    # the gate's passed class: exit 0, said in reports/verdict and at the end of the output
    verdict = "0 passed" if unbroken_passed(row, d.output) else "1 objective missed"
    assert rc == int(verdict.split()[0]), d.output[-6000:]
    assert (d.tmp / "reports" / "verdict").read_text() == f"{verdict}\n"
    assert f"verdict: {verdict[2:]} (exit {rc};" in d.output
    assert row["reason"] == "" or verdict != "0 passed"
    marks = [m["name"] for m in row["timeline"]["marks"]]
    assert marks[0] == "fault" and marks[-1] == "Ready"
    assert results["leaks"] == []
    # the summary table and the phases are in the terminal output
    assert re.search(r"scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod\s+"
                     rf"{row['verdict']}\s+\d+\.\d+s", d.output)
    for title in ("deploying", "injecting the fault", "waiting for recovery", "verifying", "tearing down"):
        assert f"phase {title}: start" in d.output and f"phase {title}: end" in d.output
    assert "leak check: nothing left behind" in d.output
    assert (d.tmp / "junit.xml").exists() and any((d.tmp / "allure").iterdir())
    assert leftovers(clients, results["run_id"]) == []


def test_a_chaos_toolkit_experiment_runs_through_the_guard(drill, clients):
    d = drill("tests/e2e/drills/drill_chaos.py")
    rc = d.run()
    results = json.loads((d.tmp / "reports" / "results.json").read_text())
    assert rc == (0 if unbroken_passed(results["scenarios"][0], d.output) else 1), d.output[-6000:]
    assert leftovers(clients, results["run_id"]) == []
