"""The kubedrill command's argument handling (pure logic: the command lines it builds; no cluster),
and the Makefile targets that call it: the same pytest command line as before, for every variable.

The Makefile is read with ``make --eval`` of a target that only prints the arguments a recipe
passes (as the shell splits them); no drill, plan or cluster target is run.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kubedrill import cli
from kubedrill.report import verdicts
from kubedrill.report.results import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]


def make_words(variable: str, **env: str) -> list[str]:
    """``$(variable)`` as the Makefile's recipes see it, split by the shell, with ``env`` set."""
    target = f"print-{variable}"
    rule = f"{target}: ; @printf '%s\\n' $({variable})"
    out = subprocess.run(["make", "-s", "--no-print-directory", "-f", "Makefile", "--eval", rule, target,
                          *(f"{k}={v}" for k, v in env.items())],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return [line for line in out.stdout.splitlines() if line]


# --- drill and plan: pytest's arguments passed through unchanged ------------------------------------

@pytest.mark.parametrize("argv, passed", [
    (["drill"], []),
    (["drill", "-k", "statefulset or replicas", "--seed", "42"], ["-k", "statefulset or replicas", "--seed", "42"]),
    (["drill", "-m", "not slow", "--project", "x"], ["-m", "not slow", "--project", "x"]),   # after pytest's: pytest's
    (["drill", "--", "--help"], ["--help"]),
    (["drill", "--", "--", "-x"], ["--", "-x"]),
    (["plan", "--require", "all", "-n", "2"], ["--require", "all", "-n", "2"]),
])
def test_drill_and_plan_pass_their_arguments_to_pytest_unchanged(argv, passed):
    args, got = cli.parse(argv)
    assert args.command == argv[0]
    assert got == passed


def test_project_is_kubedrills_own_only_before_the_pytest_arguments():
    args, passed = cli.parse(["drill", "--project", "/opt/kubedrill", "-k", "x"])
    assert (args.project, passed) == ("/opt/kubedrill", ["-k", "x"])
    args, passed = cli.parse(["plan", "--project=/p", "--seed", "1"])
    assert (args.project, passed) == ("/p", ["--seed", "1"])


def test_the_project_defaults_to_the_environment_then_the_current_directory():
    assert cli.default_project({}) == "."
    assert cli.default_project({cli.PROJECT_ENV: "/opt/kubedrill"}) == "/opt/kubedrill"


def test_drill_is_python_m_pytest_scenarios_and_plan_adds_plan_and_no_reports(tmp_path):
    drill = cli.pytest_command(tmp_path, ["-k", "x"], python="/v/bin/python")
    assert drill == cli.Command(("/v/bin/python", "-m", "pytest", "scenarios/", "-k", "x"), tmp_path)
    plan = cli.pytest_command(tmp_path, ["-k", "x"], plan=True, python="/v/bin/python")
    assert plan.argv == ("/v/bin/python", "-m", "pytest", "scenarios/", "--plan", "--alluredir=", "--junitxml=",
                         "-k", "x")


def test_main_hands_drill_to_pytest_in_the_project_and_returns_its_code():
    seen = []
    code = cli.main(["drill", "--project", str(ROOT), "--seed", "7"], run=lambda c: seen.append(c) or 10)
    assert code == 10   # the verdict's code (data lost), as pytest returned it
    assert seen == [cli.Command((sys.executable, "-m", "pytest", "scenarios/", "--seed", "7"), ROOT)]


def test_a_directory_without_scenarios_is_refused_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["drill", "--project", str(tmp_path)], run=lambda c: 0)
    assert exc.value.code == cli.USAGE_ERROR
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# --- bad usage: one line, exit 4 (pytest's usage error; never 2, pytest's "interrupted") ----------

@pytest.mark.parametrize("argv", [[], ["frob"], ["clean", "--bogus"], ["drill", "--project"], ["version", "x"],
                                  ["report", "--trend-limit", "0"]])
def test_bad_usage_is_one_line_and_exit_4(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.parse(argv)
    assert exc.value.code == cli.USAGE_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_the_usage_error_code_collides_with_no_verdict_code():
    assert verdicts.PYTEST_OWN[cli.USAGE_ERROR] == "usage error"
    assert cli.USAGE_ERROR not in EXIT_CODES.values()


@pytest.mark.parametrize("command", ["drill", "plan", "clean", "report", "version", "summary", "gate"])
def test_help_lists_every_option_with_its_default(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.parse([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    sub = cli.parser()._subparsers._group_actions[0].choices[command]   # noqa: SLF001 - argparse's own
    for action in sub._actions:   # noqa: SLF001
        if action.dest in ("help", "pytest_args"):
            continue
        assert action.option_strings[0] in out
        assert "default:" in (action.help or ""), f"{command} {action.option_strings[0]}: no default in its help"


# --- clean ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, replay", [
    (["clean"], ["--replay"]),
    (["clean", "--force"], ["--replay", "--force"]),
    (["clean", "--other-hosts", "--force"], ["--replay", "--force", "--other-hosts"]),
])
def test_clean_replays_the_journal_as_make_clean_did(argv, replay):
    args, _ = cli.parse(argv)
    assert cli.replay_args(args.force, args.other_hosts) == replay


def test_clean_removes_the_runs_results_and_the_pytest_cache(tmp_path):
    assert cli.cleaned_paths(tmp_path, "reports") == [
        tmp_path / "reports" / "allure-results", tmp_path / "reports" / "junit.xml",
        tmp_path / "reports" / "results.json", tmp_path / "reports" / "verdict", tmp_path / ".pytest_cache"]
    assert cli.cleaned_paths(tmp_path, "/elsewhere")[0] == Path("/elsewhere/allure-results")


def test_versions_name_kubedrill_its_clients_and_python():
    got = dict(cli.versions(get=lambda name: {"kubernetes": "36.0.3"}[name] if name == "kubernetes"
                            else (_ for _ in ()).throw(cli.metadata.PackageNotFoundError(name))))
    assert got["kubernetes"] == "36.0.3" and got["chaostoolkit-lib"] == "not installed"
    assert set(got) == {"kubedrill", "kubernetes", "chaostoolkit-lib", "Python"}


# --- the Makefile: the same pytest command line as before the kubedrill command --------------------

ALL_SET = dict(JOBS="3", EXPERIMENTS="examples/shop scenarios/experiments", PROBER_IMAGE="reg.example/p:1",
               WRITER_IMAGE="reg.example/w:1", STORAGE_CLASS="all", PUSHGATEWAY="http://pg:9091",
               ARGS="-k 'a or b' --seed 42")
# what the drill recipe passed to `python -m pytest scenarios/` before it called kubedrill
DRILL_BEFORE = ["--require", "all", "--experiments", "examples/shop", "--experiments", "scenarios/experiments",
                "--prober-image", "reg.example/p:1", "--writer-image", "reg.example/w:1", "--storage-class", "all",
                "-n", "3", "--pushgateway", "http://pg:9091", "-k", "a or b", "--seed", "42"]
PLAN_BEFORE = ["--plan", "--alluredir=", "--junitxml=", "--require", "all", "--experiments", "examples/shop",
               "--experiments", "scenarios/experiments", "--storage-class", "all", "-k", "a or b", "--seed", "42"]


@pytest.mark.parametrize("env, drill, plan", [
    ({}, ["--require", "all"], ["--plan", "--alluredir=", "--junitxml=", "--require", "all"]),
    ({"JOBS": "1"}, ["--require", "all"], ["--plan", "--alluredir=", "--junitxml=", "--require", "all"]),
    (ALL_SET, DRILL_BEFORE, PLAN_BEFORE),
    ({"CONTEXT": "staging", "KUBECONFIG": "/k/staging", "JOBS": "0"},
     ["--context", "staging", "--allow-context", "staging", "--kubeconfig", "/k/staging"],
     ["--plan", "--alluredir=", "--junitxml=", "--context", "staging", "--allow-context", "staging",
      "--kubeconfig", "/k/staging"]),
])
def test_make_drill_and_plan_run_the_same_pytest_command_line_as_before(env, drill, plan):
    for command, variable, before in (("drill", "DRILL_ARGS", drill), ("plan", "PLAN_ARGS", plan)):
        args, passed = cli.parse([command, *make_words(variable, **env)])
        built = cli.pytest_command(ROOT, passed, plan=command == "plan", python="python")
        assert list(built.argv) == ["python", "-m", "pytest", "scenarios/", *before], command


def test_make_drill_plan_report_and_clean_call_the_kubedrill_command():
    recipes = (ROOT / "Makefile").read_text()
    for line in ("\t$(KUBEDRILL) drill $(DRILL_ARGS)\n", "\t$(KUBEDRILL) plan $(PLAN_ARGS)\n",
                 "\t@$(KUBEDRILL) report\n", "$(KUBEDRILL) clean $(CLEAN_ARGS)"):
        assert line in recipes
    assert make_words("KUBEDRILL") == [".venv/bin/kubedrill"]


def test_make_clean_passes_the_same_replay_and_its_fallback_removes_the_same_files():
    args, _ = cli.parse(["clean", *make_words("CLEAN_ARGS", FORCE="1", OTHER_HOSTS="1", REPORTS="/r")])
    assert cli.replay_args(args.force, args.other_hosts) == ["--replay", "--force", "--other-hosts"]
    assert args.reports_dir == "/r"
    args, _ = cli.parse(["clean", *make_words("CLEAN_ARGS", FORCE="0", OTHER_HOSTS="0")])
    assert cli.replay_args(args.force, args.other_hosts) == ["--replay"] and args.reports_dir == "reports"
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    assert "$(MAKE)" not in recipe   # `make -n clean` (a dry run) would run a line with $(MAKE) in it
    assert "$(PY) -m kubedrill.cli clean $(CLEAN_ARGS)" in recipe   # a virtualenv older than the command
    fallback = next(line for line in makefile.splitlines() if "else rm -rf" in line)
    removed = shlex.split(fallback.split("else rm -rf", 1)[1].rstrip("; fi"))
    assert removed == [f"$(REPORTS)/{n}" for n in cli.CLEANED_REPORTS] + list(cli.CLEANED_PROJECT)


def test_the_console_script_is_kubedrill_cli_main_and_python_is_3_11_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"kubedrill": "kubedrill.cli:main"}
    assert project["requires-python"] == ">=3.11,<3.12"
    assert "3.11 only" in (ROOT / "README.md").read_text()
