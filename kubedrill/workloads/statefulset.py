"""The seed's database shape: a StatefulSet with a headless Service and a volumeClaimTemplate,
each pod holding records of the data oracle (kubedrill.data.oracle) on its own volume.

Records are written through exec with the oracle's writer (append, sync, then acknowledge):
what the writer acknowledged is what must come back. ``volume="emptyDir"`` builds the same
StatefulSet with an emptyDir where the claim belongs: the broken variant whose data must be
found lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubedrill import guard, pins
from kubedrill.data import inpod, oracle
from kubedrill.k8s import claims, pods, services, statefulsets
from kubedrill.k8s.common import selector_string
from kubedrill.errors import DataLost, ExecFailed, FaultFailed
from kubedrill.observe.measure import Disruption, Instant, Recovery
from kubedrill.data.oracle import Report
from kubedrill.scope import Scope
from kubedrill.workloads.base import WEB_PORT, Workload, create_pdb, tolerations

DATA_DIR = "/data"
RECORDS = f"{DATA_DIR}/records"
VOLUMES = ("persistentVolumeClaim", "emptyDir")


@dataclass(frozen=True)
class Written:
    pod: str
    acknowledged: int      # the writer's acknowledged sequence number (records 1..N)


@dataclass(frozen=True)
class Verified:
    pod: str
    report: Report

    @property
    def records(self) -> int:
        return len(self.report.valid)


@dataclass(frozen=True)
class Seeded:
    pod: str
    records: int


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
    is a PVC (``volume="pvc"``) or an emptyDir (the broken one)."""
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
    elif volume != "pvc":
        raise ValueError(f"volume must be 'pvc' or 'emptyDir', not {volume!r}")
    return spec


class StatefulSet(Workload):
    kind = "StatefulSet"
    container = "db"
    data_file = RECORDS

    def __init__(self, scope: Scope, name: str, selector: dict[str, str], replicas: int, volume: str):
        super().__init__(scope, name, selector, replicas)
        self.volume = volume

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

    def write_records(self, pod: str, count: int) -> Written:
        """Append ``count`` records with the oracle's writer (sync before acknowledging)."""
        s = self.scope
        return Written(pod, inpod.write_records(s.clients, self.namespace, pod, RECORDS, count,
                                                timeout_s=s.timeouts.verify_s))

    def read_records(self, pod: str) -> str:
        return inpod.read_records(self.scope.clients, self.namespace, pod, RECORDS,
                                  timeout_s=self.scope.timeouts.verify_s)

    def verify_records(self, written: Written) -> Verified:
        """Every acknowledged record back, checksums valid; DataLost naming the missing range."""
        return Verified(written.pod, oracle.check(self.read_records(written.pod), written.acknowledged))

    def seed(self, records: int = 20, ordinal: int = 0) -> Seeded:
        """Write ``records`` oracle records into the pod's /data (synced, then acknowledged);
        FaultFailed when fewer were acknowledged."""
        s = self.scope
        pod = self.pod_name(ordinal)
        try:
            acked = inpod.write_records(s.clients, self.namespace, pod, self.data_file, records, self.container,
                                        s.timeouts.verify_s)
        except ExecFailed:   # the writer printed no acknowledgement: nothing was acknowledged
            acked = 0
        if acked < records:
            raise FaultFailed(f"the writer acknowledged {acked} of {records} records in {pod}")
        s.run.log(f"[{s.name}] seeded {acked} records in {self.namespace}/{pod}:{self.data_file}")
        return Seeded(pod, acked)

    def verify(self, seeded: Seeded) -> Report:
        """Every acknowledged record is back, byte-exact; DataLost names what is missing."""
        s = self.scope
        text = inpod.read_records(s.clients, self.namespace, seeded.pod, self.data_file, self.container,
                                  s.timeouts.verify_s)
        report = oracle.verify(text, expected_through=seeded.records)
        s.run.log(f"[{s.name}] {seeded.pod}: {report.describe()}")
        if not report.ok:
            raise DataLost(f"{report.describe()} in {self.namespace}/{seeded.pod}:{self.data_file} "
                           f"({seeded.records} acknowledged before the fault)")
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
            claim_spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
            if storage_class:
                claim_spec["storageClassName"] = storage_class
            templates = [{"metadata": {"name": "data", "labels": labels}, "spec": claim_spec}]
        body = statefulsets.manifest(name, labels, replicas, spec, selector, name, templates, pod_management_policy)
        if templates:
            # registered before the create on purpose: it must run after the StatefulSet's delete
            s.cleanups.defer(f"delete the claims of statefulset {ns}/{name} and wait for their volumes",
                             lambda: claims.delete_claims_and_wait(c, ns, selector_string(selector), s.timeouts.delete_s, s.progress))
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
        templates = [] if volume == "emptyDir" else [{
            "metadata": {"name": "data", "labels": labels},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}]
        body = statefulsets.manifest(name, labels, 1, db_pod_spec(volume, toleration_s), selector, name, templates)
        # the claims (and their node-local PVs) go after the StatefulSet, before the namespace
        scope.cleanups.defer(f"delete the claims of statefulset {scope.namespace}/{name}",
                             lambda: claims.delete_claims_and_wait(scope.clients, scope.namespace, selector_string(selector),
                                                                   scope.timeouts.delete_s, scope.progress))
        statefulsets.create(scope.clients, scope.namespace, body)
        scope.cleanups.defer(f"delete statefulset {scope.namespace}/{name}",
                             lambda: statefulsets.delete(scope.clients, scope.namespace, name))
        create_pdb(scope, name, selector)
        handle = StatefulSet(scope, name, selector, 1, volume)
        handle.wait_ready()
    return handle
