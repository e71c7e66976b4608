"""ReplicationController and Deployment (the seed's example: three replicas), broken two ways.

A pod deleted through the API is replaced by a new pod (a new UID); a container killed in place
is restarted in the same pod (same UID, restart count up by one, the kubelet's back-off counted
in the RTO). One, half (rounded up) and all of the pods. Throughout, a bounded prober inside the
cluster sends requests to the workload's Service: the success ratio and the longest outage are
reported and held to objectives, as is each case's RTO (kubedrill.config.Objectives,
pod_delete_<case>_* and container_kill_<case>_*; --objective NAME=VALUE overrides one).
"""

import pytest

HOW_MANY = {"one": {"count": 1}, "half": {"fraction": 0.5}, "all": {"fraction": 1.0}}


def meets(objectives, name: str, measured: float, at_most: bool = True) -> tuple[bool, str]:
    """(measured within objective ``name``, the failure message naming both)."""
    limit = getattr(objectives, name)
    ok = measured <= limit if at_most else measured >= limit
    return ok, f"{name}: measured {measured:.3f}, objective {'at most' if at_most else 'at least'} {limit:g}"


@pytest.mark.parametrize("how_many", list(HOW_MANY))
def test_pods_deleted_through_the_api_are_replaced_by_new_pods(
        replicated, how_many, faults, availability, objectives, phase):
    before = replicated.pod_uids()
    probe = availability(replicated.service)

    killed = faults.kill_pods(replicated, **HOW_MANY[how_many])
    recovery = replicated.wait_all_ready(after=killed)
    seen = probe.stop()

    with phase("verify"):
        now = replicated.pod_uids()
        assert not killed.uids & now, "a killed pod is still there"
        assert len(now - before) == killed.count, f"expected {killed.count} replacement pod(s) with new UIDs"
        assert len(now) == replicated.replicas == replicated.ready_count(), "the count is not restored"
        ok, why = meets(objectives, f"pod_delete_{how_many}_rto_s", recovery.rto_s)
        assert ok, f"RTO {recovery.rto_s:.2f}s exceeds the objective ({why})"
        ok, why = meets(objectives, f"pod_delete_{how_many}_availability", seen.success_ratio, at_most=False)
        assert ok, f"availability {seen.describe()} below the objective ({why})"
        ok, why = meets(objectives, f"pod_delete_{how_many}_outage_s", seen.longest_outage_s)
        assert ok, f"longest outage {seen.longest_outage_s:.2f}s exceeds the objective ({why})"


@pytest.mark.parametrize("how_many", list(HOW_MANY))
def test_containers_killed_in_place_restart_in_the_same_pods(
        replicated, how_many, faults, availability, objectives, phase):
    before = replicated.pod_uids()
    probe = availability(replicated.service)

    killed = faults.kill_containers(replicated, **HOW_MANY[how_many])
    recovery = replicated.wait_restarted(after=killed)
    seen = probe.stop()

    with phase("verify"):
        assert replicated.pod_uids() == before, "pods were replaced, not restarted in place"
        restarts = {p.uid: p.restarts for p in replicated.pods()}
        assert {u: restarts[u] for u, _ in killed.restarts_before} == {
            u: n + 1 for u, n in killed.restarts_before}, "each killed container restarted exactly once"
        assert replicated.ready_count() == replicated.replicas
        ok, why = meets(objectives, f"container_kill_{how_many}_rto_s", recovery.rto_s)
        assert ok, f"RTO {recovery.rto_s:.2f}s exceeds the objective ({why})"
        ok, why = meets(objectives, f"container_kill_{how_many}_availability", seen.success_ratio, at_most=False)
        assert ok, f"availability {seen.describe()} below the objective ({why})"
        ok, why = meets(objectives, f"container_kill_{how_many}_outage_s", seen.longest_outage_s)
        assert ok, f"longest outage {seen.longest_outage_s:.2f}s exceeds the objective ({why})"
