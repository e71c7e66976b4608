"""--storage-class: which classes, the snapshot class of each one's driver, the items per class,
what is not applicable on a class, and the classes side by side in the reports."""

from __future__ import annotations

import json
import textwrap

import pytest

from fixtures import storage_classes
from kubedrill.errors import NotApplicable, UsageError
from kubedrill.k8s import manifests
from kubedrill.k8s import storageclasses as sc
from kubedrill.observe.measure import Instant, Recovery, RestoreTime, Rpo, SnapshotReady, Timeline
from kubedrill.report import allure as report_allure
from kubedrill.report import measured
from kubedrill.report import results as report

pytest_plugins = ["pytester"]

HOSTPATH = "hostpath.csi.kubedrill.io"
CLASSES = (sc.StorageClassInfo("kubedrill-hostpath", HOSTPATH, "Delete", "WaitForFirstConsumer", True),
           sc.StorageClassInfo("kubedrill-hostpath-retain", HOSTPATH, "Retain", "WaitForFirstConsumer"),
           sc.StorageClassInfo("standard", "rancher.io/local-path", "Delete", "WaitForFirstConsumer"))
SNAPSHOT_CLASSES = (sc.SnapshotClassInfo("a-other", HOSTPATH), sc.SnapshotClassInfo("kubedrill-hostpath-snapclass", HOSTPATH,
                                                                                      default=True),
                    sc.SnapshotClassInfo("ebs", "ebs.csi.aws.com", default=True))


class Config:
    def __init__(self, *require: str):
        self.require = list(require)

    def getoption(self, name, default=None):
        assert name == "--require"
        return self.require


# --- which classes -------------------------------------------------------------------------------
def test_the_option_takes_names_comma_separated_repeated_or_all():
    assert sc.parse([]) == ()
    assert sc.parse(["standard,kubedrill-hostpath", "standard"]) == ("standard", "kubedrill-hostpath")
    assert sc.parse(["standard", " all "]) == ("all",)
    with pytest.raises(UsageError) as exc:
        sc.parse(["standard,"])
    assert "empty name" in str(exc.value) and "\n" not in str(exc.value)


def test_all_is_every_class_on_the_cluster_each_with_the_snapshot_class_of_its_driver():
    plans = sc.resolve(["all"], CLASSES, SNAPSHOT_CLASSES)
    assert [p.name for p in plans] == ["kubedrill-hostpath", "kubedrill-hostpath-retain", "standard"]
    # the default one of the driver's classes, not the first by name
    assert [p.snapshot_class for p in plans] == ["kubedrill-hostpath-snapclass", "kubedrill-hostpath-snapclass", None]
    assert plans[0].no_snapshots == ""
    assert plans[2].no_snapshots == ("StorageClass standard (provisioner rancher.io/local-path) has no "
                                     "VolumeSnapshotClass of its driver")


def test_without_a_default_the_first_snapshot_class_of_the_driver_by_name():
    only = (sc.SnapshotClassInfo("zz", HOSTPATH), sc.SnapshotClassInfo("aa", HOSTPATH))
    assert sc.snapshot_class_for(CLASSES[0], only).name == "aa"
    assert sc.snapshot_class_for(CLASSES[2], only) is None
    assert sc.resolve(["kubedrill-hostpath"], CLASSES, ())[0].snapshot_class is None   # no snapshot CRDs


def test_names_keep_their_order_and_an_unknown_one_is_one_line_naming_the_classes_there_are():
    assert [p.name for p in sc.resolve(["standard", "kubedrill-hostpath"], CLASSES, SNAPSHOT_CLASSES)] == \
        ["standard", "kubedrill-hostpath"]
    with pytest.raises(UsageError) as exc:
        sc.resolve(["standrad", "kubedrill-hostpath"], CLASSES, SNAPSHOT_CLASSES)
    assert str(exc.value) == ("--storage-class: no StorageClass standrad on this cluster; it has: kubedrill-hostpath, "
                              "kubedrill-hostpath-retain, standard (or give all)")
    with pytest.raises(UsageError, match="the cluster has no StorageClass"):
        sc.resolve(["all"], (), ())


def test_classes_are_read_from_the_cluster_objects():
    got = sc.storage_class_info({"metadata": {"name": "fast", "annotations": {sc.DEFAULT_STORAGE_CLASS: "true"}},
                                 "provisioner": "p", "reclaimPolicy": "Retain"})
    assert got == sc.StorageClassInfo("fast", "p", "Retain", "Immediate", True)
    snap = sc.snapshot_class_info({"metadata": {"name": "s"}, "driver": "p", "deletionPolicy": "Retain"})
    assert snap == sc.SnapshotClassInfo("s", "p", "Retain", False)


def test_the_reclaim_policy_a_scenario_needs_is_named_with_the_class():
    retain, delete = sc.ClassPlan(CLASSES[1], "x"), sc.ClassPlan(CLASSES[0], "x")
    assert retain.reclaims("Retain") == "" and delete.reclaims("Delete") == ""
    assert delete.reclaims("Retain") == ("StorageClass kubedrill-hostpath reclaims its volumes with Delete: this "
                                         "scenario needs a class with reclaimPolicy Retain")


# --- not applicable on a class -------------------------------------------------------------------
def test_a_class_without_snapshots_skips_its_snapshot_scenarios_or_fails_them_when_required():
    standard = sc.ClassPlan(CLASSES[2], None)
    storage_classes.needs_snapshots(Config(), sc.ClassPlan(CLASSES[0], "snap"))   # has one: nothing happens
    storage_classes.needs_snapshots(Config(), None)                                # no --storage-class
    with pytest.raises(pytest.skip.Exception) as skipped:
        storage_classes.needs_snapshots(Config(), standard)
    assert "StorageClass standard (provisioner rancher.io/local-path)" in str(skipped.value)
    with pytest.raises(NotApplicable) as failed:
        storage_classes.needs_snapshots(Config("snapshot"), standard)
    assert str(failed.value).startswith("not applicable: snapshot not available: StorageClass standard")


def test_a_scenario_on_a_class_of_the_other_reclaim_policy_is_not_applicable():
    storage_classes.needs_reclaim_policy(sc.ClassPlan(CLASSES[1], None), "Retain")
    storage_classes.needs_reclaim_policy(None, "Retain")
    with pytest.raises(pytest.skip.Exception) as skipped:
        storage_classes.needs_reclaim_policy(sc.ClassPlan(CLASSES[2], None), "Retain")
    assert str(skipped.value).startswith("not applicable: StorageClass standard reclaims its volumes with Delete")


# --- the items per class -------------------------------------------------------------------------
def test_each_storage_scenario_and_experiment_is_one_item_per_class(pytester, monkeypatch):
    """Collection with two classes: the scenarios that use the storage_class fixture (directly or
    through another fixture), and the experiments whose manifests make claims, get [sc=NAME]
    (each its own node id); the others run once."""
    from kubedrill import client as kclient

    monkeypatch.setattr(kclient, "load", lambda *a, **k: object())
    monkeypatch.setattr(sc, "plan", lambda clients, requested: tuple(
        sc.ClassPlan(c, None) for c in CLASSES if c.name in ("standard", "kubedrill-hostpath")))
    pytester.makeconftest("""
        import pytest
        pytest_plugins = ["fixtures.options", "fixtures.cluster", "fixtures.storage_classes", "fixtures.experiments"]

        @pytest.fixture
        def retain_class(storage_class):
            return storage_class
    """)
    pytester.makepyfile(test_volumes="""
        def test_on_a_class(retain_class):
            pass

        def test_not_on_a_class():
            pass
    """)
    exp = pytester.mkdir("exp")
    (exp / "manifests").mkdir()
    (exp / "manifests" / "db.yaml").write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n"
        "spec: {volumeClaimTemplates: [{metadata: {name: data}, spec: {}}]}\n")
    (exp / "manifests" / "web.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
    for name, manifest in (("kill-db", "db"), ("kill-web", "web")):
        (exp / f"{name}.yaml").write_text(
            "title: t\nmethod: []\nextensions:\n- name: kubedrill\n"
            f"  target: {{manifests: [manifests/{manifest}.yaml]}}\n  recover: [{{kind: StatefulSet, name: db}}]\n")
    args = ("--collect-only", "-q", "-p", "no:cacheprovider", "--experiments", "exp", "test_volumes.py")
    result = pytester.runpytest(*args, "--storage-class", "all")
    lines = [line for line in result.outlines if "::" in line]
    assert lines == ["test_volumes.py::test_on_a_class[sc=kubedrill-hostpath]",
                     "test_volumes.py::test_on_a_class[sc=standard]",
                     "test_volumes.py::test_not_on_a_class",
                     "exp/kill-db.yaml::kill-db[sc=kubedrill-hostpath]",
                     "exp/kill-db.yaml::kill-db[sc=standard]",
                     "exp/kill-web.yaml::kill-web"], result.outlines
    without = pytester.runpytest(*args)
    assert [line for line in without.outlines if "::" in line] == [
        "test_volumes.py::test_on_a_class", "test_volumes.py::test_not_on_a_class", "exp/kill-db.yaml::kill-db",
        "exp/kill-web.yaml::kill-web"], without.outlines


def test_an_unknown_class_stops_the_run_before_any_scenario_with_one_line(pytester, monkeypatch):
    from kubedrill import client as kclient

    monkeypatch.setattr(kclient, "load", lambda *a, **k: object())
    monkeypatch.setattr(sc, "list_storage_classes", lambda clients: CLASSES)
    monkeypatch.setattr(sc, "list_snapshot_classes", lambda clients: SNAPSHOT_CLASSES)
    pytester.makeconftest('pytest_plugins = ["fixtures.options", "fixtures.storage_classes"]')
    pytester.makepyfile(test_x="def test_x(storage_class):\n    raise AssertionError('ran')\n")
    result = pytester.runpytest("--storage-class", "fast", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert ("ERROR: kubedrill: --storage-class: no StorageClass fast on this cluster; it has: kubedrill-hostpath, "
            "kubedrill-hostpath-retain, standard (or give all)") in result.errlines
    assert "ran" not in result.stdout.str()


def test_manifests_with_claims_are_put_on_the_class():
    docs = [("a.yaml", {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                        "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"},
                                                           "spec": {"storageClassName": "old"}}]}}),
            ("a.yaml", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {}}),
            ("a.yaml", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}})]
    assert manifests.has_claims(docs) and not manifests.has_claims(docs[2:])
    on = manifests.with_storage_class(docs, "standard")
    assert on[0][1]["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "standard"
    assert on[1][1]["spec"]["storageClassName"] == "standard"
    assert on[2][1] == docs[2][1]
    assert docs[0][1]["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "old"   # copies


# --- the classes side by side ------------------------------------------------------------------------
def _rows() -> list[report.ScenarioResult]:
    restore = "scenarios/test_snapshot_restore.py::test_files_are_restored"
    return [
        measured.scenario_result(f"{restore}[sc=kubedrill-hostpath]", "passed", "", [
            SnapshotReady("files-snap-1", 1.2345), Recovery("files restored", 9.5, Timeline(Instant.now())),
            RestoreTime("data-files-0", 6.25), Rpo(0, 0.0)], 7, storage_class="kubedrill-hostpath"),
        report.ScenarioResult(f"{restore}[sc=standard]", "not applicable",
                              reason="snapshot not available: StorageClass standard (provisioner "
                                     "rancher.io/local-path) has no VolumeSnapshotClass of its driver",
                              storage_class="standard"),
        report.ScenarioResult("scenarios/test_x.py::test_y[Deployment-sc=standard-one]", "passed", 3.0,
                              storage_class="standard"),
        report.ScenarioResult("scenarios/test_replicas.py::test_z", "passed", 1.0),
    ]


def test_a_row_has_its_class_snapshot_ready_time_and_restore_time():
    row = _rows()[0]
    assert (row.storage_class, row.snapshot_ready_s, row.restore_s, row.rto_s) == \
        ("kubedrill-hostpath", 1.234, 6.25, 9.5)
    assert _rows()[3].storage_class == "" and _rows()[3].snapshot_ready_s is None


def test_the_comparison_puts_each_scenario_s_classes_side_by_side():
    classes = {"kubedrill-hostpath": {"provisioner": HOSTPATH, "snapshot_class": "snap"},
               "standard": {"provisioner": "rancher.io/local-path", "snapshot_class": None}}
    compared = report.comparison(_rows(), classes)
    assert list(compared["classes"]) == ["kubedrill-hostpath", "standard"]
    assert [s["scenario"] for s in compared["scenarios"]] == [
        "scenarios/test_snapshot_restore.py::test_files_are_restored", "scenarios/test_x.py::test_y[Deployment-one]"]
    files = compared["scenarios"][0]["classes"]
    assert files["kubedrill-hostpath"] == {"verdict": "passed", "rto_s": 9.5, "rpo_records": 0, "rpo_s": 0.0,
                                           "snapshot_ready_s": 1.234, "restore_s": 6.25, "reason": ""}
    assert files["standard"]["verdict"] == "not applicable" and "StorageClass standard" in files["standard"]["reason"]
    assert report.comparison(_rows()[3:]) is None


def test_the_comparison_table_has_a_row_per_class_under_each_scenario():
    lines = report.format_comparison(report.comparison(_rows()))
    assert lines[0] == "StorageClasses side by side"
    assert lines[1].split() == ["scenario", "storage", "class", "verdict", "RTO", "RPO", "snapshot", "ready", "restore"]
    body = lines[3:]
    assert body[0].split() == ["scenarios/test_snapshot_restore.py::test_files_are_restored", "kubedrill-hostpath",
                               "passed", "9.50s", "0", "rec", "/", "0.0s", "1.23s", "6.25s"]
    assert body[1].split()[:3] == ["standard", "not", "applicable"] and body[1].split()[-4:] == ["-"] * 4
    assert report.format_comparison(None) == []


def test_results_json_carries_the_comparison_and_validates_and_a_broken_one_does_not(tmp_path):
    pytest.importorskip("jsonschema")
    classes = {"kubedrill-hostpath": sc.ClassPlan(CLASSES[0], "snap").as_dict(),
               "standard": sc.ClassPlan(CLASSES[2], None).as_dict()}
    path = tmp_path / "results.json"
    report.write_results(path, "0101t000000-abcd", 7, "kind-kubedrill", _rows(), (), {}, classes)
    doc = json.loads(path.read_text())
    assert report.validate(doc) == []
    assert doc["storage_classes"]["classes"]["standard"]["snapshot_class"] is None
    assert doc["scenarios"][0]["storage_class"] == "kubedrill-hostpath"
    doc["storage_classes"]["scenarios"][0]["classes"]["standard"]["restore_s"] = -1
    assert any("storage_classes/scenarios/0/classes/standard/restore_s" in p for p in report.validate(doc))
    del doc["storage_classes"]["scenarios"][0]["classes"]["standard"]["restore_s"]
    assert any("restore_s" in p for p in report.validate(doc))
    plain = report.results_document("0101t000000-abcd", 7, "kind-kubedrill", _rows()[3:])
    assert "storage_classes" not in plain and report.validate(plain) == []


def test_the_summary_shows_the_comparison_only_when_classes_ran(tmp_path):
    from kubedrill.report import terminal

    with_classes = [line.text for line in terminal.summary(_rows(), "r", 1, (), tmp_path)]
    assert "StorageClasses side by side" in with_classes
    assert "StorageClasses side by side" not in [line.text for line in terminal.summary(_rows()[3:], "r", 1, (),
                                                                                         tmp_path)]


def test_the_allure_results_get_the_comparison_as_a_result_with_its_table(tmp_path):
    path = report_allure.write_comparison(tmp_path, report.comparison(_rows()))
    result = json.loads(path.read_text())
    assert result["name"] == "StorageClasses side by side" and result["status"] == "passed"
    table = next(a for a in result["attachments"] if a["type"] == "text/plain")
    assert "kubedrill-hostpath" in (tmp_path / table["source"]).read_text()
    assert report_allure.write_comparison(tmp_path / "none", None) is None
    assert not (tmp_path / "none").exists()


def test_class_free_ids_match_across_classes():
    assert report.class_free_id("a.py::t[sc=x]", "x") == "a.py::t"
    assert report.class_free_id("a.py::t[p-sc=x]", "x") == "a.py::t[p]"
    assert report.class_free_id("a.py::t[sc=x-p]", "x") == "a.py::t[p]"
    assert report.class_free_id("e.yaml::e[sc=x]", "y") == "e.yaml::e[sc=x]"


@pytest.fixture
def experiment_dir(tmp_path):
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "db.yaml").write_text(textwrap.dedent("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          volumeClaimTemplates:
          - metadata: {name: data}
            spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 16Mi}}}
    """))
    return tmp_path


def test_an_experiment_runs_per_class_when_its_manifests_make_claims(experiment_dir):
    from fixtures import experiments

    doc = {"method": [], "extensions": [{"name": "kubedrill", "target": {"manifests": ["manifests/db.yaml"]},
                                         "recover": [{"kind": "StatefulSet", "name": "db"}]}]}
    path = experiment_dir / "kill-db.yaml"
    assert experiments._has_claims(doc, path)
    (experiment_dir / "manifests" / "db.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: db}\n")
    assert not experiments._has_claims(doc, path)
    assert not experiments._has_claims({"method": []}, path)   # no kubedrill extension: runs as written
    snapshotting = {"method": [{"type": "action", "name": "snap", "provider": {
        "type": "python", "module": "kubedrill.ctk.actions", "func": "snapshot_claims"}}]}
    assert experiments._snapshots(snapshotting) and not experiments._snapshots(doc)


def test_on_a_class_that_retains_only_the_volumes_provisioned_for_the_namespace_s_claims_are_switched(monkeypatch):
    from kubedrill.k8s import claims

    def pv(name, ns, uid, policy, phase="Bound"):
        return {"metadata": {"name": name}, "status": {"phase": phase},
                "spec": {"persistentVolumeReclaimPolicy": policy, "claimRef": {"namespace": ns, "uid": uid}}}

    pvs = [pv("pvc-u1", "ns", "u1", "Retain"), pv("pvc-u2", "ns", "u2", "Retain", "Released"),
           pv("premade", "ns", "u3", "Retain"), pv("pvc-u4", "ns", "u4", "Delete"), pv("pvc-u5", "other", "u5", "Retain")]

    class Api:
        def sanitize_for_serialization(self, obj):
            return obj

    class Core:
        def list_persistent_volume(self):
            return {"items": pvs}

    class Clients:
        api, core = Api(), Core()

    switched = []
    monkeypatch.setattr(claims, "set_reclaim_policy",
                        lambda clients, name, policy: switched.append((name, policy)) or True)
    assert claims.reclaim_with_delete(Clients(), "ns") == ("pvc-u1", "pvc-u2")
    assert switched == [("pvc-u1", "Delete"), ("pvc-u2", "Delete")]
    switched.clear()
    assert claims.reclaim_with_delete(Clients(), "ns", {"u2"}) == ("pvc-u2",)
