"""The snapshot of a database's volume, as a step: consistent (quiesced) by default. Each part is
logged and recorded as a Step with its duration (``SnapshotTaken.steps``)::

    quiesce: pause the writer     nothing in flight; the last acknowledged record is the cut
    quiesce: CHECKPOINT           (PostgreSQL) flush everything to the data files
    quiesce: stop the workload    scale to 0, the pod gone (PostgreSQL: a clean fast shutdown)
    quiesce: volume released      the node no longer lists the volume in status.volumesInUse
    record the cut                the last acknowledged sequence and its time
    VolumeSnapshot                created from the claim
    readyToUse                    SnapshotNotReady (snapshot and content status) if never; the
                                  moment it is seen is the cut's ``completed``
    resume                        scale to 1, Ready, the writer goes on after the cut

Why not pg_backup_start/pg_backup_stop: the CSI hostpath driver's snapshot is a tar of the live
directory, and a non-exclusive base backup is only restorable with the backup_label that
pg_backup_stop returns written into the copy and the WAL up to that stop point (an archive):
neither can be in a volume snapshot taken before pg_backup_stop returns. A clean shutdown gives
a copy that needs no recovery at all.

A snapshot taken without quiescing (``quiesce=False``) is recorded as such: its restore is
verified for what it can promise (every record acknowledged before the snapshot was requested,
none written after it completed: kubedrill.data.rpo) and the verification states whether the
restore was consistent, and how many records written after the cut came back, instead of
assuming either.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from kubedrill import guard
from kubedrill.data.rpo import Cut
from kubedrill.k8s import claims, nodes, snapshots
from kubedrill.observe.measure import Instant, SnapshotReady
from kubedrill.scope import Scope
from kubedrill.wait import Check, WaitResult, wait_for
from kubedrill.workloads import postgres
from kubedrill.workloads.database import POSTGRES, Database, Step


@dataclass(frozen=True)
class SnapshotTaken:
    namespace: str
    name: str
    claim: str
    volume: str          # the source PV
    volume_handle: str
    node: str            # the node that took it (and the only one that can restore it, node-local)
    content: str
    size: str
    cut: Cut
    quiesced: bool
    steps: tuple[Step, ...]
    took_s: float        # from the start of snapshot() to the snapshot ready (and the writer resumed)

    def describe(self) -> str:
        how = "quiesced" if self.quiesced else "NOT quiesced (crash-consistent at best)"
        return f"VolumeSnapshot {self.namespace}/{self.name} of {self.claim} on {self.node}, {how}, cut at {self.cut.describe()}"


_snapshot_numbers = itertools.count(1)


def snapshot(db: Database, quiesce: bool = True, name: str | None = None, snapshot_class: str | None = None,
             ready_timeout_s: float | None = None) -> SnapshotTaken:
    """Take a VolumeSnapshot of the database's claim: consistently (the steps in the module's
    doc), or, with ``quiesce=False``, while the database keeps writing."""
    s = db.scope
    name = name or f"{db.name}-snap-{next(_snapshot_numbers)}"
    started = Instant.now()
    pv = db.volume()
    handle = pv["spec"]["csi"]["volumeHandle"]
    running = db.pods()
    node = claims.pv_node(pv) or (running[0].node if running else "")
    steps: tuple[Step, ...] = ()
    if quiesce:
        cut, steps = _quiesce(db, steps, node, handle)
    else:
        def cut_now() -> Cut:
            st = db.writer.state()
            return Cut(st.seq, st.last.at if st.last else Instant.now(), False)

        steps, cut = db.step(steps, "no quiesce: the database keeps writing", cut_now,
                             lambda c: f"cut at the last record acknowledged before the snapshot request: {c.seq}")

    def create() -> None:
        s.guard.check_namespace(db.namespace, "create a VolumeSnapshot in")
        snapshots.create(s.clients, db.namespace,
                         snapshots.manifest(name, {**guard.labels(s.run.run_id), "kubedrill.io/cut": str(cut.seq)},
                                            db.claim, snapshot_class))
        s.cleanups.defer(f"delete VolumeSnapshot {db.namespace}/{name}",
                         lambda: snapshots.delete(s.clients, db.namespace, name))

    steps, _ = db.step(steps, "VolumeSnapshot", create, f"{db.namespace}/{name} of claim {db.claim}")

    def ready() -> tuple[snapshots.SnapshotInfo, str]:
        got = snapshots.wait_ready(s.clients, db.namespace, name, ready_timeout_s or s.timeouts.recover_s,
                                   s.progress)
        info = snapshots.snapshot_info(got.items[0])
        return info, snapshots.content_node(snapshots.get_content(s.clients, info.content_name)) or node

    steps, (info, node) = db.step(steps, "readyToUse", ready,
                                  lambda r: f"content {r[0].content_name} on {r[1]}, restore size {r[0].restore_size}")
    created = next(step for step in steps if step.name == "VolumeSnapshot")
    s.run.results.append((s.name, SnapshotReady(name, round(steps[-1].ended.mono - created.ended.mono, 3))))
    # the snapshot is complete (seen readyToUse): what the writer acknowledges from now on is
    # past the snapshot (rpo.Cut.absent_from)
    cut = replace(cut, completed=steps[-1].ended)
    if quiesce:
        def resume() -> None:
            db.scale_up()
            db.writer.resume(db.open_sink())

        steps, _ = db.step(steps, "resume", resume, f"writing again after record {cut.seq}")
    taken = SnapshotTaken(db.namespace, name, db.claim, pv["metadata"]["name"], handle, node,
                          info.content_name, info.restore_size or db.size, cut, quiesce, steps,
                          Instant.now().mono - started.mono)
    db.log(taken.describe())
    return taken


def _quiesce(db: Database, steps: tuple[Step, ...], node: str, handle: str) -> tuple[Cut, tuple[Step, ...]]:
    s = db.scope
    steps, st = db.step(steps, "quiesce: pause the writer", db.writer.pause,
                        lambda st: f"last acknowledged record {st.seq}")
    if db.kind == POSTGRES:
        steps, _ = db.step(steps, "quiesce: CHECKPOINT",
                           lambda: postgres.checkpoint(s.clients, db.namespace, db.pod_name, s.timeouts.verify_s),
                           lambda answer: answer)

    def stop() -> None:
        db.writer.detach()
        db.scale_to_zero("to quiesce")

    steps, _ = db.step(steps, "quiesce: stop the workload (scale to 0)", stop,
                       "pod gone" + (" (PostgreSQL fast shutdown: a clean checkpoint)" if db.kind == POSTGRES else ""))
    steps, _ = db.step(steps, "quiesce: volume released by the node", lambda: wait_released(s, node, handle),
                       f"{node} no longer lists {handle} in volumesInUse")
    steps, cut = db.step(steps, "record the cut", lambda: Cut(st.seq, st.last.at if st.last else Instant.now(), True),
                         lambda c: c.describe())
    return cut, steps


def wait_released(scope: Scope, node: str, handle: str) -> WaitResult:
    """Kubernetes' own snapshot habit (kubernetes#101279): the node no longer lists the volume
    in status.volumesInUse, i.e. nothing has it mounted."""
    def released(items):
        if not items:
            return Check(False, f"node {node} not found")
        used = [v for v in (items[0].get("status") or {}).get("volumesInUse") or [] if handle in v]
        return Check(not used, "in use" if used else "released")

    return wait_for(nodes.source(scope.clients, node), released,
                    description=f"node {node} to release volume {handle}", timeout_s=scope.timeouts.recover_s,
                    progress=scope.progress)
