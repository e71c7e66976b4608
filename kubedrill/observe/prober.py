"""The availability prober: what clients see during a fault.

A pod of the prober image (the run's ``images.prober``: the pinned shell image unless
--prober-image gives another) inside the cluster sends one HTTP GET to the workload's
Service every ``interval_s`` (each bounded by ``timeout 1 wget``), and prints one line per
request: ``<uptime seconds> <1|0>``. It is bounded three ways: it stops when told (a file,
through exec), by itself after ``max_s``, and the pod's activeDeadlineSeconds ends it in any
case. Its results are read from the pod's log once it has stopped: the success ratio and the
longest outage (from the first failed request to the next successful one), as a frozen
ProbeResult. A prober pod that cannot get its image ends its start at once (ImageUnavailable,
naming the image and the kubelet's reason), not at the deploy deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import guard
from kubedrill.k8s.execclient import for_exec
from kubedrill.errors import ExecFailed
from kubedrill.k8s import podexec, pods
from kubedrill.k8s.common import ignore_not_found
from kubedrill.scope import Scope
from kubedrill.wait import ApiSource, Check, wait_for

PROBER_SH = r'''
read up _ < /proc/uptime; end=$(( ${up%.*} + MAX_S ))
while [ ! -f /tmp/stop ]; do
  read up _ < /proc/uptime
  [ "${up%.*}" -ge "$end" ] && { echo "deadline"; break; }
  if timeout 1 wget -q -O /dev/null "$URL" 2>/dev/null; then echo "$up 1"; touch /tmp/ok; else echo "$up 0"; fi
  usleep "$INTERVAL_US"
done
echo "stopped"
'''


@dataclass(frozen=True)
class Outage:
    start_s: float     # seconds since the first request
    length_s: float
    failed_requests: int


@dataclass(frozen=True)
class ProbeResult:
    target: str
    requests: int
    successes: int
    window_s: float                 # first request to last request
    longest_outage_s: float
    outages: tuple[Outage, ...]
    ended_by: str                   # "stopped" or "deadline"

    @property
    def failures(self) -> int:
        return self.requests - self.successes

    @property
    def success_ratio(self) -> float:
        return self.successes / self.requests if self.requests else 0.0

    def describe(self) -> str:
        return (f"{self.successes}/{self.requests} requests succeeded ({self.success_ratio:.1%}) over "
                f"{self.window_s:.1f}s; longest outage {self.longest_outage_s:.2f}s "
                f"({len(self.outages)} outage(s))")

    def as_dict(self) -> dict:
        return {"target": self.target, "requests": self.requests, "successes": self.successes,
                "success_ratio": round(self.success_ratio, 4), "window_s": round(self.window_s, 3),
                "longest_outage_s": round(self.longest_outage_s, 3), "outages": len(self.outages),
                "ended_by": self.ended_by}


def parse(log: str, target: str = "") -> ProbeResult:
    """Read the prober's log. An outage runs from its first failed request to the next
    successful one (to the last request when none followed)."""
    samples: list[tuple[float, bool]] = []
    ended_by = "unknown"
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("0", "1"):
            try:
                samples.append((float(parts[0]), parts[1] == "1"))
            except ValueError:
                continue
        elif parts and parts[0] in ("stopped", "deadline"):
            ended_by = parts[0]
    if not samples:
        return ProbeResult(target, 0, 0, 0.0, 0.0, (), ended_by)
    t0 = samples[0][0]
    outages: list[Outage] = []
    start: float | None = None
    failed = 0
    for t, ok in samples:
        if not ok:
            if start is None:
                start, failed = t, 0
            failed += 1
        elif start is not None:
            outages.append(Outage(round(start - t0, 3), round(t - start, 3), failed))
            start = None
    if start is not None:
        outages.append(Outage(round(start - t0, 3), round(samples[-1][0] - start, 3), failed))
    return ProbeResult(target, len(samples), sum(1 for _, ok in samples if ok),
                       round(samples[-1][0] - t0, 3), max((o.length_s for o in outages), default=0.0),
                       tuple(outages), ended_by)


class Probe:
    """A running prober pod. ``stop()`` ends it and returns its ProbeResult."""

    def __init__(self, scope: Scope, pod: str, target: str):
        self.scope = scope
        self.pod = pod
        self.target = target
        self.result: ProbeResult | None = None

    def peek(self) -> ProbeResult:
        """The figures so far, from the log of the prober still running."""
        s = self.scope
        return parse(_log(s.clients, s.namespace, self.pod), self.target)

    def stop(self) -> ProbeResult:
        s = self.scope
        try:
            podexec.run(for_exec(s.clients), s.namespace, self.pod, ["touch", "/tmp/stop"], timeout_s=s.timeouts.api_s)
        except ExecFailed:
            pass  # already ended by its deadline: its log says so
        done = wait_for(ApiSource(s.clients.core.list_namespaced_pod, s.namespace,
                                  field_selector=f"metadata.name={self.pod}"),
                        _ended, description=f"prober {self.pod} to stop", timeout_s=s.timeouts.verify_s,
                        progress=s.progress)
        del done
        self.result = parse(_log(s.clients, s.namespace, self.pod), self.target)
        s.run.log(f"[{s.name}] availability of {self.target}: {self.result.describe()}")
        return self.result


def _log(clients, namespace: str, pod: str) -> str:
    # raw bytes: the client's own decoding turns a log into the repr of its bytes
    resp = clients.core.read_namespaced_pod_log(pod, namespace, _preload_content=False)
    return resp.data.decode(errors="replace")


def _ended(items: list[dict]) -> Check:
    if not items:
        return Check(False, "prober pod gone")
    phase = (items[0].get("status") or {}).get("phase", "")
    return Check(phase in ("Succeeded", "Failed"), phase or "Pending")


def pod(name: str, labels: dict[str, str], image: str, url: str, interval_s: float, max_s: int) -> dict:
    """The prober's pod: ``image`` pulled IfNotPresent (a preloaded one is used as it is)."""
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
        "spec": {
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "activeDeadlineSeconds": max_s + 60,
            "containers": [{
                "name": "prober", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", PROBER_SH],
                "env": [{"name": "URL", "value": url}, {"name": "MAX_S", "value": str(int(max_s))},
                        {"name": "INTERVAL_US", "value": str(int(interval_s * 1_000_000))}],
                "readinessProbe": {"exec": {"command": ["test", "-f", "/tmp/ok"]},
                                   "periodSeconds": 1, "failureThreshold": 1},
            }],
        },
    }


def start(scope: Scope, url: str, name: str = "prober", interval_s: float = 0.1, max_s: int = 300) -> Probe:
    """Start a prober against ``url`` (e.g. a ServiceInfo.url); cleanup registered at once;
    returns once its first request has succeeded (the pod is Ready). ImageUnavailable as soon as
    its pod cannot get the prober image."""
    s = scope
    s.guard.check_namespace(s.namespace, "start a prober in")
    labels = {**guard.app_labels(s.run.run_id, name)[0], "app.kubernetes.io/component": "prober"}
    body = pod(name, labels, s.run.images.prober_image(), url, interval_s, max_s)
    s.clients.core.create_namespaced_pod(s.namespace, body)
    s.cleanups.defer(f"delete prober pod {s.namespace}/{name}",
                     lambda: ignore_not_found(s.clients.core.delete_namespaced_pod, name, s.namespace,
                                              grace_period_seconds=0))
    wait_for(pods.source(s.clients, s.namespace, f"app.kubernetes.io/name={name}"),
             pods.serving_with_image(1, "prober pod"),
             description=f"prober {name} answering from {url}", timeout_s=s.timeouts.deploy_s, progress=s.progress)
    return Probe(s, name, url)
