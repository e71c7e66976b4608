"""Which pods are a workload's: the controller ownerReference, followed up to the workload."""

import pytest

from kubedrill.k8s import owners, pods


def obj(uid, controller_uid="", kind="ReplicaSet", name="web-abc", controller=True):
    refs = [{"kind": kind, "name": name, "uid": controller_uid, "controller": controller}] if controller_uid else []
    return {"metadata": {"name": f"o-{uid}", "uid": uid, "ownerReferences": refs}}


def test_a_deployment_owns_the_replica_sets_it_controls_not_others():
    rss = [obj("rs1", "dep"), obj("rs2", "other-dep"), obj("rs3", "dep", controller=False), obj("rs4")]
    assert owners.controllers("Deployment", "dep", rss) == frozenset({"rs1"})


def test_a_statefulset_owns_its_own_pods_directly():
    assert owners.controllers("StatefulSet", "sts", [obj("rs1", "sts")]) == frozenset({"sts"})
    assert owners.controllers("ReplicationController", "rc") == frozenset({"rc"})


def test_a_workload_that_does_not_exist_owns_nothing():
    assert owners.controllers("Deployment", "", [obj("rs1", "")]) == frozenset()


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="CronJob"):
        owners.controllers("CronJob", "uid")


def test_pod_info_keeps_the_controllers_uid():
    p = pods.info(obj("p1", "rs1"))
    assert (p.owner, p.owner_uid) == ("ReplicaSet/web-abc", "rs1")
    assert pods.info(obj("p2")).owner_uid == ""


def ready_pod(uid, owner_uid):
    o = obj(uid, owner_uid)
    o["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    return o


def test_a_foreign_pod_that_matches_the_selector_is_not_counted_as_a_replica():
    items = [ready_pod("p1", "rs1"), ready_pod("p2", "rs1"), ready_pod("intruder", "")]
    assert pods.all_serving(3)(items).done            # without ownership, the intruder counts
    assert not pods.all_serving(3, owns={"rs1"}.__contains__)(items).done
    assert pods.all_serving(2, owns={"rs1"}.__contains__)(items).done


def test_owners_reads_again_only_for_a_controller_not_seen_before(monkeypatch):
    reads = []
    answers = iter([frozenset({"rs1"}), frozenset({"rs1", "rs2"})])
    monkeypatch.setattr(owners, "workload_controllers", lambda *a: (reads.append(a), next(answers))[1])
    o = owners.Owners(None, "ns", "Deployment", "web")
    assert o.owns("rs1") and o.owns("rs1") and len(reads) == 1
    assert o.owns("rs2") and len(reads) == 2           # a new ReplicaSet of the Deployment
    assert not o.owns("") and len(reads) == 2          # a pod without a controller: never read


def test_a_volume_is_the_claims_only_when_provisioned_for_it():
    from kubedrill.k8s import claims
    assert claims.provisioned_for("pvc-1234", "1234")
    assert not claims.provisioned_for("users-premade-pv", "1234")
    assert not claims.provisioned_for("pvc-", "")
    assert not claims.provisioned_for("pvc-9999", "1234")   # another claim's volume


def pv(name, phase="Available", cls="kubedrill-retain", claim_ref=None):
    return {"metadata": {"name": name}, "status": {"phase": phase},
            "spec": {"storageClassName": cls, **({"claimRef": claim_ref} if claim_ref else {})}}


def test_a_premade_available_volume_of_the_class_is_found_before_a_claim_is_made():
    from kubedrill.k8s import claims
    pvs = [pv("users-pv"), pv("bound", phase="Bound"), pv("other-class", cls="standard"),
           pv("prebound", claim_ref={"namespace": "team", "name": "theirs"}), pv("released", phase="Released")]
    assert claims.premade(pvs, "kubedrill-retain") == ("users-pv",)
    assert claims.premade(pvs, "standard") == ("other-class",)
