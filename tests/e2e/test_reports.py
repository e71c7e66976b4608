"""Reports people read (issue 8), checked after real drill runs on the kind cluster.

Two drill runs in subprocesses share one reports directory, as two nights of a game day would:
run 1 is scenarios/test_plumbing.py plus tests/e2e/drills/drill_report.py (objective missed,
data lost, not applicable), run 2 is scenarios/test_plumbing.py again. After each, ``python -m
kubedrill.report html`` builds the HTML report (npm allure 3), which headless Chromium loads
from a local web server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubedrill import defaults, guard
from kubedrill.report import results as kreport
from kubedrill.report import diagnostics as report_diagnostics
from kubedrill.report import trends
from kubedrill.report.allure import TRENDS_NAME as TRENDS
from kubedrill.wait import ApiSource, Check, wait_for
from tests.e2e import browser as kbrowser
from tests.e2e.conftest import ROOT, Drill

pytestmark = pytest.mark.e2e

PLUMBING = "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod"
MISSED = "tests/e2e/drills/drill_report.py::test_recovery_misses_an_impossible_objective"
LOST = "tests/e2e/drills/drill_report.py::test_data_is_lost_on_purpose"
SKIPPED = "tests/e2e/drills/drill_report.py::test_skipped_with_a_reason"


@dataclass
class Night:
    drill: Drill
    rc: int
    results: dict
    allure: Path
    html: Path
    build: subprocess.CompletedProcess


LOCK_BUSY = "holds the cluster-wide drill lock"
TURN_S = 1800  # how long a drill run waits its turn on a cluster other drills are using


def _lock_free(clients, timeout_s: float) -> None:
    """Wait (a watch) until no drill holds the cluster-wide lock."""
    src = ApiSource(clients.coordination.list_namespaced_lease, guard.LOCK_NAMESPACE,
                    field_selector=f"metadata.name={guard.LOCK_NAME}")
    wait_for(src, lambda items: Check(not items, f"held by {items[0]['spec'].get('holderIdentity')}" if items else "free"),
             description="the drill lock to be free", timeout_s=timeout_s)


def _run_in_turn(clients, tmp: Path, args: list[str]) -> tuple[Drill, int]:
    """A drill run in a subprocess; when another drill holds the lock, wait for it and retry."""
    deadline = time.monotonic() + TURN_S
    attempt = 0
    while True:
        _lock_free(clients, max(1.0, deadline - time.monotonic()))
        attempt += 1
        run_dir = tmp / f"try{attempt}"
        run_dir.mkdir()
        d = Drill(run_dir, list(args), {})
        rc = d.run()
        if rc == 0 or LOCK_BUSY not in d.output or time.monotonic() > deadline:
            return d, rc


def _build(base: Path, tmp: Path, output: Path | None = None) -> subprocess.CompletedProcess:
    """`make report` of one run: the HTML report, the Allure history and the RTO/RPO trend."""
    return subprocess.run(
        [sys.executable, "-m", "kubedrill.report", "html", "--results", str(tmp / "allure"),
         "--output", str(output or base / "html"), "--history", str(base / "history" / "allure-history.jsonl"),
         "--results-json", str(tmp / "reports" / "results.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=900)


def _night(clients, base: Path, name: str, *args: str) -> Night:
    tmp = base / name
    tmp.mkdir()
    d, rc = _run_in_turn(clients, tmp, list(args))
    tmp = d.tmp
    build = _build(base, tmp)
    path = tmp / "reports" / "results.json"
    if not path.is_file():
        pytest.fail(f"the drill run wrote no results.json (exit {rc}):\n{d.output[-4000:]}")
    results = json.loads(path.read_text())
    return Night(d, rc, results, d.tmp / "allure", base / "html", build)


@pytest.fixture(scope="module")
def nights(tmp_path_factory, clients):
    base = tmp_path_factory.mktemp("reports")
    first = _night(clients, base, "night1", PLUMBING.split("::")[0], "tests/e2e/drills/drill_report.py")
    first_html = base / "html-night1"
    if first.html.exists():
        first.html.rename(first_html)  # the second build replaces reports/html; keep the first to look at
        first.html = first_html
    second = _night(clients, base, "night2", PLUMBING.split("::")[0])
    return first, second


def _allure_results(path: Path) -> dict[str, dict]:
    """allure-pytest's results of a run, by test name."""
    results = [json.loads(f.read_text()) for f in path.glob("*-result.json")]
    return {r["name"]: r for r in results}


def test_the_run_ends_with_results_json_junit_and_the_summary_table(nights):
    first, _ = nights
    assert first.rc == 10, first.drill.output[-4000:]  # two scenarios fail on purpose: the worst, data lost
    assert (first.drill.tmp / "reports" / "verdict").read_text() == "10 data lost\n"
    rows = {r["scenario"]: r for r in first.results["scenarios"]}
    assert set(rows) == {PLUMBING, MISSED, LOST, SKIPPED}, rows.keys()
    assert rows[PLUMBING]["verdict"] == "passed" and rows[PLUMBING]["rto_s"] > 0
    held_to = defaults.OBJECTIVES["pod_kill_rto_s"]  # the generated default (benchmarks/objectives.py)
    assert rows[PLUMBING]["objective_s"] == held_to and rows[PLUMBING]["objectives"] == {"pod_kill_rto_s": held_to}
    assert [m["name"] for m in rows[PLUMBING]["timeline"]["marks"]][0] == "fault"
    assert "Ready" in [m["name"] for m in rows[PLUMBING]["timeline"]["marks"]]
    assert rows[MISSED]["verdict"] == "objective missed" and "exceeds the objective" in rows[MISSED]["reason"]
    assert rows[MISSED]["timeline"] is not None and rows[MISSED]["component"] == "ReplicationController and Deployment"
    assert rows[MISSED]["objective_s"] == 0.0001  # recorded with the drill_report fixture
    assert rows[LOST]["verdict"] == "data lost" and "records 1–5 missing" in rows[LOST]["reason"]
    assert rows[LOST]["component"] == "StatefulSet"
    assert rows[SKIPPED]["verdict"] == "not applicable" and "the report shows the reason" in rows[SKIPPED]["reason"]
    assert all(r["seed"] == first.results["seed"] for r in rows.values())
    assert first.results["environment"]["kubernetes"].startswith("v1.")
    # the summary table closes the run
    out = first.drill.output
    summary = out[out.index("kubedrill summary"):]
    for scenario, verdict in ((PLUMBING, "passed"), (MISSED, "objective missed"), (LOST, "data lost"),
                              (SKIPPED, "not applicable")):
        assert any(scenario in line and verdict in line for line in summary.splitlines()), summary
    # JUnit
    suite = ET.parse(first.drill.tmp / "junit.xml").getroot()
    cases = {f"{c.get('classname')}::{c.get('name')}": c for c in suite.iter("testcase")}
    assert len(cases) == 4, list(cases)
    assert sum(1 for c in cases.values() if c.find("failure") is not None) == 2


def test_results_json_validates_against_the_schema(nights):
    for night in nights:
        assert kreport.validate(night.results) == [], night.results
    broken = json.loads(json.dumps(nights[0].results))
    broken["scenarios"][0]["verdict"] = "fine"          # not a verdict class
    del broken["scenarios"][0]["rto_s"]
    problems = kreport.validate(broken)
    assert any("fine" in p for p in problems) and any("rto_s" in p for p in problems), problems
    cli = subprocess.run([sys.executable, "-m", "kubedrill.report", "validate",
                          str(nights[0].drill.tmp / "reports" / "results.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and "is valid" in cli.stdout, cli.stdout + cli.stderr


def test_allure_results_carry_environment_categories_labels_and_steps(nights):
    first, _ = nights
    env = (first.allure / "environment.properties").read_text()
    for key in ("kubernetes=v1.", "nodes=3: ", "csi_driver=", "kind=kind v", f"run_id={first.results['run_id']}",
                f"seed={first.results['seed']}"):
        assert key in env, env
    names = [c["name"] for c in json.loads((first.allure / "categories.json").read_text())]
    assert names == list(kreport.VERDICTS)
    by_name = _allure_results(first.allure)
    plumbing = by_name["test_deployment_replaces_a_killed_pod"]
    labels = {(lbl["name"], lbl["value"]) for lbl in plumbing["labels"]}
    assert ("verdict", "passed") in labels and ("feature", "plumbing") in labels
    assert any(n == "severity" for n, _ in labels)
    assert any("scenarios/test_plumbing.py:" in link["name"] for link in plumbing["links"])
    assert [s["name"].split(":")[0] for s in plumbing["steps"]] == ["fault", "recover", "verify"]
    arrange = [s["name"] for c in _containers(first.allure, plumbing["uuid"]) for b in c.get("befores", [])
               for s in b.get("steps", [])]
    assert "arrange: deploying" in arrange, arrange
    # set-up and tear-down: the scenario's own fixtures, each with a status; kubedrill's phases in them
    fixtures = _fixtures(first.allure, plumbing["uuid"])
    assert ("before", "web", "passed", ("arrange: deploying",)) in fixtures, fixtures
    assert ("after", "drill_scope", "passed", ("teardown: tearing down",)) in fixtures, fixtures
    for night in nights:
        assert _fixture_problems(night.allure) == []
    attachments = {a["name"]: a for a in plumbing["attachments"]}
    assert any(n.startswith("recovery timeline (plot)") for n in attachments), attachments
    assert any(n.startswith("recovery timeline: ") and a["type"] == "application/json" for n, a in attachments.items())
    assert any(n.startswith("events: namespace kd-") for n in attachments)
    missed = by_name["test_recovery_misses_an_impossible_objective"]
    assert missed["statusDetails"]["message"].startswith("[objective missed] ")
    assert ("verdict", "objective missed") in {(lbl["name"], lbl["value"]) for lbl in missed["labels"]}


# what allure-pytest lists of pytest itself and its plugins unless kubedrill tidies it (issue 19)
INTERNAL_FIXTURES = ("pytestconfig", "remaining_clusters_teardown", "_allure_")
KNOWN_STATUSES = ("passed", "failed", "broken", "skipped")


def _fixtures(path: Path, uuid: str) -> list[tuple]:
    """(before|after, name, status, step names) of every set-up and tear-down of one result."""
    return [(kind[:-1], f["name"], f.get("status"), tuple(s["name"] for s in f.get("steps", [])))
            for c in _containers(path, uuid) for kind in ("befores", "afters") for f in c.get(kind, [])]


def _fixture_problems(path: Path) -> list[str]:
    """Set-ups and tear-downs of a run's Allure results that name pytest's internals or have no
    known status."""
    problems = []
    for f in sorted(path.glob("*-container.json")):
        for kind in ("befores", "afters"):
            for fixture in json.loads(f.read_text()).get(kind, []):
                name, status = fixture.get("name", ""), fixture.get("status")
                if name.startswith(INTERNAL_FIXTURES) or "<lambda>" in name:
                    problems.append(f"{f.name}: {kind} {name!r}")
                if status not in KNOWN_STATUSES:
                    problems.append(f"{f.name}: {kind} {name!r} has status {status!r}")
    return problems


def _containers(path: Path, uuid: str) -> list[dict]:
    out = []
    for f in path.glob("*-container.json"):
        c = json.loads(f.read_text())
        if uuid in c.get("children", []):
            out.append(c)
    return out


def test_a_failing_scenario_carries_the_cluster_diagnostics(nights):
    first, _ = nights
    missed = _allure_results(first.allure)["test_recovery_misses_an_impossible_objective"]
    att = {a["name"]: first.allure / a["source"] for a in missed["attachments"]}
    names = list(att)

    def one(prefix: str) -> list[Path]:
        found = [att[n] for n in names if n.startswith(prefix)]
        assert found, f"no attachment {prefix!r} among {names}"
        return found

    events = one("events: namespace kd-")[0].read_text()
    assert "Killing" in events or "SuccessfulCreate" in events, events[:2000]
    logs = one("logs: kd-")
    assert len(logs) >= 3  # one per pod of the Deployment
    describe = one("describe: namespace kd-")[0].read_text()
    assert "Kind:       Deployment" in describe and "Kind:       Pod" in describe and "managedFields" not in describe
    nodes = one("nodes: conditions and taints")[0].read_text()
    assert nodes.count("Node kubedrill-") == 3 and "Taints:" in nodes and "Ready" in nodes
    assert one("VolumeAttachments")[0].read_text().split()[1] == "VolumeAttachment(s)"
    csi = one("CSI driver logs")
    assert any("container" in p.read_text() for p in csi)
    one("snapshot controller logs")
    (kind_tar,) = one("kind logs: kubedrill")
    with tarfile.open(kind_tar, "r:gz") as tar:
        members = tar.getnames()
        sizes = [m.size for m in tar.getmembers()]
    assert sum(1 for m in members if m.endswith("/kubelet.log")) == 3, members[:50]
    assert any(m.endswith("README.kubedrill.txt") for m in members)
    # bounded: every text within its limit, the kind export within its budget
    for name, path in att.items():
        size = path.stat().st_size
        if name.startswith("kind logs"):
            assert sum(sizes) <= report_diagnostics.KIND_TOTAL_LIMIT + 4096
        else:
            assert size <= 2 * report_diagnostics.TEXT_LIMIT + 200, (name, size)
    # a passing scenario carries its events but none of the failure diagnostics
    plumbing = _allure_results(first.allure)["test_deployment_replaces_a_killed_pod"]
    assert not [a for a in plumbing["attachments"] if a["name"].startswith(("kind logs", "nodes:", "describe:"))]


def test_two_runs_give_a_history_of_two_points(nights):
    first, second = nights
    assert first.build.returncode == 0, first.build.stdout + first.build.stderr
    assert second.build.returncode == 0, second.build.stdout + second.build.stderr
    assert "history: 1 run," in first.build.stdout and "history: 2 runs," in second.build.stdout
    history = Path(second.html).parent / "history" / "allure-history.jsonl"
    points = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    assert len(points) == 2
    key = f"rto_s:{PLUMBING}"
    rtos = [p["metrics"][key] for p in points]
    assert all(v > 0 for v in rtos), rtos  # the scenario's RTO, night after night
    assert rtos[0] == pytest.approx(next(r["rto_s"] for r in first.results["scenarios"] if r["scenario"] == PLUMBING),
                                    abs=1e-3)


def _row(night: Night, scenario: str) -> dict:
    return next(r for r in night.results["scenarios"] if r["scenario"] == scenario)


def test_the_rto_trend_holds_each_night_once_with_its_objective(nights, tmp_path):
    first, second = nights
    assert "RTO/RPO trend: 2 runs," in second.build.stdout, second.build.stdout + second.build.stderr
    # make report again for the second night (on a copy: Allure's own history would count it twice,
    # and the browser test reads it): it is in the trend once
    again_dir = tmp_path / "again"
    shutil.copytree(Path(second.html).parent / "history", again_dir / "history")
    again = _build(again_dir, second.drill.tmp)
    trend = again_dir / "history" / trends.HISTORY_NAME
    assert again.returncode == 0 and "RTO/RPO trend: 2 runs," in again.stdout, again.stdout + again.stderr
    history = trends.read_history(trend)
    assert [r["run_id"] for r in history] == [first.results["run_id"], second.results["run_id"]]
    by_name = {s.scenario: s for s in trends.series(history)}
    plumbing = by_name[PLUMBING]
    assert plumbing.rto_s == (_row(first, PLUMBING)["rto_s"], _row(second, PLUMBING)["rto_s"])
    held_to = defaults.OBJECTIVES["pod_kill_rto_s"]
    assert plumbing.rto_objective_s == (held_to, held_to) and plumbing.verdicts == ("passed", "passed")
    assert by_name[MISSED].verdicts == ("objective missed", None) and by_name[MISSED].rto_objective_s[0] == 0.0001


@pytest.fixture(scope="module")
def chromium():
    try:
        return kbrowser.find_chromium()
    except kbrowser.Unavailable as exc:
        pytest.skip(str(exc))


# the tree opens sections with failures; open the others (a section is open when its content follows it)
EXPAND = """(() => { let n = 0; for (const s of document.querySelectorAll('[data-testid=tree-section]')) {
    const next = s.nextElementSibling;
    if (!next || next.dataset.testid !== 'tree-content') { s.querySelector('[data-testid=tree-arrow]').click(); n++; }
  } return n; })()"""


def _leaves(b: kbrowser.Browser, want: int) -> dict[str, str]:
    """{title: (status, id)} of the results in the report's tree, every section opened."""
    b.wait_for("document.querySelectorAll('[data-testid=tree-section]').length >= 1", "the tree of results")
    b.evaluate(EXPAND)
    b.wait_for(f"document.querySelectorAll('[data-testid=tree-leaf]').length >= {want}", f"{want} results in the tree")
    leaves = b.evaluate("""[...document.querySelectorAll('[data-testid=tree-leaf]')].map(l => [
        l.querySelector('[data-testid=tree-leaf-title]').innerText,
        (l.querySelector('[data-testid^=tree-leaf-status-]') || {dataset: {testid: ''}}).dataset.testid
            .replace('tree-leaf-status-', ''), l.id])""")
    return {title: (status, leaf_id) for title, status, leaf_id in leaves}


def test_the_html_report_in_a_browser(nights, chromium):
    first, second = nights
    with kbrowser.StaticServer(first.html) as srv, kbrowser.Browser(chromium) as b:
        b.navigate(srv.url + "index.html")
        leaves = _leaves(b, 5)
        # every scenario of the run, with its status, and the RTO/RPO trend
        assert {t: s for t, (s, _) in leaves.items()} == {
            "test_deployment_replaces_a_killed_pod": "passed",
            "test_recovery_misses_an_impossible_objective": "failed",
            "test_data_is_lost_on_purpose": "failed",   # the workload failed (a harness error: broken)
            "test_skipped_with_a_reason": "skipped",
            TRENDS: "passed",
        }, leaves
        page = b.text()
        assert "kubernetes" in page and first.results["run_id"] in page  # environment.properties
        # a failed scenario shows its verdict class
        b.navigate(srv.url + "index.html#" + leaves["test_recovery_misses_an_impossible_objective"][1])
        b.wait_for("document.body.innerText.includes('Category: objective missed')", "the verdict class")
        assert "[objective missed] AssertionError: deliberately failing" in b.text()
        b.navigate(srv.url + "index.html#" + leaves["test_data_is_lost_on_purpose"][1])
        b.wait_for("document.body.innerText.includes('Category: data lost')", "the data-lost verdict class")
        # the timeline image of one scenario loads
        b.navigate(srv.url + "index.html#" + leaves["test_deployment_replaces_a_killed_pod"][1])
        b.wait_for("[...document.querySelectorAll('button')].some(e => e.innerText.includes('recovery timeline (plot)'))",
                   "the timeline attachment")
        b.evaluate("[...document.querySelectorAll('button')].find(e => e.innerText.includes('recovery timeline (plot)')).click()")
        width, height = b.wait_for(
            "(() => { const i = [...document.querySelectorAll('img')].find(i => i.complete && i.naturalWidth > 0);"
            " return i ? [i.naturalWidth, i.naturalHeight] : null; })()", "the timeline image to load")
        assert width > 0 and height > 0
    # the second night's report: the scenario's history holds the first night; the trend plots both
    with kbrowser.StaticServer(second.html) as srv, kbrowser.Browser(chromium) as b:
        b.navigate(srv.url + "index.html")
        leaves = _leaves(b, 2)
        assert set(leaves) == {"test_deployment_replaces_a_killed_pod", TRENDS}
        b.navigate(srv.url + "index.html#" + leaves[TRENDS][1])
        plot = f"{PLUMBING}: RTO and RPO over runs"
        b.wait_for(f"[...document.querySelectorAll('button')].some(e => e.innerText.includes({plot!r}))",
                   "the plumbing scenario's trend plot")
        b.evaluate(f"[...document.querySelectorAll('button')].find(e => e.innerText.includes({plot!r})).click()")
        width, height = b.wait_for(
            "(() => { const i = [...document.querySelectorAll('img')].find(i => i.complete && i.naturalWidth > 0);"
            " return i ? [i.naturalWidth, i.naturalHeight] : null; })()", "the trend plot to load")
        assert width == 800 and height > 200
        b.navigate(srv.url + "index.html#" + leaves["test_deployment_replaces_a_killed_pod"][1])
        b.wait_for("[...document.querySelectorAll('button')].some(e => /^History\\s*1$/.test(e.innerText.trim()))",
                   "one earlier run in the scenario's history")
