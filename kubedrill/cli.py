"""The ``kubedrill`` command: ``drill``, ``plan``, ``clean``, ``report``, ``version``.

    kubedrill drill [--project DIR] [pytest args...]   python -m pytest scenarios/ [pytest args...]
    kubedrill plan  [--project DIR] [pytest args...]   the same with --plan (touches nothing)
    kubedrill clean [--project DIR] [--force] [--other-hosts] [--reports-dir DIR]
    kubedrill report [--project DIR] [report options]  the HTML report (python -m kubedrill.report html)
    kubedrill version                                  kubedrill, kubernetes client, chaostoolkit-lib, Python
    kubedrill summary [--reports-dir DIR] [--output FILE]   reports/junit.xml as a CI job summary
    kubedrill gate [--reports-dir DIR] [--allow CLASS]     fails when reports/verdict is worse than CLASS

``drill`` and ``plan`` pass every argument after their own (``--project DIR``, ``-h``; ``--`` ends
them) to pytest unchanged, and become pytest (``exec``: the same process, so SIGTERM and SIGINT
reach the drill's own handlers and its cleanup): the exit code is pytest's, i.e. the verdict
classes' (README, "Verdicts and exit codes"). kubedrill's own usage errors exit 4, pytest's usage
error, never 2 (pytest's "interrupted"), so a code always means one thing.

The top layer of the library: it builds command lines (pure functions, unit-tested) and hands
them to the journal's replay and the report builder, which do the work.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

import kubedrill
from kubedrill import journal
from kubedrill.errors import UsageError
from kubedrill.report import gate, html
from kubedrill.report.results import PASSED

# kubedrill's own usage error: pytest's usage error (4), not argparse's 2 (pytest's "interrupted")
USAGE_ERROR = 4

PROJECT_ENV = "KUBEDRILL_PROJECT"
SCENARIOS = "scenarios/"
# what `kubedrill plan` adds: --plan, and no report written (the last drill's stays where it is)
PLAN_ARGS = ("--plan", "--alluredir=", "--junitxml=")
# what `kubedrill clean` removes once the journal is replayed: in the reports directory, then in
# the project directory (the Makefile's clean target names the same, for a checkout without .venv)
CLEANED_REPORTS = ("allure-results", "junit.xml", "results.json", "verdict")
CLEANED_PROJECT = (".pytest_cache",)
# the packages `kubedrill version` names
VERSIONED = ("kubernetes", "chaostoolkit-lib")
# where `kubedrill summary` appends by default: GitHub Actions' job summary
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


@dataclass(frozen=True)
class Command:
    """A program to become (``os.execv``) in a directory."""

    argv: tuple[str, ...]
    cwd: Path


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump; pytest's usage error code
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def default_project(environ=os.environ) -> str:
    return environ.get(PROJECT_ENV) or "."


def split_own(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """``drill``/``plan``'s own leading options (``--project DIR``, ``-h``) and the pytest args after
    them, unchanged. ``--`` ends kubedrill's options (``kubedrill drill -- --help``: pytest's help)."""
    args = list(args)
    own: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg in ("-h", "--help") or arg.startswith("--project="):
            own.append(arg)
            i += 1
        elif arg == "--project":
            own += args[i:i + 2]
            i += 2
        else:
            break
    return own, args[i:]


def pytest_command(project: Path, pytest_args: Sequence[str], plan: bool = False,
                   python: str = sys.executable) -> Command:
    """``python -m pytest scenarios/ [--plan --alluredir= --junitxml=] ARGS`` in the project."""
    extra = PLAN_ARGS if plan else ()
    return Command((python, "-m", "pytest", SCENARIOS, *extra, *pytest_args), project)


def replay_args(force: bool, other_hosts: bool) -> list[str]:
    """The journal replay ``kubedrill clean`` runs (``python -m kubedrill.journal`` arguments)."""
    return ["--replay"] + (["--force"] if force else []) + (["--other-hosts"] if other_hosts else [])


def cleaned_paths(project: Path, reports_dir: str) -> list[Path]:
    """What ``kubedrill clean`` removes (a relative reports directory is the project's)."""
    reports = project / reports_dir
    return [reports / name for name in CLEANED_REPORTS] + [project / name for name in CLEANED_PROJECT]


def versions(get: Callable[[str], str] = metadata.version) -> list[tuple[str, str]]:
    """(name, version) of kubedrill, the packages it drives and Python."""
    out = [("kubedrill", kubedrill.__version__)]
    for name in VERSIONED:
        try:
            out.append((name, get(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out + [("Python", platform.python_version())]


def _project_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", metavar="DIR", default=default_project(),
                   help=f"the kubedrill project: scenarios/, conftest.py, pytest.ini, reports/ "
                        f"(default: ${PROJECT_ENV}, else the current directory: %(default)s)")


def _reports_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports-dir", metavar="DIR", default="reports",
                   help="the reports directory, relative to the project (default: %(default)s)")


def parser() -> _Parser:
    top = _Parser(prog="kubedrill", description="Prove that Kubernetes disaster recovery works: deploy, break, "
                  "recover, measure. Exit codes: README, 'Verdicts and exit codes'.")
    top.add_argument("--version", action="version", version=f"kubedrill {kubedrill.__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, what in (("drill", "run the DR scenarios: python -m pytest scenarios/ PYTEST_ARGS; exits with the "
                        "run's verdict code"),
                       ("plan", "print what a drill would touch, touching nothing: python -m pytest scenarios/ "
                        f"{' '.join(PLAN_ARGS)} PYTEST_ARGS")):
        p = sub.add_parser(name, help=what, description=what + ". `kubedrill drill -- --help` (or pytest --help) "
                           "lists the drill's options under 'kubedrill'.")
        _project_option(p)
        p.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARGS",
                       help="passed to pytest unchanged, in order (default: none)")
    p = sub.add_parser("clean", help="undo whatever a crashed run left (fault journal replay), then remove the "
                       "last run's results", description="Replay the fault journal (python -m kubedrill.journal "
                       "--replay), then remove " + ", ".join(CLEANED_REPORTS) + " from the reports directory and "
                       + ", ".join(CLEANED_PROJECT) + ". A replay that fails removes nothing.")
    _project_option(p)
    p.add_argument("--force", action="store_true", default=False,
                   help="release (forget) each undo that fails, after saying what it would have done "
                        "(default: %(default)s)")
    p.add_argument("--other-hosts", action="store_true", default=False,
                   help="also replay journals written on another host, once their runs are gone (default: %(default)s)")
    _reports_option(p)
    p = sub.add_parser("report", help="build the HTML report (npm allure 3) into reports/html, keeping history",
                       description="Build the HTML report (npm allure 3) with history across runs.")
    _project_option(p)
    html.add_arguments(p)
    p = sub.add_parser("summary", help="write the run's JUnit results as a CI job summary (Markdown)",
                       description="Append the run's verdict and its scenarios (reports/junit.xml) as Markdown to "
                       f"--output: GitHub Actions' job summary (${SUMMARY_ENV}) when set, else stdout.")
    _project_option(p)
    _reports_option(p)
    p.add_argument("--output", metavar="FILE", default=os.environ.get(SUMMARY_ENV) or "-",
                   help=f"append to FILE; - is stdout (default: ${SUMMARY_ENV}, else -: %(default)s)")
    p = sub.add_parser("gate", help="exit 0 when the run's verdict (reports/verdict) is no worse than --allow, "
                       "else with the run's code", description="A release gate: exit 0 when reports/verdict is no "
                       "worse than --allow; else exit with the run's own code (README, 'Verdicts and exit codes'), "
                       "or 15 (harness error) when there is no verdict. One line says which.")
    _project_option(p)
    _reports_option(p)
    p.add_argument("--allow", metavar="CLASS", default=PASSED,
                   help="the worst verdict class let through (default: %(default)s)")
    sub.add_parser("version", help="print the versions of kubedrill, the kubernetes client, chaostoolkit-lib "
                   "and Python", description="Print the versions of kubedrill, the kubernetes client, "
                   "chaostoolkit-lib and Python.")
    return top


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The parsed options and, for ``drill``/``plan``, the pytest args (unchanged). Exits 4 with one
    line on bad usage; 0 after ``--help``."""
    argv = list(argv)
    top = parser()
    # the command is the first argument that is not a top-level option
    at = next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))
    if at < len(argv) and argv[at] in ("drill", "plan"):
        own, passed = split_own(argv[at + 1:])
        return top.parse_args(argv[:at + 1] + own), passed
    return top.parse_args(argv), []


def _project(args: argparse.Namespace) -> Path:
    project = Path(args.project).resolve()
    if not (project / SCENARIOS).is_dir():
        print(f"kubedrill: error: {project} is not a kubedrill project (no {SCENARIOS}); "
              f"pass --project DIR or set ${PROJECT_ENV}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR)
    return project


def _exec(command: Command) -> int:
    os.chdir(command.cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command.argv[0], list(command.argv))
    return 0  # not reached


def clean(project: Path, args: argparse.Namespace) -> int:
    os.chdir(project)   # the journal's state directory (.kubedrill, KUBEDRILL_STATE_DIR) is the project's
    code = journal.main(replay_args(args.force, args.other_hosts))
    if code:
        return code
    for path in cleaned_paths(project, args.reports_dir):
        print(f"rm -rf {path.relative_to(project) if path.is_relative_to(project) else path}")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    return 0


def summary(reports: Path, output: str) -> int:
    try:
        verdict = gate.read_verdict(reports / gate.VERDICT_FILE)
    except UsageError as exc:
        print(f"kubedrill: {exc}", file=sys.stderr)
        verdict = None
    text = "\n".join(gate.junit_summary(reports / gate.JUNIT_FILE, verdict)) + "\n"
    if output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "a", encoding="utf-8") as out:
            out.write(text)
    return 0


def gate_command(reports: Path, allow: str) -> int:
    try:
        allowed = gate.parse_allowed(allow)
        verdict = gate.read_verdict(reports / gate.VERDICT_FILE)
    except UsageError as exc:
        print(f"kubedrill: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    result = gate.gate(verdict, allowed, str(reports / gate.VERDICT_FILE))
    print(result.line, file=sys.stdout if result.passed else sys.stderr)
    return result.code


def main(argv: Sequence[str] | None = None, run: Callable[[Command], int] = _exec) -> int:
    args, passed = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "version":
        for name, version in versions():
            print(f"{name} {version}")
        return 0
    project = _project(args)
    if args.command in ("drill", "plan"):
        return run(pytest_command(project, passed, plan=args.command == "plan"))
    if args.command == "clean":
        return clean(project, args)
    if args.command == "summary":
        return summary(project / args.reports_dir, args.output)
    if args.command == "gate":
        return gate_command(project / args.reports_dir, args.allow)
    os.chdir(project)   # report: its default paths are the project's reports/
    return html.run(args)


if __name__ == "__main__":
    sys.exit(main())
