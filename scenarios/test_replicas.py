"""A Deployment of three replicas, broken two ways (the seed's ReplicationController story, the
same two ways, is an experiment: scenarios/experiments/replication-controller-*.yaml).

A pod deleted through the API is replaced by a new pod (a new UID); a container killed in place
is restarted in the same pod (same UID, restart count up by one, the kubelet's back-off counted
in the RTO). One, half (rounded up) and all of the pods. Throughout, a bounded prober inside the
cluster sends requests to the workload's Service: the success ratio and the longest outage are
reported and held to objectives, as is each case's RTO (kubedrill.config.Objectives,
pod_delete_<case>_* and container_kill_<case>_*; --objective NAME=VALUE overrides one).
Each check is a row of docs/checks.md.
"""

import pytest

from kubedrill import checks, plan

HOW_MANY = {"one": {"count": 1}, "half": {"fraction": 0.5}, "all": {"fraction": 1.0}}


@pytest.mark.parametrize("how_many", list(HOW_MANY))
@pytest.mark.plan(faults=("delete {how_many} of Deployment web's pods through the API",))
def test_pods_deleted_through_the_api_are_replaced_by_new_pods(
        replicated, how_many, faults, availability, objectives, phase):
    before = replicated.pod_uids()
    probe = availability(replicated.service)

    killed = faults.kill_pods(replicated, **HOW_MANY[how_many])
    bound = {p.uid for p in replicated.pods() if not p.terminating}
    checks.injected("replicas.killed-pods-gone", not killed.uids & bound,
                    "a killed pod is still there, not even terminating")
    recovery = replicated.wait_all_ready(after=killed)
    seen = probe.stop()

    with phase("verify"):
        now = replicated.pod_uids()
        checks.recovered("replicas.replacements", len(now - before) == killed.count,
                         f"expected {killed.count} replacement pod(s) with new UIDs, found {len(now - before)}")
        name = f"pod_delete_{how_many}"
        checks.objective("replicas.delete-rto", objectives, f"{name}_rto_s", recovery.rto_s)
        checks.objective("replicas.delete-availability", objectives, f"{name}_availability",
                         seen.success_ratio, at_most=False, what=f"availability ({seen.describe()})", unit="")
        checks.objective("replicas.delete-outage", objectives, f"{name}_outage_s", seen.longest_outage_s,
                         what="longest outage")


@pytest.mark.parametrize("how_many", list(HOW_MANY))
@pytest.mark.plan(faults=("kill the container of {how_many} of Deployment web's pods in place",),
                  nodes=("the nodes of the chosen pods (a container killed through their runtime)",),
                  capabilities=(plan.CONTAINER_KILL,))
def test_containers_killed_in_place_restart_in_the_same_pods(
        replicated, how_many, faults, availability, objectives, phase):
    before = replicated.pod_uids()
    probe = availability(replicated.service)

    killed = faults.kill_containers(replicated, **HOW_MANY[how_many])
    recovery = replicated.wait_restarted(after=killed)
    seen = probe.stop()

    with phase("verify"):
        checks.identity("replicas.same-pods", replicated.pod_uids() == before,
                        "pods were replaced, not restarted in place")
        restarts = {p.uid: p.restarts for p in replicated.pods()}
        moved = {u: restarts[u] for u, _ in killed.restarts_before}
        checks.injected("replicas.restarted-once", moved == {u: n + 1 for u, n in killed.restarts_before},
                        f"each killed container must restart exactly once: restart counts {dict(killed.restarts_before)}"
                        f" before, {moved} after")
        name = f"container_kill_{how_many}"
        checks.objective("replicas.kill-rto", objectives, f"{name}_rto_s", recovery.rto_s)
        checks.objective("replicas.kill-availability", objectives, f"{name}_availability",
                         seen.success_ratio, at_most=False, what=f"availability ({seen.describe()})", unit="")
        checks.objective("replicas.kill-outage", objectives, f"{name}_outage_s", seen.longest_outage_s,
                         what="longest outage")
