#!/usr/bin/env python3
"""kubedrill's default objectives, generated from committed run records.

    .venv/bin/python benchmarks/objectives.py record --commit REV DIR...  # runs -> benchmarks/runs/<run id>.json
    .venv/bin/python benchmarks/objectives.py generate                    # benchmarks/runs/ -> kubedrill/defaults.py
    .venv/bin/python benchmarks/objectives.py check                       # exit 1 when kubedrill/defaults.py differs

``record`` reads one `make drill` run's reports directory (its results.json; benchmarks/drill_runs.py
makes them) and keeps, per scenario, its verdict and the figures the objectives need
(benchmarks/runs/README.md describes a record). ``generate`` applies the project's rule to every
objective's measurements and writes kubedrill/defaults.py; it prints the figures as a markdown
table. ``check`` recomputes them and compares (tests/unit/test_objective_defaults.py does too).

The rule: a time (RTO, outage, RPO seconds) is p95 x 1.5, never below 1 s; an RPO in records is
p95 x 1.5; an availability is 1 - 1.5 x the p95 of the failed-request share, never stricter than
one failed request in a median window (a single request is the prober's resolution). Every
measured recovery counts: a run whose verdict was "objective missed" recovered too (leaving it out
would bias the figures towards the fast runs); one whose wait stopped at the objective counts at
that limit. An objective with fewer measurements than its minimum (20; 10 for node loss) is
PROVISIONAL: it keeps its hand-set value (HAND_SET) and kubedrill/defaults.py says why.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubedrill.observe.measure import percentile  # noqa: E402
from kubedrill.report.results import MEASURED  # noqa: E402

RUNS_DIR = ROOT / "benchmarks" / "runs"
DEFAULTS_PY = ROOT / "kubedrill" / "defaults.py"
FACTOR = 1.5
MIN_TIME_S = 1.0
MIN_MEASUREMENTS = 20
MIN_NODE_MEASUREMENTS = 10     # node loss: a run takes minutes; with 5, the p95 is just the maximum

# Every objective, in kubedrill's order, with the value it keeps while it is provisional.
HAND_SET = {
    "pod_kill_rto_s": 30.0,
    "pod_delete_one_rto_s": 2.6, "pod_delete_half_rto_s": 3.0, "pod_delete_all_rto_s": 4.0,
    "container_kill_one_rto_s": 4.4, "container_kill_half_rto_s": 4.5, "container_kill_all_rto_s": 4.5,
    "pod_delete_one_availability": 0.896, "pod_delete_half_availability": 0.892,
    "pod_delete_all_availability": 0.806, "container_kill_one_availability": 0.681,
    "container_kill_half_availability": 0.511, "container_kill_all_availability": 0.319,
    "pod_delete_one_outage_s": 1.7, "pod_delete_half_outage_s": 1.7, "pod_delete_all_outage_s": 1.7,
    "container_kill_one_outage_s": 1.7, "container_kill_half_outage_s": 1.7, "container_kill_all_outage_s": 1.8,
    "statefulset_pod_rto_s": 3.4, "statefulset_all_rto_s": 6.6,
    "pv_retain_rebind_rto_s": 22.1, "pv_delete_reclaim_s": 1.0,
    "node_stop_rto_s": 100.0, "node_drain_rto_s": 60.0,
    "node_stop_statefulset_rto_s": 120.0, "node_drain_statefulset_rto_s": 60.0, "node_back_rto_s": 10.0,
    "restore_rto_s": 120.0, "restore_rpo_records": 200.0, "restore_rpo_s": 30.0,
}

# What a run measured changes with kubedrill: a record's "measurement" says which version its
# tree had, and an objective counts only the records at or above its version here.
#   1: the restore RTO ends when the server answers; the RPO is counted from the writer's acknowledgements
#   2: the restore RTO ends when the restored data answers the oracle's query; the RPO is read from
#      the restored data
MIN_MEASUREMENT = {"restore_rto_s": 2, "restore_rpo_records": 2, "restore_rpo_s": 2}
# the first commit of each version (a run whose results.json does not say its version is placed by
# its commit); None: no commit has it yet
MEASUREMENT_SINCE: dict[int, str | None] = {2: "218440b3b61930c64d465633c49799f20dfd3d51"}


def objectives_for(nodeid: str, how: str | None = None) -> dict[str, str]:
    """The objectives a scenario's figures feed: objective name -> figure of its record."""
    file, _, test = nodeid.partition("::")
    name = Path(file).stem
    m = re.fullmatch(r"test_(pods_deleted|containers_killed)\w*\[\w+-(one|half|all)\]", test)
    if name == "test_replicas" and m:
        base = f"{'pod_delete' if m.group(1) == 'pods_deleted' else 'container_kill'}_{m.group(2)}"
        return {f"{base}_rto_s": "rto_s", f"{base}_availability": "success_ratio",
                f"{base}_outage_s": "longest_outage_s"}
    # the seed's ReplicationController story, an experiment held to the same objectives
    m = re.fullmatch(r"replication-controller-(pod-deleted|container-killed)", name)
    if file.startswith("scenarios/experiments/") and m:
        base = "pod_delete_one" if m.group(1) == "pod-deleted" else "container_kill_one"
        return {f"{base}_rto_s": "rto_s", f"{base}_availability": "success_ratio",
                f"{base}_outage_s": "longest_outage_s"}
    # the seed's StatefulSet story, one pod deleted: the experiment, and the Python scenario it was
    if file.startswith("scenarios/experiments/") and name == "statefulset-pod-deleted":
        return {"statefulset_pod_rto_s": "rto_s"}
    if name == "test_plumbing" and test == "test_deployment_replaces_a_killed_pod":
        return {"pod_kill_rto_s": "rto_s"}
    for key, objective in (("killed_pod_comes_back", "statefulset_pod_rto_s"),
                           ("all_pods_killed", "statefulset_all_rto_s"),
                           ("retained_volume", "pv_retain_rebind_rto_s"),
                           ("deleted_claim", "pv_delete_reclaim_s")):
        if name in ("test_statefulset", "test_persistent_volumes") and key in test:
            return {objective: "rto_s"}
    if name == "test_node_loss":
        how = how or node_method(test)
        if "statefulset" in test:
            return {f"node_{how}_statefulset_rto_s": "rto_s", "node_back_rto_s": "node_back_s"}
        return {f"node_{how}_rto_s": "rto_s"}
    if name == "test_snapshot_restore":
        return {"restore_rto_s": "rto_s", "restore_rpo_records": "rpo_records", "restore_rpo_s": "rpo_s"}
    return {}


def node_method(test: str) -> str:
    """How a node-loss scenario loses its node, from its id (parameter, else its name; stop by default)."""
    m = re.search(r"\[(stop|drain)\]", test)
    if m:
        return m.group(1)
    return "drain" if "drain" in test.split("[")[0] else "stop"


# --- record: a run's reports directory -> benchmarks/runs/<run id>.json ----------------------

def figures(row: dict) -> dict:
    """A results.json row as a record keeps it: the verdict and what was measured."""
    out: dict = {"verdict": row["verdict"]}
    if row.get("rto_s") is not None:
        out["rto_s"] = round(float(row["rto_s"]), 3)
    elif row["verdict"] in MEASURED and row.get("objective_s") is not None:
        out["rto_at_least_s"] = float(row["objective_s"])   # the wait stopped at the objective
    av = row.get("availability") or {}
    for key in ("success_ratio", "longest_outage_s", "requests"):
        if av.get(key) is not None:
            out[key] = av[key]
    rpo = row.get("rpo") or {}
    if rpo.get("records_lost") is not None:
        out["rpo_records"], out["rpo_s"] = int(rpo["records_lost"]), round(float(rpo.get("seconds_lost") or 0), 3)
    loss = next((r["node_loss"] for r in reversed(row.get("recoveries") or []) if r.get("node_loss")), None)
    if loss:
        out["how"] = loss["how"]
        out["stages"] = {s["name"]: round(float(s["duration_s"]), 3) for s in loss["stages"]}
        back = [m["t_s"] for m in (row.get("timeline") or {}).get("marks", []) if m["name"] == "node back"]
        if back and "rto_s" in out:
            out["node_back_s"] = round(out["rto_s"] - float(back[-1]), 3)   # node Ready and untainted -> pods Ready
    return out


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def measurement_of(commit: str) -> int:
    version = 1
    for v, since in sorted(MEASUREMENT_SINCE.items()):
        if since and subprocess.run(["git", "merge-base", "--is-ancestor", since, commit], cwd=ROOT).returncode == 0:
            version = v
    return version


def run_date(results: dict, path: Path) -> str:
    """When the run's first fault happened (its timelines' origin), else the file's time."""
    origins = [t["origin_unix"] for row in results["scenarios"] for t in [row.get("timeline") or {}]
               if t.get("origin_unix")]
    when = min(origins) if origins else path.stat().st_mtime
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def extract(results: dict, path: Path, commit: str | None) -> dict:
    """The record of one run (``results``: its results.json, read from ``path``)."""
    env = results.get("environment") or {}
    commit = commit or env.get("commit")
    if not commit:
        raise SystemExit(f"{path}: results.json does not say which commit ran; give --commit REV")
    if commit.endswith("-dirty"):
        raise SystemExit(f"{path}: the run's tree had uncommitted changes ({commit}); record runs of a commit")
    try:
        commit = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"{path}: commit {commit!r} is not in this repository") from None
    scenarios = {}
    for row in results["scenarios"]:
        if not objectives_for(row["scenario"]):
            raise SystemExit(f"{path}: no objective is mapped for {row['scenario']}; add it to objectives_for()")
        scenarios[row["scenario"]] = figures(row)
    return {"run_id": results["run_id"], "date": run_date(results, path), "commit": commit,
            "kubedrill": env.get("kubedrill", "?"), "kubernetes": env.get("kubernetes", "?"),
            "context": results.get("context", "?"),
            "measurement": int(env.get("measurement") or measurement_of(commit)), "scenarios": scenarios}


def dumps(record: dict) -> str:
    """A record as committed: its fields, then one line per scenario."""
    head = {k: v for k, v in record.items() if k != "scenarios"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    rows = [f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in record["scenarios"].items()]
    return "{\n" + "\n".join(lines) + '\n  "scenarios": {\n' + ",\n".join(rows) + "\n  }\n}\n"


def record(dirs: list[Path], commit: str | None, out: Path = RUNS_DIR) -> list[Path]:
    written = []
    for d in dirs:
        path = d / "results.json" if d.is_dir() else d
        if not path.exists():
            raise SystemExit(f"{d}: no results.json (the run has not finished)")
        rec = extract(json.loads(path.read_text()), path, commit)
        target = out / f"{rec['run_id']}.json"
        target.write_text(dumps(rec))
        written.append(target)
    return written


def load_records(runs: Path = RUNS_DIR) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in runs.glob("*.json")), key=lambda r: (r["date"], r["run_id"]))


# --- generate: the records -> each objective's default ---------------------------------------

@dataclass(frozen=True)
class Default:
    name: str
    value: float
    n: int                       # measurements counted
    minimum: int                 # measurements needed
    runs: int                    # runs they came from
    p95: float | None            # of the figure (the failed-request share for an availability)
    median: float | None
    proposed: float | None       # the rule's value (also when provisional)
    reason: str = ""             # why it is provisional ("" when it is not)

    @property
    def provisional(self) -> bool:
        return bool(self.reason)


def minimum_of(name: str) -> int:
    return MIN_NODE_MEASUREMENTS if name.startswith("node_") else MIN_MEASUREMENTS


def samples(records: list[dict]) -> tuple[dict[str, list[tuple[float, str]]], dict[str, dict], dict[str, int]]:
    """Per objective: (value, run id) of every measured recovery; the requests of each
    availability measurement; how many measurements an older measurement version left out."""
    values: dict[str, list[tuple[float, str]]] = defaultdict(list)
    requests: dict[str, list[float]] = defaultdict(list)
    older: dict[str, int] = defaultdict(int)
    for rec in records:
        for nodeid, row in rec["scenarios"].items():
            if row["verdict"] not in MEASURED:
                continue
            for name, figure in objectives_for(nodeid, row.get("how")).items():
                value = row.get(figure, row.get("rto_at_least_s") if figure == "rto_s" else None)
                if value is None:
                    continue
                if rec.get("measurement", 1) < MIN_MEASUREMENT.get(name, 1):
                    older[name] += 1
                    continue
                values[name].append((float(value), rec["run_id"]))
                if figure == "success_ratio" and row.get("requests") is not None:
                    requests[name].append(float(row["requests"]))
    return values, requests, older


def ceil_to(x: float, step: float) -> float:
    return round(math.ceil(round(x / step, 9)) * step, 3)


def floor_to(x: float, step: float) -> float:
    return round(math.floor(round(x / step, 9)) * step, 3)


def time_objective(values: list[float]) -> float:
    """p95 x 1.5 in tenths of a second, never below 1 s (a shared machine measures its own noise there)."""
    return max(MIN_TIME_S, ceil_to(FACTOR * percentile(values, 95), 0.1))


def records_objective(values: list[float]) -> float:
    return float(math.ceil(round(FACTOR * percentile(values, 95), 9)))


def availability_objective(ratios: list[float], requests: list[float]) -> float:
    """1 - 1.5 x the p95 of the failed-request share, at most one request's share stricter."""
    allowed = FACTOR * percentile([1 - r for r in ratios], 95)
    if requests:
        allowed = max(allowed, 1 / max(1.0, percentile(requests, 50)))
    return max(0.0, floor_to(1 - allowed, 0.001))


def proposed(name: str, values: list[float], requests: list[float]) -> float:
    if name.endswith("_availability"):
        return availability_objective(values, requests)
    if name.endswith("_records"):
        return records_objective(values)
    return time_objective(values)


def generate(records: list[dict]) -> list[Default]:
    values, requests, older = samples(records)
    out = []
    for name, hand_set in HAND_SET.items():
        vs = [v for v, _ in values.get(name, [])]
        runs = len({r for _, r in values.get(name, [])})
        need = minimum_of(name)
        figure = [1 - v for v in vs] if name.endswith("_availability") else vs
        p95, median = (percentile(figure, 95), percentile(figure, 50)) if vs else (None, None)
        rule = proposed(name, vs, requests.get(name, [])) if vs else None
        reason = ""
        if len(vs) < need:
            reason = f"{len(vs)} of {need} measurements"
            if older.get(name):
                reason += (f" at measurement {MIN_MEASUREMENT[name]} ({older[name]} older ones measured "
                           "something else)")
        out.append(Default(name, hand_set if reason else rule, len(vs), need, runs, p95, median, rule, reason))
    return out


def render(defaults: list[Default], records: list[dict]) -> str:
    """kubedrill/defaults.py."""
    dates = [r["date"][:10] for r in records]
    span = f"{min(dates)} to {max(dates)}" if dates else "none"
    lines = ['"""Default recovery objectives, generated by `benchmarks/objectives.py generate` from the run',
             "records in benchmarks/runs/ (p95 x 1.5 of every measured recovery, misses counted; availability",
             "1 - 1.5 x the p95 of the failed-request share). Do not edit: record runs and generate again;",
             'tests/unit/test_objective_defaults.py fails when this file and the records disagree."""', "",
             f"RUNS = {len(records)}  # run records read, {span}", "",
             "# objective -> default; the comment: measurements counted, their p95", "OBJECTIVES = {"]
    for d in defaults:
        what = "failed share p95" if d.name.endswith("_availability") else "p95"
        p95 = f", {what} {d.p95:.4g}" if d.p95 is not None else ""
        lines.append(f"    {json.dumps(d.name)}: {d.value!r},  # {d.n} from {d.runs} runs{p95}")
    lines += ["}", "",
              "# objectives measured fewer times than their minimum: they keep a hand-set value until more",
              "# runs are recorded (objective -> why)", "PROVISIONAL = {"]
    lines += [f"    {json.dumps(d.name)}: {json.dumps(d.reason)}," for d in defaults if d.provisional]
    lines += ["}", ""]
    return "\n".join(lines)


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def markdown(defaults: list[Default], old: dict[str, float] | None = None) -> str:
    """The figures per objective (median and p95 of the failed share for an availability)."""
    out = ["| objective | measurements (runs) | median | p95 | rule's value | default | was |",
           "|---|---|---|---|---|---|---|"]
    for d in defaults:
        default = f"{d.value:g}" + (f" (provisional: {d.reason})" if d.provisional else "")
        out.append(f"| {d.name} | {d.n} ({d.runs}) | {fmt(d.median)} | {fmt(d.p95)} | {fmt(d.proposed)} | "
                   f"{default} | {fmt((old or {}).get(d.name))} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="keep runs' figures in benchmarks/runs/")
    rec.add_argument("dirs", type=Path, nargs="+", metavar="DIR",
                     help="a run's reports directory (or its results.json)")
    rec.add_argument("--commit", help="the commit the runs ran (when results.json does not say)")
    sub.add_parser("generate", help="write kubedrill/defaults.py from benchmarks/runs/")
    sub.add_parser("check", help="exit 1 when kubedrill/defaults.py differs from what benchmarks/runs/ give")
    a = ap.parse_args(argv)
    if a.command == "record":
        for p in record(a.dirs, a.commit):
            print(p.relative_to(ROOT))
        return 0
    records = load_records()
    defaults = generate(records)
    text = render(defaults, records)
    if a.command == "generate":
        DEFAULTS_PY.write_text(text)
        print(markdown(defaults, HAND_SET))
        print(f"{DEFAULTS_PY.relative_to(ROOT)}: {len(records)} runs, "
              f"{sum(d.provisional for d in defaults)} of {len(defaults)} objectives provisional")
        return 0
    current = DEFAULTS_PY.read_text() if DEFAULTS_PY.exists() else ""
    if current != text:
        print(f"{DEFAULTS_PY.relative_to(ROOT)} differs from benchmarks/runs/: run benchmarks/objectives.py generate")
        return 1
    print(f"{DEFAULTS_PY.relative_to(ROOT)} matches {len(records)} run records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
