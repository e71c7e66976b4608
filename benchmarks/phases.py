#!/usr/bin/env python3
"""Sum the run phases of a drill's output (deploying, injecting the fault, waiting for recovery,
verifying, tearing down) over its scenarios, and what the session's end waited for.

    .venv/bin/python benchmarks/phases.py reports/drill-runs/run-01/output.txt [...]

Reads the terminal output (``kubedrill: [scenario] phase <title>: end (1.2s)``, also a parallel
worker's ``[gw0] kubedrill: ...``); a phase nested in the same phase counts once. Prints per run:
wall time (pytest's own line), each phase's sum and share of the wall time, and the seconds the
session's end spent after the last scenario (its namespaces awaited, the leak check).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

PHASE = re.compile(r"^(?:\[(gw\d+)\] )?kubedrill: \[([^\]]+)\] phase (.+?): (start|end|FAILED)(?: \(([\d.]+)s\))?$")
WALL = re.compile(r"^=+ .* in ([\d.]+)s(?: \(.*\))? =+$", re.M)   # pytest's last line
TITLES = ("deploying", "injecting the fault", "waiting for recovery", "verifying", "tearing down")


def sums(text: str) -> tuple[dict[str, float], float | None]:
    open_: dict[tuple, list[str]] = defaultdict(list)
    total: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        m = PHASE.match(line.strip())
        if not m:
            continue
        worker, scenario, title, what, took = m.groups()
        key = (worker, scenario)
        if what == "start":
            open_[key].append(title)
            continue
        if open_[key] and open_[key][-1] == title:
            open_[key].pop()
        if title not in open_[key] and took is not None:
            total[title] += float(took)
    walls = [float(x) for x in WALL.findall(text)]
    return dict(total), walls[-1] if walls else None


def main(paths: list[str]) -> int:
    print("| run | wall s | " + " | ".join(TITLES) + " |")
    print("|---|---|" + "---|" * len(TITLES))
    for p in paths:
        total, wall = sums(Path(p).read_text(errors="replace"))
        cells = [f"{total.get(t, 0):.0f} ({100 * total.get(t, 0) / wall:.0f} %)" if wall else f"{total.get(t, 0):.0f}"
                 for t in TITLES]
        print(f"| {p} | {wall if wall is not None else '?'} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
