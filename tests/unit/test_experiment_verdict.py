"""The strict verdict of a Chaos Toolkit run: what Chaos Toolkit lets pass (a failed action, a
hypothesis missed before the method, a failed rollback, an action that matched nothing) fails
here, each in its verdict class with its reason. Journals are shaped as chaoslib 1.44 writes them."""

from __future__ import annotations

import copy

from kubedrill.ctk.verdict import of_journal
from kubedrill.errors import CapabilityMissing
from kubedrill.report.results import (DATA_LOST, FAULT_NOT_INJECTED, HARNESS_ERROR, INTERRUPTED, NOT_APPLICABLE,
                                      NOT_RECOVERED, PASSED)

PROBE = {"type": "probe", "name": "web-answers", "tolerance": 200,
         "provider": {"type": "http", "url": "http://web/"}}
ACTION = {"type": "action", "name": "kill-web",
          "provider": {"type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
                       "arguments": {"label_selector": "app=web", "ns": "shop"}}}
ROLLBACK = {"type": "action", "name": "scale-back",
            "provider": {"type": "python", "module": "chaosk8s.deployment.actions", "func": "scale_deployment",
                         "arguments": {"name": "web", "replicas": 3, "ns": "shop"}}}
EXPERIMENT = {"title": "t", "steady-state-hypothesis": {"title": "up", "probes": [PROBE]},
              "method": [ACTION], "rollbacks": [ROLLBACK]}


def ran(activity, status="succeeded", output=None, **kw):
    return {"activity": activity, "status": status, "output": output, **kw}


def state(met=True, output=200, tolerance_met=True, status="succeeded"):
    return {"steady_state_met": met, "probes": [ran(PROBE, status, output, tolerance_met=tolerance_met)]}


def journal(**kw):
    j = {"status": "completed", "deviated": False,
         "steady_states": {"before": state(), "after": state(), "during": []},
         "run": [ran(ACTION, output=["web-1"])], "rollbacks": [ran(ROLLBACK)]}
    j.update(kw)
    return j


def test_a_clean_run_passes():
    assert of_journal(EXPERIMENT, journal()).verdict == PASSED


def test_a_failed_action_is_a_fault_not_injected_though_chaos_toolkit_says_completed():
    failed = ran(ACTION, "failed", exception=["Traceback ...\n", "ActivityFailed: pods is forbidden\n"])
    v = of_journal(EXPERIMENT, journal(run=[failed]))
    assert (v.verdict, v.reason) == (FAULT_NOT_INJECTED, "action 'kill-web' failed: ActivityFailed: pods is forbidden")


def test_an_action_whose_capability_is_missing_here_is_not_applicable_with_the_capability_and_why():
    missing = CapabilityMissing("container-kill", "PID 1 of container web handles no signal: the node's runtime can")
    failed = ran(ACTION, "failed", exception=["Traceback ...\n", f"chaoslib.exceptions.ActivityFailed: {missing}\n"])
    v = of_journal(EXPERIMENT, journal(run=[failed]))
    assert (v.verdict, v.reason) == (NOT_APPLICABLE, "container-kill not available: PID 1 of container web handles "
                                                     "no signal: the node's runtime can")
    back = CapabilityMissing.from_reason(v.reason)
    assert (back.capability, back.why, str(back)) == (missing.capability, missing.why, str(missing))


def test_an_action_that_matched_nothing_is_a_fault_not_injected():
    v = of_journal(EXPERIMENT, journal(run=[ran(ACTION, output=[])]))
    assert (v.verdict, v.reason) == (FAULT_NOT_INJECTED, "action 'kill-web' matched nothing to act on")


def test_a_hypothesis_missed_before_the_method_is_a_harness_error_though_not_deviated():
    j = journal(steady_states={"before": state(met=False, output=503, tolerance_met=False), "after": None,
                               "during": []}, run=[])
    v = of_journal(EXPERIMENT, j)
    assert v.verdict == HARNESS_ERROR
    assert v.reason == ("the steady state was not met before the method: probe 'web-answers' got 503, outside its "
                        "tolerance 200")


def test_a_deviated_hypothesis_is_not_recovered_and_names_the_probe():
    j = journal(deviated=True, steady_states={"before": state(), "after": state(False, 503, False), "during": []})
    v = of_journal(EXPERIMENT, j)
    assert (v.verdict, v.reason) == (NOT_RECOVERED, "the steady state did not come back after the method: probe "
                                                    "'web-answers' got 503, outside its tolerance 200")


def test_a_hypothesis_probe_that_raised_after_the_method_is_not_recovered():
    j = journal(status="failed", deviated=True, steady_states={
        "before": state(), "after": state(False, None, None, status="failed") | {"probes": [
            ran(PROBE, "failed", exception=["ConnectionRefusedError: [Errno 111]\n"])]}, "during": []})
    v = of_journal(EXPERIMENT, j)
    assert v.verdict == NOT_RECOVERED and "probe 'web-answers' failed: ConnectionRefusedError" in v.reason


DATA_INTACT = {"type": "probe", "name": "records-intact", "tolerance": True,
               "provider": {"type": "python", "module": "kubedrill.ctk.probes", "func": "data_intact"}}


def test_kubedrills_data_probe_failing_after_the_method_is_data_lost():
    lost = ran(DATA_INTACT, "failed", exception=["ActivityFailed: db-0: data lost: records 1–20 missing "
                                                 "[experiment.records]\n"])
    j = journal(status="completed", deviated=True, steady_states={
        "before": state(), "after": {"steady_state_met": False, "probes": [ran(PROBE, output=200, tolerance_met=True),
                                                                           lost]}, "during": []})
    v = of_journal(EXPERIMENT, j)
    assert (v.verdict, v.reason) == (DATA_LOST, "the steady state did not come back after the method: probe "
                                                "'records-intact' failed: ActivityFailed: db-0: data lost: records "
                                                "1–20 missing [experiment.records]")


def test_another_probe_failing_first_is_not_recovered_though_the_data_probe_fails_too():
    j = journal(deviated=True, steady_states={"before": state(), "after": {"steady_state_met": False, "probes": [
        ran(PROBE, output=503, tolerance_met=False), ran(DATA_INTACT, "failed", exception=["ActivityFailed: x\n"])]},
        "during": []})
    assert of_journal(EXPERIMENT, j).verdict == NOT_RECOVERED


def test_a_failed_rollback_is_a_harness_error_and_its_undo_stays():
    j = journal(rollbacks=[ran(ROLLBACK, "failed", exception=["ApiException: (404)\n"])])
    v = of_journal(EXPERIMENT, j)
    assert (v.verdict, v.reason) == (HARNESS_ERROR, "rollback 'scale-back' failed: ApiException: (404); its undo "
                                                    "stays in the fault journal")


def test_a_rollback_that_never_ran_fails_too():
    assert of_journal(EXPERIMENT, journal(rollbacks=[])).reason == "not every rollback ran"


def test_an_activity_whose_provider_could_not_be_loaded_has_no_status_and_fails():
    broken = {"activity": ACTION, "output": None}   # chaoslib leaves no status when the import fails
    v = of_journal(EXPERIMENT, journal(run=[broken]))
    assert v.verdict == FAULT_NOT_INJECTED and "never ran" in v.reason


def test_a_method_cut_short_is_a_harness_error():
    exp = copy.deepcopy(EXPERIMENT)
    exp["method"] = [ACTION, dict(ACTION, name="kill-db")]
    v = of_journal(exp, journal(status="aborted"))
    assert (v.verdict, v.reason) == (HARNESS_ERROR, "the method stopped after 1 of 2 activities (status aborted)")


def test_an_interrupted_run_is_interrupted():
    assert of_journal(EXPERIMENT, journal(status="interrupted")).verdict == INTERRUPTED


def test_an_experiment_without_hypothesis_is_judged_on_its_activities():
    exp = {k: v for k, v in EXPERIMENT.items() if k != "steady-state-hypothesis"}
    j = journal(steady_states={"before": None, "after": None, "during": []})
    assert of_journal(exp, j).verdict == PASSED
