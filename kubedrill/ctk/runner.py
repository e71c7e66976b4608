"""Running a Chaos Toolkit experiment in this process, with chaoslib's own ``Runner``:
hypothesis before -> method -> kubedrill's recovery wait -> hypothesis after -> rollbacks.

The recovery wait is a ``RunEventHandler.method_completed`` hook: chaoslib calls it once the
method and its background activities are done, before the hypothesis after (not when the method
aborted). chaoslib swallows what a handler raises, so the hook keeps its own outcome. Rollbacks
always run (strategy ``always``), even when a probe raised. The few things chaoslib gets wrong
for a drill are wrapped here, thinly:

- a ``--var`` for a key the experiment does not declare is dropped by chaoslib: declared here;
- ``Runner.run`` leaves ``ref`` activities unresolved unless the cache is filled: filled here;
- an exception from a hypothesis probe or its tolerance escapes chaoslib with no rollbacks and
  no journal: the journal is kept from the ``started`` event and the rollbacks are run here;
- ``Runner.run`` takes over SIGTERM, SIGUSR1 and SIGUSR2 for the run (chaoslib.exit): kubedrill
  keeps its own (SIGINT/SIGTERM interrupt the drill and its cleanups run; SIGUSR1 resumes a
  pause point), so the run is ``Runner.configure`` then ``Runner._run``, which is what
  ``Runner.run`` does inside its signal handlers;
- chaostoolkit-kubernetes builds its clients from $KUBECONFIG and KUBERNETES_CONTEXT as read at
  import and sets the process-wide default configuration: :func:`bound_to` points them at the
  drilled context for the run and puts everything back afterwards.

Each activity's log lines (the ``chaostoolkit`` logger) are kept in its journal entry (``log``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from chaoslib import merge_vars
from chaoslib.caching import cache_activities, clear_cache
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.loader import load_experiment
from chaoslib.run import Runner, RunEventHandler, apply_rollbacks, get_background_pools, initialize_run_journal
from chaoslib.types import Schedule, Strategy

from kubedrill.ctk.verdict import Verdict, of_journal
from kubedrill.errors import UsageError
from kubedrill.observe.measure import Instant
from kubedrill.report.results import HARNESS_ERROR

LOG = logging.getLogger("chaostoolkit")
SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}}}
# actions that prepare a drill without breaking anything: the fault's moment (RTO's start) is the
# first action of the method that is not one of them
NOT_A_FAULT = {("kubedrill.ctk.actions", "snapshot_claims")}


def load(path: str | Path) -> dict[str, Any]:
    """An experiment file (JSON or YAML, as chaoslib loads them); UsageError in one line."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"experiment {p}: no such file")
    try:
        return load_experiment(str(p), settings={})
    except (ChaosException, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(f"experiment {p}: {first}") from None


def prepared(experiment: Mapping[str, Any], config_vars: Mapping[str, Any] | None = None,
             var_files: tuple[str, ...] = ()) -> tuple[dict[str, Any], tuple[dict, dict]]:
    """A copy of ``experiment`` with every var declared (chaoslib drops undeclared ones), and its
    (configuration vars, secret vars), validated by chaoslib; UsageError in one line."""
    exp = copy.deepcopy(dict(experiment))
    try:
        cvars, svars = merge_vars(dict(config_vars or {}), list(var_files))
        configuration = exp.setdefault("configuration", {})
        for key, value in cvars.items():
            configuration.setdefault(key, value)
        ensure_experiment_is_valid(exp)
    except ChaosException as exc:
        raise UsageError(f"experiment {exp.get('title', '?')!r}: {str(exc).strip().splitlines()[0]}") from None
    return exp, (cvars, svars)


@contextlib.contextmanager
def bound_to(kubeconfig: str, context: str) -> Iterator[None]:
    """chaostoolkit-kubernetes' clients on ``kubeconfig``/``context`` while the block runs."""
    from kubernetes import client as k8s
    from kubernetes.config import kube_config

    saved_env = {k: os.environ.get(k) for k in ("KUBECONFIG", "KUBERNETES_CONTEXT", "CHAOSTOOLKIT_IN_POD")}
    saved_location = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    saved_default = getattr(k8s.Configuration, "_default", None)
    os.environ["KUBECONFIG"] = kubeconfig
    os.environ["KUBERNETES_CONTEXT"] = context
    os.environ.pop("CHAOSTOOLKIT_IN_POD", None)
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = kubeconfig
    try:
        yield
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_location
        k8s.Configuration._default = saved_default


class _StepLog(logging.Handler):
    """The ``chaostoolkit`` log lines of the activity running in each thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.local = threading.local()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            lines.append(self.format(record))


class _Drill(RunEventHandler):
    """The recovery wait after the method; each activity's log lines into its journal entry;
    the moment the method's first action started (the fault's moment, from which RTO runs)."""

    def __init__(self, after_method: Callable[[Instant | None], Any], steps: _StepLog,
                 before_method: Callable[[], Any] | None = None):
        self.after_method = after_method
        self.before_method = before_method
        self.steps = steps
        self.journal: dict[str, Any] | None = None
        self.recovery: Any = None
        self.recovery_error: BaseException | None = None
        self.before_error: BaseException | None = None
        self.waited = False
        self.in_method = False
        self.fault_at: Instant | None = None

    def started(self, experiment, journal) -> None:
        self.journal = journal

    def start_method(self, experiment) -> None:
        self.in_method = True
        if self.before_method is not None:
            try:
                self.before_method()
            except Exception as exc:  # noqa: BLE001 - chaoslib would swallow it: kept for the verdict
                self.before_error = exc

    def start_activity(self, activity) -> None:
        self.steps.local.lines = []
        provider = activity.get("provider") or {}
        if (self.in_method and self.fault_at is None and activity.get("type") == "action"
                and (provider.get("module"), provider.get("func")) not in NOT_A_FAULT):
            self.fault_at = Instant.now()

    def activity_completed(self, activity, run) -> None:
        run["log"], self.steps.local.lines = getattr(self.steps.local, "lines", None) or [], None

    def method_completed(self, experiment, state=None) -> None:
        self.in_method = False
        if state is None or self.before_error is not None:
            return   # the method aborted or was interrupted: no hypothesis after either
        self.waited = True
        try:
            self.recovery = self.after_method(self.fault_at)
        except Exception as exc:  # noqa: BLE001 - chaoslib would swallow it: kept for the verdict
            self.recovery_error = exc


@dataclass(frozen=True)
class Outcome:
    journal: dict[str, Any]
    verdict: Verdict            # the Chaos Toolkit run's own, strict
    recovery: Any               # what the recovery wait returned (None when it did not run)
    recovery_error: BaseException | None
    waited: bool                # the recovery wait ran (the method completed)
    fault_at: Instant | None = None          # when the method's first action started
    before_error: BaseException | None = None  # what ``before_method`` raised
    secret_values: frozenset[str] = frozenset()  # every value of the experiment's secrets, never reported


def run(experiment: Mapping[str, Any], vars_: tuple[dict, dict], after_method: Callable[[Instant | None], Any],
        before_method: Callable[[], Any] | None = None) -> Outcome:
    """Run a prepared experiment (:func:`prepared`) in stages: ``before_method()`` once the
    hypothesis before is met, ``after_method(fault_at)`` between the method and the hypothesis
    after (``fault_at``: when the method's first action started). Never raises for what the
    experiment does; an interruption ends the run "interrupted" once its rollbacks ran."""
    exp = copy.deepcopy(dict(experiment))
    steps = _StepLog()
    drill = _Drill(after_method, steps, before_method)
    runner = Runner(Strategy.DEFAULT, Schedule())
    runner.register_event_handler(drill)
    LOG.addHandler(steps)
    level = LOG.level
    LOG.setLevel(logging.DEBUG)
    cache_activities(exp)
    escaped: str | None = None
    try:
        runner.configure(exp, copy.deepcopy(SETTINGS), vars_)
        journal = runner._run(runner.strategy, runner.schedule, exp, None, runner.config, runner.secrets,
                              runner.settings, runner.event_registry)
    except Exception as exc:  # noqa: BLE001 - escaped chaoslib from a hypothesis: rollbacks run here
        escaped = f"{type(exc).__name__}: {exc}"
        journal = drill.journal or initialize_run_journal(exp)
        if not journal.get("rollbacks") and hasattr(runner, "secrets"):
            journal["rollbacks"] = []
            apply_rollbacks(exp, runner.config, runner.secrets, get_background_pools(exp)[1], None,
                            runner.event_registry, journal["rollbacks"])
        journal["status"] = "failed"
    finally:
        clear_cache()
        LOG.removeHandler(steps)
        LOG.setLevel(level)
    verdict = of_journal(exp, journal)
    if escaped and verdict.passed:
        verdict = Verdict(HARNESS_ERROR, f"Chaos Toolkit failed: {escaped}")
    return Outcome(journal, verdict, drill.recovery, drill.recovery_error, drill.waited, drill.fault_at,
                   drill.before_error, frozenset(_leaves(getattr(runner, "secrets", None))))


def _leaves(value: Any) -> Iterator[str]:
    """Every non-empty string (or number) in a nested mapping: the secrets' values."""
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    elif value not in (None, "") and not isinstance(value, bool):
        yield str(value)
