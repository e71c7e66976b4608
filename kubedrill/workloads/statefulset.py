"""The seed's database shape: a StatefulSet with a headless Service and a volumeClaimTemplate,
each pod holding records of the data oracle (kubedrill.data.oracle) on its own volume.

Records are written through exec with the oracle's writer (append, sync, then acknowledge):
what the writer acknowledged is what must come back. Each pod's records carry its name as the
writer's identity (the ordinal is in the name), and each pod's volume must hold its own: a
volume holding another pod's records fails with DataLost naming that pod. ``volume="emptyDir"``
builds the same StatefulSet with an emptyDir where the claim belongs: the broken variant whose
data must be found lost.

Two ways to use the records, one writer and one check underneath: ``write_records(pod, n)`` /
``verify_records(written)`` (any pod, DataLost with the oracle's description) and ``seed()`` /
``verify(seeded)`` (an ordinal, FaultFailed unless every record was acknowledged; DataLost
naming the file). Each verification records the RPO the data shows (acknowledged records
missing, and their seconds) in the run's results, before it raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubedrill import guard, pins
from kubedrill.data import inpod, oracle
from kubedrill.k8s import claims, pods, services, statefulsets
from kubedrill.k8s.common import selector_string
from kubedrill.errors import DataLost, ExecFailed, FaultFailed
from kubedrill.observe.measure import Disruption, Instant, Recovery, Rpo
from kubedrill.data.oracle import Report
from kubedrill.scope import Scope
from kubedrill.workloads.base import WEB_PORT, Workload, create_pdb, tolerations

DATA_DIR = "/data"
RECORDS = f"{DATA_DIR}/records"
VOLUMES = ("persistentVolumeClaim", "emptyDir")


@dataclass(frozen=True)
class Written:
    pod: str               # the pod whose volume holds the records
    acknowledged: int      # the writer's acknowledged sequence number (records 1..N)
    writer: str            # the identity stamped in each record (the pod's name)
    started: Instant       # when the writer began
    at: Instant            # when the last record was acknowledged

    @property
    def records(self) -> int:
        return self.acknowledged


Seeded = Written   # seed()'s records: the same thing


@dataclass(frozen=True)
class Verified:
    pod: str
    report: Report

    @property
    def records(self) -> int:
        return len(self.report.valid)


@dataclass(frozen=True)
class OrderedRecovery:
    """A recovery with the moment each ordinal became Ready (seconds after the fault)."""

    recovery: Recovery
    ready_after_s: tuple[tuple[str, float], ...]     # (pod, seconds), in the order they became Ready
    created_after_s: tuple[tuple[str, float], ...]   # (pod, seconds) the replacement was created


def pod_spec(image: str | None = None) -> dict[str, Any]:
    """busybox httpd on :8080 (Ready when it answers, periodSeconds 1) with the data volume."""
    return {
        "terminationGracePeriodSeconds": 2,
        "containers": [{
            "name": "db", "image": image or pins.shell_image(), "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", f"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p {WEB_PORT} -h /www"],
            "ports": [{"containerPort": WEB_PORT, "name": "http"}],
            "readinessProbe": {"httpGet": {"path": "/", "port": WEB_PORT},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
            "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
        }],
    }


def db_pod_spec(volume: str, toleration_s: int | None, image: str | None = None) -> dict[str, Any]:
    """The node-loss variant: an idle busybox pod with its own tolerationSeconds, whose /data
    is a PVC (``volume="pvc"``), or, broken on purpose, an emptyDir (``"emptyDir"``) or the
    container's own filesystem with the PVC mounted elsewhere (``"outside"``)."""
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 2,
        "tolerations": tolerations(toleration_s),
        "containers": [{
            "name": "db", "image": image or pins.shell_image(), "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"],
            "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
            "readinessProbe": {"exec": {"command": ["test", "-d", DATA_DIR]},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
        }],
    }
    if volume == "emptyDir":
        spec["volumes"] = [{"name": "data", "emptyDir": {}}]
    elif volume == "outside":
        container = spec["containers"][0]
        container["volumeMounts"] = [{"name": "data", "mountPath": "/claim"}]
        container["command"][-1] = f"mkdir -p {DATA_DIR}; " + container["command"][-1]
    elif volume != "pvc":
        raise ValueError(f"volume must be 'pvc', 'emptyDir' or 'outside', not {volume!r}")
    return spec


class StatefulSet(Workload):
    kind = "StatefulSet"
    container = "db"
    data_file = RECORDS

    def __init__(self, scope: Scope, name: str, selector: dict[str, str], replicas: int, volume: str):
        super().__init__(scope, name, selector, replicas)
        self.volume = volume
        self._lost = Rpo(0, 0.0)     # what this handle's verifications found lost, in all

    def pod_name(self, ordinal: int = 0) -> str:
        return f"{self.name}-{ordinal}"

    def pod_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}-{i}" for i in range(self.replicas))

    def claims(self) -> dict[str, str]:
        """pod name -> UID of its PVC (data-<pod>); empty for emptyDir."""
        by_name = {c.name: c.uid for c in claims.list_claims(self.scope.clients, self.namespace,
                                                              self.selector_string)}
        return {p: by_name[f"data-{p}"] for p in self.pod_names() if f"data-{p}" in by_name}

    def identities(self) -> dict[str, str]:
        """pod name -> pod UID (pods not being deleted)."""
        return {p.name: p.uid for p in self.pods() if not p.terminating}

    def write_records(self, pod: str, count: int, writer: str | None = None) -> Written:
        """Append ``count`` records of ``writer`` (default: the pod's own name) to the pod's
        volume with the oracle's writer (sync before acknowledging)."""
        s = self.scope
        who = writer or pod
        started = Instant.now()
        acked = inpod.write_records(s.clients, self.namespace, pod, self.data_file, count, self.container,
                                    s.timeouts.verify_s, writer=who)
        return Written(pod, acked, who, started, Instant.now())

    def read_records(self, pod: str) -> str:
        return inpod.read_records(self.scope.clients, self.namespace, pod, self.data_file, self.container,
                                  self.scope.timeouts.verify_s)

    def verify_records(self, written: Written) -> Verified:
        """Every acknowledged record back once, checksums valid, all stamped with the writer's
        identity; DataLost naming what is missing, duplicated, corrupt or another writer's."""
        report = self._check(written)
        if not report.ok:
            raise DataLost(report.describe())
        return Verified(written.pod, report)

    def seed(self, records: int = 20, ordinal: int = 0) -> Seeded:
        """Write ``records`` oracle records into the pod's /data (synced, then acknowledged),
        stamped with the pod's name; FaultFailed when fewer were acknowledged."""
        pod = self.pod_name(ordinal)
        try:
            written = self.write_records(pod, records)
        except ExecFailed as exc:   # the writer printed no acknowledgement: nothing was acknowledged
            raise FaultFailed(f"the writer acknowledged 0 of {records} records in {pod}: {exc}") from None
        if written.acknowledged < records:
            raise FaultFailed(f"the writer acknowledged {written.acknowledged} of {records} records in {pod}")
        self.scope.run.log(f"[{self.scope.name}] seeded {written.acknowledged} records of writer {written.writer} "
                           f"in {self.namespace}/{pod}:{self.data_file}")
        return written

    def verify(self, seeded: Seeded) -> Report:
        """Every acknowledged record is back, byte-exact, once, the pod's own; DataLost names
        what is wrong and where."""
        report = self._check(seeded)
        if not report.ok:
            raise DataLost(f"{report.describe()} in {self.namespace}/{seeded.pod}:{self.data_file} "
                           f"({seeded.acknowledged} acknowledged before the fault)")
        return report

    def _check(self, written: Written) -> Report:
        """The oracle's report on the pod's records against what was written (logged), and
        the RPO it shows added to the run's results (the scenario's total so far)."""
        s = self.scope
        report = oracle.verify(self.read_records(written.pod), expected_through=written.acknowledged,
                               writer=written.writer)
        s.run.log(f"[{s.name}] {written.pod}: {report.describe()}")
        lost = oracle.rpo(report, written.at.wall, written.started.wall)
        self._lost = Rpo(self._lost.records_lost + lost.records_lost,
                         max(self._lost.seconds_lost, lost.seconds_lost))
        s.run.results.append((s.name, self._lost))
        return report

    def wait_ordered_recovery(self, after: Disruption) -> OrderedRecovery:
        """wait_all_ready, noting when each replacement was created and became Ready."""
        killed = after.uids
        origin: Instant = after.at
        ready: dict[str, float] = {}
        created: dict[str, float] = {}

        def watch_order(t: float, etype: str, obj: dict) -> None:
            p = pods.info(obj)
            if p.uid in killed or etype == "DELETED" or p.terminating:
                return
            created.setdefault(p.name, t)
            if p.serving:
                ready.setdefault(p.name, t)

        def marks():
            # each replacement's creation and Ready on the timeline: an ordered recovery that is
            # slow shows which ordinal waited
            return ([(f"{n} created", t, "replacement created") for n, t in created.items()]
                    + [(f"{n} Ready", t, "serving") for n, t in ready.items()])

        recovery = self.wait_all_ready(after, watch_order, marks)
        order = tuple(sorted(((n, round(t - origin.mono, 3)) for n, t in ready.items()), key=lambda x: x[1]))
        made = tuple(sorted(((n, round(t - origin.mono, 3)) for n, t in created.items()), key=lambda x: x[1]))
        return OrderedRecovery(recovery, order, made)


def create(scope: Scope, name: str = "db", replicas: int = 3, volume: str = "persistentVolumeClaim",
           storage_class: str | None = None, size: str = "16Mi",
           pod_management_policy: str = "OrderedReady") -> StatefulSet:
    """A StatefulSet (headless Service first); cleanups registered at once; all pods Ready."""
    if volume not in VOLUMES:
        raise ValueError(f"volume must be one of {', '.join(VOLUMES)}, got {volume!r}")
    with scope.phase("deploy"):
        s, c, ns = scope, scope.clients, scope.namespace
        s.guard.check_namespace(ns, "create a statefulset in")
        labels, selector = guard.app_labels(s.run.run_id, name)
        svc = services.manifest(name, labels, selector, WEB_PORT, headless=True)
        services.create(c, ns, svc)
        s.cleanups.defer(f"delete service {ns}/{name}", lambda: services.delete(c, ns, name))
        spec = pod_spec()
        templates: list[dict[str, Any]] = []
        if volume == "emptyDir":
            spec["volumes"] = [{"name": "data", "emptyDir": {}}]
        else:
            claims.refuse_premade(c, storage_class, f"the claims of statefulset {ns}/{name}")
            claim_spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
            if storage_class:
                claim_spec["storageClassName"] = storage_class
            templates = [{"metadata": {"name": "data", "labels": labels}, "spec": claim_spec}]
        body = statefulsets.manifest(name, labels, replicas, spec, selector, name, templates, pod_management_policy)
        if templates:
            # registered before the create on purpose: it must run after the StatefulSet's delete
            # their volumes go once the pods have: awaited with the namespace (not here: nothing
            # is measured on them any more), by a scenario that runs alone and at the session's end
            s.cleanups.defer(f"delete the claims of statefulset {ns}/{name}",
                             lambda: claims.delete_claims(c, ns, selector_string(selector)))
        statefulsets.create(c, ns, body)
        s.cleanups.defer(f"delete statefulset {ns}/{name}", lambda: statefulsets.delete(c, ns, name))
        handle = StatefulSet(s, name, selector, replicas, volume)
        handle.wait_ready()
        return handle


def create_node_local(scope: Scope, name: str = "db", volume: str = "pvc",
                      toleration_s: int | None = None, size: str = "16Mi") -> StatefulSet:
    """A one-replica StatefulSet (no Service) whose /data is a node-local PVC (default class) or
    an emptyDir, with its own tolerationSeconds and a PodDisruptionBudget (maxUnavailable 1)."""
    with scope.phase("deploy"):
        scope.guard.check_namespace(scope.namespace, "create a statefulset in")
        labels, selector = guard.app_labels(scope.run.run_id, name)
        if volume != "emptyDir":
            claims.refuse_premade(scope.clients, None, f"the claim of statefulset {scope.namespace}/{name}")
        templates = [] if volume == "emptyDir" else [{
            "metadata": {"name": "data", "labels": labels},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}]
        body = statefulsets.manifest(name, labels, 1, db_pod_spec(volume, toleration_s), selector, name, templates)
        # the claims (and their node-local PVs) go after the StatefulSet, before the namespace
        scope.cleanups.defer(f"delete the claims of statefulset {scope.namespace}/{name}",
                             lambda: claims.delete_claims(scope.clients, scope.namespace, selector_string(selector)))
        statefulsets.create(scope.clients, scope.namespace, body)
        scope.cleanups.defer(f"delete statefulset {scope.namespace}/{name}",
                             lambda: statefulsets.delete(scope.clients, scope.namespace, name))
        create_pdb(scope, name, selector)
        handle = StatefulSet(scope, name, selector, 1, volume)
        handle.wait_ready()
    return handle
