"""The run's Prometheus metrics (kubedrill.report.metrics, docs/metrics.md) from a results.json:
names, labels, values; the label rules shown to catch what they must; the textfile, the push,
--pushgateway, and a failed report making the run a harness error."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.parser import text_string_to_metric_families

from kubedrill.config import parse_pushgateway, pushgateway_of
from kubedrill.errors import MetricsUnreported, UsageError
from kubedrill.report import metrics, terminal, verdicts
from kubedrill.report.results import VERDICTS
from tests.unit.metrics_labels import problems

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "metrics" / "results.json"
FINISHED = 1_800_000_000.0
RC = "scenarios/experiments/replication-controller-pod-deleted.yaml::replication-controller-pod-deleted"
STS = "scenarios/experiments/statefulset-pod-deleted.yaml::statefulset-pod-deleted"
FILES = "scenarios/test_snapshot_restore.py::test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut"
PG = "scenarios/test_snapshot_restore.py::test_postgresql_is_restored_from_a_consistent_snapshot_up_to_the_cut"

NAMES = {
    "kubedrill_scenario_verdict", "kubedrill_scenario_rto_seconds", "kubedrill_scenario_rto_objective_seconds",
    "kubedrill_scenario_rto_near_objective_runs", "kubedrill_scenario_rpo_records", "kubedrill_scenario_rpo_seconds",
    "kubedrill_scenario_rpo_objective_records", "kubedrill_scenario_rpo_objective_seconds",
    "kubedrill_scenario_availability_ratio", "kubedrill_scenario_availability_objective_ratio",
    "kubedrill_scenario_longest_outage_seconds", "kubedrill_scenario_longest_outage_objective_seconds",
    "kubedrill_scenario_duration_seconds", "kubedrill_scenario_last_run_timestamp_seconds",
    "kubedrill_run_last_timestamp_seconds", "kubedrill_run_duration_seconds",
}


def document() -> dict:
    return json.loads(DATA.read_text())


def samples(reg: CollectorRegistry) -> dict[tuple, float]:
    """(name, scenario, storage_class[, state]) -> value; the cluster label checked on the way."""
    out = {}
    for name, labels, value in ((s.name, s.labels, s.value) for f in reg.collect() for s in f.samples):
        assert labels.get("cluster") == "kind-kubedrill", (name, labels)
        key = (name, labels.get("scenario"), labels.get("storage_class"))
        if "kubedrill_scenario_verdict" in labels:
            key += (labels["kubedrill_scenario_verdict"],)
        assert key not in out, key
        out[key] = value
    return out


@pytest.fixture
def reg() -> CollectorRegistry:
    return metrics.registry(document(), FINISHED, 123.5)


def test_the_metric_names_are_the_documented_ones_in_base_units(reg):
    names = {f.name for f in reg.collect()}
    assert names == NAMES
    documented = set(re.findall(r"^\| `(kubedrill_[a-z_]+)`", (ROOT / "docs" / "metrics.md").read_text(), re.M))
    assert documented == NAMES
    for f in reg.collect():
        assert f.type in ("gauge", "stateset"), f.name   # nothing counts up: no _total
        assert re.search(r"_(seconds|ratio|records|runs|verdict)$", f.name), f.name
        assert not re.search(r"_(ms|milliseconds|percent|minutes|hours|total)$", f.name), f.name


def test_labels_are_scenario_cluster_and_storage_class_only(reg):
    doc = document()
    assert problems(metrics.label_sets(reg), doc) == []
    for name, labels in metrics.label_sets(reg):
        keys = set(labels) - {"kubedrill_scenario_verdict"}
        assert keys == ({"cluster"} if name.startswith("kubedrill_run_") else set(metrics.LABELS)), (name, labels)
    scenarios = {labels["scenario"] for _, labels in metrics.label_sets(reg) if "scenario" in labels}
    # the StorageClass is a label of its own: one scenario id across the classes
    assert STS in scenarios and FILES in scenarios and not any("sc=" in s for s in scenarios)
    assert len(scenarios) == 6


def test_the_verdict_is_a_stateset_with_one_series_per_class(reg):
    s = samples(reg)
    for row in document()["scenarios"]:
        sid, sc = metrics.scenario_id(row), row["storage_class"]
        states = {v: s[("kubedrill_scenario_verdict", sid, sc, v)] for v in VERDICTS}
        assert states == {v: float(v == row["verdict"]) for v in VERDICTS}, row["scenario"]
    assert s[("kubedrill_scenario_verdict", PG, "kubedrill-hostpath-retain", "objective missed")] == 1


def test_values_come_from_the_rows(reg):
    s = samples(reg)
    hp = "kubedrill-hostpath"
    expected = {
        # an experiment with a prober: RTO, availability, outage and their objectives
        ("rto_seconds", RC, ""): 0.95, ("rto_objective_seconds", RC, ""): 2.3,
        ("availability_ratio", RC, ""): 0.9333, ("availability_objective_ratio", RC, ""): 0.884,
        ("longest_outage_seconds", RC, ""): 1.1, ("longest_outage_objective_seconds", RC, ""): 1.7,
        ("rpo_records", RC, ""): None,     # measured no RPO: no series
        # a restore per StorageClass: RPO in records and seconds, against its objectives
        ("rpo_records", FILES, hp): 23, ("rpo_seconds", FILES, hp): 6.577,
        ("rpo_records", FILES, hp + "-retain"): 39,
        ("rpo_objective_records", FILES, hp): 47, ("rpo_objective_seconds", FILES, hp): 11.5,
        ("rto_seconds", STS, "standard"): 0.676,
    }
    assert {k: s.get((f"kubedrill_scenario_{k[0]}", *k[1:])) for k in expected} == expected
    # not applicable: a verdict and a timestamp, no figure
    assert ("kubedrill_scenario_rto_seconds", FILES, "standard") not in s
    assert s[("kubedrill_scenario_last_run_timestamp_seconds", FILES, "standard")] == FINISHED
    assert s[("kubedrill_scenario_duration_seconds", STS, "standard")] == pytest.approx(6.854347832000258)
    assert s[("kubedrill_run_last_timestamp_seconds", None, None)] == FINISHED
    assert s[("kubedrill_run_duration_seconds", None, None)] == 123.5


def test_an_objective_is_given_only_when_the_scenario_read_one_of_its_kind():
    assert metrics.objective({"objectives": {"restore_rpo_records": 47.0}}, "rpo_records") == 47
    assert metrics.objective({"objectives": {"rpo_s": 2}}, "rpo_s") == 2
    assert metrics.objective({"objectives": {"restore_rpo_s": 2}}, "rpo_records") is None
    # several of a kind with different values: which one held the figure is not known
    assert metrics.objective({"objectives": {"a_availability": 0.5, "b_availability": 0.6}}, "availability") is None
    assert metrics.objective({"objectives": {"longest_outage_s": 1.7}}, "outage_s") == 1.7


def test_runs_near_the_objective_count_up_from_the_previous_run_and_reset():
    doc = document()
    pg, files = (PG, "kubedrill-hostpath-retain"), (FILES, "kubedrill-hostpath")
    before = {pg: 2.0, files: 5.0}
    s = samples(metrics.registry(doc, FINISHED, None, before))
    assert s[("kubedrill_scenario_rto_near_objective_runs", *pg)] == 3      # 3.012 s > 0.8 x 2.9 s
    assert s[("kubedrill_scenario_rto_near_objective_runs", *files)] == 0   # 0.87 s of 3.5 s: reset
    assert s[("kubedrill_scenario_rto_near_objective_runs", FILES, "standard")] == 0   # no RTO
    first = samples(metrics.registry(doc, FINISHED))
    assert first[("kubedrill_scenario_rto_near_objective_runs", *pg)] == 1


def test_the_previous_count_is_read_back_from_the_file_and_from_the_gateway_only_for_its_cluster(tmp_path):
    doc = document()
    path = metrics.write(tmp_path / "metrics.prom", metrics.registry(doc, FINISHED, None, {(PG, "kubedrill-hostpath-retain"): 4}))
    assert metrics.previous_streaks("kind-kubedrill", path, None, 1)[(PG, "kubedrill-hostpath-retain")] == 5
    assert metrics.previous_streaks("kind-other", path, None, 1) == {}
    assert metrics.previous_streaks("kind-kubedrill", tmp_path / "none.prom", None, 1) == {}
    gateway = ('kubedrill_scenario_rto_near_objective_runs{cluster="c",job="kubedrill",scenario="s.py::a",storage_class=""} 2\n'
               'kubedrill_scenario_rto_near_objective_runs{cluster="c",job="other",scenario="s.py::a",storage_class=""} 9\n'
               'kubedrill_scenario_rto_near_objective_runs{cluster="d",job="kubedrill",scenario="s.py::a",storage_class=""} 7\n')
    assert metrics.streaks(gateway, "c") == {("s.py::a", ""): 2}


def test_metrics_prom_is_the_textfile_format_renamed_into_place(tmp_path, reg):
    path = metrics.write(tmp_path / "reports" / "metrics.prom", reg)
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    assert set(families) == NAMES
    assert [p.name for p in path.parent.iterdir()] == ["metrics.prom"]   # no temporary file left


def test_a_metrics_file_that_cannot_be_written_is_unreported(tmp_path, reg):
    (tmp_path / "metrics.prom").mkdir()
    with pytest.raises(MetricsUnreported, match="could not write"):
        metrics.write(tmp_path / "metrics.prom", reg)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]   # nothing listens there once closed


def test_a_push_nobody_answers_is_unreported(reg):
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(MetricsUnreported, match=f"could not push the metrics to the Pushgateway {url}"):
        metrics.push(url, reg, "kind-kubedrill", 2)
    with pytest.raises(MetricsUnreported, match="could not read the Pushgateway"):
        metrics.previous_streaks("kind-kubedrill", Path("unused"), url, 2)


@pytest.mark.parametrize("text", ["", " ", "ftp://host:9091", "http://", "http://host:99999", "host:port",
                                  "http://host:9091/?q=1", "http://ho st:9091"])
def test_a_pushgateway_that_is_not_a_url_is_refused(text):
    with pytest.raises(UsageError, match="--pushgateway"):
        parse_pushgateway(text)


@pytest.mark.parametrize("text", ["http://127.0.0.1:9091", "https://push.example.com/base", "pushgateway:9091"])
def test_a_pushgateway_url_is_taken(text):
    assert parse_pushgateway(text) == text
    assert parse_pushgateway(None) is None


def test_metrics_not_reported_make_a_passing_run_a_harness_error_and_mask_nothing_worse():
    assert verdicts.of_run(["passed"], 0, unreported=True) == verdicts.RunVerdict(15, "harness error")
    assert verdicts.of_run(["passed", "data lost"], 1, unreported=True) == verdicts.RunVerdict(10, "data lost")
    assert verdicts.of_run(["passed"], 0) == verdicts.RunVerdict(0, "passed")


# --- the label rules catch what they must: each broken registry is refused ---------------------
def _broken(doc: dict, how: str) -> CollectorRegistry:
    doc = json.loads(json.dumps(doc))
    row = doc["scenarios"][0]
    if how == "run id":
        row["scenario"] += f"[run={doc['run_id']}]"
    elif how == "seed":
        row["scenario"] += f"[seed={doc['seed']}]"
    elif how == "title":
        row["scenario"] = "A replication controller's deleted pod is replaced"
    elif how == "class in the id":
        row["storage_class"] = ""
        doc["scenarios"][1]["storage_class"] = ""
    if how in ("extra label", "too many combinations"):
        reg = metrics.registry(doc, FINISHED)
        if how == "extra label":
            Gauge("kubedrill_scenario_rto_seconds_by_run", "", ["scenario", "cluster", "storage_class", "run_id"],
                  registry=reg).labels(RC, "kind-kubedrill", "", doc["run_id"][:4]).set(1)
        else:
            g = Gauge("kubedrill_scenario_attempt_seconds", "", list(metrics.LABELS), registry=reg)
            for n in range(100):
                g.labels(f"{RC}[{n}]", "kind-kubedrill", "").set(n)
        return reg
    return metrics.registry(doc, FINISHED)


@pytest.mark.parametrize("how, says", [
    ("run id", "carries the run id"), ("seed", "carries the seed"), ("title", "is not an item id"),
    ("class in the id", "carries its StorageClass"), ("extra label", "label 'run_id' is not one of"),
    ("too many combinations", "more than scenarios x clusters x classes"),
])
def test_the_label_rules_refuse_a_broken_registry(how, says):
    found = problems(metrics.label_sets(_broken(document(), how)), document())
    assert any(says in line for line in found), found


def test_the_summary_names_what_was_not_reported_in_red(tmp_path):
    said = "could not push the metrics to the Pushgateway http://127.0.0.1:9: refused"
    lines = terminal.summary([], "0101t000000-abcd", 7, (), tmp_path, verdicts.RunVerdict(15, "harness error"), [said])
    assert terminal.Line(f"METRICS: {said}", red=True) in lines
    assert not any("METRICS" in line.text for line in terminal.summary([], "0101t000000-abcd", 7, (), tmp_path))


@pytest.mark.parametrize("option, environ, expected", [
    (None, {}, None),
    (None, {"KUBEDRILL_PUSHGATEWAY": ""}, None),                     # deploy/gameday's ConfigMap, not set
    (None, {"KUBEDRILL_PUSHGATEWAY": "pg:9091"}, "pg:9091"),
    ("http://mine:9091", {"KUBEDRILL_PUSHGATEWAY": "pg:9091"}, "http://mine:9091"),   # the option wins
])
def test_the_pushgateway_defaults_to_the_environment(option, environ, expected):
    assert pushgateway_of(option, environ) == expected


def test_a_bad_pushgateway_in_the_environment_is_refused():
    with pytest.raises(UsageError, match="--pushgateway"):
        pushgateway_of(None, {"KUBEDRILL_PUSHGATEWAY": "ftp://pg"})
