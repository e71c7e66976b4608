"""A drill used by the harness's own e2e tests: it stops a worker's node container, so a
crashed run leaves a stopped node for the journal replay to start again."""


def test_a_stopped_node_is_journalled(faults, phase, drill_cluster):
    stopped = faults.stop_node()
    with phase("verify"):
        assert stopped.container.startswith(drill_cluster.kind_cluster)
