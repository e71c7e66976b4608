"""kubedrill's default objectives are the ones its committed run records give
(benchmarks/objectives.py), and the rule that makes them: p95 x 1.5 with misses counted."""

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubedrill import config, defaults

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("benchmarks_objectives", ROOT / "benchmarks" / "objectives.py")
objectives = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
spec.loader.exec_module(objectives)

DELETE_ONE = "scenarios/test_replicas.py::test_pods_deleted_through_the_api_are_replaced_by_new_pods[{}-one]"
PLUMBING = "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod"
NODE_WEB = "scenarios/test_node_loss.py::test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker[{}]"
NODE_DB = ("scenarios/test_node_loss.py::"
           "test_statefulset_pod_on_a_lost_node_is_held_then_pending_for_its_volume_then_back_with_its_data")
RESTORE = "scenarios/test_snapshot_restore.py::test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut"


def runs(rows_per_run: list[dict], measurement: int = 1) -> list[dict]:
    return [{"run_id": f"r{i:02d}", "date": f"2026-11-30T00:{i:02d}:00Z", "measurement": measurement,
             "scenarios": rows} for i, rows in enumerate(rows_per_run)]


def default(records: list[dict], name: str):
    return next(d for d in objectives.generate(records) if d.name == name)


# --- the committed records and kubedrill's defaults -------------------------------------------

def test_kubedrills_defaults_are_the_ones_the_committed_run_records_give():
    records = objectives.load_records()
    assert records, "benchmarks/runs/ holds no run record"
    generated = objectives.generate(records)
    assert {d.name: d.value for d in generated} == dataclasses.asdict(config.Objectives()), (
        "kubedrill's defaults differ from benchmarks/runs/: run benchmarks/objectives.py generate")
    assert defaults.PROVISIONAL == {d.name: d.reason for d in generated if d.provisional}
    assert objectives.DEFAULTS_PY.read_text() == objectives.render(generated, records), (
        "kubedrill/defaults.py is not what benchmarks/objectives.py generate writes")


def test_every_objective_is_generated_and_every_record_is_mapped():
    assert [f.name for f in dataclasses.fields(config.Objectives)] == list(objectives.HAND_SET)
    for rec in objectives.load_records():
        for nodeid, row in rec["scenarios"].items():
            assert objectives.objectives_for(nodeid, row.get("how")), nodeid


def test_every_scenario_feeds_an_objective_and_every_objective_is_fed(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios/", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--kubeconfig", str(tmp_path / "none"), "--reports-dir", str(tmp_path / "reports"),
         f"--junitxml={tmp_path / 'junit.xml'}", f"--alluredir={tmp_path / 'allure'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "KUBEDRILL_STATE_DIR": str(tmp_path / "state")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [line for line in proc.stdout.splitlines() if line.startswith("scenarios/")]
    fed = {name for nodeid in ids for name in objectives.objectives_for(nodeid)}
    assert [i for i in ids if not objectives.objectives_for(i)] == []
    assert set(objectives.HAND_SET) - fed == set()


# --- the mapping ------------------------------------------------------------------------------

@pytest.mark.parametrize("nodeid, how, expected", [
    (DELETE_ONE.format("Deployment"), None, {"pod_delete_one_rto_s", "pod_delete_one_availability",
                                            "pod_delete_one_outage_s"}),
    (PLUMBING, None, {"pod_kill_rto_s"}),
    ("scenarios/experiments/replication-controller-pod-deleted.yaml::replication-controller-pod-deleted", None,
     {"pod_delete_one_rto_s", "pod_delete_one_availability", "pod_delete_one_outage_s"}),
    ("scenarios/experiments/replication-controller-container-killed.yaml::replication-controller-container-killed",
     None, {"container_kill_one_rto_s", "container_kill_one_availability", "container_kill_one_outage_s"}),
    ("scenarios/experiments/statefulset-pod-deleted.yaml::statefulset-pod-deleted", None, {"statefulset_pod_rto_s"}),
    (NODE_WEB.format("drain"), None, {"node_drain_rto_s"}),
    (NODE_WEB.format("stop"), None, {"node_stop_rto_s"}),
    (NODE_WEB.split("[")[0], "stop", {"node_stop_rto_s"}),        # before the parametrization: --node-fault
    (NODE_DB, None, {"node_stop_statefulset_rto_s", "node_back_rto_s"}),
    (NODE_DB.replace("[stop]", "") + "[drain]", None, {"node_drain_statefulset_rto_s", "node_back_rto_s"}),
    ("scenarios/test_node_loss.py::test_statefulset_pod_drained_off_its_node_waits_for_its_volume", None,
     {"node_drain_statefulset_rto_s", "node_back_rto_s"}),
    (RESTORE, None, {"restore_rto_s", "restore_rpo_records", "restore_rpo_s"}),
    ("scenarios/test_other.py::test_nothing", None, set()),
])
def test_each_scenario_feeds_its_objectives(nodeid, how, expected):
    assert set(objectives.objectives_for(nodeid, how)) == expected


# --- the rule ---------------------------------------------------------------------------------

def test_p95_times_one_and_a_half_with_misses_counted():
    rows = [{PLUMBING: {"verdict": "passed", "rto_s": 1.0 + i / 100}} for i in range(19)]
    rows.append({PLUMBING: {"verdict": "objective missed", "rto_s": 9.0}})
    d = default(runs(rows), "pod_kill_rto_s")
    # p95 of 1.00..1.18 and 9.0 (linear interpolation, rank 18.05): 1.18 + 0.05 x 7.82 = 1.571
    assert (d.n, d.provisional, round(d.p95, 3), d.value) == (20, False, 1.571, 2.4)


def test_a_miss_whose_wait_stopped_at_the_objective_counts_at_that_limit_and_failures_do_not_count():
    rows = [{NODE_WEB.format("stop"): {"verdict": "passed", "rto_s": 60.0}} for _ in range(9)]
    rows.append({NODE_WEB.format("stop"): {"verdict": "objective missed", "rto_at_least_s": 100.0}})
    rows.append({NODE_WEB.format("stop"): {"verdict": "harness error"}})
    rows.append({NODE_WEB.format("stop"): {"verdict": "not recovered", "rto_s": 500.0}})
    d = default(runs(rows), "node_stop_rto_s")
    assert (d.n, d.provisional, d.value) == (10, False, round(1.5 * (60 + 0.55 * 40), 1))


def test_figures_of_a_run_keep_what_the_objectives_need():
    row = {"verdict": "objective missed", "rto_s": None, "objective_s": 100.0, "availability": None, "rpo": None,
           "timeline": None, "recoveries": []}
    assert objectives.figures(row) == {"verdict": "objective missed", "rto_at_least_s": 100.0}
    marks = [{"name": "fault", "t_s": 0.0}, {"name": "node back", "t_s": 70.5},
             {"name": "replacements Ready", "t_s": 73.4}]
    stages = [{"name": "node back", "duration_s": 2.8}, {"name": "replacements Ready", "duration_s": 2.9}]
    row = {"verdict": "passed", "rto_s": 73.4, "objective_s": 120.0, "rpo": {"records_lost": 0, "seconds_lost": 0.0},
           "availability": None, "timeline": {"marks": marks},
           "recoveries": [{"node_loss": {"how": "drain", "stages": stages}}]}
    assert objectives.figures(row) == {"verdict": "passed", "rto_s": 73.4, "rpo_records": 0, "rpo_s": 0.0,
                                       "how": "drain", "stages": {"node back": 2.8, "replacements Ready": 2.9},
                                       "node_back_s": 2.9}


def test_availability_is_one_minus_one_and_a_half_times_the_p95_of_the_failed_share():
    assert objectives.availability_objective([1.0] * 10 + [0.8] * 10, [100] * 20) == 0.7
    # never stricter than one failed request in a median window (here 1 of 10: at most 0.9)
    assert objectives.availability_objective([1.0] * 20, [10] * 20) == 0.9
    assert objectives.availability_objective([0.2] * 20, []) == 0.0


def test_times_never_go_below_one_second_and_records_are_whole():
    assert objectives.time_objective([0.05] * 20) == 1.0
    assert objectives.time_objective([2.0] * 20) == 3.0
    assert objectives.records_objective([21, 22, 22, 23]) == 35.0
    assert objectives.records_objective([0, 0]) == 0.0


@pytest.mark.parametrize("count, node, provisional", [(19, False, True), (20, False, False),
                                                      (9, True, True), (10, True, False)])
def test_too_few_measurements_keep_the_hand_set_value_as_provisional(count, node, provisional):
    nodeid, name = (NODE_WEB.format("drain"), "node_drain_rto_s") if node else (PLUMBING, "pod_kill_rto_s")
    d = default(runs([{nodeid: {"verdict": "passed", "rto_s": 2.0}}] * count), name)
    assert d.provisional == provisional and d.n == count
    assert d.value == (objectives.HAND_SET[name] if provisional else 3.0)
    assert d.reason == (f"{count} of {20 if not node else 10} measurements" if provisional else "")


def test_figures_measured_otherwise_do_not_feed_the_restore_objectives():
    row = {RESTORE: {"verdict": "passed", "rto_s": 2.0, "rpo_records": 20, "rpo_s": 4.0}}
    older = default(runs([row] * 20, measurement=1), "restore_rto_s")
    assert older.provisional and older.n == 0 and "20 older ones" in older.reason
    newer = default(runs([row] * 20, measurement=2), "restore_rpo_records")
    assert (newer.provisional, newer.value) == (False, 30.0)
    # the other objectives count every measurement version
    assert default(runs([{PLUMBING: {"verdict": "passed", "rto_s": 1.0}}] * 20, 1), "pod_kill_rto_s").n == 20


def test_a_record_is_written_and_read_back(tmp_path):
    results = {"run_id": "1130t010203-abcd", "context": "kind-kubedrill",
               "environment": {"kubedrill": "0.1.0", "kubernetes": "v1.35.4", "measurement": "2"},
               "scenarios": [{"scenario": PLUMBING, "verdict": "passed", "rto_s": 0.98765, "objective_s": 2.0,
                              "timeline": {"origin_unix": 1796000000.0, "marks": []}}]}
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps(results))
    (path,) = objectives.record([tmp_path / "run"], "HEAD", out=tmp_path)
    rec = json.loads(path.read_text())
    assert path.name == "1130t010203-abcd.json" and rec["measurement"] == 2 and len(rec["commit"]) == 40
    assert rec["date"] == "2026-11-30T00:53:20Z"
    assert rec["scenarios"] == {PLUMBING: {"verdict": "passed", "rto_s": 0.988}}
    assert objectives.load_records(tmp_path) == [rec]
