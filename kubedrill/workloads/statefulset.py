"""The seed's database shape: a StatefulSet with a headless Service and a volumeClaimTemplate,
each pod holding records of the data oracle (kubedrill.data.oracle) on its own volume.

Records are written through exec with the oracle's writer (append, sync, then acknowledge):
what the writer acknowledged is what must come back. ``volume="emptyDir"`` builds the same
StatefulSet with an emptyDir where the claim belongs: the broken variant whose data must be
found lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kubedrill import guard, pins
from kubedrill.data import oracle
from kubedrill.k8s.execclient import for_exec
from kubedrill.k8s.podexec import ExecFailed
from kubedrill.k8s import claims, podexec, pods, services, statefulsets
from kubedrill.k8s.common import selector_string
from kubedrill.observe.measure import Instant, Recovery
from kubedrill.data.oracle import Report
from kubedrill.scope import Scope
from kubedrill.workloads.base import WEB_PORT, Workload

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


class StatefulSet(Workload):
    kind = "StatefulSet"

    def __init__(self, scope: Scope, name: str, selector: dict[str, str], replicas: int, volume: str):
        super().__init__(scope, name, selector, replicas)
        self.volume = volume

    def pod_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}-{i}" for i in range(self.replicas))

    def claims(self) -> dict[str, str]:
        """pod name -> UID of its PVC (data-<pod>); empty for emptyDir."""
        items = self.scope.clients.core.list_namespaced_persistent_volume_claim(
            self.namespace, label_selector=self.selector_string).items
        by_name = {c.metadata.name: c.metadata.uid for c in items}
        return {p: by_name[f"data-{p}"] for p in self.pod_names() if f"data-{p}" in by_name}

    def identities(self) -> dict[str, str]:
        """pod name -> pod UID (pods not being deleted)."""
        return {p.name: p.uid for p in self.pods() if not p.terminating}

    def write_records(self, pod: str, count: int) -> Written:
        """Append ``count`` records with the oracle's writer (sync before acknowledging)."""
        s = self.scope
        script = f"DATA={RECORDS} COUNT={int(count)} INTERVAL=0; export DATA COUNT INTERVAL\n{oracle.WRITER_SH}\ncat {RECORDS}.ack"
        res = podexec.run(for_exec(s.clients), self.namespace, pod, ["sh", "-c", script], timeout_s=s.timeouts.verify_s)
        try:
            ack = int(res.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise ExecFailed(f"writer in {pod} acknowledged nothing readable: {res.stdout[-200:]!r}") from None
        return Written(pod, ack)

    def read_records(self, pod: str) -> str:
        s = self.scope
        res = podexec.run(for_exec(s.clients), self.namespace, pod, ["sh", "-c", f"cat {RECORDS} 2>/dev/null || true"],
                          timeout_s=s.timeouts.verify_s)
        return res.stdout

    def verify_records(self, written: Written) -> Verified:
        """Every acknowledged record back, checksums valid; DataLost naming the missing range."""
        return Verified(written.pod, oracle.check(self.read_records(written.pod), written.acknowledged))

    def _wait_serving(self, description, timeout_s, excluding=frozenset(), on_event=None):
        observer = self._observer

        def both(t: float, etype: str, obj: dict) -> None:
            if observer is not None:
                observer(t, etype, obj)
            if on_event is not None:
                on_event(t, etype, obj)

        return super()._wait_serving(description, timeout_s, excluding, both)

    _observer = None

    def wait_ordered_recovery(self, after) -> OrderedRecovery:
        """wait_all_ready, noting when each replacement was created and became Ready."""
        killed = frozenset(getattr(after, "uids", frozenset()))
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

        self._observer = watch_order
        try:
            recovery = self.wait_all_ready(after)
        finally:
            self._observer = None
        # each replacement's creation and Ready on the timeline: an ordered recovery that is slow
        # shows which ordinal waited
        timeline = recovery.timeline
        for n, t in created.items():
            timeline = timeline.add(f"{n} created", t, "replacement created")
        for n, t in ready.items():
            timeline = timeline.add(f"{n} Ready", t, "serving")
        marked = replace(recovery, timeline=timeline)
        self.scope.run.replace_result(self.scope.name, recovery, marked)
        recovery = marked
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
