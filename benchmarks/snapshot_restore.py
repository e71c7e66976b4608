"""Summarise snapshot/restore runs: RPO (records, seconds, measured from the restored data),
restore RTO (from the loss to the restored data verified), the moment the restored workload was
Ready (where the restore RTO used to end, near enough: the server answering) and snapshot time
(median, p95, max) per workload, from the reports/restores.jsonl files of several runs.

    for i in $(seq 10); do pytest scenarios/test_snapshot_restore.py --reports-dir runs/$i || break; done
    python benchmarks/snapshot_restore.py runs/*/restores.jsonl

Prints a Markdown table (the one in benchmarks/results.md and docs/snapshot-restore.md).
Only passed scenarios count; the number of runs and of failures is printed with it.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from kubedrill.observe.measure import Stats


def load(paths: list[str]) -> list[dict]:
    rows = []
    for p in paths:
        for line in Path(p).read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def fmt(values: list[float], unit: str = "s", digits: int = 1) -> str:
    if not values:
        return "-"
    s = Stats.of(values)
    return f"{s.median:.{digits}f} / {s.p95:.{digits}f} / {s.max:.{digits}f}{unit}"


def table(rows: list[dict]) -> list[str]:
    by: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by[r["workload"]].append(r)
    out = ["| workload | runs passed | RPO records (median / p95 / max) | RPO seconds | restore RTO | "
           "workload Ready | consistent snapshot (quiesce → resume) |",
           "|---|---|---|---|---|---|---|"]
    for workload, rs in sorted(by.items()):
        ok = [r for r in rs if r["verdict"] == "passed" and r.get("restore_rto_s") is not None]
        out.append(
            f"| {workload} | {len(ok)}/{len(rs)} | {fmt([r['rpo_rows'] for r in ok], '', 0)} | "
            f"{fmt([r['rpo_s'] for r in ok])} | {fmt([r['restore_rto_s'] for r in ok], 's', 2)} | "
            f"{fmt([r['restore_ready_s'] for r in ok if r.get('restore_ready_s') is not None], 's', 2)} | "
            f"{fmt([r['snapshot_s'] for r in ok])} |")
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python benchmarks/snapshot_restore.py RESTORES.jsonl ...", file=sys.stderr)
        return 2
    for line in table(load(argv)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
