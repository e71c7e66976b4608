"""The restore of a database from a VolumeSnapshot after its volume was lost, as a step, and the
verification of what came back, as another.

``restore`` (the ``recover`` phase): scale to 0, remove the claim the StatefulSet controller
recreated, create the claim from the snapshot pinned to the snapshot's node, watch it be
provisioned (RestoreFailed with the ProvisioningFailed event at once when it cannot be), scale to
1, and the restored data answers the oracle's query: the records read back, as a client reads
them, and verified against the snapshot's cut (kubedrill.data.rpo). Restore RTO runs from the
loss to that answer: the data back, not the server up.

``verify`` (the ``verify`` phase) reports that verification (the RPO measured from the restored
data beside the RTO) and raises when the data is not what the cut promised: the restore never
knows how data is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import guard
from kubedrill.data import rpo
from kubedrill.data.writer import Ack
from kubedrill.errors import ExecFailed, RestoreFailed
from kubedrill.k8s import claims, events, pods
from kubedrill.observe.measure import Instant, Recovery, RestoreTime, Timeline
from kubedrill.wait import Check, wait_for
from kubedrill.workloads.database import Database, Step
from kubedrill.workloads.snapshot import SnapshotTaken


@dataclass(frozen=True)
class VolumeLoss:
    """The disaster the restore starts from: the workload's pod and claim deleted
    (kubedrill.faults.database.lose_volume)."""

    namespace: str
    workload: str
    pod: str
    pod_uid: str
    claim: str
    claim_uid: str
    volume: str
    at: Instant
    last_ack: Ack | None        # the last record acknowledged before the delete was sent

    @property
    def uids(self) -> frozenset[str]:
        return frozenset({self.pod_uid})

    def describe(self) -> str:
        return f"deleted pod {self.pod} and claim {self.claim} (volume {self.volume}) of {self.workload}"


@dataclass(frozen=True)
class Restored:
    snapshot: SnapshotTaken
    loss: VolumeLoss
    claim: str
    volume: str
    node: str
    pod: str
    recovery: Recovery           # RTO: from the loss to the data read back and verified
    steps: tuple[Step, ...]
    records: str                 # what the oracle's query read back
    where: str                   # where it read it (a table, a file; why nothing, when so)
    verification: rpo.Verification   # against the snapshot's cut (kubedrill.data.rpo.check raises)

    @property
    def rto_s(self) -> float:
        return self.recovery.rto_s


def restore(db: Database, snap: SnapshotTaken, after: VolumeLoss) -> Restored:
    """Restore the claim from ``snap`` and bring the workload back on it. RTO runs from the
    loss to the restored data answering the oracle's query (records read back and verified).
    RestoreFailed carries the ProvisioningFailed event when the claim cannot be provisioned from
    the snapshot, or the error of a workload Ready on the restored volume that does not answer."""
    s = db.scope
    origin = after.at
    with s.phase("recover"):
        steps = _clear(db, after, ())
        body = claims.claim_manifest(db.claim, {**guard.labels(s.run.run_id), **db.selector},
                                     snap.size or db.size, db.storage_class, snapshot=snap.name,
                                     node=snap.node or None)
        steps, created = db.step(steps, "restore: claim from the VolumeSnapshot",
                                 lambda: claims.create_claim(s.clients, db.namespace, body),
                                 f"{db.claim} (dataSource VolumeSnapshot {snap.name}, pinned to {snap.node})")
        claim_created = steps[-1].ended.mono
        steps, _ = db.step(steps, "restore: volume provisioned from the snapshot",
                           lambda: _wait_provisioned(db, created.uid, snap, origin), lambda text: text)
        provisioned = steps[-1]
        steps, ready = db.step(steps, "restore: scale the StatefulSet to 1", db.scale_up,
                               lambda r: f"{pods.info(r.items[0]).name} Ready on {pods.info(r.items[0]).node}"
                               if r.items else "Ready")
        p = pods.info(ready.items[0]) if ready.items else None
        steps, (text, where, verification, answered) = db.step(
            steps, "restore: the data answers the oracle's query", lambda: _answer(db, snap, after),
            lambda r: r[2].statement)
    pvc = claims.read_claim(s.clients, db.namespace, db.claim) or {}
    timeline = Timeline(origin).add("cut", snap.cut.at.mono, snap.cut.describe())
    for step in snap.steps:
        if step.name in ("VolumeSnapshot", "readyToUse"):
            timeline = timeline.add(f"snapshot {step.name}", step.ended.mono, step.detail)
    timeline = (timeline.add("fault", origin.mono, after.describe())
                .add("claim created", claim_created, f"{db.claim} from {snap.name} on {snap.node}")
                .add("volume provisioned", provisioned.ended.mono, provisioned.detail)
                .add("Ready", ready.satisfied_at, f"{p.name} on {p.node}" if p else "")
                .add("data verified", answered.mono, verification.statement))
    rto = answered.mono - origin.mono
    recovery = Recovery(f"{db.kind} {db.name} restored from {snap.name}", rto, timeline,
                        f"data back {rto:.1f}s after the loss")
    s.run.results.append((s.name, recovery))
    s.run.results.append((s.name, RestoreTime(db.claim, round(answered.mono - claim_created, 3))))
    db.log(f"restored from {snap.name}: the data answered the oracle's query {rto:.2f}s after the loss")
    return Restored(snap, after, db.claim, (pvc.get("spec") or {}).get("volumeName") or "",
                    p.node if p else "", p.name if p else db.pod_name, recovery, steps, text, where, verification)


def _answer(db: Database, snap: SnapshotTaken, after: VolumeLoss) -> tuple[str, str, rpo.Verification, Instant]:
    """The oracle's query on the restored data: every record read back and verified against the
    snapshot's cut; the moment it answered ends the restore RTO."""
    try:
        text, where = db.read_records()
    except ExecFailed as exc:
        raise RestoreFailed(f"{db.kind} {db.name} is Ready on the restored volume but does not answer the "
                            f"oracle's query: {exc}", elapsed_s=Instant.now().mono - after.at.mono) from None
    verification = rpo.verify_cut(text, where, snap.cut, db.writer.acks(), after.at, db.writer.name)
    return text, where, verification, Instant.now()


def clear_for_restore(db: Database, after: VolumeLoss) -> tuple[Step, ...]:
    """The restore's first two steps on their own: scale to 0 and delete the empty claim the
    StatefulSet controller recreated. ``restore()`` does them too (then they find nothing
    to do). A drill that breaks the snapshot after the loss calls this first: while a claim
    with the source's name exists, the snapshot-controller recreates a deleted content by
    snapshotting that claim (an empty volume), and holds the claim while it does."""
    return _clear(db, after, ())


def _clear(db: Database, after: VolumeLoss, steps: tuple[Step, ...]) -> tuple[Step, ...]:
    steps, _ = db.step(steps, "restore: scale the StatefulSet to 0", lambda: db.scale_to_zero("for the restore"),
                       "no pod")
    steps, _ = db.step(steps, "restore: remove the claim the controller recreated",
                       lambda: _remove_recreated_claim(db, after), lambda text: text)
    return steps


def _remove_recreated_claim(db: Database, after: VolumeLoss) -> str:
    s = db.scope
    claim = claims.read_claim(s.clients, db.namespace, db.claim)
    if claim is None:
        return "none"
    uid = claim["metadata"]["uid"]
    s.guard.check_object((claim.get("metadata") or {}).get("labels"), db.namespace, f"claim {db.claim}")
    claims.delete_claim(s.clients, db.namespace, db.claim, uid)
    wait_for(claims.claim_source(s.clients, db.namespace, db.claim),
             lambda items: Check(not items, "gone" if not items else "terminating"),
             description=f"claim {db.namespace}/{db.claim} to be deleted", timeout_s=s.timeouts.delete_s,
             progress=s.progress)
    return ("the lost claim finished deleting" if uid == after.claim_uid
            else "deleted the empty claim the StatefulSet controller had recreated")


def _wait_provisioned(db: Database, uid: str, snap: SnapshotTaken, origin: Instant) -> str:
    s = db.scope

    def provisioned(items):
        evs = sorted(events.info(o) for o in items)
        for e in evs:
            if e.reason == "ProvisioningSucceeded":
                return Check(True, e.message)
        failed = [e for e in evs if e.reason == "ProvisioningFailed"]
        if failed:
            latest = failed[-1]
            # a failure about the data source cannot heal by retrying: loud at once
            if "DataSource" in latest.message or "snapshot" in latest.message.lower() \
                    or sum(e.count for e in failed) >= 3:
                elapsed = Instant.now().mono - origin.mono
                raise RestoreFailed(
                    f"restore of claim {db.namespace}/{db.claim} from VolumeSnapshot {snap.name} failed "
                    f"{elapsed:.1f}s after the loss: {latest.describe()}", event=latest, elapsed_s=elapsed)
            return Check(False, f"ProvisioningFailed: {latest.message[:160]}")
        return Check(False, ", ".join(sorted({e.reason for e in evs})) or "no event yet")

    got = wait_for(events.source(s.clients, db.namespace, "PersistentVolumeClaim", db.claim, uid),
                   provisioned, description=f"claim {db.namespace}/{db.claim} to be provisioned from "
                   f"{snap.name}", timeout_s=s.timeouts.recover_s, progress=s.progress)
    return got.summary


def verify(db: Database, restored: Restored, cut: rpo.Cut | None = None) -> rpo.Verification:
    """The restore's verification (every record up to the cut present and valid, none written
    after the snapshot completed; the RPO measured from the restored data), reported beside the
    restore RTO. ``cut`` defaults to the restored snapshot's (pass another to see what the
    restored data misses of it). NotConsistent or WrongPointInTime (both DataLost) name the
    records and carry the verification."""
    s = db.scope
    with s.phase("verify"):
        timeline = restored.recovery.timeline
        if cut is None or cut == restored.snapshot.cut:
            cut, verification = restored.snapshot.cut, restored.verification
        else:
            verification = rpo.verify_cut(restored.records, restored.where, cut, db.writer.acks(),
                                          restored.loss.at, db.writer.name)
            timeline = timeline.add(f"checked against {cut.describe()}", Instant.now().mono, verification.statement)
        lost = verification.rpo
        summary = f"restore RTO {restored.rto_s:.1f}s (to the data verified); {verification.statement}"
        # the verified recovery takes the place of the restore's own entry; the RPO goes beside
        # it (results.json, the summary table)
        s.run.replace_result(s.name, restored.recovery,
                             Recovery(restored.recovery.description, restored.rto_s, timeline, summary))
        s.run.results.append((s.name, lost))
        db.log(summary)
        rpo.check(verification, f"restored from {restored.snapshot.name}, cut at record {cut.seq}; "
                                f"{restored.where}")
    return verification
