"""One experiment under ``chaos run`` as a kubedrill drill: the state kubedrill's Chaos Toolkit
control (kubedrill.ctk.control) keeps between Chaos Toolkit's hooks, the control's settings, and
the journal entry it writes (``kubedrill``)."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping


from kubedrill import client as kclient
from kubedrill import config as kconfig
from kubedrill import guard as kguard
from kubedrill import journal as kjournal
from kubedrill import leaks, pins, policy, undo
from kubedrill import session as khold
from kubedrill.ctk import drill, extension, runner, target
from kubedrill.ctk.verdict import of_journal
from kubedrill.errors import UsageError, first_line
from kubedrill.guard import Guard
from kubedrill.k8s import manifests, namespaces
from kubedrill.plan import fresh_namespace
from kubedrill.observe.measure import Instant
from kubedrill.report import verdicts
from kubedrill.report.results import PASSED
from kubedrill.run import Cleanups, Run, new_run_id, slug
from kubedrill.scope import Scope

LOG = logging.getLogger("chaostoolkit")
SECTION = "kubedrill"    # the journal's key for kubedrill's verdict and figures


def _log(line: str) -> None:
    LOG.info(f"kubedrill: {line}")


def _warn(line: str) -> None:
    LOG.warning(f"kubedrill: {line}")


def _progress(description: str, summary: str, elapsed: float, done: bool,
              shown: dict[str, tuple[str, float]] = {}) -> None:   # noqa: B006 - the waits shown so far
    """A long wait's progress in Chaos Toolkit's log: on change, or every 5 s."""
    prev = shown.get(description)
    if done:
        if prev is not None:
            _log(f"  {description}: {summary} (done after {elapsed:.1f}s)")
            shown.pop(description, None)
        return
    if elapsed < 1 or (prev and prev[0] == summary and time.monotonic() - prev[1] < 5):
        return
    shown[description] = (summary, time.monotonic())
    _log(f"  waiting for {description}: {summary} ({elapsed:.1f}s)")


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(v).strip() for v in items if str(v).strip())


@dataclasses.dataclass(frozen=True)
class Options:
    kubeconfig: str | None = None
    context: str | None = None
    allow_contexts: tuple[str, ...] = ()
    allow_namespaces: tuple[str, ...] = ()
    wait_for_lock_s: float = kconfig.Timeouts().lock_s
    timeout_scale: float = 1.0
    objectives: str | None = None
    allow_process: bool = False
    allow_controls: bool = False
    images: pins.Images = pins.Images()


def options(arguments: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> Options:
    """The control's settings: its arguments first, then the environment; UsageError in one line."""
    def given(key: str, var: str | None):
        value = arguments.get(key)
        if value in (None, "") and var:
            value = env.get(var) or None
        return value

    known = [f.name for f in dataclasses.fields(Options) if f.name != "images"] + ["prober_image", "writer_image"]
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        raise UsageError(f"control kubedrill: unknown argument {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(known)})")
    scale = kconfig.parse_timeout_scale(given("timeout_scale", "KUBEDRILL_TIMEOUT_SCALE") or "1")
    return Options(
        kubeconfig=given("kubeconfig", None), context=given("context", "KUBEDRILL_CONTEXT"),
        allow_contexts=_listed(given("allow_contexts", "KUBEDRILL_ALLOW_CONTEXTS")),
        allow_namespaces=tuple(sorted(kguard.parse_allowed_namespaces(
            _listed(given("allow_namespaces", "KUBEDRILL_ALLOW_NAMESPACES"))))),
        wait_for_lock_s=kconfig.parse_wait_for_lock(given("wait_for_lock_s", "KUBEDRILL_WAIT_FOR_LOCK"),
                                                   kconfig.Timeouts().scaled(scale).lock_s),
        timeout_scale=scale, objectives=given("objectives", "KUBEDRILL_OBJECTIVES"),
        allow_process=bool(arguments.get("allow_process", False)),
        allow_controls=bool(arguments.get("allow_controls", False)),
        images=pins.parse_images(arguments.get("prober_image"), arguments.get("writer_image"), env))


def experiment_file() -> Path | None:
    """The file ``chaos run`` loaded the experiment from (the target's paths are relative to it)."""
    try:
        import click
        ctx = click.get_current_context(silent=True)
    except ImportError:
        return None
    source = (ctx.params or {}).get("source") if ctx is not None else None
    return Path(source).resolve() if source and Path(source).is_file() else None


class Figures:
    """kubedrill.ctk.drill's reporter: the objectives held to, the availability measured."""

    def __init__(self) -> None:
        self.limits: dict[str, float] = {}

    def objective(self, name: str, value: float) -> None:
        self.limits[name] = value

    def availability(self, result: Any) -> None:
        pass


class ChaosRun:
    """One experiment under ``chaos run``, as a kubedrill drill."""

    def __init__(self, experiment: dict[str, Any], configuration: dict[str, Any], arguments: Mapping[str, Any]):
        self.experiment, self.configuration, self.arguments = experiment, configuration, dict(arguments)
        self.where = experiment_file()
        self.name = self.where.stem if self.where else slug(str(experiment.get("title", "experiment")), 40)
        self.run: Run | None = None
        self.scope: Scope | None = None
        self.hold: khold.Hold | None = None
        self.stages: drill.Stages | None = None
        self.drilled = drill.Drilled()
        self.figures = Figures()
        self.error: BaseException | None = None      # what refused or failed; kubedrill's verdict
        self.recovery_error: BaseException | None = None
        self.fault_at: Instant | None = None
        self.in_method = False
        self.waited = False
        self.ns_entry = None
        self.finished = False
        self._bindings: list[Any] = []
        self.warnings: list[str] = []

    # --- before the fault ------------------------------------------------------------------
    def start(self) -> None:
        opts = options(self.arguments)
        timeouts = kconfig.Timeouts().scaled(opts.timeout_scale)
        self.opts = opts
        run = self.run = Run(run_id=new_run_id(), seed=kconfig.parse_seed(None), timeouts=timeouts, log=_log,
                             warn=self._warned, images=opts.images)
        objectives = kconfig.parse_objectives(opts.objectives, [])
        where = self.where or Path.cwd() / "experiment"
        ext = extension.resolve(extension.of(self.experiment, where.name), objectives)
        self.ext = ext = dataclasses.replace(ext, where=str(where))
        state_dir = kjournal.state_dir()
        kjournal.check_state_dir(state_dir)
        clients = kclient.load(opts.kubeconfig, opts.context, opts.allow_contexts, timeout_s=timeouts.api_s)
        _log(f"run {run.run_id}, context {clients.context}, server {clients.server}")
        guard = Guard(run.run_id, allowed_namespaces=frozenset(opts.allow_namespaces))
        existing = ext.existing_namespace
        namespace = existing or fresh_namespace(run.run_id, self.name, 1)
        docs = self._checked(guard, clients, namespace, existing)
        journal = khold.journal_for(run, clients, state_dir)
        self.hold = khold.take(run, clients, journal, opts.wait_for_lock_s, opts.timeout_scale)
        self.scope = scope = Scope(run=run, clients=clients, guard=guard, journal=journal,
                                   cleanups=Cleanups(run.warn), name=self.name, namespace=namespace,
                                   progress=_progress, lock=self.hold.lock)
        if existing:
            _log(f"[{self.name}] existing namespace {namespace} (allowed)")
        else:
            self._create_namespace()
        self.configuration["ns"] = namespace
        self.stages = drill.Stages(scope, ext, self.figures, self.drilled, opts.timeout_scale, docs)
        if docs:
            with scope.phase("deploy"):
                made = manifests.apply(clients, namespace, docs, kguard.labels(run.run_id))
                _log(f"[{self.name}] applied {len(made)} object(s): {', '.join(made)}")
        elif "helm" in ext.target:
            with scope.phase("deploy"):
                drill.install_release(scope, ext)
        self.stages.deploy()
        for binding in (self.stages.bound(), runner.bound_to(str(clients.kubeconfig), clients.context)):
            binding.__enter__()
            self._bindings.append(binding)

    def _checked(self, guard: Guard, clients, namespace: str, existing: str) -> list:
        """The guard's policy on the whole experiment and the target's manifests, before anything is made."""
        pol = policy.Policy(self.opts.allow_process, self.opts.allow_controls)
        if existing:
            guard.check_namespace(existing, "drill")
        else:
            guard.claim(namespace)   # the policy sees the namespace as the run's own, as it will be
        try:
            policy.check(self.experiment, guard, {**self.configuration, "ns": namespace}, pol)
            docs = target.documents(self.ext, namespace)
            if docs:
                manifests.check(clients, namespace, docs)
            return docs
        finally:
            if not existing:
                guard.release(namespace)

    def _create_namespace(self) -> None:
        scope, run = self.scope, self.run
        name = scope.namespace
        self.ns_entry = scope.journal.record(f"create namespace {name}",
                                             kjournal.Undo(kjournal.DELETE_NAMESPACE, {"namespace": name},
                                                           f"delete namespace {name}"))
        namespaces.create(scope.clients, name, run.run_id, {"kubedrill.io/scenario": slug(self.name, 63)})
        scope.guard.claim(name)
        scope.cleanups.defer(f"delete namespace {name}", lambda: namespaces.delete(scope.clients, name, run.run_id))
        _log(f"[{self.name}] namespace {name}")

    def _warned(self, line: str) -> None:
        self.warnings.append(line)
        _warn(line)

    # --- the method ----------------------------------------------------------------------------
    def before_method(self) -> None:
        self.in_method = True
        self.stages.before_method()

    def before_activity(self, activity: Mapping[str, Any]) -> None:
        policy.check_activity(activity, self.scope.guard, self.configuration,
                              policy.Policy(self.opts.allow_process, self.opts.allow_controls))
        provider = activity.get("provider") or {}
        if (self.in_method and self.fault_at is None and activity.get("type") == "action"
                and (provider.get("module"), provider.get("func")) not in runner.NOT_A_FAULT):
            self.fault_at = Instant.now()

    def after_method(self, runs: Any) -> None:
        self.in_method = False
        if self.error is not None or len(runs or []) < len(self.experiment.get("method") or []):
            return   # refused, interrupted or aborted: nothing to wait for
        self.waited = True
        try:
            self.stages.after_method(self.fault_at)
        except Exception as exc:  # noqa: BLE001 - kept for kubedrill's verdict
            self.recovery_error = exc

    # --- after the run -------------------------------------------------------------------------
    def finish(self, journal: dict[str, Any]) -> None:
        """kubedrill's checks, the teardown, and its verdict into ``journal``."""
        error = self.error
        if self.stages is not None:
            self.stages.stop()
        self._unbind()
        if error is None and self.stages is not None:
            self.drilled.journal = journal
            outcome = runner.Outcome(journal, of_journal(self.experiment, journal), self.drilled.recovered,
                                     self.recovery_error, self.waited, self.fault_at)
            try:
                drill.raise_for(outcome, self.drilled)
                self.stages.verify()
            except BaseException as exc:  # noqa: BLE001 - the verdict; KeyboardInterrupt: interrupted
                error = exc
        leak_lines = self.teardown()
        phases = self.run.phases_begun(self.name) if self.run is not None else frozenset()
        verdict = (verdicts.Verdict(PASSED, "") if error is None
                   else verdicts.of_failure(error, verdicts.CALL, phases))
        if verdict.verdict == PASSED and leak_lines:
            verdict = verdicts.Verdict(verdicts.HARNESS_ERROR, f"left behind: {leak_lines[0]}")
        journal[SECTION] = self.drilled.redact(entry(self, verdict, leak_lines))
        if verdict.verdict != PASSED:
            journal["status"] = "failed"
        _log(f"verdict: {verdict.verdict}" + (f": {self.drilled.redact(verdict.reason)}" if verdict.reason else ""))

    def teardown(self) -> list[str]:
        """Everything the drill made deleted (its namespace waited gone), what the journal still
        lists undone, the lock released, the leak check: the leak lines."""
        if self.finished:
            return []
        self.finished = True
        self._unbind()
        if self.stages is not None:
            self.stages.close()
        scope, hold = self.scope, self.hold
        if scope is None or hold is None:
            return []
        scope.cleanups.run_all()
        if self.ns_entry is not None:
            try:
                namespaces.wait_gone(scope.clients, scope.namespace, scope.timeouts.delete_s, _progress)
                scope.guard.release(scope.namespace)
                scope.journal.resolve(self.ns_entry)
            except Exception as exc:  # noqa: BLE001 - its entry stays for the next run's replay
                self._warned(f"namespace {scope.namespace} not gone: {first_line(exc)}")
        execs = undo.default_executors(self.opts.timeout_scale)
        for entry in reversed(scope.journal.pending()):
            if entry.id in (hold.lock_entry.id, getattr(self.ns_entry, "id", None)):
                continue
            try:
                _log(f"undid: {execs[entry.undo.action](entry)}")
                scope.journal.resolve(entry)
            except Exception as exc:  # noqa: BLE001
                self._warned(f"could not undo {entry.what}: {first_line(exc)} (entry {entry.ref} stays in the "
                             "journal: the next run or `make clean` replays it)")
        hold.release(self._warned)
        report = leaks.check(scope.clients, self.run.run_id, scope.guard.owned, scope.clients.kind_cluster)
        return list(report.lines())

    def _unbind(self) -> None:
        while self._bindings:
            self._bindings.pop().__exit__(None, None, None)


def entry(r: ChaosRun, verdict: verdicts.Verdict, leak_lines: list[str]) -> dict[str, Any]:
    """The journal's ``kubedrill`` entry: the verdict, the run, RTO, RPO, availability, objectives."""
    d, held = r.drilled, []
    for _, name, limit, measured, how in (drill.held(r.ext, d) if r.stages is not None else []):
        at_most = how.get("at_most", True)
        held.append({"name": name, "limit": limit, "measured": measured,
                     "met": measured <= limit if at_most else measured >= limit})
    rec = d.recovered
    out: dict[str, Any] = {
        "verdict": verdict.verdict, "reason": verdict.reason,
        "run_id": r.run.run_id if r.run else None,
        "context": r.scope.clients.context if r.scope else None,
        "namespace": r.scope.namespace if r.scope else None,
        "rto_s": rec.recovery.rto_s if rec is not None else None,
        "rto_per_workload": ({w.describe(): rto for w, rto in rec.per_workload} if rec is not None else {}),
        "objectives": held,
    }
    if d.rpo is not None:
        out["rpo"] = {"records_lost": d.rpo.records_lost, "seconds_lost": d.rpo.seconds_lost}
    if d.served is not None:
        out["availability"] = {"success_ratio": d.served.success_ratio,
                               "longest_outage_s": d.served.longest_outage_s, "summary": d.served.describe()}
    if leak_lines or r.warnings:
        out["warnings"] = [*r.warnings, *(f"LEAK: {line}" for line in leak_lines)]
    return out

