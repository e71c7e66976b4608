"""The verdict class of a scenario, from how it ended and the typed error that ended it, and the
verdict of a run (its worst class) with its exit code. Never from a message's text.

    passed              it passed
    objective missed    ObjectiveExceeded, ObjectiveMissed (a wait stopped at its objective), or a
                        bare AssertionError (a user's own check)
    data lost           DataLost, VolumeLost
    identity lost       IdentityLost
    not recovered       NotRecovered, RecoveryFailed (RestoreFailed), any other WaitTimeout
    fault not injected  FaultNotInjected, FaultFailed
    not applicable      skipped (the reason says why), NotApplicable
    harness error       ClusterUnreachable, UsageError, GuardRefused, LockHeld, LockLost, JournalUnwritable,
                        ExecFailed, ImageUnavailable (a pod of kubedrill's own without its image), an error of
                        the Kubernetes client or urllib3, anything else; and any failure before the
                        scenario's fault was injected (a setup that failed, a workload that never
                        deployed: an image missing is not a recovery that failed); and whatever a
                        scenario ended as once its run had lost the drill lock (another drill may
                        have acted beside it), unless skipped or interrupted; and, for the run, its
                        metrics not written or pushed (MetricsUnreported, kubedrill.report.metrics)
    interrupted         the run was stopped before the scenario finished

"Before the fault": in setup, or in the test once a deploy phase began and before the fault
phase began (kubedrill.run.Run.phase). A scenario that deployed nothing through kubedrill (a
user's own on the ``k8s`` fixture) is classified by its error alone. A fault's own failure
(FaultFailed) is "fault not injected", and NotApplicable "not applicable", whenever they happen.

An error in teardown never masks the scenario's own verdict; when the scenario had passed, it
becomes a harness error (teardown checks nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Iterable

from kubedrill.errors import (ClusterUnreachable, DataLost, ExecFailed, FaultFailed, GuardRefused, IdentityLost,
                              ImageUnavailable, JournalUnwritable, LockHeld, LockLost, NotApplicable, NotRecovered, ObjectiveExceeded,
                              ObjectiveMissed, RecoveryFailed, UsageError, WaitTimeout, first_line)
from kubedrill.report.results import (DATA_LOST, EXIT_CODES, FAULT_NOT_INJECTED, HARNESS_ERROR, IDENTITY_LOST,
                                      INTERRUPTED, NOT_APPLICABLE, NOT_RECOVERED, OBJECTIVE_MISSED, PASSED,
                                      WORST_FIRST)

# how a pytest phase ended (pytest's TestReport.outcome)
OUTCOME_PASSED = "passed"
OUTCOME_SKIPPED = "skipped"

# the pytest phase a failure happened in, and the run phases that decide "before the fault"
SETUP = "setup"
CALL = "call"
DEPLOY_PHASE = "deploy"
FAULT_PHASE = "fault"

BEFORE_THE_FAULT = "before the fault: "

# the typed errors, subclasses before their base classes (ObjectiveMissed is a WaitTimeout,
# VolumeLost a DataLost, FaultNotInjected a FaultFailed, RestoreFailed a RecoveryFailed,
# ClusterUnreachable a UsageError)
CLASSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (KeyboardInterrupt, INTERRUPTED),
    (NotApplicable, NOT_APPLICABLE),
    (DataLost, DATA_LOST),
    (IdentityLost, IDENTITY_LOST),
    ((ObjectiveMissed, ObjectiveExceeded), OBJECTIVE_MISSED),
    ((NotRecovered, RecoveryFailed, WaitTimeout), NOT_RECOVERED),
    (FaultFailed, FAULT_NOT_INJECTED),
    ((ClusterUnreachable, UsageError, GuardRefused, LockHeld, LockLost, JournalUnwritable, ExecFailed,
      ImageUnavailable), HARNESS_ERROR),
    (AssertionError, OBJECTIVE_MISSED),
)

# the classes a failure keeps wherever it happens (the others, before the fault, are harness errors)
KEPT_BEFORE_THE_FAULT = (FAULT_NOT_INJECTED, NOT_APPLICABLE, INTERRUPTED, HARNESS_ERROR)

# pytest's own exit codes, which keep their meanings
PYTEST_OWN = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "nothing collected"}
PYTEST_FAILED = 1


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str

    def as_tuple(self) -> tuple[str, str]:
        return self.verdict, self.reason


def class_of(error: BaseException | None) -> str:
    """The verdict class of an error, from its type alone."""
    if error is None:
        return HARNESS_ERROR
    for types, verdict in CLASSES:
        if isinstance(error, types):
            return verdict
    return HARNESS_ERROR   # the Kubernetes client's, urllib3's, and any other error: kubedrill failed


def of_error(error: BaseException | None) -> Verdict:
    """The verdict of a failure, from its error's type."""
    return Verdict(class_of(error), first_line(error) if error is not None else "")


def before_the_fault(when: str, phases: Collection[str]) -> bool:
    """A failure in pytest phase ``when`` (setup, call), the scenario having begun the run phases
    ``phases``, happened before its fault."""
    if FAULT_PHASE in phases:
        return False
    return when == SETUP or DEPLOY_PHASE in phases


def of_failure(error: BaseException | None, when: str = CALL, phases: Collection[str] = (FAULT_PHASE,)) -> Verdict:
    """The verdict of a failed setup or test: any failure before the fault is a harness error
    (except a fault's own, NotApplicable, and an interrupt)."""
    verdict = of_error(error)
    if before_the_fault(when, phases) and verdict.verdict not in KEPT_BEFORE_THE_FAULT:
        return Verdict(HARNESS_ERROR, BEFORE_THE_FAULT + verdict.reason)
    return verdict


def of_outcome(outcome: str, error: BaseException | None = None, skip_reason: str = "", when: str = CALL,
               phases: Collection[str] = (FAULT_PHASE,)) -> Verdict:
    """The verdict of a phase that ended with ``outcome`` (passed, skipped or failed)."""
    if outcome == OUTCOME_SKIPPED:
        return Verdict(NOT_APPLICABLE, skip_reason)
    if outcome == OUTCOME_PASSED:
        return Verdict(PASSED, "")
    return of_failure(error, when, phases)


def under_lost_lock(verdict: Verdict, lost: BaseException | None, unrenewed: BaseException | None = None) -> Verdict:
    """The verdict of a scenario that ended after its run lost the drill lock (``lost``, the
    LockLost): what it found may be another drill's doing, so it is the lost lock's verdict (a
    harness error), unless it was skipped or interrupted. A scenario that failed while the lock
    went unrenewed for two thirds of its lease (``unrenewed``: the API server did not answer) saw
    an outage of the API server, not only the drill's recovery: a harness error too, never "data
    lost" or a missed objective; a pass stands (the recovery was seen whole)."""
    if verdict.verdict in (NOT_APPLICABLE, INTERRUPTED):
        return verdict
    if lost is not None:
        return of_error(lost)
    if unrenewed is not None and verdict.verdict != PASSED:
        return of_error(unrenewed)
    return verdict


def of_teardown(previous: str | None, failed: Verdict) -> Verdict | None:
    """A failed teardown: None when the scenario's own verdict (``previous``, not passed) stands."""
    if previous is not None and previous != PASSED:
        return None
    verdict = INTERRUPTED if failed.verdict == INTERRUPTED else HARNESS_ERROR
    return Verdict(verdict, f"teardown: {failed.reason}")


# --- a run's verdict ---------------------------------------------------------------------------
def worst(classes: Iterable[str]) -> str:
    """The most severe class present (WORST_FIRST); "passed" when none is."""
    present = set(classes)
    return next((v for v in WORST_FIRST if v in present), PASSED)


@dataclass(frozen=True)
class RunVerdict:
    """What a run ended as: its exit code and the class (or pytest's own meaning) it stands for."""

    code: int
    name: str

    def line(self) -> str:
        """reports/verdict: ``10 data lost``."""
        return f"{self.code} {self.name}\n"


def of_run(classes: Iterable[str], pytest_status: int, leaks: bool = False,
           lock_lost: bool = False, unreported: bool = False) -> RunVerdict | None:
    """The verdict of a run whose scenarios got ``classes``: the worst class and its exit code.
    pytest's own 2-5 (interrupted, internal error, usage error, nothing collected) stand. A leak
    left behind, the drill lock lost, metrics that could not be written or pushed (``unreported``:
    monitoring would show another run's), or a failure pytest saw that no scenario's class shows,
    is a harness error.
    None when no scenario ran and pytest's status is its own 0 or 1 (not a drill run)."""
    status = int(pytest_status)
    if status in PYTEST_OWN:
        return RunVerdict(status, PYTEST_OWN[status])
    found = list(classes)
    if not found:
        return None
    if leaks or lock_lost or unreported or (status == PYTEST_FAILED and worst(found) == PASSED):
        found.append(HARNESS_ERROR)
    verdict = worst(found)
    return RunVerdict(EXIT_CODES[verdict], verdict)
