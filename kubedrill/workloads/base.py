"""Sample workloads and the handle a scenario uses to observe them.

Every pod runs the pinned shell image (cluster/versions.env IMAGE_SHELL), pulled never:
imagePullPolicy IfNotPresent. Readiness probes are tight (periodSeconds 1) so that an RTO is
not rounded up to the kubelet's default ten seconds.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from kubedrill import guard, pins
from kubedrill.k8s import deployments, nodes, owners, poddisruptionbudgets, pods
from kubedrill.k8s.common import selector_string
from kubedrill.observe.measure import Disruption, Instant, Recovery, Timeline
from kubedrill.scope import Scope
from kubedrill.wait import OnEvent, WaitResult, wait_for

WEB_PORT = 8080


def tolerations(seconds: int | None) -> list[dict[str, Any]]:
    """How long a pod stays bound to a not-ready or unreachable node (None: Kubernetes' 300 s)."""
    if seconds is None:
        return []
    return [{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": int(seconds)}
            for key in (nodes.NOT_READY, nodes.UNREACHABLE)]


def spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Spread replicas across nodes when possible (soft: replacements may all go to one node)."""
    return [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": selector}}]


def web_pod_spec(image: str | None = None) -> dict[str, Any]:
    """busybox httpd serving its pod name on :8080, Ready as soon as it answers."""
    return {
        "terminationGracePeriodSeconds": 2,
        "containers": [{
            "name": "web",
            "image": image or pins.shell_image(),
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c",
                        "mkdir -p /www && hostname > /www/index.html && "
                        f"exec httpd -f -p {WEB_PORT} -h /www"],
            "ports": [{"containerPort": WEB_PORT, "name": "http"}],
            "readinessProbe": {"httpGet": {"path": "/", "port": WEB_PORT},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
        }],
    }


class Workload:
    """A running workload (pods selected by labels) and the waits a scenario needs."""

    kind = "Workload"

    def __init__(self, scope: Scope, name: str, selector: dict[str, str], replicas: int):
        self.scope = scope
        self.name = name
        self.namespace = scope.namespace
        self.selector = selector
        self.replicas = replicas
        self._owners: owners.Owners | None = None

    @property
    def owners(self) -> owners.Owners:
        """Which pods are this workload's: those its controller (or, for a Deployment, its
        ReplicaSets) owns. A pod that only matches the selector is not."""
        if self._owners is None:
            self._owners = owners.Owners(self.scope.clients, self.namespace, self.kind, self.name)
        return self._owners

    @property
    def selector_string(self) -> str:
        return selector_string(self.selector)

    def __repr__(self) -> str:
        return f"{self.kind}({self.namespace}/{self.name}, replicas={self.replicas})"

    # --- probes -------------------------------------------------------------------------
    def pods(self) -> tuple[pods.PodInfo, ...]:
        """The workload's own pods (by ownerReference): the only ones a fault may choose."""
        return tuple(p for p in self._selected() if self.owners.owns(p.owner_uid))

    def foreign_pods(self) -> tuple[pods.PodInfo, ...]:
        """Pods that match the workload's selector without being its own: reported, never touched."""
        return tuple(p for p in self._selected() if not self.owners.owns(p.owner_uid))

    def _selected(self) -> tuple[pods.PodInfo, ...]:
        return pods.list_pods(self.scope.clients, self.namespace, self.selector_string)

    def pod_uids(self) -> frozenset[str]:
        """UIDs of the pods that exist now and are not being deleted."""
        return frozenset(p.uid for p in self.pods() if not p.terminating)

    def ready_count(self) -> int:
        return sum(1 for p in self.pods() if p.serving)

    # --- waits --------------------------------------------------------------------------
    def _wait_serving(self, description: str, timeout_s: float, excluding=frozenset(),
                      on_event=None, waiting_for: tuple[str, ...] = ()) -> WaitResult:
        return wait_for(pods.source(self.scope.clients, self.namespace, self.selector_string),
                        pods.all_serving(self.replicas, excluding, self.owners.owns), description=description,
                        timeout_s=timeout_s, progress=self.scope.progress, on_event=on_event)

    def wait_ready(self) -> WaitResult:
        """Wait after create: every replica Ready (phase: deploying)."""
        return self._wait_serving(f"{self.kind.lower()} {self.name}: {self.replicas} pods Ready",
                                  self.scope.timeouts.deploy_s)

    def wait_all_ready(self, after: Disruption | None = None, on_event: OnEvent | None = None,
                       extra_marks: Callable[[], Iterable[tuple[str, float, str]]] | None = None) -> Recovery:
        """Wait until every replica is Ready again, none of them a pod the fault killed.

        RTO runs from the fault's moment (``after.at``) to the watch event that made the
        condition true. The timeline marks: fault, first NotReady (a killed pod terminating or
        gone), replacement scheduled, Ready, then the caller's own: ``on_event`` sees every
        watch event, and ``extra_marks()`` (name, monotonic moment, detail), read once the wait
        is over, go on the timeline before the recovery is recorded.
        """
        killed = after.uids if after is not None else frozenset()
        before = (after.before if after is not None else frozenset()) | killed
        origin = after.at if after is not None else Instant.now()
        marks: dict[str, tuple[float, str]] = {}

        def note(t: float, etype: str, obj: dict) -> None:
            p = pods.info(obj)
            if p.uid in killed:
                if etype == "DELETED" or p.terminating or not p.ready:
                    marks.setdefault("first NotReady", (t, p.name))
            elif before and p.uid not in before and p.node:
                marks.setdefault("replacement scheduled", (t, f"{p.name} on {p.node}"))
            if on_event is not None:
                on_event(t, etype, obj)

        with self.scope.phase("recover"):
            result = self._wait_serving(
                f"{self.kind.lower()} {self.name}: {self.replicas} pods Ready"
                + (f", none of the {len(killed)} killed" if killed else ""),
                self.scope.timeouts.recover_s, killed, note, after.pods if after is not None else ())
        if killed and "first NotReady" not in marks:
            # the killed pods were gone before the watch began: the earliest we can say is then
            marks["first NotReady"] = (result.started_at, "killed pods already gone")
        timeline = Timeline(origin).add("fault", origin.mono, after.describe() if after is not None else "")
        for name, (t, detail) in marks.items():
            timeline = timeline.add(name, max(t, origin.mono), detail)
        timeline = timeline.add("Ready", result.satisfied_at, result.summary)
        for name, t, detail in (extra_marks() if extra_marks is not None else ()):
            timeline = timeline.add(name, t, detail)
        recovery = Recovery(result.description, max(0.0, result.satisfied_at - origin.mono),
                            timeline, result.summary)
        self.scope.run.results.append((self.scope.name, recovery))
        return recovery


class Deployment(Workload):
    kind = "Deployment"


def create_deployment(scope: Scope, name: str = "web", replicas: int = 3,
                      pod_spec: dict[str, Any] | None = None) -> Deployment:
    """Create a Deployment in the scope's namespace, register its cleanup, wait Ready."""
    with scope.phase("deploy"):
        return _create_deployment(scope, name, replicas, pod_spec)


def _create_deployment(scope: Scope, name: str, replicas: int, pod_spec: dict[str, Any] | None,
                       wait: bool = True) -> Deployment:
    scope.guard.check_namespace(scope.namespace, "create a deployment in")
    labels, selector = guard.app_labels(scope.run.run_id, name)
    body = deployments.manifest(name, labels, replicas, pod_spec or web_pod_spec(), selector)
    deployments.create(scope.clients, scope.namespace, body)
    scope.cleanups.defer(f"delete deployment {scope.namespace}/{name}",
                         lambda: deployments.delete(scope.clients, scope.namespace, name))
    handle = Deployment(scope, name, selector, replicas)
    if wait:
        handle.wait_ready()
    return handle


def create_pdb(scope: Scope, name: str, selector: dict[str, str], max_unavailable: int = 1) -> None:
    """A PodDisruptionBudget over ``selector`` (deleted at cleanup): what a drain must respect."""
    body = poddisruptionbudgets.manifest(name, guard.labels(scope.run.run_id), selector, max_unavailable)
    poddisruptionbudgets.create(scope.clients, scope.namespace, body)
    scope.cleanups.defer(f"delete PodDisruptionBudget {scope.namespace}/{name}",
                         lambda: poddisruptionbudgets.delete(scope.clients, scope.namespace, name))


def create_spread_deployment(scope: Scope, name: str, replicas: int, toleration_s: int | None) -> Deployment:
    """A web Deployment spread over the workers, with its own tolerationSeconds and a PDB
    (maxUnavailable 1) that a drain must respect."""
    with scope.phase("deploy"):
        spec = web_pod_spec()
        spec["tolerations"] = tolerations(toleration_s)
        _, selector = guard.app_labels(scope.run.run_id, name)
        spec["topologySpreadConstraints"] = spread(selector)
        handle = _create_deployment(scope, name, replicas, spec, wait=False)
        create_pdb(scope, name, selector)
        handle.wait_ready()
    return handle
