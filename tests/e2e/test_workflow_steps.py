"""The nightly game-day workflow (.github/workflows/gameday.yml), run as GitHub would run its
`drill` job, on the local kind cluster: its `run:` steps in order, each with bash as GitHub runs
it (`bash --noprofile --norc -eo pipefail`), `${{ matrix.kube_version }}` as cluster/versions.env's
KUBE_VERSION, a step without `if:` only after every earlier step succeeded and a step with
`if: ${{ !cancelled() }}` after a failed one too, GITHUB_STEP_SUMMARY a file of the test's. Only the
`uses:` steps are skipped (the checkout, Python, Go, the artifacts: none of them is kubedrill's).

The steps run in a copy of the checkout (its tracked and untracked, not ignored, files: what a
clone of it would hold, the virtualenv linked), so that their reports/ is the copy's and the
checkout's reports/ stays as it was. What the steps cannot be told from outside goes in their
environment, their text unchanged:
- ARGS (the Makefile's `ARGS ?=`) restricts the drill to the plumbing scenario: a whole `make
  drill` takes about 5.5 minutes and `make test` is close to its time limit; one scenario is
  enough to show each step doing its part (the full drill has its own tests);
- KUBEDRILL_CLUSTER_REUSE_ONLY: the cluster step reuses the kind cluster as it is or fails (the
  cluster is shared: a test never starts, deletes or creates its nodes);
- KUBEDRILL_STATE_DIR: the drill's fault journal where a killed suite's is replayed (conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import CONTEXT, ROOT, leftovers, new_state_dir, unbroken_passed

pytestmark = pytest.mark.e2e

WORKFLOW = ROOT / ".github" / "workflows" / "gameday.yml"
JOB = "drill"
SCENARIO = "scenarios/test_plumbing.py::test_deployment_replaces_a_killed_pod"
# the drill of the plumbing scenario only (see the module's docstring)
DRILL_ARGS = f"-k {SCENARIO.rsplit('::', 1)[1]}"
CLUSTER = CONTEXT.removeprefix("kind-")
# the one condition other than the default (success()) the workflow may use
NOT_CANCELLED = "${{ !cancelled() }}"
MATRIX_VERSION = "${{ matrix.kube_version }}"
# GitHub's `shell: bash` on Linux
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
# what the test's own environment must not hand to the steps: Makefile variables (an outer `make
# test-e2e ARGS=...` passes its command line on in MAKEFLAGS, which would override ARGS here), and
# kubedrill's project directory (the steps' project is the copy they run in)
NOT_INHERITED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MODE", "CONTEXT", "ARGS", "EXPERIMENTS", "JOBS",
                 "STORAGE_CLASS", "PUSHGATEWAY", "PROBER_IMAGE", "WRITER_IMAGE", "REPORTS", "KUBE_VERSION",
                 "KUBEDRILL_PROJECT")
STEP_LIMIT_S = 900
# a step that retries: a shell loop or a retry action
RETRY_ACTIONS = ("retry", "wretry")
SHELL_LOGIC = re.compile(r"[;&|<>`$\\\n(){}]|\b(retry|until|while|for|sleep)\b")
EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def job() -> dict:
    return workflow()["jobs"][JOB]


def pinned_kube_version() -> str:
    return re.search(r"^KUBE_VERSION=(\S+)", (ROOT / "cluster" / "versions.env").read_text(), re.M)[1]


def test_every_run_step_is_one_make_or_kubedrill_command_and_no_step_retries():
    steps = job()["steps"]
    assert "continue-on-error" not in job(), "the drill job goes on after a failed step"
    assert "defaults" not in job() and "defaults" not in workflow(), "run: steps not in the default bash"
    run_steps = 0
    for step in steps:
        assert "continue-on-error" not in step, f"{step}: goes on after failing"
        assert not any(r in step.get("uses", "").lower() for r in RETRY_ACTIONS), f"{step}: a retry action"
        assert ("run" in step) != ("uses" in step), f"{step}: neither or both of run: and uses:"
        if "run" not in step:
            continue
        run_steps += 1
        assert "shell" not in step and "working-directory" not in step, f"{step}: not the default bash in the checkout"
        command = EXPRESSION.sub("X", step["run"].strip())
        assert not SHELL_LOGIC.search(command), f"{step['run']!r} is more than one command"
        words = shlex.split(command)
        assert words[0] in ("make", "kubedrill"), f"{step['run']!r} is not a make or kubedrill command"
        assert words.count("make") + words.count("kubedrill") == 1, f"{step['run']!r}"
    assert run_steps >= 4, "the cluster, drill, report and summary steps"


# ------------------------------------------------------------------ running the steps

@dataclass
class Step:
    name: str
    run: str          # as it ran: the workflow's text, the matrix value filled in
    rc: int | None    # None: not run (its condition was false)
    output: str = ""
    seconds: float = 0.0


@dataclass
class WorkflowRun:
    copy: Path
    summary: Path
    summary_before: str
    steps: list[Step] = field(default_factory=list)
    skipped_uses: list[str] = field(default_factory=list)
    nodes_before: dict = field(default_factory=dict)
    nodes_after: dict = field(default_factory=dict)
    checkout_reports_before: dict = field(default_factory=dict)
    checkout_reports_after: dict = field(default_factory=dict)
    started: float = 0.0
    state_dir: Path | None = None

    def step(self, target: str) -> Step:
        """The step `make TARGET ...` (one that did not run when there is none)."""
        found = [s for s in self.steps if s.run.split()[:2] == ["make", target]]
        assert len(found) <= 1, found
        return found[0] if found else Step(f"make {target}", f"make {target}", None, "(no such step ran)")


def clone_like_copy(dest: Path) -> Path:
    """The checkout's tracked and untracked (not ignored) files, with their times; the virtualenv
    linked (it is up to date: the copy's make must not reinstall it from the copy)."""
    installed, pyproject = ROOT / ".venv" / ".installed", ROOT / "pyproject.toml"
    if not installed.is_file() or installed.stat().st_mtime < pyproject.stat().st_mtime:
        pytest.fail("the virtualenv is not up to date with pyproject.toml: run `make venv` first", pytrace=False)
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() or src.is_symlink():   # a tracked file deleted in the checkout is not copied
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name, follow_symlinks=False)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def node_containers() -> dict:
    """The kind cluster's node containers: name -> (container id, started at)."""
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={CLUSTER}",
                          "--format", "{{.Names}}"], capture_output=True, text=True, check=True).stdout.split()
    found = {}
    for name in out:
        found[name] = tuple(subprocess.run(["docker", "inspect", "-f", "{{.Id}} {{.State.StartedAt}}", name],
                                           capture_output=True, text=True, check=True).stdout.split())
    return found


def tree(path: Path) -> dict:
    """Every file under path: relative name -> (size, mtime)."""
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(path.rglob("*")) if p.is_file()} if path.is_dir() else {}


def step_env(step: dict, version: str) -> dict:
    """The environment the workflow, the job and the step give a step (GitHub's order: the step's
    wins), the matrix value filled in."""
    env = {**workflow().get("env", {}), **job().get("env", {}), **step.get("env", {})}
    env = {k: str(v).replace(MATRIX_VERSION, version) for k, v in env.items()}
    assert not any("${{" in v for v in env.values()), f"an expression this test does not fill in: {env}"
    return env


def condition_holds(step: dict, failed: bool) -> bool:
    condition = step.get("if")
    if condition is None:                 # GitHub's default: success()
        return not failed
    if condition == NOT_CANCELLED:        # nothing here cancels a run
        return True
    pytest.fail(f"the step {step.get('name')!r} has a condition this test does not evaluate: {condition!r}")


def run_steps(tmp: Path) -> WorkflowRun:
    copy = clone_like_copy(tmp / "checkout")
    summary = tmp / "step_summary.md"
    summary.write_text("## an earlier step's summary\n")
    state = new_state_dir()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(GITHUB_STEP_SUMMARY=str(summary), ARGS=DRILL_ARGS, KUBEDRILL_CLUSTER_REUSE_ONLY="1",
               KUBEDRILL_STATE_DIR=str(state), CI="true")
    result = WorkflowRun(copy, summary, summary.read_text(), nodes_before=node_containers(),
                         checkout_reports_before=tree(ROOT / "reports"), started=time.time(), state_dir=state)
    version = pinned_kube_version()
    failed = False
    for i, step in enumerate(job()["steps"]):
        if "uses" in step:
            result.skipped_uses.append(step["uses"])
            continue
        text = step["run"].replace(MATRIX_VERSION, version)
        assert "${{" not in text, f"an expression this test does not fill in: {step['run']!r}"
        name = step.get("name", text)
        if not condition_holds(step, failed):
            result.steps.append(Step(name, text, None))
            continue
        script = tmp / f"step-{i}.sh"
        script.write_text(text + "\n")
        t0 = time.monotonic()
        proc = subprocess.Popen([*BASH, str(script)], cwd=copy, env={**env, **step_env(step, version)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=STEP_LIMIT_S)
        except subprocess.TimeoutExpired:   # interrupted as a user would (the drill cleans up), then failed
            os.killpg(proc.pid, signal.SIGINT)
            output, _ = proc.communicate(timeout=STEP_LIMIT_S)
            pytest.fail(f"{text}: still running after {STEP_LIMIT_S} s; interrupted:\n{output[-4000:]}")
        result.steps.append(Step(name, text, proc.returncode, output, time.monotonic() - t0))
        failed = failed or proc.returncode != 0
    result.nodes_after = node_containers()
    result.checkout_reports_after = tree(ROOT / "reports")
    return result


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory, clients):
    run = run_steps(tmp_path_factory.mktemp("gameday"))
    yield run
    if (run.copy / "reports" / "results.json").is_file():
        run_id = json.loads((run.copy / "reports" / "results.json").read_text())["run_id"]
        assert leftovers(clients, run_id, run.state_dir) == []


def results(run: WorkflowRun) -> dict:
    path = run.copy / "reports" / "results.json"
    assert path.is_file(), f"the drill wrote no results.json:\n{run.step('drill').output[-4000:]}"
    return json.loads(path.read_text())


def expected_drill_rc(run: WorkflowRun) -> int:
    """0 when the scenario passed; make's 2 (pytest's 1 below it) when it missed only a default
    objective, a measurement of this machine (conftest.unbroken_passed); 0 without results (the
    comparison of the steps then shows every step's output)."""
    if not (run.copy / "reports" / "results.json").is_file():
        return 0
    (row,) = results(run)["scenarios"]
    return 0 if unbroken_passed(row, run.step("drill").output) else 2


def test_the_run_steps_ran_in_order_each_exiting_as_expected(workflow_run):
    workflow = job()["steps"]
    assert workflow_run.skipped_uses == [s["uses"] for s in workflow if "uses" in s]
    version = pinned_kube_version()
    expected = [(s["run"].replace(MATRIX_VERSION, version), 0) for s in workflow if "run" in s]
    expected = [(run, expected_drill_rc(workflow_run) if run.startswith("make drill ") else rc)
                for run, rc in expected]
    ran = [(s.run, s.rc) for s in workflow_run.steps]
    assert ran == expected, "\n\n".join(f"$ {s.run}  (exit {s.rc}, {s.seconds:.0f} s)\n{s.output[-3000:]}"
                                        for s in workflow_run.steps)
    assert workflow_run.step("cluster").run == f"make cluster KUBE_VERSION={version}"
    drill = workflow_run.step("drill")
    if drill.rc:
        assert "] Error 1" in drill.output.splitlines()[-1], drill.output[-2000:]   # pytest's 1: objective missed
    print("\n" + "\n".join(f"{s.run}: exit {s.rc}, {s.seconds:.1f} s" for s in workflow_run.steps))


def test_the_cluster_step_reused_the_running_cluster(workflow_run):
    cluster = workflow_run.step("cluster")
    assert cluster.rc == 0, cluster.output[-3000:]
    assert f"cluster '{CLUSTER}' exists: checking that no drill holds it" in cluster.output, cluster.output[-3000:]
    assert f"cluster '{CLUSTER}' is ready: context {CONTEXT}, {pinned_kube_version()}" in cluster.output
    assert "creating kind cluster" not in cluster.output
    # the same node containers, none restarted (make drill's own cluster step included)
    assert len(workflow_run.nodes_before) == 3
    assert workflow_run.nodes_after == workflow_run.nodes_before


def test_the_drill_step_wrote_results_json_and_junit(workflow_run):
    reports = workflow_run.copy / "reports"
    found = results(workflow_run)
    assert [row["scenario"] for row in found["scenarios"]] == [SCENARIO]
    assert (reports / "verdict").read_text().split()[0] == ("1" if expected_drill_rc(workflow_run) else "0")
    cases = list(ET.parse(reports / "junit.xml").getroot().iter("testcase"))
    assert [(c.get("classname"), c.get("name")) for c in cases] == [junit_id(SCENARIO)]
    assert any((reports / "allure-results").iterdir())


def junit_id(scenario: str) -> tuple[str, str]:
    path, name = scenario.split("::")
    return path.removesuffix(".py").replace("/", "."), name


def test_make_summary_appended_the_verdict_and_every_scenario_to_the_step_summary(workflow_run):
    text = workflow_run.summary.read_text()
    assert text.startswith(workflow_run.summary_before), "the step summary was overwritten, not appended to"
    added = text[len(workflow_run.summary_before):]
    verdict = workflow_run.copy / "reports" / "verdict"
    assert verdict.is_file(), f"the drill wrote no verdict:\n{workflow_run.step('drill').output[-4000:]}"
    code, name = verdict.read_text().strip().split(" ", 1)
    assert "## kubedrill game day" in added and f"Verdict: **{code} {name}**" in added, added
    scenarios = [row["scenario"] for row in results(workflow_run)["scenarios"]]
    assert f"{len(scenarios)} scenarios:" in added, added
    for scenario in scenarios:
        assert re.search(rf"^\| {re.escape('::'.join(junit_id(scenario)))} \| (passed|failed) \|", added, re.M), added


def test_make_report_wrote_the_html_report_and_its_history(workflow_run):
    reports = workflow_run.copy / "reports"
    index = reports / "html" / "index.html"
    assert index.is_file(), workflow_run.step("report").output[-3000:]
    assert index.stat().st_mtime >= workflow_run.started
    history = (reports / "history" / "allure-history.jsonl").read_text().splitlines()
    assert len(history) == 1, history   # this run's point, the first (no earlier night's history here)


def test_the_checkouts_own_reports_were_left_as_they_were(workflow_run):
    assert workflow_run.checkout_reports_after == workflow_run.checkout_reports_before
