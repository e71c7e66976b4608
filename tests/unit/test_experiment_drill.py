"""Pure logic of drills on a team's own workloads: which pods are a workload's and when all are
back, what counts as the method disturbing them, secrets taken out, manifests labelled and read,
--var parsed, experiment files told from manifests."""

from __future__ import annotations

import pytest

from fixtures import experiments, options
from kubedrill.ctk import drill, recover, target
from kubedrill.ctk.extension import Extension, Workload
from kubedrill.errors import UsageError
from kubedrill.k8s import manifests, pods


def pod(name, uid, ready=True, labels=None, owner_uid="rs1", restarts=0, deleting=False):
    return {"metadata": {"name": name, "uid": uid, "namespace": "ns", "labels": labels or {"app": "web"},
                         "ownerReferences": [{"controller": True, "uid": owner_uid, "kind": "ReplicaSet",
                                              "name": "web-1"}],
                         **({"deletionTimestamp": "2026-11-30T00:00:00Z"} if deleting else {})},
            "spec": {"nodeName": "n1"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [{"restartCount": restarts}]}}


class Owned:
    def __init__(self, uids):
        self.uids = uids

    def owns(self, uid):
        return uid in self.uids


def watched(want=2, before=("a", "b")):
    return recover.Watched(Workload("Deployment", "web"), want, owners=Owned({"rs1"}),
                           before={u: 0 for u in before})


def test_a_selector_is_key_value_pairs_only():
    assert recover.parse_selector("app=web, tier = front") == {"app": "web", "tier": "front"}
    for bad in ("app", "app!=web", "=web"):
        with pytest.raises(UsageError):
            recover.parse_selector(bad)


def test_all_back_needs_the_wanted_pods_ready_and_none_the_method_deleted():
    w = watched()
    check = recover.predicate([w], frozenset({"a"}), clock=lambda: 5.0)
    assert not check([pod("web-a", "a"), pod("web-b", "b")]).done          # the killed pod still serves
    assert not check([pod("web-b", "b"), pod("web-c", "c", ready=False)]).done
    got = check([pod("web-b", "b"), pod("web-c", "c")])
    assert got.done and got.summary == "Deployment web: 2/2 Ready" and w.ok_since == 5.0


def test_a_partial_recovery_names_what_is_not_back_first():
    web, db = watched(), recover.Watched(Workload("StatefulSet", "db"), 1, owners=Owned({"db"}))
    check = recover.predicate([web, db], frozenset(), clock=lambda: 1.0)
    got = check([pod("web-a", "a"), pod("web-b", "b"), pod("db-0", "d", ready=False, owner_uid="db")])
    assert not got.done
    assert got.summary == "StatefulSet db: 0/1 Ready, not back; Deployment web: 2/2 Ready"


def test_a_pod_that_only_matches_is_not_the_workloads():
    w = watched(want=1, before=())
    check = recover.predicate([w], frozenset())
    assert not check([pod("impostor", "x", owner_uid="someone-else")]).done


def test_the_method_is_seen_to_disturb_a_workload_by_a_deleted_restarted_or_unready_pod():
    w = watched()
    infos = lambda *objs: [pods.info(o) for o in objs]  # noqa: E731
    assert recover._disturbed([w], infos(pod("web-a", "a"), pod("web-b", "b"))) == []
    assert recover._disturbed([w], infos(pod("web-b", "b"))) == ["Deployment web: a pod deleted"]
    assert recover._disturbed([w], infos(pod("web-a", "a", restarts=1), pod("web-b", "b"))) == [
        "Deployment web: web-a restarted"]
    assert recover._disturbed([w], infos(pod("web-a", "a", ready=False), pod("web-b", "b"))) == [
        "Deployment web: web-a NotReady"]
    assert recover._disturbed([w], infos(pod("web-a", "a", deleting=True), pod("web-b", "b"))) == [
        "Deployment web: a pod deleted"]


def test_every_secret_is_taken_out_of_whatever_is_reported():
    journal = {"experiment": {"secrets": {"db": {"password": "hunter22"}}},
               "run": [{"output": "connected with hunter22", "log": ["pw=hunter22"]}], "n": 3}
    out = drill.redact(journal, {"hunter22", ""})
    assert out == {"experiment": {"secrets": {"db": {"password": "***"}}},
                   "run": [{"output": "connected with ***", "log": ["pw=***"]}], "n": 3}
    assert drill.redact(journal, set()) is journal


def test_the_workloads_waited_ready_are_those_to_recover_and_those_the_manifests_make():
    ext = Extension(target={"manifests": ["m"]}, recover=(Workload("Deployment", "web", rto_s=3),))
    docs = [("m/db.yaml", {"kind": "StatefulSet", "metadata": {"name": "db"}}),
            ("m/web.yaml", {"kind": "Deployment", "metadata": {"name": "web"}}),
            ("m/svc.yaml", {"kind": "Service", "metadata": {"name": "web"}})]
    assert drill.deployed(ext, docs) == (Workload("Deployment", "web", rto_s=3), Workload("StatefulSet", "db"))


def test_manifests_carry_the_run_labels_on_their_templates_too():
    doc = {"kind": "StatefulSet", "metadata": {"name": "db", "labels": {"app": "db"}},
           "spec": {"template": {"metadata": {"labels": {"app": "db"}}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}
    out = manifests.labelled(doc, {"run": "r1"})
    assert out["metadata"]["labels"] == {"app": "db", "run": "r1"}
    assert out["spec"]["template"]["metadata"]["labels"] == {"app": "db", "run": "r1"}
    assert out["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"] == {"run": "r1"}
    assert "run" not in doc["metadata"]["labels"]   # a copy


def test_manifests_are_read_from_files_and_directories_with_where_each_came_from(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text("kind: Service\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: b}\n")
    (tmp_path / "m" / "notes.txt").write_text("not a manifest")
    (tmp_path / "c.json").write_text('{"kind": "List", "items": [{"kind": "ConfigMap", "metadata": {"name": "c"}}]}')
    ext = Extension(target={"manifests": ["m", "c.json"]}, recover=(), where=str(tmp_path / "exp.yaml"))
    assert [(w, d["metadata"]["name"]) for w, d in target.documents(ext)] == [
        ("m/a.yaml[1]", "a"), ("m/a.yaml[2]", "b"), ("c.json[1].items[0]", "c")]
    (tmp_path / "bad.yaml").write_text("a: [")
    for bad, why in ((["nope"], "manifests nope: no such file or directory"),
                     (["m/notes.txt"], "m/notes.txt: document 1 is not a mapping"),
                     (["bad.yaml"], "bad.yaml: not YAML")):
        with pytest.raises(UsageError, match=why):
            target.documents(Extension(target={"manifests": bad}, recover=(), where=str(tmp_path / "e.yaml")))


def test_vars_are_parsed_as_chaos_run_takes_them():
    assert options.parse_vars(["a=1", "b:int=2", "c:float=0.5", "d:bool=true", "e=x=y"]) == [
        ("a", "1"), ("b", 2), ("c", 0.5), ("d", True), ("e", "x=y")]
    for bad in ("novalue", "=v", "n:int=x", "n:list=1"):
        with pytest.raises(UsageError, match="--var"):
            options.parse_vars([bad])


def test_an_experiment_file_is_one_mapping_with_a_method(tmp_path):
    cases = {"e.yaml": "title: t\nmethod: []\n", "m.yaml": "kind: Service\n---\nkind: Service\n",
             "k.yaml": "resources: [a.yaml]\n", "broken.yaml": "title: [", "e.json": '{"method": []}'}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    got = {name for name in cases if experiments.is_experiment(tmp_path / name)}
    assert got == {"e.yaml", "broken.yaml", "e.json"}   # a file that cannot be read: its item says why


def test_kubedrills_providers_act_only_inside_a_drill_and_in_its_namespace():
    from types import SimpleNamespace

    from chaoslib.exceptions import ActivityFailed

    from kubedrill.ctk import current
    with pytest.raises(ActivityFailed, match="only inside a kubedrill drill"):
        current.scope()
    scope = SimpleNamespace(namespace="kd-run-1")
    with current.bound(scope):
        assert current.scope() is scope and current.scope("kd-run-1") is scope
        with pytest.raises(ActivityFailed, match="not 'default'"):
            current.scope("default")
        with pytest.raises(RuntimeError):
            with current.bound(scope):
                pass
    with pytest.raises(ActivityFailed):
        current.scope()


def test_the_node_and_claim_actions_act_only_inside_a_drill_and_say_a_bad_how():
    from chaoslib.exceptions import ActivityFailed

    from kubedrill.ctk import actions
    with pytest.raises(ActivityFailed, match="how 'reboot' is not one of stop, drain"):
        actions.lose_node("Deployment", "web", how="reboot")
    for act in (lambda: actions.lose_node("Deployment", "web"), lambda: actions.delete_claim("data-db-0")):
        with pytest.raises(ActivityFailed, match="only inside a kubedrill drill"):
            act()


def test_the_pods_that_mount_a_claim_are_found_by_their_volumes():
    from types import SimpleNamespace

    def pod(name, claims):
        return {"metadata": {"name": name, "uid": name, "namespace": "ns"}, "status": {},
                "spec": {"volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
                         + [{"name": "tmp", "emptyDir": {}}]}}

    class Core:
        def list_namespaced_pod(self, namespace, _preload_content=False, **kw):
            import json
            items = [pod("db-0", ["data-db-0"]), pod("db-1", ["data-db-1"]), pod("reader", ["data-db-0", "x"])]
            return SimpleNamespace(data=json.dumps({"items": items, "metadata": {"resourceVersion": "1"}}))

    found = pods.mounting(SimpleNamespace(core=Core()), "ns", "data-db-0")
    assert sorted(p.name for p in found) == ["db-0", "reader"]
