"""A drill used by the harness's own e2e tests (not a user scenario): it adds a taint, kills
a pod and waits for recovery, so an interrupted run has a fault to undo at every point."""


def test_killed_pod_is_replaced_away_from_a_tainted_node(web, faults, phase):
    before = web.pod_uids()
    taint = faults.taint_node(effect="NoSchedule")
    killed = faults.kill_pods(web, count=1)
    web.wait_all_ready(after=killed)
    with phase("verify"):
        replacements = [p for p in web.pods() if p.uid not in before]
        assert len(replacements) == 1
        assert replacements[0].node != taint.node, "a NoSchedule-tainted node got the replacement"
