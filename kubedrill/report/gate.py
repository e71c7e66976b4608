"""What a finished run's reports say, for a pipeline's next step: the release gate (reports/verdict
no worse than a class) and the job summary (reports/junit.xml as Markdown).

``kubedrill gate`` and ``kubedrill summary`` (kubedrill/cli.py; ``make gate``, ``make summary``)
call these; they read files only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from kubedrill.errors import UsageError
from kubedrill.report.results import EXIT_CODES, HARNESS_ERROR, PASSED, WORST_FIRST
from kubedrill.report.verdicts import RunVerdict

VERDICT_FILE = "verdict"
JUNIT_FILE = "junit.xml"
MESSAGE_CHARS = 160


def read_verdict(path: Path) -> RunVerdict | None:
    """reports/verdict (``10 data lost``); None when there is none (the run did not finish)."""
    try:
        text = Path(path).read_text().strip()
    except FileNotFoundError:
        return None
    code, _, name = text.partition(" ")
    if not code.lstrip("-").isdigit() or not name:
        raise UsageError(f"{path}: not a verdict line (<exit code> <class>): {text[:80]!r}")
    return RunVerdict(int(code), name)


def parse_allowed(name: str) -> str:
    """The worst class a gate lets through: one of the verdict classes."""
    if name not in WORST_FIRST:
        raise UsageError(f"--allow {name!r}: not a verdict class; one of: {', '.join(reversed(WORST_FIRST))}")
    return name


@dataclass(frozen=True)
class Gate:
    passed: bool
    code: int      # 0 through the gate; else the run's own code (the harness error's when there is none)
    line: str


def gate(verdict: RunVerdict | None, allowed: str = PASSED, where: str = "reports/verdict") -> Gate:
    """Through when the run's class is ``allowed`` or less severe (WORST_FIRST). A run that ended
    in one of pytest's own codes (interrupted, usage error...) never passes, nor a missing verdict."""
    if verdict is None:
        return Gate(False, EXIT_CODES[HARNESS_ERROR], f"kubedrill gate: no {where}: the drill did not finish; "
                                                      "the gate is closed")
    own_class = verdict.name in WORST_FIRST and EXIT_CODES[verdict.name] == verdict.code   # not pytest's own 2-5
    if own_class and WORST_FIRST.index(verdict.name) >= WORST_FIRST.index(allowed):
        return Gate(True, 0, f"kubedrill gate: the drill's verdict is {verdict.code} {verdict.name}: "
                             f"no worse than {allowed}, the gate is open")
    return Gate(False, verdict.code or EXIT_CODES[HARNESS_ERROR],
                f"kubedrill gate: the drill's verdict is {verdict.code} {verdict.name}: worse than {allowed}, "
                "the gate is closed")


def _cell(text: str) -> str:
    line = " ".join((text or "").split())
    line = line if len(line) <= MESSAGE_CHARS else line[:MESSAGE_CHARS - 1] + "…"
    return line.replace("|", "\\|")


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            return outcome, found.get("message") or (found.text or "")
    return "passed", ""


def junit_summary(junit: Path, verdict: RunVerdict | None) -> list[str]:
    """The job summary: the run's verdict, its totals and one row per scenario (Markdown)."""
    head = ["## kubedrill game day", "",
            f"Verdict: **{verdict.code} {verdict.name}**" if verdict else "Verdict: none (the drill did not finish)", ""]
    try:
        root = ET.parse(junit).getroot()
    except FileNotFoundError:
        return head + [f"No {junit}: no scenario ran."]
    except ET.ParseError as exc:
        return head + [f"{junit} is not JUnit XML: {exc}"]
    cases = list(root.iter("testcase"))
    rows = []
    counts: dict[str, int] = {}
    for case in cases:
        outcome, message = _outcome(case)
        counts[outcome] = counts.get(outcome, 0) + 1
        name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
        rows.append(f"| {_cell(name)} | {outcome} | {float(case.get('time') or 0):.1f} s | {_cell(message)} |")
    totals = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
    return head + [f"{len(cases)} scenarios: {totals}", "",
                   "| scenario | outcome | time | message |", "|---|---|---|---|", *rows]
