"""The architecture of kubedrill/ (docs/architecture.md), checked on its source: layers import only
downwards, no cycles, no imports dodged into function bodies, no private names across modules, no
pytest in the library; one definition of each thing that once had several; modules and classes
of a readable size. The same check is shown to catch each fault planted in tests/unit/data/planted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit import layers
from tests.unit.layers import CYCLE, LAZY, PRIVATE, PYTEST, UNPLACED, UPWARD

ROOT = Path(__file__).resolve().parents[2]
PLANTED = Path(__file__).resolve().parent / "data" / "planted"

# lowest first; a module may import its own layer and the layers below (docs/architecture.md)
KUBEDRILL_LAYERS = (
    ("kubedrill.errors", "kubedrill"),                          # 0 typed errors, __version__
    ("kubedrill.pins", "kubedrill.defaults", "kubedrill.config", "kubedrill.guard", "kubedrill.policy",
     "kubedrill.checks"),                                       # 1 pins, timeouts, objectives, safety rules, checks
    ("kubedrill.wait",),                                        # 2 the one way to wait
    ("kubedrill.k8s",),                                         # 3 one module per kind
    ("kubedrill.docker", "kubedrill.helm", "kubedrill.run", "kubedrill.client"),  # 4 harness
    ("kubedrill.journal", "kubedrill.journalfile", "kubedrill.undo", "kubedrill.scope", "kubedrill.leaks", "kubedrill.lock",
     "kubedrill.leasewatch", "kubedrill.session", "kubedrill.plan"),  # 5 harness
    ("kubedrill.observe",),                                     # 6 timelines, RTO, prober, observers
    ("kubedrill.data",),                                        # 7 oracle, writer, sinks, RPO
    ("kubedrill.workloads",),                                   # 8 sample workloads
    ("kubedrill.faults",),                                      # 9 what breaks things
    ("kubedrill.report",),                                      # 10 results, Allure, HTML, diagnostics
    ("kubedrill.ctk",),                                         # 11 experiments: extension, verdict, runner
    ("kubedrill.cli",),                                         # 12 the kubedrill command
)
PLANTED_LAYERS = (("plant", "plant.base"), ("plant.mid",), ("plant.top",))

MAX_MODULE_LINES = 350
MAX_CLASS_LINES = 200
# a module or class allowed over the limits, with the reason (none today)
OVERSIZE: dict[str, str] = {}


def _kinds(problems, module: str) -> set[str]:
    return {p.kind for p in problems if p.module == module}


def test_kubedrill_imports_follow_the_layers():
    problems = layers.check(ROOT, "kubedrill", KUBEDRILL_LAYERS)
    assert not problems, "\n".join(map(str, problems))


def test_fixtures_have_no_cycle_no_lazy_import_and_no_private_name():
    """fixtures/ is the pytest layer: it may import pytest and any of kubedrill/."""
    problems = layers.check(ROOT, "fixtures", roots=("kubedrill",), allow_pytest=True)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("module, kind", [
    ("plant.base.upward", UPWARD),
    ("plant.mid.ping", CYCLE),
    ("plant.mid.lazy", LAZY),
    ("plant.mid.private", PRIVATE),
    ("plant.mid.private_attribute", PRIVATE),
    ("plant.top.uses_pytest", PYTEST),
])
def test_the_check_catches_each_planted_fault(module, kind):
    problems = layers.check(PLANTED, "plant", PLANTED_LAYERS)
    assert kind in _kinds(problems, module), "\n".join(map(str, problems))


def test_the_planted_clean_modules_pass():
    problems = layers.check(PLANTED, "plant", PLANTED_LAYERS)
    assert not _kinds(problems, "plant.base.clean") | _kinds(problems, "plant.top.leaf")


def test_a_module_in_no_layer_is_named():
    problems = layers.check(PLANTED, "plant", (("plant.base",), ("plant.mid",)))
    assert UNPLACED in _kinds(problems, "plant.top.leaf")


def test_the_cycle_names_both_modules():
    (cycle,) = [p for p in layers.check(PLANTED, "plant", PLANTED_LAYERS) if p.kind == CYCLE]
    assert cycle.detail == "plant.mid.ping <-> plant.mid.pong"


# --- one definition of each ---------------------------------------------------------------

def _library() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text())
            for path in layers.modules(ROOT, "kubedrill").values()}


def _classes(name: str) -> list[str]:
    return [f"{path}:{node.lineno}" for path, tree in _library().items()
            for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == name]


@pytest.mark.parametrize("name", ["ExecFailed", "StatefulSet", "RecordWriter"])
def test_one_class_of_each(name):
    assert len(_classes(name)) == 1, _classes(name)


def test_one_claims_module():
    defining = sorted(path for path, tree in _library().items()
                      for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "create_claim")
    assert defining == ["kubedrill/k8s/claims.py"]
    assert not (ROOT / "kubedrill/k8s/pvs.py").exists() and not (ROOT / "kubedrill/k8s/pvcs.py").exists()


def test_one_labels_and_selector_function():
    """Only guard.app_labels spells the app label: every workload's labels and selector come from it."""
    spelled = sorted(f"{path}:{node.lineno}" for path, tree in _library().items() for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and node.value == "app.kubernetes.io/name")
    assert [s.split(":")[0] for s in spelled] == ["kubedrill/guard.py"], spelled
    assert len([n for n in ast.walk(_library()["kubedrill/guard.py"])
                if isinstance(n, ast.FunctionDef) and n.name == "app_labels"]) == 1


# --- sizes --------------------------------------------------------------------------------

def test_no_module_over_350_lines_and_no_class_over_200():
    over = []
    for path, tree in _library().items():
        lines = len((ROOT / path).read_text().splitlines())
        if lines > MAX_MODULE_LINES and path not in OVERSIZE:
            over.append(f"{path}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES and f"{path}::{node.name}" not in OVERSIZE:
                    over.append(f"{path}::{node.name}: {size} lines")
    assert not over, "\n".join(over)
