"""The one place that builds Kubernetes clients, from a kubeconfig and a context."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from kubedrill import guard, pins
from kubedrill.errors import ClusterUnreachable, UsageError


def default_kubeconfig() -> Path:
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0]).expanduser()
    return Path("~/.kube/config").expanduser()


def default_context() -> str:
    return f"kind-{pins.cluster_name()}"


@dataclass(frozen=True)
class Clients:
    """Typed API clients for one kubeconfig + context."""

    kubeconfig: Path
    context: str
    server: str
    api: k8s.ApiClient
    core: k8s.CoreV1Api
    apps: k8s.AppsV1Api
    coordination: k8s.CoordinationV1Api
    custom: k8s.CustomObjectsApi
    storage: k8s.StorageV1Api

    @property
    def kind_cluster(self) -> str | None:
        """The kind cluster name when the context is a kind context."""
        return self.context[len("kind-"):] if guard.is_kind_context(self.context) else None


def contexts(kubeconfig: Path) -> dict[str, dict]:
    try:
        items, _current = k8s_config.list_kube_config_contexts(config_file=str(kubeconfig))
    except k8s_config.ConfigException as exc:
        raise UsageError(f"kubeconfig {kubeconfig} is not usable: {_first_line(exc)}") from None
    return {c["name"]: c.get("context", {}) for c in items or []}


def load(kubeconfig: Path | str | None, context: str | None,
         allowed_contexts: tuple[str, ...] = (), *, check_reachable: bool = True,
         timeout_s: float = 10.0) -> Clients:
    """Validate the kubeconfig and context, check the guard, build the clients.

    Raises UsageError (missing kubeconfig, unknown or disallowed context) or
    ClusterUnreachable. Creates nothing.
    """
    path = Path(kubeconfig).expanduser() if kubeconfig else default_kubeconfig()
    if not path.is_file():
        raise UsageError(f"kubeconfig not found: {path}")
    ctx = context or default_context()
    known = contexts(path)
    if ctx not in known:
        names = ", ".join(sorted(known)) or "none"
        raise UsageError(f"context {ctx!r} not found in {path} (contexts: {names})")
    guard.check_context(ctx, allowed_contexts)
    try:
        api = k8s_config.new_client_from_config(config_file=str(path), context=ctx)
    except (k8s_config.ConfigException, OSError, ValueError) as exc:
        raise UsageError(f"context {ctx!r} in {path} is not usable: {_first_line(exc)}") from None
    api.configuration.retries = False
    clients = Clients(
        kubeconfig=path, context=ctx, server=api.configuration.host, api=api,
        core=k8s.CoreV1Api(api), apps=k8s.AppsV1Api(api),
        coordination=k8s.CoordinationV1Api(api), custom=k8s.CustomObjectsApi(api),
        storage=k8s.StorageV1Api(api),
    )
    if check_reachable:
        ping(clients, timeout_s)
    return clients


def ping(clients: Clients, timeout_s: float = 10.0) -> str:
    """The server's git version; ClusterUnreachable when it does not answer."""
    try:
        info = k8s.VersionApi(clients.api).get_code(_request_timeout=timeout_s)
    except ApiException as exc:
        if exc.status in (401, 403):
            # answering but refusing /version is still an answer; later calls will tell
            return "unknown"
        raise ClusterUnreachable(
            f"API server {clients.server} (context {clients.context}) answered "
            f"{exc.status} {exc.reason}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ClusterUnreachable(
            f"cannot reach the API server {clients.server} (context {clients.context}): "
            f"{_reason(exc)}") from None
    return info.git_version


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None)
    text = str(inner or exc)
    for marker in ("Connection refused", "timed out", "Name or service not known",
                   "No route to host", "certificate verify failed"):
        if marker in text:
            return marker
    return _first_line(text)[:160]


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
