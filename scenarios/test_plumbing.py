"""The plumbing: a Deployment of three, one pod killed, the replacement is a new pod."""

import pytest


@pytest.mark.smoke
def test_deployment_replaces_a_killed_pod(web, faults, objectives, phase):
    before = web.pod_uids()

    killed = faults.kill_pods(web, count=1)
    recovery = web.wait_all_ready(after=killed)

    with phase("verify"):
        assert killed.uids <= before
        assert not killed.uids & web.pod_uids(), "a killed pod is still there"
        assert len(web.pod_uids() - before) == 1, "expected exactly one replacement pod (a new UID)"
        assert web.ready_count() == 3
        assert recovery.rto_s <= objectives.pod_kill_rto_s, (
            f"RTO {recovery.rto_s:.2f}s exceeds the objective {objectives.pod_kill_rto_s}s")
