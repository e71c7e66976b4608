"""A thin wrapper of the docker CLI, for node faults on kind (a node is a container)."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass

from kubedrill.errors import FaultFailed, KubedrillError, UsageError

KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster"
KIND_ROLE_LABEL = "io.x-k8s.kind.role"
KIND_API_PORT = "6443/tcp"


@dataclass(frozen=True, order=True)
class NodeContainer:
    name: str
    state: str   # running, exited, ...

    @property
    def running(self) -> bool:
        return self.state == "running"


def cli(*args: str, timeout: float = 60) -> str:
    """``docker <args>``: its stdout; FaultFailed when it fails or takes longer than ``timeout``."""
    exe = shutil.which("docker")
    if not exe:
        raise UsageError("docker CLI not found: node faults need docker")
    try:
        proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FaultFailed(f"docker {' '.join(args)} did not finish within {timeout:.0f}s") from None
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise FaultFailed(f"docker {' '.join(args)} failed: {msg[0] if msg else proc.returncode}")
    return proc.stdout


def installed() -> bool:
    """The docker CLI is on PATH (whether its daemon answers is another question: ``available``)."""
    return shutil.which("docker") is not None


def available() -> bool:
    """docker answers. A bool for callers that only note it (the leak check); what needs docker
    calls it (``cli``, ``node_containers``) and lets its error through: a transient failure is
    an error, never a reason to skip."""
    if not installed():
        return False
    try:
        cli("version", "--format", "{{.Server.Version}}", timeout=10)
    except FaultFailed:
        return False
    return True


def node_containers(cluster: str) -> tuple[NodeContainer, ...]:
    out = cli("ps", "-a", "--filter", f"label={KIND_CLUSTER_LABEL}={cluster}",
                  "--format", "{{.Names}}\t{{.State}}")
    rows = [line.split("\t") for line in out.splitlines() if line.strip()]
    return tuple(sorted(NodeContainer(r[0], r[1] if len(r) > 1 else "") for r in rows))


def local_nodes(cluster: str | None) -> tuple[str, ...]:
    """The node containers of kind cluster ``cluster`` on this machine's docker, by name; () when
    there is no cluster name, no docker CLI or no such container (not a local kind cluster).
    docker that does not answer is an error (KubedrillError), never an empty answer."""
    if not cluster or not installed():
        return ()
    try:
        return tuple(c.name for c in node_containers(cluster))
    except FaultFailed as exc:
        raise KubedrillError(f"docker does not answer, so the nodes of kind cluster {cluster} cannot be "
                             f"reached: {exc}") from None


def kind_api_addresses() -> dict[str, tuple[str, ...]]:
    """Where this machine's docker publishes the API port of each running kind control plane:
    kind cluster name -> ``docker port <control plane> 6443/tcp`` lines (``127.0.0.1:35121``)."""
    out = cli("ps", "--filter", f"label={KIND_ROLE_LABEL}=control-plane",
              "--format", f'{{{{.Label "{KIND_CLUSTER_LABEL}"}}}}\t{{{{.Names}}}}')
    found: dict[str, tuple[str, ...]] = {}
    for line in out.splitlines():
        cluster, _, container = line.partition("\t")
        if not (cluster and container):
            continue
        try:
            published = cli("port", container, KIND_API_PORT)
        except FaultFailed:   # its API port is not published: not reachable from here
            continue
        found[cluster] = found.get(cluster, ()) + tuple(published.split())
    return found


def is_running(container: str) -> bool:
    return cli("inspect", "--format", "{{.State.Running}}", container).strip() == "true"


def stop(container: str, timeout_s: int = 10) -> None:
    cli("stop", "--time", str(timeout_s), container, timeout=timeout_s + 60)


def start(container: str) -> None:
    cli("start", container)


def stopping(container: str, since: float) -> bool:
    """A stop of ``container`` began after ``since`` (unix seconds) and it has not died yet: the
    daemon still carries out a ``docker stop`` whose client was killed. Read from the daemon's
    events (the container's state says "running" until it dies)."""
    return stop_under_way(cli("events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                              "--filter", f"container={container}", "--format", "{{.Action}}",
                              timeout=30).splitlines())


def stop_under_way(actions: list[str]) -> bool:
    """Whether a container's events (their actions, oldest first) end in a stop not yet done: a
    kill (the stop's signal) with no die, stop or start after it."""
    kills = [i for i, action in enumerate(actions) if action.startswith("kill")]
    return bool(kills) and not any(a.strip() in ("die", "stop", "start") for a in actions[kills[-1] + 1:])


def wait_stopped(container: str, timeout_s: float) -> None:
    """Until ``container`` has stopped (``docker wait``); FaultFailed after ``timeout_s``."""
    cli("wait", container, timeout=timeout_s)
