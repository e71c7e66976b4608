"""A drill used by the harness's own e2e tests: it leaves a labelled ConfigMap outside its
namespace without registering cleanup, which the leak check at session end must report."""

from kubedrill import guard


def test_leaves_a_labelled_object_behind(drill_cluster, drill_run, namespace):
    drill_cluster.clients.core.create_namespaced_config_map("default", {
        "metadata": {"name": f"kubedrill-leak-{drill_run.run_id}", "labels": guard.labels(drill_run.run_id)}})
