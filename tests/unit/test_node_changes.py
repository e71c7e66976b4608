"""What kubedrill changes on a node is planned from the node as it is: a cordon or a taint that is
already there (an operator's) is not kubedrill's, so it is neither made, journalled nor undone.
Plain node objects, as the API returns them; no cluster."""

from kubedrill.k8s import nodes
from kubedrill.k8s.nodes import OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE

OPERATORS_TAINT = {"key": OUT_OF_SERVICE, "value": OUT_OF_SERVICE_VALUE, "effect": "NoExecute",
                   "timeAdded": "2026-01-01T00:00:00Z"}
OTHER_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def node(unschedulable=None, taints=(), rv="41"):
    spec = {"podCIDR": "10.244.1.0/24"}
    if unschedulable is not None:
        spec["unschedulable"] = unschedulable
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    return {"metadata": {"name": "kubedrill-worker", "resourceVersion": rv}, "spec": spec}


def test_a_schedulable_node_is_cordoned_at_the_version_it_was_seen():
    assert nodes.cordon_plan(node()) == {"metadata": {"resourceVersion": "41"}, "spec": {"unschedulable": True}}
    assert nodes.cordon_plan(node(unschedulable=False, rv="7"))["metadata"] == {"resourceVersion": "7"}


def test_a_node_cordoned_already_is_not_kubedrills_to_cordon_or_uncordon():
    """A drain of a node an operator cordoned: no cordon made, so none journalled or deferred."""
    assert nodes.cordon_plan(node(unschedulable=True)) is None


def test_uncordon_undoes_a_cordon_and_nothing_else():
    assert nodes.uncordon_plan(node(unschedulable=True)) == {"metadata": {"resourceVersion": "41"},
                                                              "spec": {"unschedulable": None}}
    assert nodes.uncordon_plan(node()) is None


def test_an_operators_identical_out_of_service_taint_is_left_alone():
    plan = nodes.add_taint_plan(OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
    assert plan(node(taints=[OPERATORS_TAINT])) is None
    # same key and effect, another value: still the operator's taint, still not kubedrill's to add
    assert plan(node(taints=[dict(OPERATORS_TAINT, value="maintenance")])) is None


def test_a_taint_is_added_beside_the_taints_already_there():
    plan = nodes.add_taint_plan(OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
    patch = plan(node(taints=[OTHER_TAINT]))
    assert patch["metadata"] == {"resourceVersion": "41"}
    assert patch["spec"]["taints"] == [OTHER_TAINT, {"key": OUT_OF_SERVICE, "value": OUT_OF_SERVICE_VALUE,
                                                     "effect": "NoExecute"}]
    # the same key with another effect is another taint
    other_effect = plan(node(taints=[dict(OPERATORS_TAINT, effect="NoSchedule")]))
    assert len(other_effect["spec"]["taints"]) == 2


def test_removing_a_taint_keeps_every_other_one():
    plan = nodes.remove_taint_plan(OUT_OF_SERVICE, OUT_OF_SERVICE_VALUE, "NoExecute")
    assert plan(node(taints=[OTHER_TAINT, OPERATORS_TAINT]))["spec"]["taints"] == [OTHER_TAINT]
    assert plan(node(taints=[OPERATORS_TAINT]))["spec"]["taints"] is None
    assert plan(node(taints=[OTHER_TAINT])) is None
    assert plan(node()) is None


def test_kubedrills_own_taint_is_removed_only_with_its_run_id():
    plan = nodes.remove_taint_plan("kubedrill.io/fault", "r1", "NoSchedule")
    other_run = {"key": "kubedrill.io/fault", "value": "r2", "effect": "NoSchedule"}
    assert plan(node(taints=[other_run])) is None
    assert plan(node(taints=[other_run, dict(other_run, value="r1")]))["spec"]["taints"] == [other_run]
