"""The plumbing: a Deployment of three, one pod killed, the replacement is a new pod.
Each check is a row of docs/checks.md."""

import pytest

from kubedrill import checks


@pytest.mark.smoke
@pytest.mark.plan(faults=("delete one pod of Deployment web through the API",))
def test_deployment_replaces_a_killed_pod(web, faults, objectives, phase):
    before = web.pod_uids()

    killed = faults.kill_pods(web, count=1)
    bound = {p.uid for p in web.pods() if not p.terminating}
    checks.injected("plumbing.killed-pod-gone", not killed.uids & bound,
                    "a killed pod is still there, not even terminating")
    recovery = web.wait_all_ready(after=killed)

    with phase("verify"):
        checks.injected("plumbing.victim-was-ours", killed.uids and killed.uids <= before,
                        f"the killed pod(s) {sorted(killed.uids)} were not pods of {web.name}")
        checks.recovered("plumbing.one-replacement", len(web.pod_uids() - before) == 1,
                         "expected exactly one replacement pod (a new UID)")
        checks.objective("plumbing.rto", objectives, "pod_kill_rto_s", recovery.rto_s)
