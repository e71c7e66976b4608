"""Time to a verdict: the same fault (one pod of a three-replica Deployment terminated, all Ready
again) run three ways, and whether each verdict catches a recovery that is too slow (readiness
20 s after the container starts, objective 10 s):

    ctk        `chaos run benchmarks/verdict/ctk.yaml` as Chaos Toolkit users write it: the action,
               a pause of 10 s (the objective), the steady-state probe again; its namespace and
               Deployment made beforehand with kubectl (not counted: ``setup_s``)
    pytest     kubedrill's pytest item (make drill EXPERIMENTS=benchmarks/verdict/kubedrill.yaml):
               deploy, fault, watch-measured recovery, checks, teardown
    chaos-kd   `chaos run benchmarks/verdict/kubedrill.yaml`: the same file under Chaos Toolkit's
               runner with kubedrill's control

    .venv/bin/python benchmarks/verdict_time.py run --runs 10 --slow-runs 3 > benchmarks/runs/verdict-<date>.jsonl
    .venv/bin/python benchmarks/verdict_time.py summary benchmarks/runs/verdict-*.jsonl

One JSON line per run (driver, variant, seconds to the verdict, exit code, the verdict, caught);
the summary is the Markdown table of benchmarks/results.md. Runs one at a time on the local kind
cluster; a driver's failure to give any verdict is printed and kept (``verdict: "none"``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubedrill import pins  # noqa: E402
from kubedrill.observe.measure import Stats  # noqa: E402

HERE = ROOT / "benchmarks" / "verdict"
PY = Path(sys.executable)
CHAOS = PY.with_name("chaos")
KUBECTL = Path.home() / ".cache" / "kubedrill" / "bin" / "kubectl"
CONTEXT = f"kind-{pins.cluster_name()}"
DRIVERS = ("ctk", "pytest", "chaos-kd")


def kubectl(*args: str) -> str:
    return subprocess.run([str(KUBECTL), "--context", CONTEXT, *args], check=True, capture_output=True,
                          text=True).stdout


def _timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int, str]:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    return time.monotonic() - start, proc.returncode, proc.stdout + proc.stderr


def ctk(tmp: Path, slow: bool, i: int) -> dict:
    ns = f"bench-ctk-{os.getpid()}-{i}"
    start = time.monotonic()
    kubectl("create", "namespace", ns)
    try:
        kubectl("apply", "-n", ns, "-f", str(HERE / "manifests" / ("web-slow.yaml" if slow else "web.yaml")))
        kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=180s")
        setup_s = time.monotonic() - start
        journal = tmp / "journal.json"
        took, rc, out = _timed([str(CHAOS), "--log-file", str(tmp / "ctk.log"), "run", "--var", f"ns={ns}",
                                "--journal-path", str(journal), str(HERE / "ctk.yaml")], tmp)
        j = json.loads(journal.read_text()) if journal.is_file() else {}
        verdict = ("deviated" if j.get("deviated") else j.get("status", "none"))
        return {"seconds": took, "setup_s": setup_s, "rc": rc, "verdict": verdict, "caught": verdict == "deviated",
                "tail": "" if j else out[-600:]}
    finally:
        kubectl("delete", "namespace", ns, "--wait=true", "--timeout=180s")


def pytest_item(tmp: Path, slow: bool, i: int) -> dict:
    exp = HERE / ("kubedrill-slow.yaml" if slow else "kubedrill.yaml")
    reports = tmp / "reports"
    took, rc, out = _timed([str(PY), "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT),
                            "-p", "no:cacheprovider", "--reports-dir", str(reports), "--alluredir=",
                            str(exp), "--experiments", str(exp)], ROOT, {"KUBEDRILL_STATE_DIR": str(tmp / "state")})
    results = reports / "results.json"
    rows = json.loads(results.read_text())["scenarios"] if results.is_file() else []
    row = rows[0] if rows else {}
    verdict = row.get("verdict", "none")
    return {"seconds": took, "rc": rc, "verdict": verdict, "rto_s": row.get("rto_s"),
            "caught": verdict == "objective missed", "tail": "" if rows else out[-600:]}


def chaos_kd(tmp: Path, slow: bool, i: int) -> dict:
    exp = HERE / ("kubedrill-slow.yaml" if slow else "kubedrill.yaml")
    journal = tmp / "journal.json"
    took, rc, out = _timed([str(CHAOS), "--log-file", str(tmp / "ctk.log"), "run", "--journal-path", str(journal),
                            str(exp)], tmp, {"KUBEDRILL_STATE_DIR": str(tmp / "state")})
    kd = (json.loads(journal.read_text()).get("kubedrill") or {}) if journal.is_file() else {}
    verdict = kd.get("verdict", "none")
    return {"seconds": took, "rc": rc, "verdict": verdict, "rto_s": kd.get("rto_s"),
            "caught": verdict == "objective missed", "tail": "" if kd else out[-600:]}


RUN = {"ctk": ctk, "pytest": pytest_item, "chaos-kd": chaos_kd}


def run(runs: int, slow_runs: int, drivers: tuple[str, ...]) -> None:
    plan = [(d, False) for _ in range(runs) for d in drivers] + [(d, True) for _ in range(slow_runs) for d in drivers]
    for i, (driver, slow) in enumerate(plan, 1):
        with tempfile.TemporaryDirectory(prefix="kd-verdict-") as tmp:
            row = {"driver": driver, "variant": "slow" if slow else "normal", **RUN[driver](Path(tmp), slow, i)}
        print(json.dumps(row), flush=True)
        print(f"{i}/{len(plan)} {driver} {row['variant']}: {row['verdict']} in {row['seconds']:.1f}s",
              file=sys.stderr, flush=True)


def summary(paths: list[str]) -> list[str]:
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for p in paths:
        for line in Path(p).read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                by[(r["driver"], r["variant"])].append(r)
    out = ["| driver | variant | runs | time to a verdict, median / p95 / max | verdicts | slow recovery caught |",
           "|---|---|---|---|---|---|"]
    for driver in DRIVERS:
        for variant in ("normal", "slow"):
            rows = by.get((driver, variant))
            if not rows:
                continue
            s = Stats.of([r["seconds"] for r in rows])
            verdicts = defaultdict(int)
            for r in rows:
                verdicts[r["verdict"]] += 1
            caught = (f"{sum(r['caught'] for r in rows)}/{len(rows)}" if variant == "slow" else
                      f"false alarms {sum(r['caught'] for r in rows)}/{len(rows)}")
            out.append(f"| {driver} | {variant} | {len(rows)} | {s.median:.1f} / {s.p95:.1f} / {s.max:.1f} s | "
                       + ", ".join(f"{v} ×{n}" for v, n in sorted(verdicts.items())) + f" | {caught} |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--runs", type=int, default=10)
    r.add_argument("--slow-runs", type=int, default=3)
    r.add_argument("--drivers", default=",".join(DRIVERS))
    s = sub.add_parser("summary")
    s.add_argument("paths", nargs="+")
    a = ap.parse_args()
    if a.cmd == "run":
        drivers = tuple(d for d in a.drivers.split(",") if d)
        unknown = set(drivers) - set(DRIVERS)
        if unknown:
            ap.error(f"unknown driver {', '.join(sorted(unknown))} (known: {', '.join(DRIVERS)})")
        run(a.runs, a.slow_runs, drivers)
    else:
        print("\n".join(summary(a.paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
