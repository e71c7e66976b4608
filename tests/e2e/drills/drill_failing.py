"""A drill used by the harness's own e2e tests: it taints a node, then fails its verification,
so --keep-on-failure can be seen keeping the namespace while still undoing the fault."""


def test_fails_after_a_fault(web, faults, phase):
    faults.taint_node(effect="NoSchedule")
    with phase("verify"):
        assert web.ready_count() == 4, "deliberately failing: three replicas, not four"
