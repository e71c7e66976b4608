#!/usr/bin/env python3
"""Parallel drills against serial ones on the same cluster: `make drill JOBS=N` for each N, the
runs interleaved (JOBS=1, 2, 4, then again), each as a user runs it.

    .venv/bin/python benchmarks/parallel.py --runs 5 --jobs 1 2 4 [--out reports/parallel] [-- -m "not node"]
    .venv/bin/python benchmarks/parallel.py --summarise reports/parallel

Each run is benchmarks/drill_runs.py's (its output, results.json and node check in
OUT/jobs-N/run-NN). Prints per N: wall times (median, min-max) and their ratio to JOBS=1's median,
then each scenario's RTO median / p95 per N side by side, with its objective and whether every
p95 stays within it. A failed run is counted, never retried.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from drill_runs import one_run  # noqa: E402

from kubedrill.observe.measure import Stats  # noqa: E402
from kubedrill.report.results import MEASURED  # noqa: E402


def summarise(out: Path) -> str:
    walls: dict[int, list[float]] = defaultdict(list)
    failed: dict[int, int] = defaultdict(int)
    rtos: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    objective: dict[str, float] = {}
    others: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))   # verdicts but passed
    jobs_seen = sorted(int(d.name.split("-")[1]) for d in out.glob("jobs-*"))
    for jobs in jobs_seen:
        for d in sorted((out / f"jobs-{jobs}").glob("run-*")):
            if not (d / "run.json").exists():
                continue   # under way
            meta = json.loads((d / "run.json").read_text())
            if meta.get("rc") != 0 or not meta.get("nodes_ok"):
                failed[jobs] += 1
            if meta.get("seconds") is not None:
                walls[jobs].append(float(meta["seconds"]))
            if not (d / "results.json").exists():
                continue
            for row in json.loads((d / "results.json").read_text())["scenarios"]:
                sid = row["scenario"].replace("scenarios/", "")
                if row["verdict"] != "passed":
                    others[sid][jobs].append(row["verdict"])
                if row["verdict"] in MEASURED and row.get("rto_s") is not None:
                    rtos[sid][jobs].append(float(row["rto_s"]))
                if row.get("objective_s") is not None:
                    objective[sid] = float(row["objective_s"])
    base = statistics.median(walls[jobs_seen[0]]) if jobs_seen and walls[jobs_seen[0]] else None
    lines = ["| JOBS | runs | failed | wall s median [min-max] | of JOBS=%s |" % (jobs_seen[0] if jobs_seen else "?"),
             "|---|---|---|---|---|"]
    for jobs in jobs_seen:
        w = walls[jobs]
        med = statistics.median(w) if w else None
        ratio = f"{100 * med / base:.0f} %" if med and base else "-"
        lines.append(f"| {jobs} | {len(w)} | {failed[jobs]} | {med:.0f} [{min(w):.0f}-{max(w):.0f}] | {ratio} |"
                     if w else f"| {jobs} | 0 | {failed[jobs]} | - | - |")
    head = " | ".join(f"JOBS={j} median / p95" for j in jobs_seen)
    lines += ["", f"| scenario | objective | {head} | every p95 within | other verdicts |",
              "|---|---|" + "---|" * len(jobs_seen) + "---|---|"]
    for sid in sorted(rtos):
        cells, within = [], True
        for jobs in jobs_seen:
            v = rtos[sid].get(jobs) or []
            if v:
                st = Stats.of(v)
                cells.append(f"{st.median:.2f} / {st.p95:.2f}")
                if sid in objective and st.p95 > objective[sid]:
                    within = False
            else:
                cells.append("-")
        obj = f"{objective[sid]:g}" if sid in objective else "-"
        other = "; ".join(f"JOBS={j}: " + ", ".join(others[sid][j]) for j in jobs_seen if others[sid].get(j)) or "-"
        lines.append(f"| {sid} | {obj} | " + " | ".join(cells) + f" | {'yes' if within else 'NO'} | {other} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "parallel")
    ap.add_argument("--context", default="kind-kubedrill")
    ap.add_argument("--summarise", type=Path, metavar="OUT", help="run nothing: summarise OUT")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments for make drill (after --)")
    a = ap.parse_args(argv)
    if a.summarise:
        print(summarise(a.summarise))
        return 0
    for i in range(1, a.runs + 1):
        for jobs in a.jobs:
            extra = [*a.pytest_args, *(["-n", str(jobs)] if jobs > 1 else [])]
            one_run(i, a.out / f"jobs-{jobs}", extra, a.context)
    print(summarise(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
