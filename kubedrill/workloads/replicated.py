"""Replicated workloads (ReplicationController, Deployment) behind a Service, and their waits.

Their recovery waits watch the pods *and* the controller: a controller that reports it cannot
create pods (condition ReplicaFailure, e.g. FailedCreate on a quota) or a replacement stuck in a
state it never leaves (ErrImageNeverPull, ...) ends the wait at once with RecoveryFailed naming
the pods it waited for. That is a failure with a reason, not a timeout.
"""

from __future__ import annotations

from typing import Any

from kubedrill import guard
from kubedrill.errors import RecoveryFailed
from kubedrill.k8s import deployments, pods, replicationcontrollers, services
from kubedrill.k8s.common import condition
from kubedrill.k8s.services import ServiceInfo
from kubedrill.observe.measure import Instant, Recovery, Timeline
from kubedrill.scope import Scope
from kubedrill.observe.sources import MergedSource
from kubedrill.wait import ApiSource, Check, WaitResult, wait_for
from kubedrill.workloads.base import WEB_PORT, Workload, web_pod_spec

KINDS = ("ReplicationController", "Deployment")

# waiting reasons a container never leaves by itself (offline: an image never arrives)
STUCK_REASONS = frozenset({"ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError",
                           "CreateContainerError", "ErrImagePull", "ImagePullBackOff"})


def stuck_reason(obj: dict) -> str:
    """The reason a pod's container cannot start, when it is one it never leaves; else ""."""
    for c in (obj.get("status") or {}).get("containerStatuses") or []:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in STUCK_REASONS:
            return f"{waiting['reason']}" + (f" ({waiting.get('message', '')[:120]})" if waiting.get("message") else "")
    return ""


def replica_failure(obj: dict) -> str:
    """The controller's ReplicaFailure condition (reason: message) when True; else ""."""
    if condition(obj, "ReplicaFailure") != "True":
        return ""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "ReplicaFailure":
            return f"{c.get('reason', '')}: {c.get('message', '')}".strip(": ")
    return "ReplicaFailure"


def recovery_predicate(kind: str, name: str, want: int, excluding=frozenset(), waiting_for=(), owns=None):
    """Pods: ``want`` serving, none in ``excluding`` (with ``owns``: only the workload's own
    count); raises RecoveryFailed when the controller or a pod says it will not get there.
    ``waiting_for``: names of the pods being replaced."""
    base = pods.all_serving(want, excluding, owns)

    def check(items: list[dict]) -> Check:
        pod_objs = [o for o in items if o.get("kind", "Pod") == "Pod"
                    and (owns is None or owns(pods.info(o).owner_uid))]
        verdict = base(pod_objs)
        if verdict.done:
            return verdict
        problems = [f"{(o.get('metadata') or {}).get('name', '').split('/', 1)[-1]}: {r}"
                    for o in items if o.get("kind", "Pod") != "Pod" and (r := replica_failure(o))]
        problems += [f"pod {o['metadata']['name']}: {r}" for o in pod_objs
                     if (o.get("metadata") or {}).get("uid") not in excluding and (r := stuck_reason(o))]
        if problems:
            infos = [pods.info(o) for o in pod_objs]
            serving = sorted(p.name for p in infos if p.serving and p.uid not in excluding)
            other = sorted(f"{p.name} ({'terminating' if p.terminating else p.phase or 'Pending'})"
                           for p in infos if not p.serving and p.uid not in excluding)
            replaced = f"replacements of {', '.join(waiting_for)}" if waiting_for else f"{want} pods"
            raise RecoveryFailed(
                f"{kind} {name} cannot bring its pods back: waited for {replaced} "
                f"({verdict.summary}; Ready: {', '.join(serving) or 'none'}"
                + (f"; not Ready: {', '.join(other)}" if other else "") + "); "
                + "; ".join(problems))
        return verdict

    return check


class Replicated(Workload):
    """A ReplicationController or a Deployment of busybox httpd pods behind a ClusterIP Service."""

    def __init__(self, scope: Scope, kind: str, name: str, selector: dict[str, str], replicas: int,
                 service: ServiceInfo | None = None):
        super().__init__(scope, name, selector, replicas)
        self.kind = kind
        self.service = service

    def controller_source(self) -> ApiSource:
        c = self.scope.clients
        if self.kind == "ReplicationController":
            return ApiSource(c.core.list_namespaced_replication_controller, self.namespace,
                             field_selector=f"metadata.name={self.name}")
        return ApiSource(c.apps.list_namespaced_replica_set, self.namespace, label_selector=self.selector_string)

    def _source(self) -> MergedSource:
        return MergedSource({"Pod": pods.source(self.scope.clients, self.namespace, self.selector_string),
                             self.controller_kind: self.controller_source()})

    @property
    def controller_kind(self) -> str:
        return "ReplicationController" if self.kind == "ReplicationController" else "ReplicaSet"

    def _wait_serving(self, description: str, timeout_s: float, excluding=frozenset(),
                      on_event=None, waiting_for: tuple[str, ...] = ()) -> WaitResult:
        def pods_only(t: float, etype: str, obj: dict) -> None:
            if on_event is not None and obj.get("kind", "Pod") == "Pod":
                on_event(t, etype, obj)

        return wait_for(self._source(),
                        recovery_predicate(self.kind, self.name, self.replicas, excluding, waiting_for,
                                           self.owners.owns),
                        description=description, timeout_s=timeout_s, progress=self.scope.progress,
                        on_event=pods_only)

    def wait_restarted(self, after) -> Recovery:
        """After containers were killed in place: every replica Ready, the same pods (UIDs
        unchanged), each killed pod's restart count up by at least one. RTO includes the
        kubelet's back-off."""
        kill = after
        origin: Instant = kill.at
        before = dict(kill.restarts_before)
        marks: dict[str, tuple[float, str]] = {}

        def predicate(items: list[dict]) -> Check:
            infos = {p.uid: p for p in (pods.info(o) for o in items if o.get("kind", "Pod") == "Pod")}
            missing = [n for n, u in zip(kill.pods, kill.uid_order) if u not in infos]
            if missing:
                raise RecoveryFailed(f"{self.kind} {self.name}: pods {', '.join(missing)} were replaced "
                                     "(new UIDs), not restarted in place")
            restarted = [u for u in kill.uid_order if infos[u].restarts > before[u]]
            serving = [p for p in infos.values() if p.serving]
            done = len(restarted) == len(kill.uid_order) and len(serving) >= self.replicas and all(
                infos[u].serving for u in kill.uid_order)
            base = recovery_predicate(self.kind, self.name, self.replicas, frozenset(), kill.pods)
            if not done:
                base(items)  # raises when the controller or a pod says it will not get there
            return Check(done, f"{len(restarted)}/{len(kill.uid_order)} restarted, {len(serving)}/{self.replicas} Ready")

        def on_event(t: float, etype: str, obj: dict) -> None:
            if obj.get("kind", "Pod") != "Pod":
                return
            p = pods.info(obj)
            if p.uid in before:
                if not p.ready:
                    marks.setdefault("first NotReady", (t, p.name))
                if p.restarts > before[p.uid]:
                    marks.setdefault("container restarted", (t, f"{p.name} restarts {p.restarts}"))

        with self.scope.phase("recover"):
            result = wait_for(self._source(), predicate,
                              description=f"{self.kind.lower()} {self.name}: {len(kill.pods)} killed "
                                          f"container(s) restarted in place, {self.replicas} pods Ready",
                              timeout_s=self.scope.timeouts.recover_s, progress=self.scope.progress,
                              on_event=on_event)
        timeline = Timeline(origin).add("fault", origin.mono, kill.describe())
        for name, (t, detail) in marks.items():
            timeline = timeline.add(name, max(t, origin.mono), detail)
        timeline = timeline.add("Ready", result.satisfied_at, result.summary)
        recovery = Recovery(result.description, max(0.0, result.satisfied_at - origin.mono), timeline, result.summary)
        self.scope.run.results.append((self.scope.name, recovery))
        return recovery


def create(scope: Scope, kind: str, name: str = "web", replicas: int = 3,
           pod_spec: dict[str, Any] | None = None) -> Replicated:
    """Create a ReplicationController or Deployment and its Service; cleanups registered at
    once; wait until every replica is Ready."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    with scope.phase("deploy"):
        scope.guard.check_namespace(scope.namespace, f"create a {kind} in")
        labels, selector = guard.app_labels(scope.run.run_id, name)
        spec = pod_spec or web_pod_spec()
        c, ns = scope.clients, scope.namespace
        if kind == "ReplicationController":
            replicationcontrollers.create(c, ns, replicationcontrollers.manifest(name, labels, replicas, spec, selector))
            scope.cleanups.defer(f"delete replicationcontroller {ns}/{name}",
                                 lambda: replicationcontrollers.delete(c, ns, name))
        else:
            deployments.create(c, ns, deployments.manifest(name, labels, replicas, spec, selector))
            scope.cleanups.defer(f"delete deployment {ns}/{name}", lambda: deployments.delete(c, ns, name))
        svc = services.create(c, ns, services.manifest(name, labels, selector, WEB_PORT))
        scope.cleanups.defer(f"delete service {ns}/{name}", lambda: services.delete(c, ns, name))
        handle = Replicated(scope, kind, name, selector, replicas, svc)
        handle.wait_ready()
        return handle
