"""The architecture check: an AST walk of a package that finds imports against the layer order,
import cycles, imports of the package inside function bodies (the way a cycle gets dodged),
private names taken from another module, and imports of pytest.

Pure logic over source files (nothing is imported or run); tests/unit/test_architecture.py runs
it on kubedrill/ and fixtures/, and on the planted tree in tests/unit/data/planted/.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

UPWARD = "upward import"
CYCLE = "import cycle"
LAZY = "import inside a function"
PRIVATE = "private name of another module"
PYTEST = "imports pytest"
UNPLACED = "module in no layer"


@dataclass(frozen=True)
class Problem:
    kind: str
    module: str
    line: int
    detail: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Import:
    target: str        # the module imported (or the package, for `from pkg import name`)
    names: tuple[tuple[str, str], ...]   # (name, the name it is bound to) of `from x import name as y`
    bound: str                           # `import a.b as c`: c ("" without as)
    line: int
    in_function: bool


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of ``package`` under ``root``."""
    base = root / package
    found = {}
    for path in sorted(base.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(alias.name, (), alias.asname or "", child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                target = child.module or ""
                if child.level:
                    parts = module.split(".")
                    keep = len(parts) - child.level + (1 if is_package else 0)
                    target = ".".join(parts[:keep] + ([target] if target else []))
                found.append(Import(target, tuple((a.name, a.asname or a.name) for a in child.names), "",
                                    child.lineno, in_function))
            visit(child, inside)

    visit(tree, False)
    return found


def _rank(module: str, layers: Sequence[Sequence[str]]) -> int | None:
    best: tuple[int, int] | None = None   # (prefix length, rank)
    for rank, prefixes in enumerate(layers):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), rank)
    return None if best is None else best[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def check(root: Path, package: str, layers: Sequence[Sequence[str]] | None = None,
          roots: Iterable[str] = (), allow_pytest: bool = False) -> list[Problem]:
    """Every problem in ``package`` (under ``root``). ``layers``: lowest first, each a list of
    dotted prefixes; a module may import its own layer and the ones below. Without ``layers``
    only cycles, lazy imports, private names and pytest are checked. ``roots``: other top-level
    packages whose modules count as internal too (e.g. kubedrill for fixtures). ``allow_pytest``:
    the package is a pytest layer (fixtures/), whose modules may import pytest."""
    internal_roots = {package, *roots}
    mods: dict[str, Path] = {}
    for top in internal_roots:
        if (root / top).is_dir():
            mods.update(modules(root, top))
    own = {m: p for m, p in mods.items() if m == package or m.startswith(package + ".")}
    problems: list[Problem] = []
    graph: dict[str, set[str]] = {m: set() for m in own}
    edge_line: dict[tuple[str, str], int] = {}
    for mod, path in own.items():
        tree = ast.parse(path.read_text(), str(path))
        imports = _imports(tree, mod, path.name == "__init__.py")
        aliases: dict[str, str] = {}   # local name -> internal module it is bound to
        for imp in imports:
            top = imp.target.split(".")[0]
            if top in ("pytest", "_pytest") and not allow_pytest:
                problems.append(Problem(PYTEST, mod, imp.line, f"import of {imp.target}"))
                continue
            if top not in internal_roots:
                continue
            targets: list[tuple[str, str | None, str]] = []   # (module, name taken from it, bound name)
            if imp.names:
                for name, bound in imp.names:
                    sub = f"{imp.target}.{name}"
                    targets.append((sub, None, bound) if sub in mods else (imp.target, name, bound))
            else:
                targets.append((imp.target, None, imp.bound))
            for target, name, bound in targets:
                if imp.in_function:
                    problems.append(Problem(LAZY, mod, imp.line, f"imports {target} inside a function body"))
                if name is not None and _private(name):
                    problems.append(Problem(PRIVATE, mod, imp.line, f"from {target} import {name}"))
                if name is None and bound:
                    aliases[bound] = target
                if target in own and target != mod and not imp.in_function:
                    graph[mod].add(target)
                    edge_line.setdefault((mod, target), imp.line)
                if layers is not None and target != mod:
                    here, there = _rank(mod, layers), _rank(target, layers)
                    if there is not None and here is not None and there > here:
                        problems.append(Problem(UPWARD, mod, imp.line,
                                                f"imports {target} (layer {there}) from layer {here}"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases):
                problems.append(Problem(PRIVATE, mod, node.lineno,
                                        f"{aliases[node.value.id]}.{node.attr} used from another module"))
        if layers is not None and _rank(mod, layers) is None:
            problems.append(Problem(UNPLACED, mod, 1, "add it to a layer"))
    problems.extend(_cycles(graph, edge_line))
    return problems


def _cycles(graph: Mapping[str, set[str]], edge_line: Mapping[tuple[str, str], int]) -> list[Problem]:
    """One problem per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[Problem] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                first = min(comp)
                nxt = min(w for w in graph[first] if w in comp)
                found.append(Problem(CYCLE, first, edge_line.get((first, nxt), 1),
                                     " <-> ".join(sorted(comp))))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found
