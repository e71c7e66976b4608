"""A drill used by the harness's own e2e tests: the Chaos Toolkit experiment of scenarios/
runs against the scenario's namespace, through the guard, and the workload recovers."""

from pathlib import Path

EXPERIMENT = Path(__file__).resolve().parent / "terminate-one-pod.json"


def test_chaos_experiment_terminates_one_pod(web, chaos_experiment, phase):
    before = web.pod_uids()
    result = chaos_experiment(EXPERIMENT, label_selector=f"app.kubernetes.io/name={web.name}")
    web.wait_all_ready()
    with phase("verify"):
        assert result.status == "completed"
        assert len(before - web.pod_uids()) == 1, "exactly one pod was terminated and replaced"
