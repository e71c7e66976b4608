"""The checks of scenarios/ and their rows in docs/checks.md: an AST walk (nothing is imported).

A check is a ``checks.<kind>("<id>", ...)`` call, or a call of a library verification
(``<obj>.verify...(...)``, which raises DataLost), whose id is ``<file stem>.<function>.<method>``.
A bare ``assert`` or a comparison with an objective outside ``checks.objective`` is a problem:
its failure would carry no verdict class and no row.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

CHECK_KINDS = {"recovered": "not recovered", "identity": "identity lost", "injected": "fault not injected",
               "data": "data lost", "objective": "objective missed"}
VERIFY_CLASS = "data lost"
CLASSES = ("passed", "objective missed", "data lost", "identity lost", "not recovered", "fault not injected",
           "not applicable", "harness error", "interrupted")


@dataclass(frozen=True)
class Check:
    check_id: str
    verdict: str
    file: str
    function: str
    line: int


@dataclass(frozen=True)
class Row:
    check_id: str
    scenario: str
    verdict: str
    broken: str
    proof: str


def _stem(path: Path) -> str:
    return path.stem.removeprefix("test_")


def scan(path: Path) -> tuple[list[Check], list[str]]:
    """(the checks of one scenario file, its problems)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[Check] = []
    problems: list[str] = []
    for fn in [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]:
        for node in ast.walk(fn):
            where = f"{path.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Assert):
                problems.append(f"{where}: bare assert in {fn.name} (use kubedrill.checks)")
            elif isinstance(node, ast.Compare) and "objectives" in ast.unparse(node):
                problems.append(f"{where}: objective comparison outside checks.objective in {fn.name}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner, attr = node.func.value, node.func.attr
                if isinstance(owner, ast.Name) and owner.id == "checks":
                    if attr not in CHECK_KINDS:
                        problems.append(f"{where}: unknown check kind checks.{attr}")
                        continue
                    first = node.args[0] if node.args else None
                    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                        problems.append(f"{where}: checks.{attr} needs a literal check id as its first argument")
                        continue
                    found.append(Check(first.value, CHECK_KINDS[attr], path.name, fn.name, node.lineno))
                elif attr.startswith("verify"):
                    found.append(Check(f"{_stem(path)}.{fn.name}.{attr}", VERIFY_CLASS, path.name, fn.name,
                                       node.lineno))
    return found, problems


def scan_all(scenarios: Path) -> tuple[list[Check], list[str]]:
    checks: list[Check] = []
    problems: list[str] = []
    for path in sorted(scenarios.glob("test_*.py")):
        found, bad = scan(path)
        checks += found
        problems += bad
    seen: dict[str, Check] = {}
    for c in checks:
        other = seen.get(c.check_id)
        if other is not None and (other.file, other.function) != (c.file, c.function):
            problems.append(f"check id {c.check_id!r} used in {other.function} and {c.function}")
        seen.setdefault(c.check_id, c)
    return checks, problems


_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


def rows(markdown: str) -> list[Row]:
    """The rows of the checks table: | `id` | scenario | what | broken variant | class | proof |."""
    found = []
    for line in markdown.splitlines():
        m = _ROW.match(line.strip())
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        if len(cells) != 5:
            raise ValueError(f"checks table row needs 6 cells: {line}")
        scenario, _what, broken, verdict, proof = cells
        found.append(Row(m.group(1), scenario, verdict, broken, proof))
    return found


_PROOF = re.compile(r"`?(tests/e2e/[\w/]+\.py)::(test_\w+)(\[[^\]]*\])?`?")


def proof_problems(row: Row, root: Path) -> list[str]:
    """The e2e proof of a row must name an existing test function of tests/e2e, or say "not yet"
    (listed in docs/checks.md as a check no broken variant reaches yet)."""
    if row.proof.startswith("not yet"):
        return []
    m = _PROOF.search(row.proof)
    if not m:
        return [f"{row.check_id}: no e2e proof ({row.proof or 'empty'})"]
    path = root / m.group(1)
    if not path.exists():
        return [f"{row.check_id}: {m.group(1)} does not exist"]
    names = {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)}
    return [] if m.group(2) in names else [f"{row.check_id}: {m.group(1)} has no {m.group(2)}"]


def unproven(table: list[Row]) -> list[str]:
    return [r.check_id for r in table if r.proof.startswith("not yet")]


def table_problems(checks: list[Check], table: list[Row], root: Path) -> list[str]:
    problems = []
    by_id = {r.check_id: r for r in table}
    for c in checks:
        row = by_id.get(c.check_id)
        if row is None:
            problems.append(f"{c.file}:{c.line}: check {c.check_id!r} has no row in docs/checks.md")
        elif row.verdict != c.verdict:
            problems.append(f"{c.check_id}: row says {row.verdict!r}, the check raises {c.verdict!r}")
    ids = {c.check_id for c in checks}
    for r in table:
        if r.check_id not in ids:
            problems.append(f"docs/checks.md row {r.check_id!r} names no check of scenarios/")
        if r.verdict not in CLASSES:
            problems.append(f"{r.check_id}: unknown verdict class {r.verdict!r}")
        problems += proof_problems(r, root)
    return problems
