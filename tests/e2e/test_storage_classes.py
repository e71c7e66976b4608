"""``--storage-class all`` on the kind cluster, as a user runs it (a pytest subprocess): each
selected storage scenario runs once per StorageClass (kubedrill's two CSI hostpath classes and
kind's ``standard``, whose provisioner has no VolumeSnapshotClass); what cannot mean anything on
a class is "not applicable" with the class named; results.json and the summary put the classes
side by side. A class the cluster does not have stops the run before any scenario, in one line.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import NO_ALLURE, unbroken_passed

pytestmark = pytest.mark.e2e

HOSTPATH, RETAIN, STANDARD = "kubedrill-hostpath", "kubedrill-hostpath-retain", "standard"
RESTORE = "scenarios/test_snapshot_restore.py::test_files_are_restored_from_a_consistent_snapshot_up_to_the_cut"
DELETE = "scenarios/test_persistent_volumes.py::test_a_deleted_claim_takes_its_volume_and_data_with_it"


def classes_on(clients) -> list[str]:
    return sorted(c.metadata.name for c in clients.storage.list_storage_class().items)


def provisioner(clients, name: str) -> str:
    return clients.storage.read_storage_class(name).provisioner


def test_all_runs_each_storage_scenario_per_class_and_compares_the_classes(drill, clients):
    classes = classes_on(clients)
    assert {HOSTPATH, RETAIN, STANDARD} <= set(classes), classes
    d = drill("scenarios/test_snapshot_restore.py", "scenarios/test_persistent_volumes.py",
              "-k", "files_are_restored or deleted_claim", "--storage-class", "all", "--wait-for-lock", "600",
              NO_ALLURE)
    done = d.run_clean(clients)
    out = done.output
    # every selected scenario once per class on the cluster, and nothing else
    assert sorted(done.rows) == sorted(f"{s}[sc={c}]" for s in (RESTORE, DELETE) for c in classes), out[-6000:]
    # what standard does with a deleted claim's volume is that class's own (its host-path deleter:
    # reclaimed in 0.1 s in one run, 15 s in another; a volume kubedrill cannot look into): measured,
    # never kubedrill's to decide. The run's code is the worst class of its rows.
    on_standard = done.rows[f"{DELETE}[sc={STANDARD}]"]
    assert on_standard["storage_class"] == STANDARD and on_standard["verdict"] in (
        "passed", "objective missed", "not applicable"), on_standard
    worst = "objective missed" if on_standard["verdict"] == "objective missed" else "not applicable"
    assert done.verdict == {"objective missed": "1 objective missed\n", "not applicable": "14 not applicable\n"}[worst]
    assert done.rc == {"objective missed": 1, "not applicable": 14}[worst], out[-6000:]

    # the CSI hostpath classes restore from their driver's snapshot class; standard has none
    for c in (HOSTPATH, RETAIN):
        row = done.rows[f"{RESTORE}[sc={c}]"]
        assert unbroken_passed(row, out), row
        assert row["storage_class"] == c and row["snapshot_ready_s"] > 0 and 0 < row["restore_s"] <= row["rto_s"], row
        assert row["rpo"] is not None and row["rpo"]["records_lost"] >= 0, row   # measured from the restored data
    no_snap = done.rows[f"{RESTORE}[sc={STANDARD}]"]
    assert no_snap["verdict"] == "not applicable", no_snap
    assert (f"snapshot not available: StorageClass standard (provisioner {provisioner(clients, STANDARD)}) has no "
            "VolumeSnapshotClass of its driver") in no_snap["reason"], no_snap
    # the Delete scenario means nothing on a class that retains; on kubedrill's Delete class it passes
    assert unbroken_passed(done.rows[f"{DELETE}[sc={HOSTPATH}]"], out)
    kept = done.rows[f"{DELETE}[sc={RETAIN}]"]
    assert kept["verdict"] == "not applicable" and kept["reason"].startswith(
        "not applicable: StorageClass kubedrill-hostpath-retain reclaims its volumes with Retain"), kept

    # the comparison: in results.json (valid against its schema) and in the summary
    doc = json.loads((d.tmp / "reports" / "results.json").read_text())
    from kubedrill.report import results as report
    assert report.validate(doc) == []
    compared = doc["storage_classes"]
    assert list(compared["classes"]) == classes
    assert compared["classes"][STANDARD]["snapshot_class"] is None
    assert compared["classes"][HOSTPATH]["snapshot_class"] == "kubedrill-hostpath-snapclass"
    assert compared["classes"][RETAIN]["snapshot_class"] == "kubedrill-hostpath-snapclass"
    by_scenario = {s["scenario"]: s["classes"] for s in compared["scenarios"]}
    assert sorted(by_scenario) == sorted([RESTORE, DELETE])
    restore = by_scenario[RESTORE]
    assert sorted(restore) == classes
    assert restore[HOSTPATH]["snapshot_ready_s"] > 0 and restore[HOSTPATH]["restore_s"] > 0
    assert restore[STANDARD]["snapshot_ready_s"] is None and restore[STANDARD]["verdict"] == "not applicable"
    assert "StorageClasses side by side" in out
    table = out[out.index("StorageClasses side by side"):].splitlines()
    assert any(line.split()[:1] == [STANDARD] and "not applicable" in line for line in table), out[-4000:]


def test_a_class_the_cluster_does_not_have_stops_the_run_in_one_line(drill, clients):
    d = drill("scenarios/test_statefulset.py", "--storage-class", "kubedrill-hostpath,no-such-class", NO_ALLURE)
    rc = d.run(limit_s=120)
    assert rc == 4, d.output[-3000:]
    errors = [line for line in d.output.splitlines() if line.startswith("ERROR: kubedrill:")]
    assert errors == [f"ERROR: kubedrill: --storage-class: no StorageClass no-such-class on this cluster; it has: "
                      f"{', '.join(classes_on(clients))} (or give all)"], d.output[-3000:]
    assert not (d.tmp / "reports" / "results.json").exists()
