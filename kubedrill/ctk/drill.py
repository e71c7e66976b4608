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
from typing import Any, Mapping, Protocol

from kubedrill import checks
from kubedrill import helm
from kubedrill import journal as kjournal
from kubedrill.ctk import current, handles, recover, runner, target
from kubedrill.ctk import volumes as kvolumes
from kubedrill.ctk.dataprobe import Probe
from kubedrill.ctk.records import Records
from kubedrill.ctk.stream import Stream
from kubedrill.ctk.extension import Extension, Workload
from kubedrill.errors import (CapabilityMissing, DataLost, FaultNotInjected, KubedrillError, NotRecovered,
                              ObjectiveExceeded)
from kubedrill.k8s import pods as kpods
from kubedrill.observe import prober as kprober
from kubedrill.report.results import (DATA_LOST, FAULT_NOT_INJECTED, HARNESS_ERROR, INTERRUPTED, NOT_APPLICABLE,
                                      NOT_RECOVERED)
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
    """Deploy-wait, the experiment in stages (kubedrill's own runner), the checks; raises the
    typed error of the verdict."""
    stages = Stages(scope, ext, report, drilled, timeout_scale, docs)
    try:
        stages.deploy()
        if scope.lock is not None:
            scope.lock.check_held()
        try:
            with stages.bound(), runner.bound_to(str(scope.clients.kubeconfig), scope.clients.context):
                outcome = runner.run(exp, vars_, stages.after_method, stages.before_method)
        finally:
            stages.stop()
        drilled.journal = outcome.journal
        drilled.secrets |= set(outcome.secret_values)
        raise_for(outcome, drilled)
        stages.verify()
        return drilled
    finally:
        stages.close()


class Stages:
    """One experiment's drill in the stages its two drivers call: kubedrill's own runner
    (:func:`run`, under pytest) and Chaos Toolkit's own (``chaos run``, through
    kubedrill.ctk.control). ``deploy`` once the target is applied; ``before_method`` when the
    method starts; ``after_method(fault_at)`` when it ends (the recovery wait); ``stop`` once the
    run is over (the prober's figures); ``verify`` for kubedrill's checks; ``close`` always."""

    def __init__(self, scope: Scope, ext: Extension, report: Reporter, drilled: Drilled,
                 timeout_scale: float = 1.0, docs: list[tuple[str, dict]] = ()):
        t = scope.timeouts
        self.scope, self.ext, self.report, self.drilled, self.docs = scope, ext, report, drilled, docs
        self.deploy_s = _timeout(ext, "deploy_s", t.deploy_s, timeout_scale)
        self.recover_s = _timeout(ext, "recover_s", t.recover_s, timeout_scale)
        self.probe = Probe(scope.clients, scope.namespace, ext.data["probe"]) if "probe" in ext.data else None
        self.records = (Records(scope.clients, scope.namespace, ext.data["records"], t.verify_s)
                        if "records" in ext.data else None)
        self.stream = (Stream(scope.clients, scope.namespace, ext.data["stream"], t.verify_s,
                              log=lambda line: scope.run.log(f"[{scope.name}] {line}"),
                              allow_loss=any(k in ext.objectives for k in RPO_OBJECTIVES))
                       if "stream" in ext.data else None)
        self.prober: kprober.Probe | None = None
        self.watched: list[recover.Watched] = []
        self._fault = contextlib.ExitStack()

    def _log(self, line: str) -> None:
        self.scope.run.log(f"[{self.scope.name}] {line}")

    def deploy(self) -> None:
        """Every workload Ready, the data read and written before the fault, the prober started."""
        scope, drilled = self.scope, self.drilled
        with scope.phase("deploy"):
            wait_deployed(scope, deployed(self.ext, self.docs), self.deploy_s)
            if self.probe is not None:
                drilled.data_before = self.probe.read()
                drilled.secrets |= self.probe.secrets
            if self.records is not None:
                for w in self.records.write():
                    self._log(f"wrote {w.acknowledged} records in {w.pod} (data.records)")
            if self.stream is not None:
                acked = self.stream.start()
                self._log(f"{self.stream.describe()}: {acked} records acknowledged before the fault")
        serve = self.ext.availability
        if serve:
            self.prober = kprober.start(scope, f"http://{serve['service']}.{scope.namespace}.svc:"
                                               f"{serve.get('port', 80)}{serve.get('path', '/')}",
                                        max_s=int(self.recover_s + self.deploy_s) + 60)

    def bound(self):
        """The drill the experiment's kubedrill.ctk providers act in (kubedrill.ctk.current)."""
        return current.bound(self.scope, records=self.records, stream=self.stream, prober=self.prober)

    def before_method(self) -> None:
        self.watched[:] = recover.snapshot(self.scope.clients, self.scope.namespace, self.ext.recover)
        self._fault.enter_context(self.scope.phase("fault"))

    def after_method(self, fault_at) -> recover.Recovered:
        scope, drilled = self.scope, self.drilled
        self._fault.close()
        if self.stream is not None:
            self._log(f"the method is over: writer stopped at record {self.stream.stop()}")
        with scope.phase("recover"):
            drilled.recovered = recover.wait(scope.clients, scope.namespace, self.watched, fault_at, self.recover_s,
                                             scope.progress)
        scope.run.results.append((scope.name, drilled.recovered.recovery))
        return drilled.recovered

    def stop(self) -> None:
        """The run is over: the fault phase ended, the prober's figures reported."""
        self._fault.close()
        if self.prober is not None:
            prober, self.prober = self.prober, None
            self.drilled.served = prober.stop()
            self.report.availability(self.drilled.served)

    def verify(self) -> None:
        """A StatefulSet's identity, the data probe after, the records read back, the objectives."""
        scope, drilled = self.scope, self.drilled
        with scope.phase("verify"):
            recover.check_identity(scope.clients, scope.namespace, self.watched, kvolumes.restored(scope.namespace))
            if self.probe is not None and drilled.data_before is not None:
                self.probe.after(drilled.data_before)
            if self.records is not None:
                self.records.verify(log=self._log, record=lambda lost: scope.run.results.append((scope.name, lost)))
            if self.stream is not None:
                def measured(lost) -> None:
                    drilled.rpo = lost
                    scope.run.results.append((scope.name, lost))
                self.stream.verify(record=measured)
            _objectives(self.ext, drilled, self.report)

    def close(self) -> None:
        self._fault.close()
        if self.stream is not None:
            self.stream.stop()
        if self.prober is not None:
            self.stop()


def install_release(scope, ext) -> None:
    """``helm install`` the target's release into the allowed namespace: journalled first (its
    undo uninstalls it), uninstalled by the scenario's cleanup."""
    name, clients = target.release(ext), scope.clients
    entry = scope.journal.record(
        f"helm install {name} in {scope.namespace}",
        kjournal.Undo(kjournal.HELM_UNINSTALL, {"release": name, "namespace": scope.namespace},
                      f"helm uninstall {name} --namespace {scope.namespace}"))

    def uninstall() -> None:
        helm.uninstall(name, scope.namespace, str(clients.kubeconfig), clients.context)
        scope.journal.resolve(entry)

    scope.cleanups.defer(f"helm uninstall {name}", uninstall)
    helm.install(name, target.chart(ext), scope.namespace, str(clients.kubeconfig), clients.context,
                 ext.target["helm"].get("values"))
    scope.run.log(f"[{scope.name}] installed helm release {name} in {scope.namespace}")


def raise_for(outcome: runner.Outcome, drilled: Drilled) -> None:
    """The typed error of what went wrong, the method's first, then the recovery's."""
    verdict = outcome.verdict
    reason = drilled.redact(verdict.reason)
    if verdict.verdict == INTERRUPTED:
        raise KeyboardInterrupt(reason)
    if outcome.before_error is not None:
        raise outcome.before_error
    if verdict.verdict == NOT_APPLICABLE:
        raise CapabilityMissing.from_reason(reason)
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


def held(ext: Extension, drilled: Drilled) -> list[tuple[str, str, float, float, dict]]:
    """Every objective of the experiment with what was measured: (check id, name, limit, measured,
    how: kubedrill.checks.objective's keywords); none before the recovery was measured."""
    rec = drilled.recovered
    if rec is None:
        return []
    served, obj = drilled.served, ext.objectives
    out: list[tuple[str, str, float, float, dict]] = []   # (check id, name, limit, measured, how)
    if served is not None and "availability" in obj:
        out.append(("experiment.availability", "availability", obj["availability"], served.success_ratio,
                     {"at_most": False, "what": f"availability ({served.describe()})", "unit": ""}))
    if served is not None and "longest_outage_s" in obj:
        out.append(("experiment.outage", "longest_outage_s", obj["longest_outage_s"], served.longest_outage_s,
                     {"what": "longest outage"}))
    for w, rto in rec.per_workload:
        if w.rto_s is not None:
            out.append(("experiment.workload-rto", objective_name(w), w.rto_s, rto,
                         {"what": f"RTO of {w.describe()}"}))
    if "rto_s" in obj:
        out.append(("experiment.rto", "rto_s", obj["rto_s"], rec.recovery.rto_s, {}))
    lost = drilled.rpo
    if lost is not None and "rpo_records" in obj:
        out.append(("experiment.rpo-records", "rpo_records", obj["rpo_records"], lost.records_lost,
                     {"what": "RPO", "unit": " records"}))
    if lost is not None and "rpo_s" in obj:
        out.append(("experiment.rpo-s", "rpo_s", obj["rpo_s"], lost.seconds_lost, {"what": "RPO"}))
    return out


def _objectives(ext: Extension, drilled: Drilled, report: Reporter) -> None:
    """Every objective of the experiment, each reported; ObjectiveExceeded naming every one missed."""
    missed: list[ObjectiveExceeded] = []
    for check_id, name, limit, measured, how in held(ext, drilled):
        report.objective(name, limit)
        try:
            checks.objective(check_id, SimpleNamespace(**{name: limit}), name, measured, **how)
        except ObjectiveExceeded as exc:
            missed.append(exc)
    if missed:
        first = missed[0]
        raise ObjectiveExceeded("; ".join(map(str, missed)), first.name, first.measured, first.limit)
