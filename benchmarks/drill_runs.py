#!/usr/bin/env python3
"""Run `make drill` N times in a row, as a user would, and summarise the runs.

    .venv/bin/python benchmarks/drill_runs.py --runs 5 [--out reports/drill-runs] [-- -m "not node"]
    .venv/bin/python benchmarks/drill_runs.py --summarise reports/drill-runs/run-*

Each run is one `make drill ARGS="--reports-dir DIR ..."` (the cluster is created or reused by
make itself); its output, results.json and restores.jsonl stay in DIR. After each run the nodes
are checked: every node Ready, no taint added by a drill. A failed run is counted and listed, never
retried. Prints per scenario: verdicts, RTO median / p95 / max and, for node loss, each stage's
duration (median [min-max]).

The same directories feed ``benchmarks/objectives.py record`` (the committed run records the
default objectives are generated from) and benchmarks/snapshot_restore.py DIR/restores.jsonl (RPO and restore RTO).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubedrill.observe.measure import Stats  # noqa: E402
from kubedrill.report.results import MEASURED  # noqa: E402


def nodes_state(context: str) -> tuple[bool, str]:
    """(all Ready and untainted apart from the control plane's own taint, a one-line description)."""
    from kubedrill import client as kclient
    from kubedrill.k8s import nodes
    from kubedrill.wait import ApiSource

    try:
        items, _ = ApiSource(kclient.load(None, context).core.list_node).list()
    except Exception as exc:  # noqa: BLE001 - reported as the run's node state
        return False, f"could not list the nodes: {exc}"
    bad = []
    for obj in items:
        n = nodes.info(obj)
        taints = [t.key for t in n.taints if t.key != "node-role.kubernetes.io/control-plane"]
        unschedulable = bool((obj.get("spec") or {}).get("unschedulable"))
        if not n.ready or taints or unschedulable:
            bad.append(f"{n.name} Ready={n.ready} taints={taints} unschedulable={unschedulable}")
    return not bad, "; ".join(bad) or "all nodes Ready and untainted"


def one_run(i: int, out: Path, extra: list[str], context: str) -> dict:
    d = out / f"run-{i:02d}"
    d.mkdir(parents=True, exist_ok=True)
    args = ["--reports-dir", str(d), f"--junitxml={d / 'junit.xml'}", f"--alluredir={d / 'allure'}", *extra]
    cmd = ["make", "--no-print-directory", "drill", f"ARGS={shlex.join(args)}"]
    print(f"run {i}: {shlex.join(cmd)}", flush=True)
    started = time.monotonic()
    with (d / "output.txt").open("w") as log:
        rc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode
    took = time.monotonic() - started
    ok, nodes = nodes_state(context)
    (d / "nodes.txt").write_text(nodes + "\n")
    (d / "run.json").write_text(json.dumps({"rc": rc, "seconds": round(took, 1), "nodes_ok": ok,
                                            "nodes": nodes}) + "\n")
    print(f"run {i}: exit {rc} in {took:.0f}s; {nodes}", flush=True)
    return {"dir": d, "rc": rc, "seconds": took, "nodes_ok": ok}


def summarise(dirs: list[Path]) -> str:
    verdicts: dict[str, list[str]] = defaultdict(list)
    rtos: dict[str, list[float]] = defaultdict(list)
    stages: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs = []
    for d in dirs:
        meta = json.loads((d / "run.json").read_text()) if (d / "run.json").exists() else {}
        data = json.loads((d / "results.json").read_text()) if (d / "results.json").exists() else {"scenarios": []}
        runs.append((d.name, meta.get("rc"), meta.get("seconds"), meta.get("nodes_ok"), len(data["scenarios"])))
        for row in data["scenarios"]:
            sid = row["scenario"].replace("scenarios/", "")
            verdicts[sid].append(row["verdict"])
            if row["verdict"] in MEASURED and row.get("rto_s") is not None:
                rtos[sid].append(float(row["rto_s"]))
            for rec in row.get("recoveries") or []:
                for st in (rec.get("node_loss") or {}).get("stages") or []:
                    if st.get("end_s") is not None and row["verdict"] == "passed":
                        stages[sid][st["name"]].append(float(st["duration_s"]))
    out = ["| run | exit | seconds | nodes Ready, untainted after | scenarios |", "|---|---|---|---|---|"]
    out += [f"| {n} | {rc} | {s if s is None else round(s)} | {ok} | {k} |" for n, rc, s, ok, k in runs]
    out += ["", "| scenario | verdicts | RTO median / p95 / max |", "|---|---|---|"]
    for sid in sorted(verdicts):
        v = verdicts[sid]
        counts = ", ".join(f"{v.count(x)} x {x}" for x in sorted(set(v)))
        st = Stats.of(rtos[sid]) if rtos[sid] else None
        rto = f"{st.median:.2f} / {st.p95:.2f} / {st.max:.2f}s" if st else "-"
        out.append(f"| {sid} | {counts} | {rto} |")
    for sid, by in sorted(stages.items()):
        out += ["", f"Node-loss stages of {sid} (seconds, median [min-max]):", ""]
        out += [f"- {name}: {Stats.of(v).median:.1f} [{min(v):.1f}-{max(v):.1f}] (n={len(v)})" for name, v in by.items()]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "drill-runs")
    ap.add_argument("--context", default="kind-kubedrill", help="for the node check after each run")
    ap.add_argument("--summarise", type=Path, nargs="+", metavar="RUN_DIR", help="run nothing: summarise these runs")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments for make drill (after --)")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    if a.summarise:
        dirs = a.summarise
    else:
        first = 1 + len(list(a.out.glob("run-*")))
        print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}: {a.runs} runs into {a.out}", flush=True)
        dirs = [one_run(i, a.out, a.pytest_args, a.context)["dir"] for i in range(first, first + a.runs)]
    text = summarise(dirs)
    print(text)
    metas = [json.loads((d / "run.json").read_text()) for d in dirs if (d / "run.json").exists()]
    return 0 if all(m.get("rc") == 0 and m.get("nodes_ok") for m in metas) else 1


if __name__ == "__main__":
    sys.exit(main())
