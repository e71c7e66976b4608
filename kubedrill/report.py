"""Results: the summary table, reports/results.json, and (later) the HTML report.

``python -m kubedrill.report html`` builds the HTML report (not built yet).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

# verdict classes (see issue 8): passed, objective missed, data lost, infrastructure error,
# harness error, skipped
PASSED = "passed"
OBJECTIVE_MISSED = "objective missed"
DATA_LOST = "data lost"
INFRA_ERROR = "infrastructure error"
HARNESS_ERROR = "harness error"
SKIPPED = "skipped"
INTERRUPTED = "interrupted"
FAILED = "failed"


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    verdict: str
    rto_s: float | None = None
    objective_s: float | None = None
    reason: str = ""
    timeline: dict | None = None
    seed: int | None = None
    duration_s: float = 0.0


def format_table(results: Sequence[ScenarioResult]) -> list[str]:
    """The summary table printed at the end of every run."""
    rows = [("scenario", "verdict", "RTO")]
    for r in results:
        rto = f"{r.rto_s:.2f}s" if r.rto_s is not None else "-"
        if r.rto_s is not None and r.objective_s is not None:
            rto += f" (objective {r.objective_s:g}s)"
        rows.append((r.scenario, r.verdict, rto))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(rows[0], widths)).rstrip(), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows[1:]]
    return out


def write_results(path: Path, run_id: str, seed: int, context: str, results: Iterable[ScenarioResult],
                  leaks: Sequence[str] = ()) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"run_id": run_id, "seed": seed, "context": context,
            "scenarios": [asdict(r) for r in results], "leaks": list(leaks)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["html"]:
        print("usage: python -m kubedrill.report html", file=sys.stderr)
        return 2
    print("kubedrill: the HTML report is not built yet; see reports/results.json and reports/junit.xml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
