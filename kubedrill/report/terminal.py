"""The kubedrill summary at the end of every run: the table of verdicts and measurements, the
StorageClasses side by side (when the storage scenarios ran per class), the reason of each scenario that did not pass, the run id and seed, the leak check, the run's
verdict (its exit code), the metrics that could not be written or pushed, and where the reports are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kubedrill.report.results import PASSED, ScenarioResult, comparison, format_comparison, format_table
from kubedrill.report.verdicts import RunVerdict

SECTION = "kubedrill summary"


@dataclass(frozen=True)
class Line:
    text: str
    red: bool = False


def summary(results: Sequence[ScenarioResult], run_id: str, seed: int, leak_lines: Sequence[str],
            reports_dir: Path, verdict: RunVerdict | None = None,
            unreported: Sequence[str] = ()) -> tuple[Line, ...]:
    """``unreported``: what of the run's metrics could not be written or pushed (a harness error)."""
    lines = [Line(t) for t in (format_table(results) if results else ["no scenario ran"])]
    lines += [Line(t) for t in format_comparison(comparison(results))]
    lines += [Line(f"{r.verdict}: {r.scenario}: {r.reason or '(no reason given)'}", red=True)
              for r in results if r.verdict != PASSED]
    lines.append(Line(f"run {run_id} · seed {seed} (repeat with --seed {seed})"))
    if leak_lines:
        lines += [Line(f"LEAK: {leak}", red=True) for leak in leak_lines]
    else:
        lines.append(Line("leak check: nothing left behind"))
    lines += [Line(f"METRICS: {line}", red=True) for line in unreported]
    if verdict is not None:
        lines.append(Line(f"verdict: {verdict.name} (exit {verdict.code}; {Path(reports_dir) / 'verdict'})",
                          red=verdict.code != 0))
    lines.append(Line(f"results: {Path(reports_dir) / 'results.json'} · HTML report: make report "
                      f"(python -m kubedrill.report html)"))
    return tuple(lines)
