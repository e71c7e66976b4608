"""PersistentVolumes: what a reclaim policy promises when the claim is deleted.

Retain: the PV goes Released (not away); clearing its claimRef and binding a new claim to it by
spec.volumeName gives back the same volume (volumeHandle unchanged) with every acknowledged
record. Delete: the PV and the data on its node are gone, as promised.
"""

from kubedrill.faults import volumes


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
        assert released.name == before.name and released.reclaim_policy == "Retain"
        assert (after.name, after.volume_handle) == (before.name, before.volume_handle), (
            f"bound {after.name} ({after.volume_handle}), not the retained {before.name} ({before.volume_handle})")
        report = again.verify_records(acknowledged)    # DataLost: "data lost: records 1–N missing"
        records_checked(len(report.valid))
        assert recovery.rto_s <= objectives.pv_retain_rebind_rto_s, (
            f"RTO {recovery.rto_s:.2f}s exceeds the objective pv_retain_rebind_rto_s={objectives.pv_retain_rebind_rto_s:g}s")


def test_a_deleted_claim_takes_its_volume_and_data_with_it(
        data_volume, delete_class, record_count, objectives, phase, drill_cluster):
    vol = data_volume("scratch", delete_class)
    vol.write_records(record_count)
    pv, node = vol.pv(), vol.node()
    assert volumes.data_on_node(drill_cluster.clients, pv, node) is not False, "the volume's data is not where expected"

    deleted = vol.delete_claim()
    reclaimed = vol.wait_volume_deleted(after=deleted)

    with phase("verify"):
        assert pv.reclaim_policy == "Delete"
        assert volumes.data_on_node(drill_cluster.clients, pv, node) is not True, (
            f"PV {pv.name} is gone but its data is still on {node}")
        assert reclaimed.rto_s <= objectives.pv_delete_reclaim_s, (
            f"reclaim took {reclaimed.rto_s:.2f}s, objective pv_delete_reclaim_s={objectives.pv_delete_reclaim_s:g}s")
