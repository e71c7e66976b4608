"""Drill results in Prometheus, with the real components (docs/metrics.md): the Pushgateway and
Prometheus that `make monitoring` builds, started here on loopback; a real drill pushes to the
gateway (`--pushgateway`), Prometheus scrapes it (`honor_labels: true`), and every `expr` of
dashboards/*.json returns series for every scenario of the run. promtool checks the run's
reports/metrics.prom, the alerting rules, and runs their tests; each check is shown to fail on a
broken input. A push that fails makes the run a harness error (exit 15), with a warning."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kubedrill import pins
from kubedrill.report import metrics
from kubedrill.report.results import MEASURED
from tests.e2e.conftest import ROOT, Drill, leftovers
from tests.e2e.processes import stop, until
from tests.unit.metrics_labels import problems

pytestmark = pytest.mark.e2e

RULES = ROOT / "deploy" / "prometheus"
DASHBOARDS = ROOT / "dashboards"
# the quickest scenario that measures everything the dashboard draws (RTO, RPO, their objectives)
# on a StorageClass: the file writer restored from a snapshot (about 8 s)
SCENARIO = "scenarios/test_snapshot_restore.py::test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut"
CLASS = "kubedrill-hostpath"
UP_S = 60          # a component answers /-/ready
SCRAPED_S = 60     # Prometheus has scraped what the run pushed (1 s scrape interval)
LOCK_WAIT_S = "1800"   # the cluster is shared: wait for another drill's lock


def tool(name: str) -> str:
    """A pinned binary `make monitoring` built (never one from PATH)."""
    version = pins.load()["PUSHGATEWAY_VERSION" if name == "pushgateway" else "PROMETHEUS_VERSION"]
    path = Path(os.environ.get("KUBEDRILL_CACHE") or Path.home() / ".cache" / "kubedrill") / "bin" / f"{name}-{version}"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: `make monitoring` builds it (make test-e2e does)", pytrace=False)
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout_s: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as answer:
        return answer.read()


class Component:
    def __init__(self, name: str, args: list[str], port: int, tmp: Path):
        self.name, self.url, self.log = name, f"http://127.0.0.1:{port}", tmp / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([tool(name), *args], stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        until(f"{name} ready", UP_S, lambda: get(self.url + "/-/ready") or None, self.proc, self.log)

    def stop(self) -> None:
        stop(self.proc)


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory):
    """The Pushgateway and a Prometheus scraping it every second, on free loopback ports."""
    tmp = tmp_path_factory.mktemp("monitoring")
    gw_port, prom_port = free_port(), free_port()
    started = []
    try:
        gateway = Component("pushgateway", [f"--web.listen-address=127.0.0.1:{gw_port}"], gw_port, tmp)
        started.append(gateway)
        (tmp / "prometheus.yml").write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES / "rules.yaml")],
            "scrape_configs": [{"job_name": "pushgateway", "honor_labels": True,
                                "static_configs": [{"targets": [f"127.0.0.1:{gw_port}"]}]}]}))
        prometheus = Component("prometheus", [f"--config.file={tmp / 'prometheus.yml'}",
                                              f"--storage.tsdb.path={tmp / 'data'}",
                                              f"--web.listen-address=127.0.0.1:{prom_port}"], prom_port, tmp)
        started.append(prometheus)
        yield gateway, prometheus
    finally:
        for c in reversed(started):
            c.stop()


def query(prometheus: Component, expr: str) -> list[dict]:
    body = json.loads(get(prometheus.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


@pytest.fixture(scope="module")
def pushed(monitoring, tmp_path_factory, clients):
    """One real drill pushed to the gateway, and Prometheus having scraped it: (results, metrics.prom)."""
    gateway, prometheus = monitoring
    tmp = tmp_path_factory.mktemp("drill")
    d = Drill(tmp, [SCENARIO.split("::")[0], "-k", SCENARIO.split("::")[1], "--storage-class", CLASS,
                    "--pushgateway", gateway.url, "--wait-for-lock", LOCK_WAIT_S], {})
    rc = d.run()
    reports = tmp / "reports"
    assert (reports / "results.json").is_file(), f"exit {rc}:\n{d.output[-4000:]}"
    results = json.loads((reports / "results.json").read_text())
    assert leftovers(clients, results["run_id"], tmp / "state") == []
    assert f"metrics pushed to {gateway.url}" in d.output, d.output[-4000:]
    verdicts = [r["verdict"] for r in results["scenarios"]]
    assert len(verdicts) == 1 and verdicts[0] in MEASURED, (rc, results["scenarios"], d.output[-4000:])
    prom = (reports / metrics.FILE).read_text()
    stamp = next(s.value for f in text_string_to_metric_families(prom) for s in f.samples
                 if s.name == "kubedrill_run_last_timestamp_seconds")

    def scraped():
        got = query(prometheus, f'kubedrill_run_last_timestamp_seconds{{job="kubedrill",cluster="{results["context"]}"}}')
        return got if got and float(got[0]["value"][1]) == stamp else None
    until("Prometheus scraped the pushed run", SCRAPED_S, scraped)
    return results, reports / metrics.FILE


def dashboard_exprs() -> list[tuple[str, str]]:
    """(where, expr) of every `expr` in dashboards/*.json, read from the files."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append((f"{where}: {node.get('refId', '')}", node["expr"]))
            for key, value in node.items():
                walk(value, f"{where} / {node['title']}" if key == "targets" and "title" in node else where)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)
    for path in sorted(DASHBOARDS.glob("*.json")):
        walk(json.loads(path.read_text()), path.name)
    return found


def substituted(expr: str, cluster: str) -> str:
    """Grafana's template variables as a user choosing the run's cluster and "All" would have them."""
    out = expr.replace("${cluster}", cluster).replace("$cluster", cluster)
    for name in ("storage_class", "scenario"):
        out = out.replace("${%s}" % name, ".*").replace(f"${name}", ".*")
    return out


def test_the_dashboards_have_queries_and_none_left_with_a_variable():
    exprs = dashboard_exprs()
    assert len(exprs) >= 10, exprs
    for where, expr in exprs:
        assert "$" not in substituted(expr, "c"), (where, expr)


def series_problems(prometheus: Component, exprs, results: dict) -> list[str]:
    """Each expr (a dashboard's, variables substituted) that returns no series, or none for a
    scenario of the run."""
    scenarios = {metrics.scenario_id(r) for r in results["scenarios"]}
    out = []
    for where, expr in exprs:
        got = query(prometheus, substituted(expr, results["context"]))
        seen = {s["metric"].get("scenario") for s in got}
        if not got:
            out.append(f"{where}: {expr}: empty")
        elif not scenarios <= seen:
            out.append(f"{where}: {expr}: no series for {sorted(scenarios - seen)}")
    return out


def test_every_dashboard_query_returns_series_for_every_scenario_of_the_run(pushed, monitoring):
    assert series_problems(monitoring[1], dashboard_exprs(), pushed[0]) == []


@pytest.mark.parametrize("expr, says", [
    ('kubedrill_scenario_rto_second{cluster=~"$cluster"}', "empty"),                       # a typo
    ('kubedrill_scenario_availability_ratio{scenario=~"$scenario"}', "empty"),             # not measured by the run
    ('max by (cluster) (kubedrill_scenario_rto_seconds{cluster=~"$cluster"})', "no series for"),  # scenario dropped
])
def test_the_dashboard_check_fails_on_a_query_without_the_runs_scenarios(pushed, monitoring, expr, says):
    found = series_problems(monitoring[1], [("broken", expr)], pushed[0])
    assert len(found) == 1 and says in found[0], found


def test_the_pushed_series_carry_the_grouping_key_and_the_run_figures(pushed, monitoring):
    results, _ = pushed
    _, prometheus = monitoring
    row = results["scenarios"][0]
    got = query(prometheus, "kubedrill_scenario_rto_seconds")
    assert len(got) == 1
    labels = got[0]["metric"]
    assert labels == {"__name__": "kubedrill_scenario_rto_seconds", "job": "kubedrill", "cluster": results["context"],
                      "scenario": SCENARIO, "storage_class": CLASS}, labels
    assert float(got[0]["value"][1]) == row["rto_s"]
    rpo = query(prometheus, "kubedrill_scenario_rpo_records")
    assert float(rpo[0]["value"][1]) == row["rpo"]["records_lost"]
    # the rules are loaded and evaluated against the pushed run: it just ran, so no "no recent drill"
    rules = json.loads(get(prometheus.url + "/api/v1/rules"))["data"]["groups"]
    names = {r["name"]: r for g in rules for r in g["rules"]}
    assert set(names) == {"KubedrillScenarioFailed", "KubedrillNoRecentDrill", "KubedrillRtoNearObjective"}
    assert names["KubedrillNoRecentDrill"]["health"] != "err"


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([tool("promtool"), *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_promtool_check_metrics_passes_on_the_runs_metrics_prom_and_fails_on_a_broken_one(pushed):
    results, path = pushed
    text = path.read_text()
    done = promtool("check", "metrics", stdin=text)
    assert done.returncode == 0, done.stdout + done.stderr
    found = [(s.name, s.labels) for f in text_string_to_metric_families(text) for s in f.samples]
    assert problems(found, results) == []
    broken = text + "# HELP kubedrill_scenario_rto_milliseconds x\n# TYPE kubedrill_scenario_rto_milliseconds gauge\n" \
                    "kubedrill_scenario_rto_milliseconds 1\n"
    done = promtool("check", "metrics", stdin=broken)
    assert done.returncode != 0 and "milliseconds" in done.stdout + done.stderr


def test_promtool_checks_the_rules_and_their_tests_pass():
    done = promtool("check", "rules", str(RULES / "rules.yaml"))
    assert done.returncode == 0 and "SUCCESS: 3 rules found" in done.stdout, done.stdout + done.stderr
    done = promtool("test", "rules", str(RULES / "rules_test.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    # a firing and a non-firing case for every alert
    text = (RULES / "rules_test.yaml").read_text()
    for alert in re.findall(r"- alert: (\w+)", (RULES / "rules.yaml").read_text()):
        cases = re.findall(rf"alertname: {alert}\n\s+exp_alerts:(.*?)(?=\n\s+- eval_time|\n\s+- interval|\Z)", text, re.S)
        assert any(c.strip() == "[]" for c in cases) and any(c.strip() != "[]" for c in cases), alert


@pytest.mark.parametrize("alert, old, new", [
    ("KubedrillScenarioFailed", '!~"passed|not applicable"', '!~"passed|not applicable|data lost"'),
    ("KubedrillScenarioFailed", '!~"passed|not applicable"', '!~"data lost"'),
    ("KubedrillNoRecentDrill", "26 * 3600", "28 * 3600"),
    ("KubedrillNoRecentDrill", "26 * 3600", "24 * 3600"),
    ("KubedrillNoRecentDrill", '\n          or\n          absent(kubedrill_run_last_timestamp_seconds{job="kubedrill"})', ""),
    ("KubedrillRtoNearObjective", ">= 3", ">= 4"),
    ("KubedrillRtoNearObjective", ">= 3", ">= 2"),
])
def test_the_rule_tests_fail_on_a_broken_rule(tmp_path, alert, old, new):
    rules = (RULES / "rules.yaml").read_text()
    assert old in rules
    (tmp_path / "rules.yaml").write_text(rules.replace(old, new, 1))
    shutil.copy(RULES / "rules_test.yaml", tmp_path / "rules_test.yaml")
    done = promtool("test", "rules", str(tmp_path / "rules_test.yaml"))
    assert done.returncode != 0 and alert in done.stdout + done.stderr, done.stdout + done.stderr


def test_a_push_that_fails_makes_the_run_a_harness_error_with_a_warning(tmp_path, clients):
    url = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    d = Drill(tmp_path, ["scenarios/test_plumbing.py", "--pushgateway", url, "--wait-for-lock", LOCK_WAIT_S], {})
    rc = d.run()
    reports = tmp_path / "reports"
    results = json.loads((reports / "results.json").read_text())
    assert leftovers(clients, results["run_id"], tmp_path / "state") == []
    assert [r["verdict"] for r in results["scenarios"]] == ["passed"], d.output[-4000:]
    assert rc == 15 and (reports / "verdict").read_text() == "15 harness error\n", d.output[-4000:]
    assert f"WARNING: could not read the Pushgateway {url}/metrics" in d.output
    assert f"WARNING: could not push the metrics to the Pushgateway {url}" in d.output
    assert f"METRICS: could not push the metrics to the Pushgateway {url}" in d.output   # in the summary
    assert (reports / metrics.FILE).is_file()   # the textfile is written all the same


def test_the_count_of_runs_near_the_objective_goes_on_from_what_the_gateway_holds(tmp_path):
    """Four runs pushed to a real Pushgateway as a drill pushes them (the previous count read from
    the gateway, then the PUT): near the objective three times (1, 2, 3), then not (0); another
    cluster's push counts on its own."""
    gateway = Component("pushgateway", [f"--web.listen-address=127.0.0.1:{(port := free_port())}"], port, tmp_path)
    try:
        def run(cluster: str, rto_s: float) -> float:
            doc = {"run_id": "0101t000000-abcd", "seed": 7, "context": cluster, "scenarios": [
                {"scenario": "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod", "verdict": "passed",
                 "rto_s": rto_s, "objective_s": 2.0, "storage_class": ""}]}
            before = metrics.previous_streaks(cluster, tmp_path / "unused.prom", gateway.url, 5)
            metrics.push(gateway.url, metrics.registry(doc, time.time(), 1.0, before), cluster, 5)
            return metrics.streaks(get(gateway.url + "/metrics").decode(), cluster)[
                ("scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod", "")]
        assert [run("kind-a", 1.9), run("kind-a", 1.7), run("kind-b", 1.8), run("kind-a", 1.61)] == [1, 2, 1, 3]
        assert run("kind-a", 1.5) == 0     # 75 % of the objective
        assert run("kind-b", 1.9) == 2
    finally:
        gateway.stop()
