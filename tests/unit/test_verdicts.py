"""Verdict classes from typed errors, "before the fault", a run's worst class and its exit code
(kubedrill.report.verdicts; pure logic, no cluster)."""

from __future__ import annotations

import pytest
import urllib3
from kubernetes.client.rest import ApiException

from kubedrill.errors import (ClusterUnreachable, DataLost, ExecFailed, FaultFailed, FaultNotInjected, GuardRefused,
                              IdentityLost, LockHeld, LockLost, NotApplicable, NotRecovered, ObjectiveExceeded, ObjectiveMissed,
                              RecoveryFailed, RestoreFailed, SnapshotNotReady, UsageError, VolumeLost, WaitTimeout)
from kubedrill.report import results as report
from kubedrill.report import verdicts
from kubedrill.run import Run

AFTER_THE_FAULT = frozenset({"deploy", "fault", "recover"})


@pytest.mark.parametrize("error, verdict", [
    (DataLost("data lost: records 1–5 missing"), report.DATA_LOST),
    (VolumeLost("PV deleted: pvc-1"), report.DATA_LOST),
    (IdentityLost("PVC UID changed"), report.IDENTITY_LOST),
    (NotRecovered("the count is not restored"), report.NOT_RECOVERED),
    (RecoveryFailed("ReplicationController web cannot bring its pods back"), report.NOT_RECOVERED),
    (RestoreFailed("ProvisioningFailed"), report.NOT_RECOVERED),
    (WaitTimeout("3 Ready", 10, (), "2/3 Ready"), report.NOT_RECOVERED),
    (SnapshotNotReady("snap readyToUse", 15, {}, None), report.NOT_RECOVERED),
    (ObjectiveMissed("stopped at the objective", "node gone", 5, (), "eviction"), report.OBJECTIVE_MISSED),
    (ObjectiveExceeded("RTO 3s misses pod_kill_rto_s", "pod_kill_rto_s", 3.0, 1.0), report.OBJECTIVE_MISSED),
    (AssertionError("a user's own check"), report.OBJECTIVE_MISSED),
    (FaultNotInjected("a killed pod is still there"), report.FAULT_NOT_INJECTED),
    (FaultFailed("no pod to kill"), report.FAULT_NOT_INJECTED),
    (NotApplicable("no VolumeSnapshot API and --require snapshot"), report.NOT_APPLICABLE),
    (ClusterUnreachable("cannot reach"), report.HARNESS_ERROR),
    (UsageError("bad option"), report.HARNESS_ERROR),
    (GuardRefused("kube-system"), report.HARNESS_ERROR),
    (LockHeld("another run", 30), report.HARNESS_ERROR),
    (LockLost("lost the drill lock default/kubedrill-drill-lock: run-b holds it now"), report.HARNESS_ERROR),
    (ExecFailed("exit 1"), report.HARNESS_ERROR),
    (ApiException(status=500, reason="Internal Server Error"), report.HARNESS_ERROR),
    (urllib3.exceptions.MaxRetryError(None, "/api", "refused"), report.HARNESS_ERROR),
    (KeyError("a bug"), report.HARNESS_ERROR),
    (KeyboardInterrupt("SIGINT"), report.INTERRUPTED),
    (None, report.HARNESS_ERROR),
])
def test_each_error_type_gets_its_class(error, verdict):
    assert verdicts.class_of(error) == verdict
    got = verdicts.of_failure(error, verdicts.CALL, AFTER_THE_FAULT)
    assert got.verdict == verdict
    if error is not None:
        assert got.reason == verdicts.first_line(error)


def test_the_class_comes_from_the_type_never_from_the_text():
    assert verdicts.class_of(KeyError("data lost: records 1–5 missing")) == report.HARNESS_ERROR
    assert verdicts.class_of(DataLost("objective missed")) == report.DATA_LOST


@pytest.mark.parametrize("error", [
    WaitTimeout("web: 3 pods Ready", 180, (), "0/3 Ready (ErrImagePull)"),
    RecoveryFailed("web cannot bring its pods back: ErrImageNeverPull"),
    DataLost("records missing"), IdentityLost("x"), NotRecovered("x"), ObjectiveExceeded("x"), AssertionError("x"),
])
def test_a_failure_before_the_fault_is_a_harness_error(error):
    for when, phases in ((verdicts.SETUP, frozenset()), (verdicts.SETUP, frozenset({"deploy"})),
                         (verdicts.CALL, frozenset({"deploy"})), (verdicts.CALL, frozenset({"deploy", "verify"}))):
        got = verdicts.of_failure(error, when, phases)
        assert got == verdicts.Verdict(report.HARNESS_ERROR, "before the fault: " + verdicts.first_line(error)), when
    # once the fault phase began, the error's own class
    assert verdicts.of_failure(error, verdicts.CALL, frozenset({"deploy", "fault"})).verdict == verdicts.class_of(error)
    assert verdicts.of_failure(error, verdicts.SETUP, frozenset({"deploy", "fault"})).verdict == verdicts.class_of(error)


@pytest.mark.parametrize("error, verdict", [
    (FaultFailed("no pod to kill"), report.FAULT_NOT_INJECTED),
    (FaultNotInjected("the restart count did not move"), report.FAULT_NOT_INJECTED),
    (NotApplicable("--require drain"), report.NOT_APPLICABLE),
    (KeyboardInterrupt(), report.INTERRUPTED),
    (ClusterUnreachable("cannot reach"), report.HARNESS_ERROR),
])
def test_a_fault_of_its_own_and_not_applicable_keep_their_class_before_the_fault(error, verdict):
    got = verdicts.of_failure(error, verdicts.SETUP, frozenset({"deploy"}))
    assert got.verdict == verdict and not got.reason.startswith("before the fault")


def test_a_scenario_that_deployed_nothing_through_kubedrill_is_classified_by_its_error():
    assert verdicts.of_failure(DataLost("records 1–5 missing"), verdicts.CALL, frozenset()).verdict == report.DATA_LOST
    assert verdicts.of_failure(AssertionError("mine"), verdicts.CALL, frozenset({"verify"})).verdict == \
        report.OBJECTIVE_MISSED


def test_skipped_is_not_applicable_with_its_reason_and_passed_is_passed():
    assert verdicts.of_outcome(verdicts.OUTCOME_SKIPPED, skip_reason="needs --node-fault=drain") == \
        verdicts.Verdict(report.NOT_APPLICABLE, "needs --node-fault=drain")
    assert verdicts.of_outcome(verdicts.OUTCOME_PASSED) == verdicts.Verdict(report.PASSED, "")


def test_a_teardown_error_never_masks_the_scenarios_verdict():
    failed = verdicts.of_error(DataLost("x"))
    assert verdicts.of_teardown(report.DATA_LOST, verdicts.of_error(KeyError("y"))) is None
    assert verdicts.of_teardown(report.OBJECTIVE_MISSED, failed) is None
    assert verdicts.of_teardown(report.PASSED, failed) == verdicts.Verdict(report.HARNESS_ERROR, "teardown: x")
    assert verdicts.of_teardown(None, verdicts.of_error(WaitTimeout("ns gone", 1, ()))).verdict == report.HARNESS_ERROR


def test_the_worst_class_decides_in_the_documented_order():
    order = list(report.WORST_FIRST)
    assert sorted(order) == sorted(report.VERDICTS)
    assert order == ["data lost", "identity lost", "not recovered", "objective missed", "fault not injected",
                     "harness error", "interrupted", "not applicable", "passed"]
    for i, worse in enumerate(order):
        for better in order[i:]:
            assert verdicts.worst([better, worse, better]) == worse
    assert verdicts.worst([]) == report.PASSED


def test_each_class_has_its_exit_code():
    assert report.EXIT_CODES == {"passed": 0, "objective missed": 1, "data lost": 10, "identity lost": 11,
                                 "not recovered": 12, "fault not injected": 13, "not applicable": 14,
                                 "harness error": 15, "interrupted": 16}
    assert not set(report.EXIT_CODES.values()) & set(verdicts.PYTEST_OWN)


@pytest.mark.parametrize("classes, pytest_status, code, name", [
    (["passed", "passed"], 0, 0, "passed"),
    (["passed", "objective missed"], 1, 1, "objective missed"),
    (["objective missed", "data lost", "not recovered"], 1, 10, "data lost"),
    (["passed", "not applicable"], 0, 14, "not applicable"),
    (["harness error", "identity lost"], 1, 11, "identity lost"),
    (["fault not injected", "not applicable"], 1, 13, "fault not injected"),
    (["passed", "interrupted"], 1, 16, "interrupted"),
])
def test_a_run_exits_with_its_worst_class(classes, pytest_status, code, name):
    assert verdicts.of_run(classes, pytest_status) == verdicts.RunVerdict(code, name)
    assert verdicts.of_run(classes, pytest_status).line() == f"{code} {name}\n"


@pytest.mark.parametrize("status, name", [(2, "interrupted"), (3, "internal error"), (4, "usage error"),
                                          (5, "nothing collected")])
def test_pytests_own_exit_codes_keep_their_meaning(status, name):
    assert verdicts.of_run(["data lost"], status) == verdicts.RunVerdict(status, name)
    assert verdicts.of_run([], status) == verdicts.RunVerdict(status, name)


def test_a_run_without_scenarios_keeps_pytests_status():
    assert verdicts.of_run([], 0) is None and verdicts.of_run([], 1) is None


def test_a_leak_or_a_failure_no_scenario_shows_is_a_harness_error():
    assert verdicts.of_run(["passed"], 1, leaks=True) == verdicts.RunVerdict(15, "harness error")
    assert verdicts.of_run(["passed"], 1) == verdicts.RunVerdict(15, "harness error")   # never 0 for a failure
    assert verdicts.of_run(["data lost"], 1, leaks=True) == verdicts.RunVerdict(10, "data lost")


def test_the_run_notes_which_phases_a_scenario_began():
    run = Run("r", 1, log=lambda line: None)
    with run.phase("deploy", "test_a"):
        pass
    assert run.phases_begun("test_a") == {"deploy"}
    with pytest.raises(RuntimeError):
        with run.phase("fault", "test_a"):
            raise RuntimeError("the fault failed half-way: it began")
    assert run.phases_begun("test_a") == {"deploy", "fault"} and run.phases_begun("test_b") == set()
    run.forget_phases("test_a")   # the scenario runs again (or another of the same name)
    assert run.phases_begun("test_a") == set()


def test_a_scenario_ending_after_the_lock_was_lost_is_a_harness_error_whatever_it_found():
    lost = LockLost("lost the drill lock default/kubedrill-drill-lock: not renewed for 120s")
    for found in (verdicts.Verdict(report.DATA_LOST, "records missing"), verdicts.Verdict(report.PASSED, ""),
                  verdicts.Verdict(report.NOT_RECOVERED, "3/3 Ready never")):
        assert verdicts.under_lost_lock(found, lost) == verdicts.Verdict(report.HARNESS_ERROR, str(lost))
        assert verdicts.under_lost_lock(found, None) == found
    for kept in (verdicts.Verdict(report.NOT_APPLICABLE, "skipped"), verdicts.Verdict(report.INTERRUPTED, "SIGINT")):
        assert verdicts.under_lost_lock(kept, lost) == kept


def test_a_run_that_lost_its_lock_is_a_harness_error_at_least():
    assert verdicts.of_run(["passed"], 0, lock_lost=True) == verdicts.RunVerdict(15, "harness error")
    assert verdicts.of_run(["passed"], 1, lock_lost=True) == verdicts.RunVerdict(15, "harness error")


def test_a_scenario_failing_while_the_lock_went_unrenewed_is_a_harness_error_and_a_pass_stands():
    unrenewed = LockLost("the drill lock default/kubedrill-drill-lock was last renewed 96s ago, more than two "
                         "thirds of its 120s lease: the API server did not answer")
    for found in (verdicts.Verdict(report.DATA_LOST, "records missing"),
                  verdicts.Verdict(report.OBJECTIVE_MISSED, "97.7s"),
                  verdicts.Verdict(report.NOT_RECOVERED, "3/3 Ready never")):
        assert verdicts.under_lost_lock(found, None, unrenewed) == verdicts.Verdict(report.HARNESS_ERROR,
                                                                                   str(unrenewed))
    passed = verdicts.Verdict(report.PASSED, "")
    assert verdicts.under_lost_lock(passed, None, unrenewed) == passed
