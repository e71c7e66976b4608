"""StatefulSet (the seed's database shape: OrderedReady, headless Service, volumeClaimTemplates).

Before each fault every pod holds oracle records (sequence-numbered, self-checksummed, synced
before they are acknowledged). A killed pod comes back with its name and ordinal, a new UID, the
same claim (UID unchanged) and every acknowledged record. All pods killed: they come back in
order (ordinal n is created only once n-1 is Ready) with all their data.
"""

from kubedrill.k8s.statefulsets import ordinal


def test_a_killed_pod_comes_back_with_its_name_claim_and_data(
        statefulset, faults, record_count, records_checked, objectives, phase):
    written = [statefulset.write_records(pod, record_count) for pod in statefulset.pod_names()]
    identities, claims = statefulset.identities(), statefulset.claims()

    killed = faults.kill_pods(statefulset, count=1)
    recovery = statefulset.wait_all_ready(after=killed)

    with phase("verify"):
        (name,) = killed.pods
        now = statefulset.identities()
        assert name in now and now[name] != identities[name], f"{name} did not come back as a new pod of the same name"
        assert set(now) == set(identities), "pod names (ordinals) changed"
        assert statefulset.claims() == claims, "a pod came back with another claim (PVC UID changed)"
        verified = [statefulset.verify_records(w) for w in written]   # DataLost names what is missing
        records_checked(sum(v.records for v in verified))
        assert recovery.rto_s <= objectives.statefulset_pod_rto_s, (
            f"RTO {recovery.rto_s:.2f}s exceeds the objective statefulset_pod_rto_s={objectives.statefulset_pod_rto_s:g}s")


def test_all_pods_killed_come_back_in_order_with_all_their_data(
        statefulset, faults, record_count, records_checked, objectives, phase):
    written = [statefulset.write_records(pod, record_count) for pod in statefulset.pod_names()]
    claims = statefulset.claims()

    killed = faults.kill_pods(statefulset, fraction=1.0)
    ordered = statefulset.wait_ordered_recovery(after=killed)

    with phase("verify"):
        expected = sorted(statefulset.pod_names(), key=ordinal)
        ready, created = dict(ordered.ready_after_s), dict(ordered.created_after_s)
        assert [n for n, _ in ordered.ready_after_s] == expected, f"Ready out of order: {ordered.ready_after_s}"
        for prev, nxt in zip(expected, expected[1:]):
            assert created[nxt] >= ready[prev], (
                f"{nxt} was created {created[nxt]:.2f}s after the fault, before {prev} was Ready ({ready[prev]:.2f}s)")
        assert statefulset.claims() == claims, "a pod came back with another claim (PVC UID changed)"
        verified = [statefulset.verify_records(w) for w in written]
        records_checked(sum(v.records for v in verified))
        rto = ordered.recovery.rto_s
        assert rto <= objectives.statefulset_all_rto_s, (
            f"RTO {rto:.2f}s exceeds the objective statefulset_all_rto_s={objectives.statefulset_all_rto_s:g}s")
