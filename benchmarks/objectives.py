#!/usr/bin/env python3
"""Measure the replica, StatefulSet and PV scenarios N times and propose their objectives.

    .venv/bin/python benchmarks/objectives.py --runs 10 [--out reports/benchmarks] [--markdown FILE]
    .venv/bin/python benchmarks/objectives.py --summarise reports/benchmarks/run-*   # figures of runs made

Each run is one ``pytest scenarios/test_replicas.py scenarios/test_statefulset.py
scenarios/test_persistent_volumes.py`` with its own reports directory; the RTOs and the
availability come from that run's results.json, the records checked from its log. A run that
cannot start because another drill holds the cluster-wide lock waits for the lock (a watch on
the Lease) and starts then: it never ran, so this is not a rerun. Failed runs are counted and
listed, never retried.

Prints, per scenario: n, median, p95, and the proposed objective: RTOs and outages p95 x 1.5;
availability 1 - 1.5 x the p95 of the failed-request share, never stricter than one failed
request in a median window (a single request is the prober's resolution). RTOs and outages
are never proposed below 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubedrill.observe.measure import Stats, percentile  # noqa: E402
from kubedrill.report.results import MEASURED, PASSED, SKIPPED  # noqa: E402

FILES = ["scenarios/test_replicas.py", "scenarios/test_statefulset.py", "scenarios/test_persistent_volumes.py"]
LOCK_HELD = "holds the cluster-wide drill lock"


def objective_name(nodeid: str) -> str | None:
    """The objective a scenario's RTO is held to (RC and Deployment share theirs)."""
    m = re.search(r"test_(pods_deleted|containers_killed)\w*\[\w+-(one|half|all)\]", nodeid)
    if m:
        return f"{'pod_delete' if m.group(1) == 'pods_deleted' else 'container_kill'}_{m.group(2)}"
    for key, name in (("killed_pod_comes_back", "statefulset_pod"), ("all_pods_killed", "statefulset_all"),
                      ("retained_volume", "pv_retain_rebind"), ("deleted_claim", "pv_delete_reclaim")):
        if key in nodeid:
            return name
    return None


def wait_for_lock(context: str) -> None:
    from kubedrill import client as kclient
    from kubedrill import guard
    from kubedrill.wait import ApiSource, Check, wait_for

    c = kclient.load(None, context)
    wait_for(ApiSource(c.coordination.list_namespaced_lease, guard.LOCK_NAMESPACE,
                       field_selector=f"metadata.name={guard.LOCK_NAME}"),
             lambda items: Check(not items, "held" if items else "free"),
             description="the drill lock to be free", timeout_s=3600)


def one_run(i: int, out: Path, extra: list[str], context: str) -> tuple[int, Path, str]:
    d = out / f"run-{i:02d}"
    d.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), *FILES,
           "--reports-dir", str(d), f"--junitxml={d / 'junit.xml'}", f"--alluredir={d / 'allure'}", *extra]
    while True:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        log = proc.stdout + proc.stderr
        if proc.returncode == 4 and LOCK_HELD in log:
            print(f"run {i}: another drill holds the lock; waiting for it", flush=True)
            wait_for_lock(context)
            continue
        (d / "output.txt").write_text(log)
        return proc.returncode, d, log


def read_run(i: int, d: Path, rc: int, took: float, samples) -> dict:
    """Add one run's figures (its results.json and log) to ``samples``; the run's summary."""
    log = (d / "output.txt").read_text() if (d / "output.txt").exists() else ""
    data = json.loads((d / "results.json").read_text()) if (d / "results.json").exists() else {"scenarios": []}
    records = defaultdict(int)
    for m in re.finditer(r"\[(test_[^\]\n]+(?:\][^\]\n]*)?)\] records checked: (\d+)", log):
        records[m.group(1)] += int(m.group(2))
    failed = []
    for row in data["scenarios"]:
        sid = row["scenario"]
        s = samples[sid]
        if row["verdict"] == SKIPPED:
            continue
        if row["verdict"] != PASSED:
            failed.append(f"{sid}: {row['verdict']}: {row['reason']}")
        if row["verdict"] not in MEASURED:
            continue
        if row.get("rto_s") is not None:
            s["rto_s"].append(float(row["rto_s"]))
        av = row.get("availability") or {}
        if av.get("success_ratio") is not None:
            s["success_ratio"].append(float(av["success_ratio"]))
            s["longest_outage_s"].append(float(av["longest_outage_s"]))
            s["requests"].append(float(av.get("requests") or 0))
        name = sid.split("::", 1)[1]
        if name in records:
            s["records"].append(float(records[name]))
    if rc is None:
        rc = 0 if data["scenarios"] and not failed and not data.get("leaks") else 1
    info = {"run": i, "dir": str(d), "rc": rc, "seconds": round(took, 1), "failed": failed,
            "scenarios": len(data["scenarios"]), "run_id": data.get("run_id"), "leaks": data.get("leaks", [])}
    print(f"run {i}: exit {rc}, {took:.0f}s, {len(data['scenarios'])} scenarios, {len(failed)} failed"
          + "".join(f"\n  {f}" for f in failed), flush=True)
    return info


def collect(out: Path, runs: int, extra: list[str], context: str) -> dict:
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs_info = []
    for i in range(1, runs + 1):
        started = dt.datetime.now(dt.timezone.utc)
        rc, d, _ = one_run(i, out, extra, context)
        took = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
        runs_info.append(read_run(i, d, rc, took, samples))
    return {"samples": {k: dict(v) for k, v in samples.items()}, "runs": runs_info}


def summarise(dirs: list[Path]) -> dict:
    """The figures of runs already made (each a directory with results.json and output.txt)."""
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs_info = []
    for i, d in enumerate(dirs, start=1):
        took = 0.0
        m = re.search(r"in ([\d.]+)s", (d / "output.txt").read_text()[-400:]) if (d / "output.txt").exists() else None
        if m:
            took = float(m.group(1))
        runs_info.append(read_run(i, d, None, took, samples))
    return {"samples": {k: dict(v) for k, v in samples.items()}, "runs": runs_info}


def propose(samples: dict) -> tuple[list[dict], dict[str, float]]:
    rows, objectives = [], {}
    by_objective: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for sid, s in sorted(samples.items()):
        name = objective_name(sid)
        row = {"scenario": sid, "objective": name}
        if s.get("rto_s"):
            st = Stats.of(s["rto_s"])
            row.update(n=st.n, rto_median=st.median, rto_p95=st.p95, rto_max=st.max)
        if s.get("success_ratio"):
            row.update(avail_median=percentile(s["success_ratio"], 50), avail_min=min(s["success_ratio"]),
                       outage_median=percentile(s["longest_outage_s"], 50),
                       outage_p95=percentile(s["longest_outage_s"], 95),
                       requests_median=percentile(s["requests"], 50))
        if s.get("records"):
            row.update(records=int(percentile(s["records"], 50)))
        rows.append(row)
        if name:
            for k, v in s.items():
                by_objective[name][k] += v
    for name, s in sorted(by_objective.items()):
        suffix = "_s" if name == "pv_delete_reclaim" else "_rto_s"
        if s.get("rto_s"):
            # never below 1 s: under a second, a shared 2-core machine measures its own noise
            objectives[name + suffix] = max(1.0, math.ceil(Stats.of(s["rto_s"]).objective() * 10) / 10)
        if s.get("success_ratio"):
            failed_share = [1 - r for r in s["success_ratio"]]
            one_request = 1 / max(1.0, percentile(s["requests"], 50))
            allowed = max(1.5 * percentile(failed_share, 95), one_request)
            objectives[name + "_availability"] = math.floor((1 - allowed) * 1000) / 1000
            objectives[name + "_outage_s"] = max(1.0, math.ceil(1.5 * percentile(s["longest_outage_s"], 95) * 10) / 10)
    return rows, objectives


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Linux {platform.release()}, Python {platform.python_version()}"


def markdown(rows: list[dict], objectives: dict, runs: list[dict], when: str) -> str:
    ok = sum(1 for r in runs if r["rc"] == 0)
    out = [f"## Replica, StatefulSet and PV objectives (benchmarks/objectives.py, {when})", "",
           f"Machine: {machine()}; kind cluster `kubedrill` (1 control plane, 2 workers). "
           f"{len(runs)} consecutive runs, {ok} passed "
           f"(run times {', '.join(str(int(r['seconds'])) + 's' for r in runs)}).", "",
           "| scenario | n | RTO median | RTO p95 | availability median (min) | longest outage median / p95 | records checked |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        short = r["scenario"].replace("scenarios/", "")
        av = (f"{100 * r['avail_median']:.1f}% ({100 * r['avail_min']:.1f}%)" if "avail_median" in r else "-")
        outage = (f"{r['outage_median']:.2f}s / {r['outage_p95']:.2f}s" if "outage_median" in r else "-")
        rto = (f"{r['rto_median']:.2f}s", f"{r['rto_p95']:.2f}s") if "rto_median" in r else ("-", "-")
        out.append(f"| {short} | {r.get('n', 0)} | {rto[0]} | {rto[1]} | {av} | {outage} | {r.get('records', '-')} |")
    out += ["", "Proposed objectives (RTO and outage: p95 x 1.5 over both controllers where they share one; "
            "availability: 1 - 1.5 x p95 of the failed share, at most one request's share stricter):", "",
            "| objective | value |", "|---|---|"]
    out += [f"| {k} | {v:g} |" for k, v in sorted(objectives.items())]
    failed = [f for r in runs for f in r["failed"]]
    if failed:
        out += ["", "Failures:", ""] + [f"- {f}" for f in failed]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "benchmarks")
    ap.add_argument("--markdown", type=Path, help="append the results section to this file (e.g. benchmarks/results.md)")
    ap.add_argument("--context", default="kind-kubedrill")
    ap.add_argument("--summarise", type=Path, nargs="+", metavar="RUN_DIR",
                    help="run nothing: summarise these run directories (each with results.json, output.txt)")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if a.summarise:
        data = summarise(a.summarise)
    else:
        data = collect(a.out, a.runs, a.pytest_args, a.context)
    a.out.mkdir(parents=True, exist_ok=True)
    rows, objectives = propose(data["samples"])
    (a.out / "summary.json").write_text(json.dumps({"when": when, "machine": machine(), **data,
                                                    "rows": rows, "objectives": objectives}, indent=2))
    text = markdown(rows, objectives, data["runs"], when)
    print(text)
    if a.markdown:
        with a.markdown.open("a") as f:
            f.write("\n" + text)
    return 0 if all(r["rc"] == 0 for r in data["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
