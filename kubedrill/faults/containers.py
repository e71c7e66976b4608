"""A container killed in place, as an OOM kill or a crash would: the pod stays (same UID); the
kubelet restarts the container (restart count up by one, after its back-off). Guarded
(namespace, run label) and journalled first. Two methods:

- ``runtime`` (the local kind cluster): SIGKILL to the container's task through the node's
  container runtime (containerd's ``ctr`` inside the kind node, reached with docker).
- ``exec`` (any other cluster): through the pod's exec subresource, the container's main process
  (PID 1 of its PID namespace) is sent the first of TERM, INT, QUIT it handles. The kernel
  delivers to a namespace's PID 1 only the signals it has a handler for (SIGKILL from inside is
  ignored), so where PID 1 handles none of them (busybox httpd, for one), or where PID 1 is not the
  container's own (hostPID, a shared process namespace), the kill is not possible:
  ``unavailable(CAPABILITY, reason)`` says so (NotApplicable unless the caller decides otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, NoReturn

from kubedrill import docker, journal
from kubedrill.errors import ExecFailed, FaultFailed, NotApplicable
from kubedrill.faults.targets import choose_count, report_foreign
from kubedrill.k8s import podexec
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope

CAPABILITY = "container-kill"
RUNTIME, EXEC = "runtime", "exec"
# signals whose handler ends a process by convention, in the order the exec method tries them
EXIT_SIGNALS = (("TERM", 15), ("INT", 2), ("QUIT", 3))

Unavailable = Callable[[str, str], NoReturn]


@dataclass(frozen=True)
class ContainerKill:
    namespace: str
    workload: str
    pods: tuple[str, ...]
    uid_order: tuple[str, ...]                       # UIDs, in the order of ``pods``
    restarts_before: tuple[tuple[str, int], ...]     # (uid, restart count) just before the kill
    containers: tuple[str, ...]                      # runtime container ids killed
    at: Instant
    seed: int
    method: str = RUNTIME                            # runtime (SIGKILL through the node) or exec
    signal: str = "KILL"

    @property
    def uids(self) -> frozenset[str]:
        return frozenset(self.uid_order)

    @property
    def count(self) -> int:
        return len(self.pods)

    def describe(self) -> str:
        how = "SIGKILL through the node's runtime" if self.method == RUNTIME else f"SIG{self.signal} to PID 1 through exec"
        return f"killed the container of {self.count} pod(s) of {self.workload} in place ({how}): {', '.join(self.pods)}"


@dataclass(frozen=True)
class Target:
    """One pod's container to kill: its name, its runtime id and how its processes are seen."""

    pod: str
    container: str
    container_id: str        # runtime://id
    host_pid: bool
    shared_pids: bool
    restarts: int = 0        # this container's restart count when it was chosen

    @property
    def runtime(self) -> str:
        return self.container_id.partition("://")[0]

    @property
    def runtime_id(self) -> str:
        return self.container_id.partition("://")[2]


def caught_signals(status: str) -> frozenset[int]:
    """The signals a process handles, from its ``/proc/<pid>/status`` (SigCgt: a hex mask)."""
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            mask = int(line.split(":", 1)[1].strip(), 16)
            return frozenset(n for n in range(1, 65) if mask >> (n - 1) & 1)
    raise ValueError("no SigCgt line in the process status")


def exit_signal(caught: Iterable[int]) -> str | None:
    """The first of TERM, INT, QUIT the process handles; None when it handles none."""
    have = set(caught)
    return next((name for name, number in EXIT_SIGNALS if number in have), None)


def not_applicable(capability: str, reason: str) -> NoReturn:
    """The default when a kill is not possible here: a failure, verdict "not applicable"."""
    raise NotApplicable(f"not applicable: {capability} not available: {reason}")


def _target(clients, namespace: str, pod: str) -> Target:
    obj = clients.core.read_namespaced_pod(pod, namespace)
    statuses = (obj.status.container_statuses or []) if obj.status else []
    running = [s for s in statuses if s.container_id]
    if not running:
        raise FaultFailed(f"pod {namespace}/{pod} has no running container to kill")
    spec = obj.spec
    return Target(pod, running[0].name, running[0].container_id, bool(spec.host_pid),
                  bool(spec.share_process_namespace), running[0].restart_count or 0)


def _exec_signal(s: Scope, namespace: str, t: Target, unavailable: Unavailable) -> str:
    """The signal that ends the container's main process through exec, or ``unavailable``."""
    where = f"container {t.container} of pod {namespace}/{t.pod}"
    if t.host_pid or t.shared_pids:
        unavailable(CAPABILITY, f"in {where}, PID 1 is not the container's main process "
                                f"({'hostPID' if t.host_pid else 'shareProcessNamespace'}); "
                                "a kill in place needs the node's runtime (the local kind cluster)")
    res = podexec.run(s.clients, namespace, t.pod, ["cat", "/proc/1/status"], t.container,
                      timeout_s=s.timeouts.verify_s, check=False)
    if res.exit_code != 0:
        unavailable(CAPABILITY, f"cannot read /proc/1/status in {where} (exit {res.exit_code}: "
                                f"{(res.stderr.strip().splitlines() or [''])[0]}); the image needs cat and kill")
    if podexec.run(s.clients, namespace, t.pod, ["kill", "-l"], t.container, timeout_s=s.timeouts.verify_s,
                   check=False).exit_code != 0:
        unavailable(CAPABILITY, f"{where} has no kill command to signal its main process with")
    name = next((ln.split(":", 1)[1].strip() for ln in res.stdout.splitlines() if ln.startswith("Name:")), "?")
    signal = exit_signal(caught_signals(res.stdout))
    if signal is None:
        unavailable(CAPABILITY, f"PID 1 of {where} ({name}) handles none of SIGTERM, SIGINT, SIGQUIT: "
                                "from inside its PID namespace it cannot be killed (SIGKILL to a "
                                "namespace's PID 1 is ignored there); the node's runtime can (the local kind cluster)")
    return signal


def _exec_kill(s: Scope, namespace: str, t: Target, sig: str) -> None:
    """``kill -s SIG 1`` through exec. The container may die before the exec reports (its
    processes go with its PID 1): a failed exec counts when the container is seen gone."""
    try:
        res = podexec.run(s.clients, namespace, t.pod, ["kill", "-s", sig, "1"], t.container,
                          timeout_s=s.timeouts.verify_s, check=False)
        detail = "" if res.exit_code == 0 else f"exited {res.exit_code}: {(res.stderr.strip().splitlines() or [''])[0]}"
    except ExecFailed as exc:
        detail = str(exc)
    if detail and not _went(s.clients, namespace, t):
        raise FaultFailed(f"kill -s {sig} 1 in {namespace}/{t.pod} {detail}")


def _went(clients, namespace: str, t: Target) -> bool:
    """The killed container is no longer the one that ran: not running, another id, or restarted."""
    obj = clients.core.read_namespaced_pod(t.pod, namespace)
    st = next((c for c in (obj.status.container_statuses or []) if c.name == t.container), None)
    return st is None or st.container_id != t.container_id or not (st.state and st.state.running) \
        or (st.restart_count or 0) > t.restarts


def kill_containers(scope: Scope, target, count: int | None = None, fraction: float | None = None,
                    unavailable: Unavailable = not_applicable) -> ContainerKill:
    """Kill the containers of ``count`` (or ``fraction`` of) ``target``'s serving pods in place,
    chosen from the run's seed. The pods are chosen and checked (guard, method, signal) before
    the fault phase: a kill this cluster cannot do ends in ``unavailable`` having done nothing."""
    s = scope
    if count is None and fraction is None:
        count = 1
    local = docker.local_nodes(s.clients.kind_cluster)
    method = RUNTIME if local else EXEC
    s.guard.check_namespace(target.namespace, "kill containers in")
    report_foreign(s, target)
    candidates = sorted((p for p in target.pods() if p.serving), key=lambda p: p.name)
    chosen = sorted(s.rng.sample(candidates, choose_count(len(candidates), count, fraction)), key=lambda p: p.name)
    for p in chosen:
        s.guard.check_object(dict(p.labels), p.namespace, f"pod {p.name}")
        if method == RUNTIME:
            s.guard.check_node(p.node, local)
    targets = [_target(s.clients, p.namespace, p.name) for p in chosen]
    if method == RUNTIME:
        for t in targets:
            if t.runtime != "containerd":
                raise FaultFailed(f"pod {target.namespace}/{t.pod}: container runtime {t.runtime!r} is not containerd")
        signals = ["KILL"] * len(targets)
    else:
        signals = [_exec_signal(s, target.namespace, t, unavailable) for t in targets]
    with s.phase("fault"):
        entry = s.journal.record(
            f"kill containers of pods {target.namespace}/{','.join(p.name for p in chosen)}",
            journal.Undo(journal.NOTHING, {"owner": chosen[0].owner},
                         "nothing to undo: the kubelet restarts a killed container"))
        at = Instant.now()
        for p, t, sig in zip(chosen, targets, signals):
            if method == RUNTIME:
                docker.cli("exec", p.node, "ctr", "-n", "k8s.io", "task", "kill", "--signal", "SIGKILL",
                           t.runtime_id, timeout=30)
            else:
                _exec_kill(s, p.namespace, t, sig)
        s.journal.resolve(entry)
        kill = ContainerKill(target.namespace, target.name, tuple(p.name for p in chosen),
                             tuple(p.uid for p in chosen), tuple((p.uid, p.restarts) for p in chosen),
                             tuple(t.runtime_id for t in targets), at, s.run.seed, method,
                             ",".join(sorted(set(signals))))
        s.run.log(f"[{s.name}] {kill.describe()} (seed {s.run.seed})")
    return kill
