"""A database as a drill workload: a one-replica StatefulSet with one claim (``data``) and the
record writer (kubedrill.data.writer) writing the oracle's records into it: PostgreSQL rows
(kubedrill.workloads.postgres) or, as the fast variant, lines appended and fsynced to a file.

The workload deploys, scales, lists its pods, reads its records back (the oracle's query) and
controls its writer. Its snapshot and restore are steps of their own
(kubedrill.workloads.snapshot, kubedrill.workloads.restore); losing its volume is a fault
(kubedrill.faults.database); what came back is checked by kubedrill.data.rpo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from kubedrill import guard
from kubedrill.data.sinks import FileSink, PsqlSink
from kubedrill.data.writer import RecordWriter, Sink
from kubedrill.errors import RestoreFailed
from kubedrill.k8s import claims, owners, podexec, pods, statefulsets
from kubedrill.k8s.common import selector_string
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope
from kubedrill.wait import ApiSource, Check, WaitResult, wait_for
from kubedrill.workloads import postgres

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One step of a snapshot or a restore: what it was, when it ran, what it found."""

    name: str
    started: Instant
    ended: Instant
    detail: str = ""

    @property
    def took_s(self) -> float:
        return self.ended.mono - self.started.mono

POSTGRES = "postgres"
FILE = "file"
CLAIM = "data"
FILE_CONTAINER = "app"
FILE_MOUNT = "/data"
FILE_PATH = f"{FILE_MOUNT}/records"


def file_pod_spec(image: str) -> dict[str, Any]:
    """The file variant's pod: the writer image (the run's ``images.writer``), pulled IfNotPresent."""
    return {
        "terminationGracePeriodSeconds": 1,
        "containers": [{
            "name": FILE_CONTAINER, "image": image, "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", f"touch {FILE_PATH} && exec sleep 2147483647"],
            "readinessProbe": {"exec": {"command": ["test", "-f", FILE_PATH]},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
            "volumeMounts": [{"name": CLAIM, "mountPath": FILE_MOUNT}],
        }],
    }


class Database:
    """A one-replica StatefulSet with one claim and a record writer."""

    def __init__(self, scope: Scope, kind: str, name: str, size: str, selector: dict[str, str],
                 storage_class: str | None = None):
        self.scope = scope
        self.storage_class = storage_class   # None: the cluster's default class
        self.kind = kind
        self.name = name
        self.namespace = scope.namespace
        self.size = size
        self.selector = selector
        self.pod_name = f"{name}-0"
        self.claim = f"{CLAIM}-{name}-0"
        self.writer = RecordWriter(name, log=scope.run.log)
        self._owners: owners.Owners | None = None

    def __repr__(self) -> str:
        return f"Database({self.kind}, {self.namespace}/{self.name})"

    @property
    def selector_string(self) -> str:
        return selector_string(self.selector)

    @property
    def container(self) -> str:
        return postgres.CONTAINER if self.kind == POSTGRES else FILE_CONTAINER

    def log(self, line: str) -> None:
        self.scope.run.log(f"[{self.scope.name}] {line}")

    def step(self, steps: tuple[Step, ...], name: str, act: Callable[[], T],
             detail: Callable[[T], str] | str = "") -> tuple[tuple[Step, ...], T]:
        """One step of a snapshot or restore: ``act()`` run as an Allure step (through the run's
        phase listeners), logged as it starts and ends, and added to ``steps`` with ``detail`` (a
        text, or made from what ``act`` returned). Returns the steps and that value."""
        run = self.scope.run
        started = Instant.now()
        self.log(f"step {name}: start")
        run.listeners_start("step", name)
        ok = False
        try:
            value = act()
            ok = True
        finally:
            run.listeners_end("step", name, ok)
            if not ok:
                self.log(f"step {name}: FAILED ({Instant.now().mono - started.mono:.1f}s)")
        text = detail(value) if callable(detail) else detail
        done = Step(name, started, Instant.now(), text)
        self.log(f"step {name}: done ({done.took_s:.1f}s)" + (f": {text}" if text else ""))
        return steps + (done,), value

    # --- pods and scale -------------------------------------------------------------------
    def pods(self) -> tuple[pods.PodInfo, ...]:
        """The StatefulSet's own pod (by ownerReference), not whatever matches its selector."""
        if self._owners is None:
            self._owners = owners.Owners(self.scope.clients, self.namespace, "StatefulSet", self.name)
        return tuple(p for p in pods.list_pods(self.scope.clients, self.namespace, self.selector_string)
                     if self._owners.owns(p.owner_uid))

    def wait_ready(self) -> WaitResult:
        s = self.scope
        return wait_for(pods.source(s.clients, self.namespace, self.selector_string),
                        pods.serving_with_image(1, f"{self.kind} database pod"),
                        description=f"{self.kind} {self.name}: pod Ready", timeout_s=s.timeouts.recover_s,
                        progress=s.progress)

    def scale_up(self) -> WaitResult:
        """Scale to 1 and wait until the pod is Ready."""
        statefulsets.scale(self.scope.clients, self.namespace, self.name, 1)
        return self.wait_ready()

    def scale_to_zero(self, why: str) -> None:
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

        def none(items):
            return Check(not items, f"{len(items)} pod(s) left")

        wait_for(pods.source(s.clients, self.namespace, self.selector_string), none,
                 description=f"{self.kind} {self.name}: no pod left ({why})", timeout_s=s.timeouts.recover_s,
                 progress=s.progress)

    # --- the data, as the oracle reads it -------------------------------------------------
    def read_records(self) -> tuple[str, str]:
        """(every record line, where they were read from): the oracle's query, as a client makes
        it (PostgreSQL: COPY over TCP; file: reading the records file). ExecFailed when the
        database does not answer it."""
        c = self.scope.clients
        if self.kind == POSTGRES:
            return postgres.read_records(c, self.namespace, self.pod_name, self.scope.timeouts.verify_s)
        r = podexec.run(c, self.namespace, self.pod_name, ["cat", FILE_PATH], container=FILE_CONTAINER,
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

    # --- the writer -----------------------------------------------------------------------
    def open_sink(self) -> Sink:
        c = self.scope.clients
        if self.kind == POSTGRES:
            return PsqlSink(c, self.namespace, self.pod_name, postgres.CONTAINER)
        return FileSink(c, self.namespace, self.pod_name, FILE_PATH, FILE_CONTAINER)

    def start_writing(self) -> None:
        self.writer.start(self.open_sink())

    def wait_records(self, n: int) -> int:
        """Wait until ``n`` more records are acknowledged; the last acknowledged sequence."""
        target = self.writer.state().seq + n
        self.writer.wait_acknowledged(target, self.scope.timeouts.verify_s + n * 2)
        return self.writer.state().seq


def create_database(scope: Scope, kind: str = POSTGRES, name: str | None = None, size: str | None = None,
                    pod_spec: dict[str, Any] | None = None, records: int = 30,
                    storage_class: str | None = None) -> Database:
    """A one-replica StatefulSet (PostgreSQL or the file variant) on a claim of ``storage_class``
    (None: the default class), Ready, with its writer running and ``records`` records acknowledged."""
    if kind not in (POSTGRES, FILE):
        raise ValueError(f"kind must be {POSTGRES!r} or {FILE!r}")
    name = name or ("pg" if kind == POSTGRES else "files")
    size = size or ("256Mi" if kind == POSTGRES else "16Mi")
    with scope.phase("deploy"):
        scope.guard.check_namespace(scope.namespace, "create a StatefulSet in")
        labels, selector = guard.app_labels(scope.run.run_id, name)
        spec = pod_spec or (postgres.pod_spec() if kind == POSTGRES else file_pod_spec(scope.run.images.writer_image()))
        claims.refuse_premade(scope.clients, storage_class, f"the claim of {kind} StatefulSet {scope.namespace}/{name}")
        template = claims.claim_manifest(CLAIM, labels, size, storage_class)
        template.pop("apiVersion")
        template.pop("kind")
        body = statefulsets.manifest(name, labels, 1, spec, selector, name, [template],
                                     pod_management_policy="Parallel")
        statefulsets.create(scope.clients, scope.namespace, body)
        scope.cleanups.defer(f"delete StatefulSet {scope.namespace}/{name}",
                             lambda: statefulsets.delete(scope.clients, scope.namespace, name))
        db = Database(scope, kind, name, size, selector, storage_class)
        db.wait_ready()
        db.start_writing()
        scope.cleanups.defer(f"stop the writer of {name}", db.writer.stop)
        db.wait_records(records)
    return db
