"""The disasters of the snapshot/restore drill, each guarded, journalled before it acts, and
returning a frozen record: a database's volume lost (its pod and claim deleted), and a
snapshot's VolumeSnapshotContent deleted (the failure-mode drill)."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import journal
from kubedrill.errors import GuardRefused, RestoreFailed
from kubedrill.k8s import claims, pods, snapshots
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope
from kubedrill.wait import Check, wait_for
from kubedrill.workloads.database import Database
from kubedrill.workloads.restore import VolumeLoss
from kubedrill.workloads.snapshot import SnapshotTaken


@dataclass(frozen=True)
class ContentDeleted:
    """A VolumeSnapshotContent deleted outright (finalizers too)."""

    content: str
    snapshot_namespace: str
    snapshot: str
    at: Instant | None           # None: it was already gone, nothing was deleted

    def describe(self) -> str:
        if self.at is None:
            return f"VolumeSnapshotContent {self.content} was already gone"
        return f"deleted VolumeSnapshotContent {self.content}"


def lose_volume(scope: Scope, db: Database) -> VolumeLoss:
    """The disaster: delete the database's claim and pod (grace 0). Guarded and journalled; the
    writer keeps writing until its next record fails."""
    s = scope
    with s.phase("fault"):
        s.guard.check_namespace(db.namespace, "delete a pod and its claim in")
        (pod,) = [p for p in db.pods() if not p.terminating][:1] or [None]
        if pod is None:
            raise RestoreFailed(f"no running pod of {db.name} to lose")
        claim = claims.read_claim(s.clients, db.namespace, db.claim)
        if claim is None:
            raise RestoreFailed(f"claim {db.claim} does not exist")
        s.guard.check_object(dict(pod.labels), db.namespace, f"pod {pod.name}")
        s.guard.check_object((claim.get("metadata") or {}).get("labels"), db.namespace, f"claim {db.claim}")
        entry = s.journal.record(
            f"delete pod {db.namespace}/{pod.name} and claim {db.claim}",
            journal.Undo(journal.NOTHING, {"owner": f"StatefulSet/{db.name}"},
                         "nothing to undo: the restore recreates the claim; the namespace's deletion removes it"))
        last = db.writer.state().last
        at = Instant.now()
        claims.delete_claim(s.clients, db.namespace, db.claim, claim["metadata"]["uid"])
        pods.delete(s.clients, db.namespace, pod.name, pod.uid, 0)
        s.journal.resolve(entry)
        loss = VolumeLoss(db.namespace, db.name, pod.name, pod.uid, db.claim, claim["metadata"]["uid"],
                          claim["spec"].get("volumeName") or "", at, last)
        db.log(loss.describe())
    return loss


def lose_snapshot_content(scope: Scope, snap: SnapshotTaken) -> ContentDeleted:
    """A fault for the failure-mode drill: the snapshot's VolumeSnapshotContent deleted
    outright (finalizers too). Guarded: only a content whose snapshot is in a namespace of
    this run. The snapshot's tarball stays on its node's store."""
    with scope.phase("fault"):
        content = snapshots.get_content(scope.clients, snap.content)
        if content is None:
            return ContentDeleted(snap.content, snap.namespace, snap.name, None)
        ref = (content.get("spec") or {}).get("volumeSnapshotRef") or {}
        if ref.get("namespace") != snap.namespace:
            raise GuardRefused(f"refusing to delete VolumeSnapshotContent {snap.content}: it belongs to "
                               f"{ref.get('namespace')}/{ref.get('name')}")
        scope.guard.check_namespace(snap.namespace, "delete a VolumeSnapshotContent of")
        # while the source claim exists, the snapshot-controller recreates a deleted content and
        # the driver answers CreateSnapshot from its store: wait until the claim is gone
        wait_for(claims.claim_source(scope.clients, snap.namespace, snap.claim),
                 lambda items: Check(not items, "gone" if not items else "still there"),
                 description=f"source claim {snap.namespace}/{snap.claim} to be gone",
                 timeout_s=scope.timeouts.delete_s, progress=scope.progress)
        entry = scope.journal.record(f"delete VolumeSnapshotContent {snap.content}",
                                     journal.Undo(journal.NOTHING, {"owner": f"VolumeSnapshot/{snap.name}"},
                                                  "nothing to undo: the snapshot's deletion ends it"))
        at = Instant.now()
        snapshots.force_delete_content(scope.clients, snap.content)
        scope.journal.resolve(entry)

        def broken(items):
            st = (items[0].get("status") or {}) if items else {}
            return Check(bool(items) and st.get("readyToUse") is not True,
                         f"readyToUse {st.get('readyToUse')}, error {(st.get('error') or {}).get('message', '')}")

        wait_for(snapshots.source(scope.clients, snap.namespace, snap.name), broken,
                 description=f"VolumeSnapshot {snap.namespace}/{snap.name} to lose its content",
                 timeout_s=scope.timeouts.verify_s, progress=scope.progress)
        deleted = ContentDeleted(snap.content, snap.namespace, snap.name, at)
        scope.run.log(f"[{scope.name}] {deleted.describe()} of {snap.namespace}/{snap.name}")
    return deleted
