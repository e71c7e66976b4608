"""``python -m kubedrill.report html``: the HTML report, built with the npm ``allure`` 3 CLI.

- The CLI is the exact version of package.json/package-lock.json, installed on demand into
  node_modules/ (``npm ci``; git-ignored). Node and npm must be installed.
- Input: reports/allure-results (allure-pytest's files plus kubedrill's environment.properties,
  categories.json and kubedrill-perf.json). Output: reports/html (index.html).
- History: reports/history/allure-history.jsonl. Every build appends one point, so the report's
  trend and each scenario's history show run after run (RTO, RPO, availability are metrics).
  ``make clean`` leaves it alone; delete the file to start the history over.
- Trends: reports/results.json is added to reports/history/results-history.jsonl (beside the
  Allure history; one line per run id, the last ``trends.TREND_RUNS`` runs), and each scenario's
  RTO and RPO over those runs, with the objective, is drawn into the result "RTO and RPO over
  runs" (suite "trends"). It is written into a directory of its own that ``allure generate``
  reads beside the run's results, which stay as the run wrote them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kubedrill.report import allure as report_allure
from kubedrill.report import trends
from kubedrill.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
NPM_TIMEOUT_S = 600
GENERATE_TIMEOUT_S = 600


@dataclass(frozen=True)
class HtmlReport:
    index: Path
    output: Path
    history: Path
    points: int          # history points after this build
    trend: Path          # the results history (trends.HISTORY_NAME) beside the Allure history
    trend_runs: int      # runs in it after this build
    trend_problem: str | None = None   # why this run is not in it (results.json missing or invalid)


def pinned_version(root: Path = ROOT) -> str:
    """The exact allure version of package.json (a range there is refused)."""
    try:
        spec = json.loads((root / "package.json").read_text())["dependencies"]["allure"]
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise UsageError(f"package.json does not pin the npm allure package: {exc}") from None
    if not spec[:1].isdigit():
        raise UsageError(f"package.json must pin allure to an exact version, not {spec!r}")
    return spec


def installed_version(root: Path = ROOT) -> str | None:
    try:
        return json.loads((root / "node_modules" / "allure" / "package.json").read_text())["version"]
    except (FileNotFoundError, KeyError, ValueError):
        return None


def ensure_allure(root: Path = ROOT, log=print) -> Path:
    """node_modules/.bin/allure at the pinned version; `npm ci` when missing or different."""
    want = pinned_version(root)
    cli = root / "node_modules" / "allure" / "cli.js"
    if installed_version(root) == want and cli.is_file():
        return cli
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise UsageError("the HTML report needs Node.js 20+ and npm (e.g. apt-get install nodejs npm)")
    lock = root / "package-lock.json"
    cmd = [npm, "ci" if lock.is_file() else "install", "--no-audit", "--no-fund", "--loglevel=error"]
    log(f"kubedrill: installing the npm allure {want} CLI into node_modules ({' '.join(cmd[1:2])})")
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise UsageError(f"npm did not finish within {NPM_TIMEOUT_S}s installing allure {want}") from None
    if proc.returncode != 0 or installed_version(root) != want:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise UsageError(f"npm could not install allure {want}: " + (" | ".join(tail) or f"exit {proc.returncode}"))
    return cli


def history_points(history: Path) -> int:
    try:
        return sum(1 for line in history.read_text().splitlines() if line.strip())
    except FileNotFoundError:
        return 0


def allure_run_id(results: Path) -> str | None:
    """The run id kubedrill wrote into the Allure results' environment.properties (None: none)."""
    try:
        lines = (Path(results) / "environment.properties").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((line.split("=", 1)[1] for line in lines if line.startswith("run_id=")), None)


def update_trend(results_json: Path | None, results: Path, trend: Path, limit: int,
                 log=print) -> tuple[list[dict], str | None]:
    """The results history with this run added: (its runs, why this run is not in it, or None)."""
    warn = lambda line: log(f"kubedrill: {line}")  # noqa: E731
    if results_json is None:
        return trends.read_history(trend, warn), None
    try:
        record = trends.read_run(results_json)
        allure_run = allure_run_id(results)
        if allure_run is not None and allure_run != record["run_id"]:
            raise UsageError(f"{results_json} is of run {record['run_id']}, the Allure results in {results} "
                             f"of run {allure_run}")
        records = trends.appended(trends.read_history(trend, warn), record, limit)
        trends.write_history(trend, records)
        return records, None
    except UsageError as exc:
        return trends.read_history(trend, warn), f"{exc}; the RTO/RPO trend leaves this run out"


def build(results: Path, output: Path, history: Path, name: str = "kubedrill", root: Path = ROOT,
          history_limit: int | None = None, log=print, results_json: Path | None = None,
          trend_limit: int = trends.TREND_RUNS) -> HtmlReport:
    """Build the HTML report; raises UsageError with one clear line when it cannot. A results.json
    that is missing or invalid does not stop it: the report is built, its trend without this run,
    and ``trend_problem`` says why."""
    results, output, history = Path(results).resolve(), Path(output).resolve(), Path(history).resolve()
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise UsageError(f"no Allure results in {results}: run the drill first (make drill)")
    if not (results / "categories.json").is_file():
        report_allure.write_categories(results)  # results from before kubedrill wrote it
    cli = ensure_allure(root, log)
    history.parent.mkdir(parents=True, exist_ok=True)
    trend = history.parent / trends.HISTORY_NAME
    records, trend_problem = update_trend(results_json, results, trend, trend_limit, log)
    if output.exists():
        shutil.rmtree(output)  # a fresh report each time; the history file lives outside it
    config = history.parent / "allurerc.json"
    config.write_text(json.dumps(report_allure.allurerc(name, output, history, history_limit), indent=2) + "\n")
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    with tempfile.TemporaryDirectory(prefix="kubedrill-trends-") as extra:
        # the trend result in a directory of its own: the run's results stay as the run wrote them
        report_allure.write_trends(Path(extra), trends.series(records), trend)
        cmd = [shutil.which("node") or "node", str(cli), "generate", str(results), extra, "--config", str(config),
               "--output", str(output)]
        try:
            proc = subprocess.run(cmd, cwd=history.parent, capture_output=True, text=True, env=env,
                                  timeout=GENERATE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise UsageError(f"allure generate did not finish within {GENERATE_TIMEOUT_S}s") from None
    index = output / "index.html"
    if proc.returncode != 0 or not index.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        raise UsageError("allure generate failed: " + (" | ".join(tail) or f"exit {proc.returncode}"))
    index.write_text(without_analytics(index.read_text()))
    return HtmlReport(index, output, history, history_points(history), trend, len(records), trend_problem)


_ANALYTICS = re.compile(r"\s*<script async src=\"https://www\.googletagmanager\.com/gtag/js[^\"]*\"></script>"
                        r"\s*<script>\s*window\.dataLayer.*?</script>", re.S)


def without_analytics(html: str) -> str:
    """allure 3 puts a Google Analytics tag into every report; a drill report stays offline."""
    return _ANALYTICS.sub("", html)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The report's options (``python -m kubedrill.report html``, ``kubedrill report``)."""
    p.add_argument("--results", default="reports/allure-results", help="Allure results (default: %(default)s)")
    p.add_argument("--output", default="reports/html", help="report directory (default: %(default)s)")
    p.add_argument("--history", default="reports/history/allure-history.jsonl",
                   help="history file kept across runs (default: %(default)s)")
    p.add_argument("--history-limit", type=int, default=None, help="keep at most this many runs of history "
                   "(default: all)")
    p.add_argument("--results-json", default="reports/results.json",
                   help="the run's results, added to the RTO/RPO trend (default: %(default)s)")
    p.add_argument("--trend-limit", type=_positive, default=trends.TREND_RUNS,
                   help="runs the RTO/RPO trend keeps (default: %(default)s)")
    p.add_argument("--name", default="kubedrill", help="report title (default: %(default)s)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kubedrill.report html",
                                description="Build the HTML report (npm allure 3) with history across runs.")
    add_arguments(p)
    return run(p.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Build the report with the options :func:`add_arguments` parsed."""
    try:
        rep = build(Path(args.results), Path(args.output), Path(args.history), args.name,
                    history_limit=args.history_limit, results_json=Path(args.results_json),
                    trend_limit=args.trend_limit)
    except UsageError as exc:
        print(f"kubedrill: {exc}", file=sys.stderr)
        return 1
    print(f"kubedrill: HTML report in {rep.index} (history: {rep.points} run{'s' if rep.points != 1 else ''}, "
          f"{rep.history}; RTO/RPO trend: {rep.trend_runs} run{'s' if rep.trend_runs != 1 else ''}, {rep.trend}); "
          f"open it with: npx allure open {rep.output}  (or any static web server)")
    if rep.trend_problem:
        print(f"kubedrill: {rep.trend_problem}", file=sys.stderr)
        return 1
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs, at least 1, not {text!r}")
    return value
