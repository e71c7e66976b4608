"""PersistentVolumes: what a reclaim policy promises when the claim is deleted.

Retain: the PV goes Released (not away); clearing its claimRef and binding a new claim to it by
spec.volumeName gives back the same volume (volumeHandle unchanged) with every acknowledged
record. Delete: the PV and the data on its node are gone, as promised: on the local kind cluster
the node is looked at (the volume's directory there before, gone after); elsewhere that look is
"not checkable", marked on the timeline (``--require data-on-node`` makes it "not applicable").
Each check is a row of docs/checks.md.
"""

import pytest

from kubedrill import checks
from kubedrill.faults import volumes


@pytest.mark.plan(objects=("PersistentVolumeClaim keep (class kubedrill-hostpath-retain), its Pod",
                           "a new PersistentVolumeClaim bound to the retained volume"),
                  faults=("delete claim keep and its pod (the volume is retained)",
                          "clear the released volume's claimRef and bind a new claim to it"),
                  exclusive="it rebinds a released PersistentVolume (runs alone until volumes are pre-bound)")
def test_a_retained_volume_binds_to_a_new_claim_with_its_data(
        data_volume, retain_class, record_count, records_checked, objectives, phase):
    vol = data_volume("keep", retain_class)
    acknowledged = vol.write_records(record_count)
    before = vol.pv()

    deleted = vol.delete_claim()
    released = vol.wait_released(after=deleted)      # VolumeLost ("PV deleted") if it went instead
    again, recovery = vol.rebind(after=deleted)

    with phase("verify"):
        after = again.pv()
        checks.identity("persistent_volumes.released-is-the-retained-pv",
                        released.name == before.name and released.reclaim_policy == "Retain",
                        f"released {released.name} ({released.reclaim_policy}), not the retained {before.name}")
        checks.identity("persistent_volumes.rebound-same-volume",
                        (after.name, after.volume_handle) == (before.name, before.volume_handle),
                        f"bound {after.name} ({after.volume_handle}), not the retained {before.name} "
                        f"({before.volume_handle})")
        report = again.verify_records(acknowledged)    # DataLost: "data lost: records 1–N missing"
        records_checked(len(report.valid))
        checks.objective("persistent_volumes.retain-rebind-rto", objectives, "pv_retain_rebind_rto_s",
                         recovery.rto_s)


@pytest.mark.plan(objects=("PersistentVolumeClaim scratch (class kubedrill-hostpath), its Pod",),
                  faults=("delete claim scratch and its pod (its volume deleted with it)",))
def test_a_deleted_claim_takes_its_volume_and_data_with_it(
        data_volume, delete_class, record_count, objectives, phase, volume_data_on_node):
    vol = data_volume("scratch", delete_class)
    vol.write_records(record_count)
    pv, node = vol.pv(), vol.node()
    volumes.require_present(volume_data_on_node(pv, node))   # else finding it gone proves nothing

    deleted = vol.delete_claim()
    checks.data("persistent_volumes.delete-class-deletes", pv.reclaim_policy == "Delete",
                f"PV {pv.name} of class {delete_class} has reclaim policy {pv.reclaim_policy}: "
                "its data outlives the claim")
    reclaimed = vol.wait_volume_deleted(after=deleted)

    with phase("verify"):
        left = volume_data_on_node(pv, node, reclaimed)
        checks.data("persistent_volumes.data-gone-from-node", not (left.checkable and left.present),
                    f"PV {pv.name} is gone but its data is still on {node} ({left.path})")
        checks.objective("persistent_volumes.delete-reclaim", objectives, "pv_delete_reclaim_s", reclaimed.rto_s,
                         what="reclaim time")
