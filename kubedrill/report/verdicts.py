"""The verdict class of a scenario, from how it ended and the typed error that ended it.

    passed            it passed
    skipped           it was skipped (the reason says why)
    data lost         DataLost: the data oracle found acknowledged records missing or corrupt
    objective missed  AssertionError, WaitTimeout, RecoveryFailed: it did not recover as required
    infrastructure    ClusterUnreachable, FaultFailed, or an error of the Kubernetes client/urllib3
    harness error     anything else: kubedrill failed, not the workload

An error in teardown never masks the scenario's own verdict; when the scenario had passed, it
becomes the verdict (a missed objective in teardown is a harness error: teardown checks nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill.errors import ClusterUnreachable, DataLost, FaultFailed, RecoveryFailed, WaitTimeout
from kubedrill.report.results import (DATA_LOST, HARNESS_ERROR, INFRA_ERROR, OBJECTIVE_MISSED, PASSED,
                                      SKIPPED)

# how a pytest phase ended (pytest's TestReport.outcome)
OUTCOME_PASSED = "passed"
OUTCOME_SKIPPED = "skipped"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str

    def as_tuple(self) -> tuple[str, str]:
        return self.verdict, self.reason


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def of_error(error: BaseException | None) -> Verdict:
    """The verdict of a failure, from its error's type."""
    text = first_line(error) if error is not None else ""
    if isinstance(error, DataLost):
        return Verdict(DATA_LOST, text)
    if isinstance(error, (AssertionError, WaitTimeout, RecoveryFailed)):  # RecoveryFailed: issue 5
        return Verdict(OBJECTIVE_MISSED, text)
    if isinstance(error, (ClusterUnreachable, FaultFailed)) or (
            error is not None and type(error).__module__.startswith(("kubernetes", "urllib3"))):
        return Verdict(INFRA_ERROR, text)
    return Verdict(HARNESS_ERROR, text)


def of_outcome(outcome: str, error: BaseException | None = None, skip_reason: str = "") -> Verdict:
    """The verdict of a phase that ended with ``outcome`` (passed, skipped or failed)."""
    if outcome == OUTCOME_SKIPPED:
        return Verdict(SKIPPED, skip_reason)
    if outcome == OUTCOME_PASSED:
        return Verdict(PASSED, "")
    return of_error(error)


def of_teardown(previous: str | None, failed: Verdict) -> Verdict | None:
    """A failed teardown: None when the scenario's own verdict (``previous``, not passed) stands."""
    if previous is not None and previous != PASSED:
        return None
    verdict = HARNESS_ERROR if failed.verdict == OBJECTIVE_MISSED else failed.verdict
    return Verdict(verdict, f"teardown: {failed.reason}")
