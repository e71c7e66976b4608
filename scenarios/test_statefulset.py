"""StatefulSet (the seed's database shape: OrderedReady, headless Service, volumeClaimTemplates).

Before the fault every pod holds oracle records (sequence-numbered, self-checksummed, stamped
with the pod's name, synced before they are acknowledged). All pods killed: they come back in
order (ordinal n is created only once n-1 is Ready), each on its own claim, with all their data.
Each check is a row of docs/checks.md. One pod deleted, back under its name on its claim with
its records, is the experiment scenarios/experiments/statefulset-pod-deleted.yaml.
"""

import pytest

from kubedrill import checks
from kubedrill.k8s.statefulsets import ordinal


@pytest.mark.plan(faults=("delete every pod of StatefulSet db through the API",))
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
