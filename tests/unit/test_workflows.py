""".github/workflows: the nightly game day and the pre-release gate, read with PyYAML (no CI run):
every `run:` step is one make or kubedrill command (no shell logic, no retry), naming a target
the Makefile has; the matrix covers the pinned Kubernetes version and the 1.36 line; the history
comes from the previous run and goes on to the next; the gate reads the verdict.
Every workflow also passes actionlint (pinned in cluster/versions.env, built by `make
actionlint`, which `make test-unit` runs first), and a broken copy does not."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")      # a GitHub expression, expanded before the shell runs
SHELL_LOGIC = re.compile(r"[;&|<>`$\\\n]|\b(retry|until|while|for|sleep)\b")
RETRY_ACTIONS = ("retry", "wretry")


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))          # YAML 1.1 reads the key `on` as true
    return doc


def steps(doc: dict):
    for job_name, job in doc["jobs"].items():
        for step in job["steps"]:
            yield job_name, step


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-zA-Z0-9_-]+):", (ROOT / "Makefile").read_text(), re.M))


def pinned_kube_version() -> str:
    return re.search(r"^KUBE_VERSION=(\S+)", (ROOT / "cluster" / "versions.env").read_text(), re.M)[1]


WORKFLOW_FILES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_there_are_the_nightly_game_day_and_the_release_gate():
    assert {"gameday.yml", "release-gate.yml"} <= set(WORKFLOW_FILES)


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_every_run_step_is_one_make_or_kubedrill_command(name):
    targets = make_targets()
    for job, step in steps(load(name)):
        assert not any(r in step.get("uses", "").lower() for r in RETRY_ACTIONS), f"{job}: a retry action"
        if "run" not in step:
            continue
        command = EXPRESSION.sub("X", step["run"].strip())
        assert not SHELL_LOGIC.search(command), f"{name} {job}: {step['run']!r} is more than one command"
        program, *args = command.split()
        assert program in ("make", "kubedrill"), f"{name} {job}: {step['run']!r}"
        if program == "make":
            named = [a for a in args if "=" not in a and not a.startswith("-")]
            assert named and set(named) <= targets, f"{name} {job}: {step['run']!r} names no Makefile target"


def test_the_game_day_runs_nightly_and_on_demand_across_the_kubernetes_versions():
    doc = load("gameday.yml")
    assert doc["on"]["schedule"] and "workflow_dispatch" in doc["on"]
    versions = doc["jobs"]["drill"]["strategy"]["matrix"]["kube_version"]
    assert pinned_kube_version() in versions
    assert any(re.fullmatch(r"v1\.36\.\d+", v) for v in versions)
    assert doc["jobs"]["drill"]["strategy"]["fail-fast"] is False
    runs = [s["run"] for _, s in steps(doc) if "run" in s]
    for target in ("cluster", "drill"):   # the same version in every step that makes the cluster
        (run,) = [r for r in runs if r.startswith(f"make {target} ")]
        assert "KUBE_VERSION=${{ matrix.kube_version }}" in run
        # MODE stays auto: online on GitHub, offline here (tests/e2e/test_workflow_steps.py runs these)
        assert "MODE=" not in run


def test_the_history_comes_from_the_previous_run_and_goes_to_the_next():
    doc = load("gameday.yml")
    order = [s.get("run") or s.get("uses", "").split("@")[0] for _, s in steps(doc)]
    downloads = [s for _, s in steps(doc) if s.get("uses", "").startswith("dawidd6/action-download-artifact@")]
    uploads = [s for _, s in steps(doc) if s.get("uses", "").startswith("actions/upload-artifact@")]
    (download,) = downloads
    assert download["with"]["workflow"] == "gameday.yml" and download["with"]["path"] == "reports/history"
    history = [u for u in uploads if u["with"]["path"].rstrip("/") == "reports/history"]
    assert [u["with"]["name"] for u in history] == [download["with"]["name"]]
    assert any(u["with"]["path"].rstrip("/") == "reports" for u in uploads)
    assert order.index("dawidd6/action-download-artifact") < order.index("make report")
    assert order.index("make report") < len(order) - 1 - order[::-1].index("actions/upload-artifact")
    for _, step in steps(doc):   # the report, summary and artifacts also after a failed drill
        if step.get("run") in ("make report", "make summary") or step.get("uses", "").startswith("actions/upload"):
            assert step.get("if") == "${{ !cancelled() }}", step


def test_the_job_summary_is_written():
    for name in ("gameday.yml", "release-gate.yml"):
        assert "make summary" in [s.get("run") for _, s in steps(load(name))]


def test_the_release_waits_for_the_gate_on_the_verdict():
    doc = load("release-gate.yml")
    gate_steps = [s for s in doc["jobs"]["gate"]["steps"] if "run" in s]
    assert gate_steps[-1]["run"] == "make gate" and "continue-on-error" not in gate_steps[-1]
    assert doc["jobs"]["release"]["needs"] == "gate"


# actionlint: the pinned binary `make actionlint` builds. shellcheck and pyflakes, which it runs on
# `run:` scripts when it finds them on PATH, are switched off: every `run:` step is one make or
# kubedrill command (checked above), so they would have nothing to read, and the result must not
# depend on what a machine happens to have installed.
ACTIONLINT_VERSION = re.search(r"^ACTIONLINT_VERSION=(\S+)", (ROOT / "cluster" / "versions.env").read_text(), re.M)[1]
ACTIONLINT = Path(os.environ.get("KUBEDRILL_CACHE") or Path.home() / ".cache" / "kubedrill") / "bin" / f"actionlint-{ACTIONLINT_VERSION}"


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    if not os.access(ACTIONLINT, os.X_OK):
        pytest.fail(f"{ACTIONLINT} is missing: `make actionlint` builds it (`make test-unit` does first)", pytrace=False)
    return subprocess.run([str(ACTIONLINT), "-no-color", "-shellcheck=", "-pyflakes=", *map(str, files)],
                          capture_output=True, text=True, timeout=60)


def test_actionlint_passes_on_every_workflow():
    result = actionlint(*(WORKFLOWS / name for name in WORKFLOW_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("broken, error", [
    # a matrix value the matrix does not have
    (("${{ matrix.kube_version }}", "${{ matrix.kube_versions }}"), "property \"kube_versions\" is not defined"),
    # a step that is both an action and a script
    (("        run: make report", "        uses: actions/checkout@v4\n        run: make report"), "unexpected key \"uses\" for step to run shell command"),
    # an expression GitHub cannot parse
    (("${{ !cancelled() }}", "${{ !cancelled( }}"), "unexpected"),
])
def test_actionlint_fails_on_a_broken_workflow(tmp_path, broken, error):
    old, new = broken
    text = (WORKFLOWS / "gameday.yml").read_text()
    assert old in text
    copy = tmp_path / ".github" / "workflows" / "gameday.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(text.replace(old, new, 1))
    result = actionlint(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert error in result.stdout, result.stdout
