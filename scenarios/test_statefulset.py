"""StatefulSet (the seed's database shape: OrderedReady, headless Service, volumeClaimTemplates).

Before each fault every pod holds oracle records (sequence-numbered, self-checksummed, stamped
with the pod's name, synced before they are acknowledged). A killed pod comes back with its name
and ordinal, a new UID, the same claim (UID unchanged) and every acknowledged record, once, its
own. All pods killed: they come back in order (ordinal n is created only once n-1 is Ready) with
all their data. Each check is a row of docs/checks.md.
"""

from kubedrill import checks
from kubedrill.k8s.statefulsets import ordinal


def test_a_killed_pod_comes_back_with_its_name_claim_and_data(
        statefulset, faults, record_count, records_checked, objectives, phase):
    written = [statefulset.write_records(pod, record_count) for pod in statefulset.pod_names()]
    identities, claims = statefulset.identities(), statefulset.claims()

    killed = faults.kill_pods(statefulset, count=1)
    bound = {p.uid for p in statefulset.pods() if not p.terminating}
    checks.injected("statefulset.killed-pod-gone", not killed.uids & bound,
                    "the killed pod is still there, not even terminating")
    recovery = statefulset.wait_all_ready(after=killed)

    with phase("verify"):
        (name,) = killed.pods
        now = statefulset.identities()
        checks.identity("statefulset.killed-pod-name-back", name in now,
                        f"{name} did not come back under its name: pods now {sorted(now)}")
        checks.identity("statefulset.ordinals-kept", set(now) == set(identities),
                        f"pod names (ordinals) changed: {sorted(identities)} before, {sorted(now)} after")
        after = statefulset.claims()
        checks.identity("statefulset.claims-kept", after == claims,
                        f"a pod came back with another claim (PVC UID changed): {claims} before, {after} after")
        # DataLost: records missing, stored twice, corrupt, or another pod's
        verified = [statefulset.verify_records(w) for w in written]
        records_checked(sum(v.records for v in verified))
        checks.objective("statefulset.pod-rto", objectives, "statefulset_pod_rto_s", recovery.rto_s)


def test_all_pods_killed_come_back_in_order_with_all_their_data(
        statefulset, faults, record_count, records_checked, objectives, phase):
    written = [statefulset.write_records(pod, record_count) for pod in statefulset.pod_names()]
    claims = statefulset.claims()

    killed = faults.kill_pods(statefulset, fraction=1.0)
    ordered = statefulset.wait_ordered_recovery(after=killed)

    with phase("verify"):
        expected = sorted(statefulset.pod_names(), key=ordinal)
        ready, created = dict(ordered.ready_after_s), dict(ordered.created_after_s)
        checks.identity("statefulset.ready-in-order", [n for n, _ in ordered.ready_after_s] == expected,
                        f"Ready out of order: {ordered.ready_after_s}")
        for prev, nxt in zip(expected, expected[1:]):
            checks.identity("statefulset.created-after-previous-ready", created[nxt] >= ready[prev],
                            f"{nxt} was created {created[nxt]:.2f}s after the fault, before {prev} was Ready "
                            f"({ready[prev]:.2f}s)")
        after = statefulset.claims()
        checks.identity("statefulset.all-claims-kept", after == claims,
                        f"a pod came back with another claim (PVC UID changed): {claims} before, {after} after")
        verified = [statefulset.verify_records(w) for w in written]
        records_checked(sum(v.records for v in verified))
        checks.objective("statefulset.all-rto", objectives, "statefulset_all_rto_s", ordered.recovery.rto_s)
