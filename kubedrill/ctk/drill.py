"""One Chaos Toolkit experiment, run as a kubedrill drill in a scope (a namespace the run created
and applied the target's manifests into, or an existing one the run may drill):

    deploy    every workload of ``recover`` Ready; the data probe's result before; kubedrill's
              records written (data.records); its writer started (data.stream)
    (CTK)     the hypothesis before (not met: a harness error, nothing injected)
    fault     the method, the drill lock fresh at its start; the writer stopped when it ends
    recover   kubedrill's watch until every workload is back, RTO from the method's first action
    (CTK)     the hypothesis after, then the rollbacks
    verify    a StatefulSet's identity (names, claims), the data probe after, the records and
              the writer's records read back (their RPO in the results), the objectives (RTO,
              availability, longest outage, RPO)

The outcome raises the typed error of its verdict class (kubedrill.report.verdicts): the Chaos
Toolkit run's own strict verdict (kubedrill.ctk.verdict) first, then kubedrill's checks. The
journal kept for the reports has every secret value taken out.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable, Mapping, Protocol

from kubedrill import checks
from kubedrill.ctk import current, handles, recover, runner
from kubedrill.ctk import volumes as kvolumes
from kubedrill.ctk.dataprobe import Probe
from kubedrill.ctk.records import Records
from kubedrill.ctk.stream import Stream
from kubedrill.ctk.extension import Extension, Workload
from kubedrill.errors import DataLost, FaultNotInjected, KubedrillError, NotRecovered, ObjectiveExceeded
from kubedrill.k8s import pods as kpods
from kubedrill.observe import prober as kprober
from kubedrill.report.results import DATA_LOST, FAULT_NOT_INJECTED, HARNESS_ERROR, INTERRUPTED, NOT_RECOVERED
from kubedrill.scope import Scope
from kubedrill.wait import Check, wait_for

REDACTED = "***"
RPO_OBJECTIVES = ("rpo_records", "rpo_s")   # held to data.stream's RPO


class ExperimentFailed(KubedrillError):
    """The Chaos Toolkit run failed outside the method (its hypothesis before, a probe, a rollback): a harness error."""


class Reporter(Protocol):
    def objective(self, name: str, value: float) -> None: ...

    def availability(self, result: Any) -> None: ...


@dataclass
class Drilled:
    """What the drill saw, for the reports (filled as it goes: kept even when it fails)."""

    journal: dict[str, Any] | None = None
    recovered: recover.Recovered | None = None
    served: Any = None             # the prober's ProbeResult (with availability)
    data_before: str | None = None
    rpo: Any = None                # the stream's RPO (data.stream)
    secrets: set[str] = field(default_factory=set)

    def redact(self, value: Any) -> Any:
        return redact(value, self.secrets)

    def journal_text(self) -> str:
        return json.dumps(self.redact(self.journal or {}), indent=2, default=str)


def redact(value: Any, secrets: set[str] | frozenset[str]) -> Any:
    """``value`` (nested) with every occurrence of a secret replaced by ***."""
    found = sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True)
    if not found:
        return value

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            for s in found:
                v = v.replace(s, REDACTED)
            return v
        if isinstance(v, Mapping):
            return {walk(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return v

    return walk(value)


def _timeout(ext: Extension, key: str, default_s: float, scale: float) -> float:
    given = ext.timeouts.get(key)
    return float(given) * scale if given is not None else default_s


def deployed(ext: Extension, docs: list[tuple[str, dict]] = ()) -> tuple[Workload, ...]:
    """The workloads a drill waits Ready for before it starts: those to recover, and every
    workload its manifests create."""
    made = [Workload(d.get("kind"), (d.get("metadata") or {}).get("name", "")) for _, d in docs
            if d.get("kind") in handles.KINDS and (d.get("metadata") or {}).get("name")]
    return tuple(dict.fromkeys([*ext.recover, *(w for w in made if not any(
        r.kind == w.kind and r.name == w.name for r in ext.recover))]))


def wait_deployed(scope: Scope, workloads: tuple[Workload, ...], timeout_s: float) -> None:
    """Every workload exists and has all its pods Ready (selector: at least one)."""
    clients, ns = scope.clients, scope.namespace

    found: list[recover.Watched] = []   # each workload, once it exists (read once: its owners are cached)

    def ready(items: list[dict]) -> Check:
        if not found:
            try:
                found[:] = recover.snapshot(clients, ns, workloads)
            except KubedrillError as exc:
                return Check(False, str(exc))
        watched = found
        pods = [kpods.info(o) for o in items]
        parts = []
        for w in watched:
            mine = [p for p in pods if w.member(p) and not p.terminating]
            serving = [p for p in mine if p.serving]
            want = w.want if w.workload.name else max(1, len(mine))
            parts.append((len(serving) >= want, f"{w.describe()}: {len(serving)}/{want} Ready"))
        return Check(all(ok for ok, _ in parts), "; ".join(t for _, t in parts))

    wait_for(recover.source(clients, ns), ready, description=f"{', '.join(w.describe() for w in workloads)} Ready",
             timeout_s=timeout_s, progress=scope.progress)


def run(scope: Scope, exp: dict[str, Any], vars_: tuple[dict, dict], ext: Extension, report: Reporter,
        drilled: Drilled, timeout_scale: float = 1.0, docs: list[tuple[str, dict]] = ()) -> Drilled:
    """Deploy-wait, the experiment in stages, the checks; raises the typed error of the verdict."""
    t = scope.timeouts
    deploy_s = _timeout(ext, "deploy_s", t.deploy_s, timeout_scale)
    recover_s = _timeout(ext, "recover_s", t.recover_s, timeout_scale)
    probe = Probe(scope.clients, scope.namespace, ext.data["probe"]) if "probe" in ext.data else None
    records = (Records(scope.clients, scope.namespace, ext.data["records"], t.verify_s)
               if "records" in ext.data else None)
    stream = (Stream(scope.clients, scope.namespace, ext.data["stream"], t.verify_s,
                     log=lambda line: scope.run.log(f"[{scope.name}] {line}"),
                     allow_loss=any(k in ext.objectives for k in RPO_OBJECTIVES)) if "stream" in ext.data else None)
    try:
        return _run(scope, exp, vars_, ext, report, drilled, docs, deploy_s, recover_s, probe, records, stream)
    finally:
        if stream is not None:
            stream.stop()


def _run(scope: Scope, exp: dict[str, Any], vars_: tuple[dict, dict], ext: Extension, report: Reporter,
         drilled: Drilled, docs, deploy_s: float, recover_s: float, probe: Probe | None, records: Records | None,
         stream: Stream | None) -> Drilled:
    with scope.phase("deploy"):
        wait_deployed(scope, deployed(ext, docs), deploy_s)
        if probe is not None:
            drilled.data_before = probe.read()
            drilled.secrets |= probe.secrets
        if records is not None:
            for w in records.write():
                scope.run.log(f"[{scope.name}] wrote {w.acknowledged} records in {w.pod} (data.records)")
        if stream is not None:
            acked = stream.start()
            scope.run.log(f"[{scope.name}] {stream.describe()}: {acked} records acknowledged before the fault")
    serve = ext.availability
    prober = kprober.start(scope, f"http://{serve['service']}.{scope.namespace}.svc:{serve.get('port', 80)}"
                                  f"{serve.get('path', '/')}", max_s=int(recover_s + deploy_s) + 60) if serve else None
    stack = contextlib.ExitStack()
    watched: list[recover.Watched] = []

    def before_method() -> None:
        watched[:] = recover.snapshot(scope.clients, scope.namespace, ext.recover)
        stack.enter_context(scope.phase("fault"))

    def after_method(fault_at) -> recover.Recovered:
        stack.close()
        if stream is not None:
            scope.run.log(f"[{scope.name}] the method is over: writer stopped at record {stream.stop()}")
        with scope.phase("recover"):
            drilled.recovered = recover.wait(scope.clients, scope.namespace, watched, fault_at, recover_s,
                                             scope.progress)
        scope.run.results.append((scope.name, drilled.recovered.recovery))
        return drilled.recovered

    if scope.lock is not None:
        scope.lock.check_held()
    try:
        with current.bound(scope, records=records, stream=stream, prober=prober), \
                runner.bound_to(str(scope.clients.kubeconfig), scope.clients.context):
            outcome = runner.run(exp, vars_, after_method, before_method)
    finally:
        stack.close()
        if prober is not None:
            drilled.served = prober.stop()
            report.availability(drilled.served)
    drilled.journal = outcome.journal
    drilled.secrets |= set(outcome.secret_values)
    _raise_for(outcome, drilled)
    with scope.phase("verify"):
        recover.check_identity(scope.clients, scope.namespace, watched, kvolumes.restored(scope.namespace))
        if probe is not None and drilled.data_before is not None:
            probe.after(drilled.data_before)
        if records is not None:
            records.verify(log=lambda line: scope.run.log(f"[{scope.name}] {line}"),
                           record=lambda lost: scope.run.results.append((scope.name, lost)))
        if stream is not None:
            def measured(lost) -> None:
                drilled.rpo = lost
                scope.run.results.append((scope.name, lost))
            stream.verify(record=measured)
        _objectives(ext, drilled, report)
    return drilled


def _raise_for(outcome: runner.Outcome, drilled: Drilled) -> None:
    """The typed error of what went wrong, the method's first, then the recovery's."""
    verdict = outcome.verdict
    reason = drilled.redact(verdict.reason)
    if verdict.verdict == INTERRUPTED:
        raise KeyboardInterrupt(reason)
    if outcome.before_error is not None:
        raise outcome.before_error
    if verdict.verdict == FAULT_NOT_INJECTED:
        raise FaultNotInjected(reason)
    if outcome.recovery_error is not None:
        raise outcome.recovery_error
    if verdict.verdict == NOT_RECOVERED:
        raise NotRecovered(reason)
    if verdict.verdict == DATA_LOST:
        raise DataLost(reason)
    if verdict.verdict == HARNESS_ERROR or not verdict.passed:
        raise ExperimentFailed(reason)
    if not outcome.waited:
        raise ExperimentFailed("the method ended without kubedrill's recovery wait")


def objective_name(w: Workload) -> str:
    """The objective name of a workload's own RTO: ``deployment_web_rto_s`` (by selector: the
    selector's words)."""
    return f"{w.kind.lower()}_{re.sub(r'[^0-9A-Za-z]+', '_', w.name or w.selector).strip('_')}_rto_s"


def _objectives(ext: Extension, drilled: Drilled, report: Reporter) -> None:
    """Every objective of the experiment, each reported; ObjectiveExceeded naming every one missed."""
    rec = drilled.recovered
    if rec is None:
        return
    served, obj = drilled.served, ext.objectives
    held: list[tuple[str, str, float, float, dict]] = []   # (check id, name, limit, measured, how)
    if served is not None and "availability" in obj:
        held.append(("experiment.availability", "availability", obj["availability"], served.success_ratio,
                     {"at_most": False, "what": f"availability ({served.describe()})", "unit": ""}))
    if served is not None and "longest_outage_s" in obj:
        held.append(("experiment.outage", "longest_outage_s", obj["longest_outage_s"], served.longest_outage_s,
                     {"what": "longest outage"}))
    for w, rto in rec.per_workload:
        if w.rto_s is not None:
            held.append(("experiment.workload-rto", objective_name(w), w.rto_s, rto,
                         {"what": f"RTO of {w.describe()}"}))
    if "rto_s" in obj:
        held.append(("experiment.rto", "rto_s", obj["rto_s"], rec.recovery.rto_s, {}))
    lost = drilled.rpo
    if lost is not None and "rpo_records" in obj:
        held.append(("experiment.rpo-records", "rpo_records", obj["rpo_records"], lost.records_lost,
                     {"what": "RPO", "unit": " records"}))
    if lost is not None and "rpo_s" in obj:
        held.append(("experiment.rpo-s", "rpo_s", obj["rpo_s"], lost.seconds_lost, {"what": "RPO"}))
    missed: list[ObjectiveExceeded] = []
    for check_id, name, limit, measured, how in held:
        report.objective(name, limit)
        try:
            checks.objective(check_id, SimpleNamespace(**{name: limit}), name, measured, **how)
        except ObjectiveExceeded as exc:
            missed.append(exc)
    if missed:
        first = missed[0]
        raise ObjectiveExceeded("; ".join(map(str, missed)), first.name, first.measured, first.limit)
