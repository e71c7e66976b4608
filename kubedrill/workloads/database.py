"""Snapshot and restore of a stateful workload, measured: the consistent snapshot in named
steps, the loss of the volume (pod and claim deleted), the restore from the snapshot, and the
verification of every record against the cut.

A ``Database`` is a one-replica StatefulSet with one claim (``data``) and a record writer
(kubedrill.data.writer) writing the oracle's records into it: PostgreSQL rows
(kubedrill.workloads.postgres) or, as the fast variant, lines appended and fsynced to a file.

The consistent snapshot, step by step (each step is logged, an Allure step, and a mark)::

    quiesce: pause the writer     nothing in flight; the last acknowledged record is the cut
    quiesce: CHECKPOINT           (PostgreSQL) flush everything to the data files
    quiesce: stop the workload    scale to 0, the pod gone (PostgreSQL: a clean fast shutdown)
    quiesce: volume released      the node no longer lists the volume in status.volumesInUse
    record the cut                the last acknowledged sequence and its time
    VolumeSnapshot                created from the claim
    readyToUse                    SnapshotNotReady (snapshot and content status) if never
    resume                        scale to 1, Ready, the writer goes on after the cut

Why not pg_backup_start/pg_backup_stop: the CSI hostpath driver's snapshot is a tar of the live
directory, and a non-exclusive base backup is only restorable with the backup_label that
pg_backup_stop returns written into the copy and the WAL up to that stop point (an archive):
neither can be in a volume snapshot taken before pg_backup_stop returns. A clean shutdown gives
a copy that needs no recovery at all.

A snapshot taken without quiescing (``quiesce=False``) is recorded as such: its restore is
verified for what it can promise (every record acknowledged before the snapshot was requested)
and the verification states whether the restore was consistent, and how many records written
after the cut came back, instead of assuming either.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator

from kubedrill import guard, journal
from kubedrill.data import oracle
from kubedrill.workloads import postgres
from kubedrill.errors import DataLost, ExecFailed, GuardRefused, RestoreFailed
from kubedrill.k8s import claims, events, pods, podexec, snapshots, statefulsets
from kubedrill.k8s.podsession import Session
from kubedrill.observe.measure import Instant, Recovery, Rpo, Timeline
from kubedrill.data.writer import Ack, RecordWriter
from kubedrill.scope import Scope
from kubedrill.wait import ApiSource, Check, wait_for

POSTGRES = "postgres"
FILE = "file"
CLAIM = "data"
FILE_MOUNT = "/data"
FILE_PATH = f"{FILE_MOUNT}/records"
# the file sink: one record per stdin line, appended, fsynced, then acknowledged
FILE_SINK_SH = ('touch "$F" && echo ready; while IFS= read -r l; do printf "%s\\n" "$l" >> "$F" '
                '&& sync "$F" && echo "ack ${l%%|*}"; done')


# --- records ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    name: str
    started: Instant
    ended: Instant
    detail: str = ""

    @property
    def took_s(self) -> float:
        return self.ended.mono - self.started.mono


@dataclass(frozen=True)
class Cut:
    """The recovery point: the last record acknowledged before the snapshot."""

    seq: int
    at: Instant          # when that record was acknowledged (the request time when none was)
    quiesced: bool

    def describe(self) -> str:
        return f"record {self.seq}" + ("" if self.quiesced else " (not quiesced: the database kept writing)")


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

    def describe(self) -> str:
        how = "quiesced" if self.quiesced else "NOT quiesced (crash-consistent at best)"
        return f"VolumeSnapshot {self.namespace}/{self.name} of {self.claim} on {self.node}, {how}, cut at {self.cut.describe()}"


@dataclass(frozen=True)
class VolumeLoss:
    """The disaster: the workload's pod and claim deleted."""

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
    recovery: Recovery           # RTO: from the loss to the first successful query
    steps: tuple[Step, ...]

    @property
    def rto_s(self) -> float:
        return self.recovery.rto_s


@dataclass(frozen=True)
class Verification:
    cut: Cut
    expected_through: int
    report: oracle.Report
    rpo: Rpo                     # what the restore could not bring back: rows and seconds
    rows_after_cut: tuple[int, ...]
    consistent: bool
    statement: str

    @property
    def ok(self) -> bool:
        return self.consistent


@dataclass
class Outcome:
    """What one restore measured (written to reports/restores.jsonl by the fixtures)."""

    scenario: str
    workload: str
    quiesced: bool = True
    cut_seq: int = 0
    snapshot_s: float | None = None
    restore_rto_s: float | None = None
    rpo_rows: int | None = None
    rpo_s: float | None = None
    consistent: bool | None = None
    statement: str = ""
    snapshots: list = field(default_factory=list)   # every snapshot taken: name, cut, quiesced
    steps: list = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- the workload ---------------------------------------------------------------------------

def file_pod_spec() -> dict[str, Any]:
    from kubedrill import pins

    return {
        "terminationGracePeriodSeconds": 1,
        "containers": [{
            "name": "app", "image": pins.shell_image(), "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", f"touch {FILE_PATH} && exec sleep 2147483647"],
            "readinessProbe": {"exec": {"command": ["test", "-f", FILE_PATH]},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
            "volumeMounts": [{"name": CLAIM, "mountPath": FILE_MOUNT}],
        }],
    }


class FileSink:
    """The writer's sink for the file variant: a shell loop in the pod that appends, fsyncs and
    then acknowledges each record."""

    def __init__(self, clients, namespace: str, pod: str):
        self.session = Session(clients, namespace, pod, ["sh", "-c", f"F={FILE_PATH}; {FILE_SINK_SH}"],
                               container="app")
        self.session.read_until("ready", 60.0)

    def write(self, seq: int, line: str, timeout_s: float) -> None:
        self.session.send(line + "\n")
        self.session.read_until(f"ack {seq}", timeout_s)

    def close(self) -> None:
        self.session.close()


_snapshot_numbers = itertools.count(1)


class Database:
    """A one-replica StatefulSet with one claim, a record writer, and its snapshots."""

    def __init__(self, scope: Scope, kind: str, name: str, size: str, selector: dict[str, str]):
        self.scope = scope
        self.kind = kind
        self.name = name
        self.namespace = scope.namespace
        self.size = size
        self.selector = selector
        self.pod_name = f"{name}-0"
        self.claim = f"{CLAIM}-{name}-0"
        self.writer = RecordWriter(name, log=scope.run.log)
        self.outcome = Outcome(scope.name, kind)

    def __repr__(self) -> str:
        return f"Database({self.kind}, {self.namespace}/{self.name})"

    # --- plumbing -------------------------------------------------------------------------
    @property
    def selector_string(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.selector.items()))

    @property
    def container(self) -> str:
        return postgres.CONTAINER if self.kind == POSTGRES else "app"

    def pods(self) -> tuple[pods.PodInfo, ...]:
        return pods.list_pods(self.scope.clients, self.namespace, self.selector_string)

    def open_sink(self):
        c = self.scope.clients
        return (postgres.PsqlSink(c, self.namespace, self.pod_name) if self.kind == POSTGRES
                else FileSink(c, self.namespace, self.pod_name))

    def _log(self, line: str) -> None:
        self.scope.run.log(f"[{self.scope.name}] {line}")

    @contextlib.contextmanager
    def step(self, name: str, into: list) -> Iterator[list]:
        """A named step: logged, an Allure step (through the run's phase listeners), recorded."""
        started = Instant.now()
        detail: list = []
        self._log(f"step {name}: start")
        listeners = list(self.scope.run.phase_listeners)
        for lst in listeners:
            with contextlib.suppress(Exception):
                lst.start("step", name)
        ok = False
        try:
            yield detail
            ok = True
        finally:
            ended = Instant.now()
            text = "; ".join(str(d) for d in detail)
            into.append(Step(name, started, ended, text if ok else f"FAILED {text}".strip()))
            self._log(f"step {name}: {'done' if ok else 'FAILED'} ({ended.mono - started.mono:.1f}s)"
                      + (f": {text}" if text else ""))
            for lst in reversed(listeners):
                with contextlib.suppress(Exception):
                    lst.end("step", name, ok)

    def _wait_pods(self, want: int, description: str, excluding=frozenset()):
        s = self.scope
        src = pods.source(s.clients, self.namespace, self.selector_string)
        if want == 0:
            def none(items):
                return Check(not items, f"{len(items)} pod(s) left")
            return wait_for(src, none, description=description, timeout_s=s.timeouts.recover_s,
                            progress=s.progress)
        return wait_for(src, pods.all_serving(want, excluding), description=description,
                        timeout_s=s.timeouts.recover_s, progress=s.progress)

    def _scale_to_zero(self, why: str) -> None:
        """Scale to 0 and wait until the controller has seen it (observedGeneration, no
        replicas) and no pod is left: after that it creates neither pods nor claims."""
        s = self.scope
        statefulsets.scale(s.clients, self.namespace, self.name, 0)

        def settled(items):
            if not items:
                return Check(False, "StatefulSet absent")
            m, st = items[0].get("metadata") or {}, items[0].get("status") or {}
            seen = int(st.get("observedGeneration") or 0) >= int(m.get("generation") or 0)
            n = int(st.get("replicas") or 0)
            return Check(seen and n == 0, f"observed {'current' if seen else 'old'} spec, {n} replica(s)")

        wait_for(ApiSource(s.clients.apps.list_namespaced_stateful_set, self.namespace,
                           field_selector=f"metadata.name={self.name}"), settled,
                 description=f"StatefulSet {self.name} scaled to 0 {why}", timeout_s=s.timeouts.recover_s,
                 progress=s.progress)
        self._wait_pods(0, f"{self.kind} {self.name}: no pod left ({why})")

    def wait_ready(self):
        return self._wait_pods(1, f"{self.kind} {self.name}: pod Ready")

    def query(self) -> tuple[bool, str]:
        """One query as a client would make it: SELECT over TCP (PostgreSQL), reading the
        records file (file)."""
        c = self.scope.clients
        if self.kind == POSTGRES:
            return postgres.answers(c, self.namespace, self.pod_name, self.scope.timeouts.verify_s)
        try:
            r = podexec.run(c, self.namespace, self.pod_name, ["wc", "-l", FILE_PATH], container="app",
                            timeout_s=self.scope.timeouts.verify_s, check=False)
        except ExecFailed as exc:
            return False, str(exc)
        return r.exit_code == 0, (r.stdout or r.stderr).strip()

    def read_records(self) -> tuple[str, str]:
        c = self.scope.clients
        if self.kind == POSTGRES:
            return postgres.read_records(c, self.namespace, self.pod_name, self.scope.timeouts.verify_s)
        r = podexec.run(c, self.namespace, self.pod_name, ["cat", FILE_PATH], container="app",
                        timeout_s=self.scope.timeouts.verify_s, check=False)
        if r.exit_code != 0:
            return "", f"{FILE_PATH} unreadable: {r.stderr.strip()[:200]}"
        return r.stdout, FILE_PATH

    def volume(self) -> dict:
        """The PV bound to the claim (waits until it is Bound)."""
        s = self.scope

        def bound(items):
            phase = ((items[0].get("status") or {}).get("phase") if items else "absent") or "Pending"
            return Check(phase == "Bound", phase)

        got = wait_for(claims.claim_source(s.clients, self.namespace, self.claim), bound,
                       description=f"claim {self.namespace}/{self.claim} to be Bound",
                       timeout_s=s.timeouts.deploy_s, progress=s.progress)
        pv = claims.read_pv(s.clients, got.items[0]["spec"]["volumeName"])
        if pv is None:
            raise RestoreFailed(f"claim {self.claim} is Bound to a volume that does not exist")
        return pv

    # --- writing --------------------------------------------------------------------------
    def start_writing(self) -> None:
        self.writer.start(self.open_sink())

    def wait_records(self, n: int) -> int:
        """Wait until ``n`` more records are acknowledged; the last acknowledged sequence."""
        target = self.writer.state().seq + n
        self.writer.wait_acknowledged(target, self.scope.timeouts.verify_s + n * 2)
        return self.writer.state().seq

    # --- the snapshot ---------------------------------------------------------------------
    def snapshot(self, quiesce: bool = True, name: str | None = None, snapshot_class: str | None = None,
                 ready_timeout_s: float | None = None) -> SnapshotTaken:
        """Take a VolumeSnapshot of the claim: consistently (the steps in the module's doc),
        or, with ``quiesce=False``, while the database keeps writing."""
        s = self.scope
        name = name or f"{self.name}-snap-{next(_snapshot_numbers)}"
        steps: list[Step] = []
        pv = self.volume()
        handle = pv["spec"]["csi"]["volumeHandle"]
        node = claims.pv_node(pv) or (self.pods()[0].node if self.pods() else "")
        started = Instant.now()
        if quiesce:
            with self.step("quiesce: pause the writer", steps) as d:
                st = self.writer.pause()
                d.append(f"last acknowledged record {st.seq}")
            if self.kind == POSTGRES:
                with self.step("quiesce: CHECKPOINT", steps) as d:
                    d.append(postgres.checkpoint(s.clients, self.namespace, self.pod_name, s.timeouts.verify_s))
            with self.step("quiesce: stop the workload (scale to 0)", steps) as d:
                self.writer.detach()
                self._scale_to_zero("to quiesce")
                d.append("pod gone" + (" (PostgreSQL fast shutdown: a clean checkpoint)" if self.kind == POSTGRES else ""))
            with self.step("quiesce: volume released by the node", steps) as d:
                nodes_wait_released(s, node, handle)
                d.append(f"{node} no longer lists {handle} in volumesInUse")
            with self.step("record the cut", steps) as d:
                cut = Cut(st.seq, st.last.at if st.last else Instant.now(), True)
                d.append(cut.describe())
        else:
            with self.step("no quiesce: the database keeps writing", steps) as d:
                st = self.writer.state()
                cut = Cut(st.seq, st.last.at if st.last else Instant.now(), False)
                d.append(f"cut at the last record acknowledged before the snapshot request: {cut.seq}")
        with self.step("VolumeSnapshot", steps) as d:
            self.scope.guard.check_namespace(self.namespace, "create a VolumeSnapshot in")
            snapshots.create(s.clients, self.namespace,
                             snapshots.manifest(name, {**guard.labels(s.run.run_id), "kubedrill.io/cut": str(cut.seq)},
                                                self.claim, snapshot_class))
            s.cleanups.defer(f"delete VolumeSnapshot {self.namespace}/{name}",
                             lambda: snapshots.delete(s.clients, self.namespace, name))
            d.append(f"{self.namespace}/{name} of claim {self.claim}")
        with self.step("readyToUse", steps) as d:
            got = snapshots.wait_ready(s.clients, self.namespace, name, ready_timeout_s or s.timeouts.recover_s,
                                       s.progress)
            info = snapshots.snapshot_info(got.items[0])
            content = snapshots.get_content(s.clients, info.content_name)
            node = snapshots.content_node(content) or node
            d.append(f"content {info.content_name} on {node}, restore size {info.restore_size}")
        if quiesce:
            with self.step("resume", steps) as d:
                statefulsets.scale(s.clients, self.namespace, self.name, 1)
                self.wait_ready()
                self.writer.resume(self.open_sink())
                d.append(f"writing again after record {cut.seq}")
        taken = SnapshotTaken(self.namespace, name, self.claim, pv["metadata"]["name"], handle, node,
                              info.content_name, info.restore_size or self.size, cut, quiesce, tuple(steps))
        self.outcome.quiesced = quiesce
        self.outcome.cut_seq = cut.seq
        self.outcome.snapshots.append({"name": name, "cut": cut.seq, "quiesced": quiesce, "node": node})
        self.outcome.snapshot_s = round(Instant.now().mono - started.mono, 3)
        self.outcome.steps += [{"step": x.name, "s": round(x.took_s, 3), "detail": x.detail} for x in steps]
        self._log(taken.describe())
        return taken

    # --- the disaster ---------------------------------------------------------------------
    def lose_volume(self) -> VolumeLoss:
        """The disaster: delete the claim and the pod (grace 0). Guarded and journalled; the
        writer keeps writing until its next record fails."""
        s = self.scope
        with s.phase("fault"):
            s.guard.check_namespace(self.namespace, "delete a pod and its claim in")
            (pod,) = [p for p in self.pods() if not p.terminating][:1] or [None]
            if pod is None:
                raise RestoreFailed(f"no running pod of {self.name} to lose")
            claim = claims.get_claim(s.clients, self.namespace, self.claim)
            if claim is None:
                raise RestoreFailed(f"claim {self.claim} does not exist")
            s.guard.check_object(dict(pod.labels), self.namespace, f"pod {pod.name}")
            s.guard.check_object((claim.get("metadata") or {}).get("labels"), self.namespace, f"claim {self.claim}")
            entry = s.journal.record(
                f"delete pod {self.namespace}/{pod.name} and claim {self.claim}",
                journal.Undo(journal.NOTHING, {"owner": f"StatefulSet/{self.name}"},
                             "nothing to undo: the restore recreates the claim; the namespace's deletion removes it"))
            last = self.writer.state().last
            at = Instant.now()
            claims.delete_claim(s.clients, self.namespace, self.claim, claim["metadata"]["uid"])
            pods.delete(s.clients, self.namespace, pod.name, pod.uid, 0)
            s.journal.resolve(entry)
            loss = VolumeLoss(self.namespace, self.name, pod.name, pod.uid, self.claim, claim["metadata"]["uid"],
                              claim["spec"].get("volumeName") or "", at, last)
            self._log(loss.describe())
        return loss

    # --- the restore ----------------------------------------------------------------------
    def restore(self, snap: SnapshotTaken, after: VolumeLoss) -> Restored:
        """Restore the claim from ``snap`` and bring the workload back on it. RTO runs from the
        loss to the first successful query. RestoreFailed carries the ProvisioningFailed event
        when the claim cannot be provisioned from the snapshot."""
        s = self.scope
        steps: list[Step] = []
        origin = after.at
        marks: list[tuple[str, float, str]] = []
        with s.phase("recover"):
            self._clear(after, steps)
            with self.step("restore: claim from the VolumeSnapshot", steps) as d:
                body = claims.claim_manifest(self.claim, {**guard.labels(s.run.run_id), **self.selector},
                                           snap.size or self.size, snapshot=snap.name, node=snap.node or None)
                created = claims.create_claim(s.clients, self.namespace, body)
                marks.append(("claim created", Instant.now().mono, f"{self.claim} from {snap.name} on {snap.node}"))
                d.append(f"{self.claim} (dataSource VolumeSnapshot {snap.name}, pinned to {snap.node})")
            with self.step("restore: volume provisioned from the snapshot", steps) as d:
                ev = self._wait_provisioned(created.uid, snap, origin)
                marks.append(("volume provisioned", Instant.now().mono, ev))
                d.append(ev)
            with self.step("restore: scale the StatefulSet to 1", steps) as d:
                statefulsets.scale(s.clients, self.namespace, self.name, 1)
                ready = self.wait_ready()
                p = pods.info(ready.items[0]) if ready.items else None
                marks.append(("Ready", ready.satisfied_at, f"{p.name} on {p.node}" if p else ""))
                d.append(f"{p.name} Ready on {p.node}" if p else "Ready")
            with self.step("restore: first successful query", steps) as d:
                ok, answer = self.query()
                answered = Instant.now()
                if not ok:
                    raise RestoreFailed(f"{self.kind} {self.name} is Ready on the restored volume but does not "
                                        f"answer a query: {answer}", elapsed_s=answered.mono - origin.mono)
                d.append(answer)
        pv = claims.get_claim(s.clients, self.namespace, self.claim) or {}
        timeline = Timeline(origin)
        cut_at = snap.cut.at
        timeline = timeline.add("cut", cut_at.mono, snap.cut.describe())
        for x in snap.steps:
            if x.name in ("VolumeSnapshot", "readyToUse"):
                timeline = timeline.add(f"snapshot {x.name}", x.ended.mono, x.detail)
        timeline = timeline.add("fault", origin.mono, after.describe())
        for name, t, detail in marks:
            timeline = timeline.add(name, t, detail)
        timeline = timeline.add("first successful query", answered.mono, answer)
        rto = answered.mono - origin.mono
        recovery = Recovery(f"{self.kind} {self.name} restored from {snap.name}", rto, timeline,
                            f"answered {rto:.1f}s after the loss")
        s.run.results.append((s.name, recovery))
        restored = Restored(snap, after, self.claim, (pv.get("spec") or {}).get("volumeName") or "",
                            p.node if p else "", p.name if p else self.pod_name, recovery, tuple(steps))
        self.outcome.restore_rto_s = round(rto, 3)
        self.outcome.steps += [{"step": x.name, "s": round(x.took_s, 3), "detail": x.detail} for x in steps]
        self._log(f"restored from {snap.name}: first successful query {rto:.2f}s after the loss")
        return restored

    def clear_for_restore(self, after: VolumeLoss) -> tuple[Step, ...]:
        """The restore's first two steps on their own: scale to 0 and delete the empty claim the
        StatefulSet controller recreated. ``restore()`` does them too (then they find nothing
        to do). A drill that breaks the snapshot after the loss calls this first: while a claim
        with the source's name exists, the snapshot-controller recreates a deleted content by
        snapshotting that claim (an empty volume), and holds the claim while it does."""
        steps: list[Step] = []
        self._clear(after, steps)
        return tuple(steps)

    def _clear(self, after: VolumeLoss, steps: list) -> None:
        with self.step("restore: scale the StatefulSet to 0", steps) as d:
            self._scale_to_zero("for the restore")
            d.append("no pod")
        with self.step("restore: remove the claim the controller recreated", steps) as d:
            d.append(self._remove_recreated_claim(after))

    def _remove_recreated_claim(self, after: VolumeLoss) -> str:
        s = self.scope
        claim = claims.get_claim(s.clients, self.namespace, self.claim)
        if claim is None:
            return "none"
        uid = claim["metadata"]["uid"]
        labels = (claim.get("metadata") or {}).get("labels")
        s.guard.check_object(labels, self.namespace, f"claim {self.claim}")
        claims.delete_claim(s.clients, self.namespace, self.claim, uid)

        def gone(items):
            return Check(not items, "gone" if not items else "terminating")

        wait_for(claims.claim_source(s.clients, self.namespace, self.claim), gone,
                 description=f"claim {self.namespace}/{self.claim} to be deleted",
                 timeout_s=s.timeouts.delete_s, progress=s.progress)
        return ("the lost claim finished deleting" if uid == after.claim_uid
                else "deleted the empty claim the StatefulSet controller had recreated")

    def _wait_provisioned(self, uid: str, snap: SnapshotTaken, origin: Instant) -> str:
        s = self.scope
        failures: list[events.EventInfo] = []

        def provisioned(items):
            evs = sorted(events.info(o) for o in items)
            for e in evs:
                if e.reason == "ProvisioningSucceeded":
                    return Check(True, e.message)
            failed = [e for e in evs if e.reason == "ProvisioningFailed"]
            if failed:
                latest = failed[-1]
                failures.append(latest)
                # a failure about the data source cannot heal by retrying: loud at once
                if "DataSource" in latest.message or "snapshot" in latest.message.lower() \
                        or sum(e.count for e in failed) >= 3:
                    elapsed = Instant.now().mono - origin.mono
                    raise RestoreFailed(
                        f"restore of claim {self.namespace}/{self.claim} from VolumeSnapshot {snap.name} failed "
                        f"{elapsed:.1f}s after the loss: {latest.describe()}", event=latest, elapsed_s=elapsed)
                return Check(False, f"ProvisioningFailed: {latest.message[:160]}")
            return Check(False, ", ".join(sorted({e.reason for e in evs})) or "no event yet")

        got = wait_for(events.source(s.clients, self.namespace, "PersistentVolumeClaim", self.claim, uid),
                       provisioned, description=f"claim {self.namespace}/{self.claim} to be provisioned from "
                       f"{snap.name}", timeout_s=s.timeouts.recover_s, progress=s.progress)
        return got.summary

    # --- verification ---------------------------------------------------------------------
    def verify(self, restored: Restored, cut: Cut | None = None) -> Verification:
        """Every record up to the cut present and valid; for a quiesced snapshot, none after
        it. ``cut`` defaults to the restored snapshot's (pass a later one to see what an older
        snapshot misses). DataLost names the missing or unexpected records."""
        s = self.scope
        cut = cut or restored.snapshot.cut
        quiesced = restored.snapshot.quiesced
        with s.phase("verify"):
            text, where = self.read_records()
            report = oracle.verify(text, expected_through=cut.seq, absent_from=(cut.seq + 1) if quiesced else None)
            after = tuple(sorted(x for x in report.valid if x > cut.seq))
            acks = self.writer.acks()
            last = max((a.seq for a in acks), default=cut.seq)
            rpo = Rpo(max(0, last - restored.snapshot.cut.seq),
                      max(0.0, restored.loss.at.wall - restored.snapshot.cut.at.wall))
            intact = not report.missing and not report.corrupt_lines
            consistent = intact and not report.unexpected
            if quiesced:
                statement = (f"consistent: records 1–{cut.seq} intact, none after the cut" if consistent
                             else f"NOT consistent: {report.describe()}")
            else:
                state = "consistent" if intact else "NOT consistent"
                statement = (f"snapshot NOT quiesced; restore {state}: "
                             + (f"records 1–{cut.seq} intact" if intact else report.describe())
                             + f", {len(after)} record(s) written after the cut came back"
                             + (f" ({oracle._ranges(after)})" if after else ""))
                consistent = intact
            statement += f" [{where}]"
            timeline = restored.recovery.timeline.add("data verified", Instant.now().mono, statement)
            summary = (f"RPO {rpo.records_lost} records / {rpo.seconds_lost:.1f}s; "
                       f"restore RTO {restored.rto_s:.1f}s; {statement}")
            # the verified recovery (its timeline ends with "data verified") takes the place of the
            # restore's own entry; the RPO goes beside it (results.json, the summary table)
            s.run.replace_result(s.name, restored.recovery,
                                 Recovery(restored.recovery.description, restored.rto_s, timeline, summary))
            s.run.results.append((s.name, rpo))
            self.outcome.rpo_rows, self.outcome.rpo_s = rpo.records_lost, round(rpo.seconds_lost, 3)
            self.outcome.consistent, self.outcome.statement = consistent, statement
            self._log(summary)
            verification = Verification(cut, cut.seq, report, rpo, after, consistent, statement)
            if not consistent:
                raise DataLost(f"{report.describe()} (restored from {restored.snapshot.name}, cut at "
                               f"record {cut.seq}; {where})")
        return verification


def nodes_wait_released(scope: Scope, node: str, handle: str):
    """Kubernetes' own snapshot habit (kubernetes#101279): the node no longer lists the volume
    in status.volumesInUse, i.e. nothing has it mounted."""
    def released(items):
        if not items:
            return Check(False, f"node {node} not found")
        used = [v for v in (items[0].get("status") or {}).get("volumesInUse") or [] if handle in v]
        return Check(not used, "in use" if used else "released")

    return wait_for(ApiSource(scope.clients.core.list_node, field_selector=f"metadata.name={node}"), released,
                    description=f"node {node} to release volume {handle}", timeout_s=scope.timeouts.recover_s,
                    progress=scope.progress)


# --- creating one -----------------------------------------------------------------------------

def create_database(scope: Scope, kind: str = POSTGRES, name: str | None = None, size: str | None = None,
                    pod_spec: dict[str, Any] | None = None, records: int = 30) -> Database:
    """A one-replica StatefulSet (PostgreSQL or the file variant) on a claim of the default
    class, Ready, with its writer running and ``records`` records acknowledged."""
    if kind not in (POSTGRES, FILE):
        raise ValueError(f"kind must be {POSTGRES!r} or {FILE!r}")
    name = name or ("pg" if kind == POSTGRES else "files")
    size = size or ("256Mi" if kind == POSTGRES else "16Mi")
    with scope.phase("deploy"):
        scope.guard.check_namespace(scope.namespace, "create a StatefulSet in")
        labels, selector = guard.app_labels(scope.run.run_id, name)
        spec = pod_spec or (postgres.pod_spec() if kind == POSTGRES else file_pod_spec())
        template = claims.claim_manifest(CLAIM, labels, size)
        template.pop("apiVersion")
        template.pop("kind")
        body = statefulsets.manifest(name, labels, 1, spec, selector, name, [template],
                                     pod_management_policy="Parallel")
        statefulsets.create(scope.clients, scope.namespace, body)
        scope.cleanups.defer(f"delete StatefulSet {scope.namespace}/{name}",
                             lambda: statefulsets.delete(scope.clients, scope.namespace, name))
        db = Database(scope, kind, name, size, selector)
        db.wait_ready()
        db.start_writing()
        scope.cleanups.defer(f"stop the writer of {name}", db.writer.stop)
        db.wait_records(records)
    return db


def lose_snapshot_content(scope: Scope, snap: SnapshotTaken) -> str:
    """A fault for the failure-mode drill: the snapshot's VolumeSnapshotContent deleted
    outright (finalizers too). Guarded: only a content whose snapshot is in a namespace of
    this run. The snapshot's tarball stays on its node's store."""
    with scope.phase("fault"):
        content = snapshots.get_content(scope.clients, snap.content)
        if content is None:
            return f"VolumeSnapshotContent {snap.content} was already gone"
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
        snapshots.force_delete_content(scope.clients, snap.content)
        scope.journal.resolve(entry)

        def broken(items):
            st = (items[0].get("status") or {}) if items else {}
            return Check(bool(items) and st.get("readyToUse") is not True,
                         f"readyToUse {st.get('readyToUse')}, error {(st.get('error') or {}).get('message', '')}")

        wait_for(snapshots.source(scope.clients, snap.namespace, snap.name), broken,
                 description=f"VolumeSnapshot {snap.namespace}/{snap.name} to lose its content",
                 timeout_s=scope.timeouts.verify_s, progress=scope.progress)
        scope.run.log(f"[{scope.name}] deleted VolumeSnapshotContent {snap.content} of {snap.namespace}/{snap.name}")
        return f"deleted VolumeSnapshotContent {snap.content}"
