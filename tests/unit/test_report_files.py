"""The report's files without a cluster: results.json and its schema, the summary table,
categories, environment.properties, metrics, the timeline plot, bounded diagnostics, labels."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from fixtures import outcomes
from kubedrill.report import results as report
from kubedrill.report import allure as report_allure
from kubedrill.report import fixtures_shown
from kubedrill.report import diagnostics as report_diagnostics
from kubedrill.report import html as report_html
from kubedrill.report import __main__ as report_cli
from kubedrill.report import plot as report_plot
from kubedrill.config import Objectives
from kubedrill.observe.measure import Instant, Recovery, Rpo, Timeline

ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def recovery(rto=2.5) -> Recovery:
    t = Timeline(Instant(100.0, 1_800_000_000.0)).add("fault", 100.0, "killed 1 pod").add(
        "first NotReady", 100.1).add("replacement scheduled", 100.3, "web-x on worker").add("Ready", 100.0 + rto)
    return Recovery("deployment web: 3 pods Ready", rto, t, "3/3 Ready")


def rows():
    rec = recovery()
    return [
        report.ScenarioResult("scenarios/test_a.py::test_ok", report.PASSED, 2.5, 30.0, "", rec.timeline.as_dict(), 7,
                              3.2, objectives={"pod_kill_rto_s": 30.0}, component="plumbing",
                              recoveries=(rec.as_dict(),)),
        report.ScenarioResult("scenarios/test_b.py::test_data", report.DATA_LOST, None, None, "data lost: records 1–5 missing",
                              None, 7, 1.0, rpo={"records_lost": 5, "seconds_lost": 2.0},
                              availability={"success_ratio": 0.9, "longest_outage_s": 1.5, "requests": 100}),
        report.ScenarioResult("scenarios/test_c.py::test_skip", report.NOT_APPLICABLE, reason="no snapshot class",
                              seed=7),
    ]


def test_results_json_validates_against_the_schema_and_a_broken_one_does_not(tmp_path):
    path = tmp_path / "results.json"
    report.write_results(path, "1126t063948-d08d", 7, "kind-kubedrill", rows(), ["a leak"], {"kubernetes": "v1.35.4"})
    doc = json.loads(path.read_text())
    assert report.validate(doc) == []
    assert doc["counts"] == {"passed": 1, "data lost": 1, "not applicable": 1} and doc["schema_version"] == 2
    doc["scenarios"][1]["verdict"] = "failed"
    doc["scenarios"][0]["rpo"] = {"records_lost": -1, "seconds_lost": 0}
    problems = report.validate(doc)
    assert len(problems) == 2 and any("scenarios/1/verdict" in p for p in problems), problems


def test_every_verdict_class_is_in_the_schema():
    schema = report.load_schema()
    assert schema["$defs"]["verdict"]["enum"] == list(report.VERDICTS)
    assert set(schema["$defs"]["verdict_v1"]["enum"]) - set(report.VERDICTS) == set(report.V1_VERDICTS) - {"failed"}
    assert schema["properties"]["schema_version"]["enum"][-1] == report.SCHEMA_VERSION


def version_1_document() -> dict:
    """A results.json as version 1 wrote it (before today's verdict classes)."""
    return {"schema_version": 1, "run_id": "1126t063948-d08d", "seed": 7, "context": "kind-kubedrill",
            "environment": {}, "counts": {"passed": 1, "infrastructure error": 1, "skipped": 2}, "leaks": [],
            "scenarios": [
                {"scenario": f"scenarios/test_a.py::test_{i}", "verdict": v, "reason": r, "rto_s": None,
                 "objective_s": None, "objectives": {}, "rpo": None, "availability": None, "timeline": None,
                 "seed": 7, "duration_s": 1.0}
                for i, (v, r) in enumerate([("passed", ""), ("infrastructure error", "cannot reach"),
                                            ("skipped", "Skipped: no snapshot class"), ("skipped", "drain only")])]}


def test_a_version_1_file_stays_valid_and_reads_with_todays_classes(tmp_path):
    old = version_1_document()
    assert report.validate(old) == []
    path = tmp_path / "results.json"
    path.write_text(json.dumps(old))
    new = report.read_results(path)
    assert [r["verdict"] for r in new["scenarios"]] == ["passed", "harness error", "not applicable", "not applicable"]
    assert new["scenarios"][3]["reason"] == "drain only"
    assert new["counts"] == {"passed": 1, "harness error": 1, "not applicable": 2}
    assert new["schema_version"] == report.SCHEMA_VERSION and report.validate(new) == []
    assert report.current_verdict("failed") == report.HARNESS_ERROR
    # today's classes are not version 1's, nor the other way round
    old["scenarios"][0]["verdict"] = "not recovered"
    assert any("scenarios/0/verdict" in p for p in report.validate(old))
    new["scenarios"][0]["verdict"] = "skipped"
    assert any("scenarios/0/verdict" in p for p in report.validate(new))
    assert report.upgraded(new) == new   # the current version is read as it is


def test_the_summary_table_shows_rpo_and_availability_only_when_measured():
    table = report.format_table(rows())
    assert table[0].split() == ["scenario", "verdict", "RTO", "RPO", "availability"]
    assert "2.50s (objective 30s)" in table[2] and "5 rec / 2.0s" in table[3] and "90.0% (outage 1.5s)" in table[3]
    assert report.format_table(rows()[:1])[0].split() == ["scenario", "verdict", "RTO"]


def test_categories_are_the_verdict_classes():
    two = report_allure.categories_allure2()
    assert [c["name"] for c in two] == list(report.VERDICTS)
    lost = next(c for c in two if c["name"] == report.DATA_LOST)
    assert lost["messageRegex"] == r"(?s)\[data lost\].*" and lost["matchedStatuses"] == ["failed"]
    harness = next(c for c in two if c["name"] == report.HARNESS_ERROR)
    assert harness["messageRegex"] == r"(?s)\[(harness error|failed|infrastructure error)\].*"
    three = report_allure.categories_allure3()
    assert [c["name"] for c in three] == list(report.VERDICTS)
    assert three[1]["matchers"] == {"labels": {"verdict": "^objective missed$"}}
    # results of version 1 in the history still fall into today's classes
    applicable = next(c for c in three if c["name"] == report.NOT_APPLICABLE)
    assert applicable["matchers"] == {"labels": {"verdict": "^(not applicable|skipped)$"}}


@pytest.mark.parametrize("verdict", report.VERDICTS)
def test_each_class_gets_its_status_and_message_marker_and_its_category_matches_it(verdict):
    import re

    message = report_allure.status_message(verdict, "kubedrill.errors.Thing: what broke", "what broke")
    status = report_allure.ALLURE_STATUS[verdict]
    matching = []
    for c in report_allure.categories_allure2():
        if status in c["matchedStatuses"] and ("messageRegex" not in c or (
                message is not None and re.fullmatch(c["messageRegex"], message))):
            matching.append(c["name"])
    assert matching == [verdict]
    if verdict == report.PASSED:
        assert message is None
    else:
        assert message == f"[{verdict}] kubedrill.errors.Thing: what broke"
        assert report_allure.status_message(verdict, message, "") == message   # marked once
        assert report_allure.status_message(verdict, None, "the reason") == f"[{verdict}] the reason"


def test_environment_properties_escape_what_needs_it(tmp_path):
    path = report_allure.write_environment(tmp_path, {"nodes": "3: a (worker), b", "odd key=": "x\ny"})
    assert path.read_text() == "nodes=3: a (worker), b\nodd\\ key\\==x\\ny\n"


def test_metrics_give_each_scenario_its_rto_rpo_and_availability():
    ms = report_allure.metrics(rows(), now_ms=10_000)
    keys = {m["key"]: m for m in ms}
    assert keys["rto_s:scenarios/test_a.py::test_ok"]["value"] == 2.5
    assert keys["rto_s:scenarios/test_a.py::test_ok"]["better"] == "lower"
    assert keys["rpo_records:scenarios/test_b.py::test_data"]["value"] == 5
    assert keys["availability:scenarios/test_b.py::test_data"]["better"] == "higher"
    assert all(m["start"] <= m["stop"] == 10_000 and m["id"] for m in ms)


def test_the_timeline_plot_is_a_png():
    png = report_plot.timeline_png(recovery().as_dict(), objective_s=30)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert report_plot.timeline_png({"description": "nothing", "rto_s": None, "timeline": {"marks": []}})[:4] == b"\x89PNG"


def test_text_diagnostics_keep_their_tail_within_the_bound():
    data = report_diagnostics.bounded("x" * 100 + "END", 10)
    assert data.endswith(b"xxxxxxxEND") and data.startswith(b"[... 93 bytes cut")
    assert report_diagnostics.bounded("short", 10) == b"short"


def test_the_kind_export_is_cut_to_its_budget(tmp_path, monkeypatch):
    node = tmp_path / "kubedrill-worker"
    (node / "journal").mkdir(parents=True)
    (node / "kubelet.log").write_bytes(b"k" * 5000)
    (node / "journal" / "system.journal").write_bytes(b"\0" * 5000)   # binary journal: left out
    (node / "dpkg.log").write_text("package noise")                   # not telling: left out
    (node / "pods" / "ns_pod").mkdir(parents=True)
    (node / "pods" / "ns_pod" / "0.log").write_text("pod log")
    monkeypatch.setattr(report_diagnostics, "KIND_FILE_LIMIT", 1000)
    data = report_diagnostics.bounded_tar(tmp_path, "kind-logs-x", "crictl failed", 1)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = sorted(tar.getnames())
        kubelet = tar.extractfile("kind-logs-x/kubedrill-worker/kubelet.log").read()
        readme = tar.extractfile("kind-logs-x/README.kubedrill.txt").read().decode()
    assert names == ["kind-logs-x/README.kubedrill.txt", "kind-logs-x/kubedrill-worker/kubelet.log",
                     "kind-logs-x/kubedrill-worker/pods/ns_pod/0.log"]
    assert kubelet.endswith(b"k" * 1000) and len(kubelet) < 1100
    assert "exit 1" in readme and "crictl failed" in readme


def test_describe_leaves_out_managed_fields_and_lists_the_objects_events():
    obj = report_diagnostics._clean({"metadata": {"name": "web", "uid": "u1", "managedFields": [{"x": 1}]},
                                     "status": {"conditions": [{"type": "Available", "status": "True"}]}})
    text = report_diagnostics.describe_text("Deployment", obj, ["06:40:01  Normal  ScalingReplicaSet  Deployment/web  up"])
    assert "managedFields" not in text and "Condition:  Available=True" in text and "ScalingReplicaSet" in text


def test_a_diagnostic_that_cannot_be_read_says_why():
    def boom():
        raise RuntimeError("connection refused\nmore")
    (a,) = report_diagnostics._safe("nodes", boom)
    assert a.name == "nodes (could not read)" and a.body == b"RuntimeError: connection refused\n"


def item(path: str, module=None, marker=None):
    return SimpleNamespace(module=module, path=Path(path), nodeid=path + "::test_x",
                           get_closest_marker=lambda name: marker if name == "component" else None)


@pytest.mark.parametrize("path, component", [
    ("scenarios/test_replicas.py", "ReplicationController and Deployment"),
    ("scenarios/test_statefulset.py", "StatefulSet"),
    ("scenarios/test_persistentvolume.py", "PersistentVolume"),
    ("scenarios/test_snapshot_restore.py", "snapshot restore"),
    ("scenarios/test_node_loss.py", "node loss"),
    ("scenarios/test_plumbing.py", "plumbing"),
])
def test_the_seed_component_comes_from_the_file_name(path, component):
    assert outcomes.component_of(item(path)) == component


def test_a_marker_or_the_module_names_the_component():
    assert outcomes.component_of(item("scenarios/test_x.py", SimpleNamespace(COMPONENT="PersistentVolume"))) \
        == "PersistentVolume"
    mark = SimpleNamespace(args=("StatefulSet",))
    assert outcomes.component_of(item("scenarios/test_x.py", marker=mark)) == "StatefulSet"


def test_the_objectives_a_scenario_reads_are_noted():
    scenario = SimpleNamespace(stash={})
    obj = outcomes.noted(Objectives(pod_kill_rto_s=12.0), scenario)
    other = Objectives().statefulset_pod_rto_s
    assert isinstance(obj, Objectives) and obj.pod_kill_rto_s == 12.0 and obj.statefulset_pod_rto_s == other
    seen = outcomes.objectives_read(scenario)
    assert seen.as_dict() == {"pod_kill_rto_s": 12.0, "statefulset_pod_rto_s": other}
    assert seen.rto_objective() == 12.0


def test_an_experiments_own_rto_objective_is_its_rto_objective_before_a_workloads():
    from kubedrill.report.objectives import ObjectivesRead
    read = ObjectivesRead((("deployment_web_rto_s", 4.0), ("availability", 0.99), ("rto_s", 6.0)))
    assert read.rto_objective() == 6.0
    assert ObjectivesRead((("deployment_web_rto_s", 4.0),)).rto_objective() == 4.0
    assert ObjectivesRead((("availability", 0.99),)).rto_objective() is None


def test_measurements_are_read_by_their_shape():
    rec = recovery()
    probe = SimpleNamespace(success_ratio=0.95, longest_outage_s=1.25, requests=40)
    run = SimpleNamespace(results=[("t", rec), ("t", Rpo(3, 1.5)), ("t", probe), ("other", recovery(9))], seed=5, times=lambda scope: {})
    it = SimpleNamespace(name="t", nodeid="scenarios/test_a.py::t", stash={}, module=None,
                         path=Path("scenarios/test_a.py"), get_closest_marker=lambda name: None)
    r = outcomes.scenario_result(it, report.PASSED, "", run, 1.0)
    assert r.rto_s == 2.5 and r.rpo == {"records_lost": 3, "seconds_lost": 1.5}
    assert r.availability == {"success_ratio": 0.95, "longest_outage_s": 1.25, "requests": 40}
    assert len(r.recoveries) == 1 and r.seed == 5


def test_the_npm_allure_package_is_pinned_exactly():
    version = report_html.pinned_version(ROOT)
    assert version.count(".") == 2 and version[0].isdigit()
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/allure"]["version"] == version


def test_the_google_analytics_tag_is_taken_out_of_the_report():
    html = ('<body><script src="app.js"></script>\n    <script async src="https://www.googletagmanager.com/gtag/js'
            '?id=G-X"></script>\n    <script>\n        window.dataLayer = window.dataLayer || [];\n'
            '        gtag(\'js\', new Date());\n    </script>\n<script>window.allureReportDataReady = true;</script>')
    out = report_html.without_analytics(html)
    assert "googletagmanager" not in out and "dataLayer" not in out and "allureReportDataReady" in out


def test_without_results_the_html_report_says_what_to_do(tmp_path, capsys):
    assert report_cli.main(["html", "--results", str(tmp_path / "none"), "--output", str(tmp_path / "html"),
                        "--history", str(tmp_path / "h.jsonl")]) == 1
    assert "no Allure results in" in capsys.readouterr().err
    assert report_cli.main(["bogus"]) == 2


# what allure-pytest 2.16 wrote for scenarios/test_plumbing.py before kubedrill tidied it: one
# container per fixture, (befores, afters) as (name, status)
PLUMBING_FIXTURES = {
    "faults": ([("faults", "passed")], [("faults::<lambda>", None)]),
    "pytestconfig": ([("pytestconfig", "passed")], [("pytestconfig::<lambda>", None)]),
    "remaining_clusters_teardown": ([("remaining_clusters_teardown", "passed")],
                                    [("remaining_clusters_teardown::1", "passed"),
                                     ("remaining_clusters_teardown::<lambda>", None)]),
    "_allure_phase_steps": ([("_allure_phase_steps", "passed")],
                            [("_allure_phase_steps::1", "passed"), ("_allure_phase_steps::<lambda>", None)]),
    "drill_scope": ([("drill_scope", "passed")], [("drill_scope::1", "passed"), ("drill_scope::<lambda>", None)]),
    "web": ([("web", "passed")], [("web::<lambda>", None)]),
    "k8s": ([("k8s", "passed")], [("k8s::1", "failed"), ("k8s::<lambda>", None)]),
    "team_db": ([("team_db", "broken")], [("team_db::close_pool", "passed"), ("team_db::<lambda>", "passed"),
                                          ("team_db::<lambda>", None)]),
}
IN_PROJECT = {"faults": True, "pytestconfig": False, "remaining_clusters_teardown": False,
              "_allure_phase_steps": True, "drill_scope": True, "web": True, "k8s": False, "team_db": True}


def tidied(named=frozenset()) -> dict[str, tuple[list, list]]:
    from allure_commons.model2 import TestAfterResult, TestBeforeResult, TestResultContainer

    def shown(name):
        return fixtures_shown.fixture_shown(name, name in named, IN_PROJECT[name])

    out = {}
    for fixture, (befores, afters) in PLUMBING_FIXTURES.items():
        c = TestResultContainer(befores=[TestBeforeResult(name=n, status=s) for n, s in befores],
                                afters=[TestAfterResult(name=n, status=s) for n, s in afters])
        fixtures_shown.tidy_fixtures(c, shown)
        out[fixture] = ([(b.name, b.status) for b in c.befores], [(a.name, a.status) for a in c.afters])
    return out


def test_set_up_and_tear_down_list_the_scenarios_own_fixtures_with_a_status():
    assert tidied() == {
        "faults": ([("faults", "passed")], []),
        "pytestconfig": ([], []),                   # pytest's
        "remaining_clusters_teardown": ([], []),    # pytest-kubernetes'
        "_allure_phase_steps": ([], []),            # kubedrill's, private
        "drill_scope": ([("drill_scope", "passed")], [("drill_scope", "passed")]),
        "web": ([("web", "passed")], []),
        "k8s": ([], []),
        # a team's fixture: its failed set-up, a named finalizer and its own lambda (finished) stay
        "team_db": ([("team_db", "broken")], [("team_db::close_pool", "passed"), ("team_db", "passed")]),
    }
    # a plugin's fixture the scenario names itself is its own: shown, with its tear-down's status
    assert tidied(named={"k8s"})["k8s"] == ([("k8s", "passed")], [("k8s", "failed")])


def test_a_fixture_is_the_projects_when_its_file_is_under_the_root_and_not_installed(tmp_path):
    import _pytest.fixtures

    assert fixtures_shown.defined_in_project(ROOT / "fixtures" / "replicas.py", ROOT)
    assert not fixtures_shown.defined_in_project(_pytest.fixtures.__file__, ROOT)
    venv = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages" / "pytest_kubernetes" / "plugin.py"
    assert not fixtures_shown.defined_in_project(venv, tmp_path)   # a virtualenv inside the project
    assert not fixtures_shown.defined_in_project(ROOT / "fixtures" / "replicas.py", tmp_path)
    assert not fixtures_shown.defined_in_project(None, ROOT)


def test_allure_pytest_writes_only_the_scenarios_own_fixtures_with_a_status(pytester):
    """Real allure-pytest on a real pytest run (no cluster): kubedrill's reporting plugin tidies
    each container it writes."""
    pytester.makeconftest("""
        import pytest
        pytest_plugins = ["fixtures.options", "fixtures.reporting"]

        @pytest.fixture(autouse=True, scope="session")
        def _private(pytestconfig):
            yield

        @pytest.fixture
        def db(request):
            request.addfinalizer(lambda: None)
            yield "db"
    """)
    pytester.makepyfile(test_x="def test_x(db, tmp_path):\n    assert db == 'db'\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--alluredir", "allure")
    assert result.ret == 0, result.outlines
    seen = []
    for path in sorted((pytester.path / "allure").glob("*-container.json")):
        c = json.loads(path.read_text())
        seen += [(kind, f["name"], f.get("status")) for kind in ("befores", "afters") for f in c.get(kind, [])]
    # db: its set-up, its own tear-down and its lambda finalizer (both titled db); tmp_path: named
    # by the test; not pytestconfig, tmp_path_factory, _private, remaining_clusters_teardown
    assert sorted(seen, key=str) == [
        ("afters", "db", "passed"), ("afters", "db", "passed"), ("afters", "tmp_path", "passed"),
        ("befores", "db", "passed"), ("befores", "tmp_path", "passed")], seen
