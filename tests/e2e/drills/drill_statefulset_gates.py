"""The StatefulSet of the ordered-recovery drills: the scenario's StatefulSet (the same pod, its
claim template, its headless Service), but with ``podManagementPolicy: Parallel`` and pods that,
once armed, start only when a peer lets them: the order of creation and of readiness is then
decided by the pods, step by step, not by timing.

Arming: once the StatefulSet is Ready, a file ``/data/armed`` is put in each pod's volume; the
pods that start afterwards (the replacements, after the fault: the volume is kept) find it. An
armed pod listens on :8082 at once (seen through ``db-1-up``, a Service that lists pods that are
not Ready), waits for its gate (per ordinal, the URL of a peer's Service by cluster IP, polled
with ``timeout 1 wget`` as the prober does: this busybox's ``wget -T`` crashes), then listens on
:8081 (seen through ``db-0-ready`` / ``db-1-ready``, Services of Ready pods only) and serves
:8080, its readiness probe. The pods before the fault never listened on :8081 or :8082, so no
stale endpoint of a killed pod can open a gate. No scenario of its own: the drills import
``create``.
"""

from __future__ import annotations

from kubedrill import guard
from kubedrill.k8s import claims, podexec, services, statefulsets
from kubedrill.k8s.common import selector_string
from kubedrill.k8s.execclient import for_exec
from kubedrill.scope import Scope
from kubedrill.workloads import statefulset as stateful
from kubedrill.workloads.base import WEB_PORT

POD_NAME = "statefulset.kubernetes.io/pod-name"
ARMED = f"{stateful.DATA_DIR}/armed"
READY_PORT, UP_PORT = 8081, 8082

SCRIPT = f"""mkdir -p /www && hostname > /www/index.html
gate() {{ [ -z "$1" ] || until timeout 1 wget -q -O /dev/null "$1"; do sleep 0.2; done; }}
if [ -e {ARMED} ]; then
  httpd -p {UP_PORT} -h /www
  case "$(hostname)" in *-0) gate "$GATE_0" ;; *-1) gate "$GATE_1" ;; esac
  httpd -p {READY_PORT} -h /www
fi
exec httpd -f -p {WEB_PORT} -h /www
"""

# what a gate waits for: the peer of this incarnation exists (db-1-up) / is Ready (db-N-ready)
DB_1_UP, DB_0_READY, DB_1_READY = "db-1-up", "db-0-ready", "db-1-ready"
GATES = ((DB_1_UP, "db-1", UP_PORT, True), (DB_0_READY, "db-0", READY_PORT, False),
         (DB_1_READY, "db-1", READY_PORT, False))


def _service(scope: Scope, name: str, pod: str, port: int, not_ready_too: bool, selector: dict) -> str:
    """A Service of one ordinal's pod; its URL by cluster IP (no name to resolve)."""
    body = services.manifest(name, guard.labels(scope.run.run_id), {**selector, POD_NAME: pod}, port)
    body["spec"]["publishNotReadyAddresses"] = not_ready_too
    made = services.create(scope.clients, scope.namespace, body)
    scope.cleanups.defer(f"delete service {scope.namespace}/{name}",
                         lambda: services.delete(scope.clients, scope.namespace, name))
    return made.url


def create(scope: Scope, gate_0: str = "", gate_1: str = "") -> stateful.StatefulSet:
    """db (two replicas, Parallel) whose armed db-0 waits for the Service ``gate_0`` to answer
    and db-1 for ``gate_1`` (names of GATES; "": no gate)."""
    s, c, ns, name = scope, scope.clients, scope.namespace, "db"
    with s.phase("deploy"):
        s.guard.check_namespace(ns, "create a statefulset in")
        labels, selector = guard.app_labels(s.run.run_id, name)
        services.create(c, ns, services.manifest(name, labels, selector, WEB_PORT, headless=True))
        s.cleanups.defer(f"delete service {ns}/{name}", lambda: services.delete(c, ns, name))
        urls = {gate: _service(s, gate, pod, port, not_ready, selector) for gate, pod, port, not_ready in GATES}
        spec = stateful.pod_spec()
        (container,) = spec["containers"]
        container["command"] = ["sh", "-c", SCRIPT]
        container["env"] = [{"name": "GATE_0", "value": urls.get(gate_0, "")},
                            {"name": "GATE_1", "value": urls.get(gate_1, "")}]
        templates = [{"metadata": {"name": "data", "labels": labels},
                      "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}}]
        body = statefulsets.manifest(name, labels, 2, spec, selector, name, templates, "Parallel")
        s.cleanups.defer(f"delete the claims of statefulset {ns}/{name} and wait for their volumes",
                         lambda: claims.delete_claims_and_wait(c, ns, selector_string(selector), s.timeouts.delete_s,
                                                               s.progress))
        statefulsets.create(c, ns, body)
        s.cleanups.defer(f"delete statefulset {ns}/{name}", lambda: statefulsets.delete(c, ns, name))
        handle = stateful.StatefulSet(s, name, selector, 2, "persistentVolumeClaim")
        handle.wait_ready()
        for pod in handle.pod_names():
            podexec.run(for_exec(c), ns, pod, ["touch", ARMED], container=handle.container,
                        timeout_s=s.timeouts.verify_s)
        s.run.log(f"[{s.name}] armed {', '.join(handle.pod_names())}: their replacements start in the gates' order")
    return handle
