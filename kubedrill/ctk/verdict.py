"""The strict verdict of a Chaos Toolkit run, in kubedrill's verdict classes.

Chaos Toolkit itself is lenient: a failed action is marked and the method carries on, the run's
status stays "completed"; a hypothesis missed before the method is not "deviated"; a failed
rollback changes nothing. Here every one of them fails the experiment, with its reason:

    the hypothesis before the method not met, or its probe failed    harness error (before the fault)
    an action of the method failed, or matched nothing to act on      fault not injected
      ... because a capability is missing here (CapabilityMissing)     not applicable
    the run aborted or failed before its method ended                 harness error
    the hypothesis after the method not met (deviated)                not recovered
      ... because kubedrill.ctk.probes.data_intact failed              data lost
    a rollback failed (its undo stays in the journal)                  harness error
    interrupted                                                        interrupted
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from kubedrill.errors import CapabilityMissing
from kubedrill.report.results import (DATA_LOST, FAULT_NOT_INJECTED, HARNESS_ERROR, INTERRUPTED, NOT_APPLICABLE,
                                      NOT_RECOVERED, PASSED)

# chaostoolkit-kubernetes actions that report what they acted on: an empty list means they
# matched nothing (chaosk8s.pod.actions.terminate_pods returns [] and succeeds)
_WRAPPED = "chaoslib.exceptions.ActivityFailed: "
REPORTS_VICTIMS = {("chaosk8s.pod.actions", "terminate_pods")}
# kubedrill's probe of its own data check: a steady state after the method it fails is data lost
DATA_PROBE = ("kubedrill.ctk.probes", "data_intact")


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED


def _name(run: Mapping[str, Any]) -> str:
    return str((run.get("activity") or {}).get("name", "?"))


def _why(run: Mapping[str, Any]) -> str:
    lines = [ln.strip() for ln in "".join(run.get("exception") or []).splitlines() if ln.strip()]
    if lines:   # chaoslib wraps what a provider raised (once or twice): the provider's own error says why
        why = lines[-1]
        while why.startswith(_WRAPPED):
            why = why.removeprefix(_WRAPPED)
        return why
    if "status" not in run:
        return "it never ran (its provider could not be loaded)"
    return f"status {run.get('status')}"


def _hypothesis(state: Mapping[str, Any] | None) -> str:
    """Which probe of a steady state failed or missed its tolerance, and with what."""
    for probe in (state or {}).get("probes") or []:
        if probe.get("status") != "succeeded":
            return f"probe {_name(probe)!r} failed: {_why(probe)}"
        if probe.get("tolerance_met") is False:
            tolerance = (probe.get("activity") or {}).get("tolerance")
            return f"probe {_name(probe)!r} got {probe.get('output')!r}, outside its tolerance {tolerance!r}"
    return "not met"


def _data_probe_failed(state: Mapping[str, Any] | None) -> bool:
    """The first probe of the steady state that failed is kubedrill's data_intact."""
    for probe in (state or {}).get("probes") or []:
        if probe.get("status") != "succeeded" or probe.get("tolerance_met") is False:
            provider = (probe.get("activity") or {}).get("provider") or {}
            return (provider.get("module"), provider.get("func")) == DATA_PROBE
    return False


def _acted_on_nothing(run: Mapping[str, Any]) -> bool:
    provider = (run.get("activity") or {}).get("provider") or {}
    return (provider.get("module"), provider.get("func")) in REPORTS_VICTIMS and run.get("output") == []


def of_journal(experiment: Mapping[str, Any], journal: Mapping[str, Any]) -> Verdict:
    """The verdict of one run of ``experiment`` from its Chaos Toolkit journal."""
    status = journal.get("status")
    if status == "interrupted":
        return Verdict(INTERRUPTED, "the experiment was interrupted")
    has_hypothesis = bool((experiment.get("steady-state-hypothesis") or {}).get("probes"))
    states = journal.get("steady_states") or {}
    before = states.get("before")
    if has_hypothesis and not (before or {}).get("steady_state_met"):
        return Verdict(HARNESS_ERROR, f"the steady state was not met before the method: {_hypothesis(before)}")
    for run in journal.get("run") or []:
        if (run.get("activity") or {}).get("type") == "action" and run.get("status") != "succeeded":
            why = _why(run)
            if why.startswith(CapabilityMissing.PREFIX):
                return Verdict(NOT_APPLICABLE, why.removeprefix(CapabilityMissing.PREFIX))
            return Verdict(FAULT_NOT_INJECTED, f"action {_name(run)!r} failed: {why}")
        if _acted_on_nothing(run):
            return Verdict(FAULT_NOT_INJECTED, f"action {_name(run)!r} matched nothing to act on")
    for run in journal.get("run") or []:
        if run.get("status") != "succeeded":
            return Verdict(HARNESS_ERROR, f"probe {_name(run)!r} of the method failed: {_why(run)}")
    if len(journal.get("run") or []) < len(experiment.get("method") or []):
        return Verdict(HARNESS_ERROR, f"the method stopped after {len(journal.get('run') or [])} of "
                                      f"{len(experiment.get('method') or [])} activities (status {status})")
    failed_rollbacks = [r for r in journal.get("rollbacks") or [] if r.get("status") != "succeeded"]
    if journal.get("deviated") or (has_hypothesis and not (states.get("after") or {}).get("steady_state_met")):
        reason = f"the steady state did not come back after the method: {_hypothesis(states.get('after'))}"
        verdict = DATA_LOST if _data_probe_failed(states.get("after")) else NOT_RECOVERED
        return Verdict(verdict, reason + (f"; and rollback {_name(failed_rollbacks[0])!r} failed"
                                          if failed_rollbacks else ""))
    if failed_rollbacks:
        return Verdict(HARNESS_ERROR, f"rollback {_name(failed_rollbacks[0])!r} failed: {_why(failed_rollbacks[0])}; "
                                      "its undo stays in the fault journal")
    if len(journal.get("rollbacks") or []) < len(experiment.get("rollbacks") or []):
        return Verdict(HARNESS_ERROR, "not every rollback ran")
    if status != "completed":
        return Verdict(HARNESS_ERROR, f"the experiment ended {status}")
    return Verdict(PASSED, "")
