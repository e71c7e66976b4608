"""The one place that builds Kubernetes clients, from a kubeconfig and a context."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.config import kube_config

from kubedrill import config, docker, guard, pins
from kubedrill.errors import ClusterUnreachable, KubedrillError, UsageError, first_line
from kubedrill.k8s import nodes


def kubeconfig_files(kubeconfig: Path | str | None = None) -> tuple[Path, ...]:
    """The kubeconfig files to read, in order: ``kubeconfig`` (one file, or a list of files
    joined like $KUBECONFIG's), else $KUBECONFIG, else ~/.kube/config. A listed file that does not
    exist is skipped, as kubectl skips it; UsageError when none exists."""
    spec = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG") or "~/.kube/config"
    listed = [Path(p).expanduser().absolute() for p in spec.split(os.pathsep) if p]
    found = tuple(dict.fromkeys(p for p in listed if p.exists()))
    if not found:
        raise UsageError(f"kubeconfig not found: {os.pathsep.join(map(str, listed)) or spec}")
    return found


def check_kubeconfig(path: Path) -> bool:
    """UsageError naming ``path`` unless it is a kubeconfig the client library can read: UTF-8
    YAML, a mapping whose clusters, contexts and users are lists of named entries. False when it
    is empty (kubectl reads an empty file as an empty kubeconfig)."""
    expected = "a YAML kubeconfig (clusters, contexts, users)"
    text = config.read_text(path, "kubeconfig", expected)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"kubeconfig: cannot parse {path}: {config.yaml_problem(exc)}") from None
    if data is None:
        return False
    if not isinstance(data, dict):
        raise UsageError(f"kubeconfig: {path} is {config.kind_of(data)}, expected {expected}")
    for key in ("clusters", "contexts", "users"):
        items = data.get(key) or []
        if not (isinstance(items, list) and all(isinstance(i, dict) and isinstance(i.get("name"), str)
                                                for i in items)):
            raise UsageError(f"kubeconfig: {path}: {key} must be a list of entries with a name")
    return True


def default_context() -> str:
    return f"kind-{pins.cluster_name()}"


@dataclass(frozen=True)
class Clients:
    """Typed API clients for one kubeconfig + context."""

    kubeconfig: str   # one file, or the files merged, joined like $KUBECONFIG's list
    context: str
    server: str
    api: k8s.ApiClient
    core: k8s.CoreV1Api
    apps: k8s.AppsV1Api
    coordination: k8s.CoordinationV1Api
    custom: k8s.CustomObjectsApi
    storage: k8s.StorageV1Api
    kind_cluster: str | None = None   # the local kind cluster this is (local_kind_cluster), else None


# what the client library raises on a kubeconfig it cannot use
_CONFIG_ERRORS = (k8s_config.ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError)


def contexts(kubeconfig: Path | str) -> dict[str, dict]:
    """The contexts of a kubeconfig: one file, or a list merged by the client library as kubectl
    merges $KUBECONFIG (for each name, the first file that defines it wins). Its current-context
    is not needed: kubedrill always names the context it drills."""
    try:
        merged = kube_config.KubeConfigMerger(str(kubeconfig)).config
    except _CONFIG_ERRORS as exc:
        raise UsageError(f"kubeconfig {kubeconfig} is not usable: {first_line(exc)}") from None
    items = [getattr(c, "value", c) for c in (merged.value.get("contexts") or [] if merged else [])]
    return {c["name"]: c.get("context") or {} for c in items}


def local_kind_cluster(server: str) -> tuple[str | None, str]:
    """The kind cluster whose control plane this machine's docker publishes at ``server``:
    (its name, "") or (None, why not). Looks at docker only; :func:`load` then asks the API
    server whether its nodes are that cluster's."""
    if not docker.installed():
        return None, "no docker CLI on this machine"
    try:
        published = docker.kind_api_addresses()
    except KubedrillError as exc:
        return None, f"docker does not answer: {first_line(exc)}"
    for cluster, addresses in sorted(published.items()):
        if guard.serves_at(addresses, server):
            return cluster, ""
    return None, f"docker here publishes no kind control plane at its server {server}"


def api_client(kubeconfig: Path | str | None, context: str | None) -> tuple[str, str, k8s.ApiClient]:
    """(the kubeconfig files read, joined like $KUBECONFIG's list; the context; an API client for
    it), asking no server anything. UsageError naming the kubeconfig or the context when either
    is not usable."""
    listed = kubeconfig_files(kubeconfig)
    files = [f for f in listed if check_kubeconfig(f)]
    path = os.pathsep.join(map(str, files))   # the client library merges a list as kubectl does
    ctx = context or default_context()
    known = contexts(path) if files else {}
    if ctx not in known:
        names = ", ".join(sorted(known)) or "none"
        raise UsageError(f"context {ctx!r} not found in {os.pathsep.join(map(str, listed))} (contexts: {names})")
    try:
        api = k8s_config.new_client_from_config(config_file=path, context=ctx)
    except _CONFIG_ERRORS as exc:
        raise UsageError(f"context {ctx!r} in {path} is not usable: {first_line(exc)}") from None
    api.configuration.retries = False
    return path, ctx, api


def load(kubeconfig: Path | str | None, context: str | None,
         allowed_contexts: tuple[str, ...] = (), *, timeout_s: float = 10.0) -> Clients:
    """Validate the kubeconfig and context, check the guard, build the clients, check the server
    answers.

    The local kind cluster is allowed; any other context only when ``allowed_contexts`` names it.
    The kind cluster is identified by where the server is (the port docker publishes for a kind
    control plane) and by what it reports (its nodes are that cluster's kind nodes), never by
    the context's name. Raises UsageError (missing kubeconfig, unknown or disallowed context) or
    ClusterUnreachable. Creates nothing.
    """
    path, ctx, api = api_client(kubeconfig, context)
    server = api.configuration.host
    kind, why = local_kind_cluster(server)
    guard.check_context(ctx, allowed_contexts, kind, why)   # before the server is ever asked anything
    clients = Clients(
        kubeconfig=path, context=ctx, server=server, api=api,
        core=k8s.CoreV1Api(api), apps=k8s.AppsV1Api(api),
        coordination=k8s.CoordinationV1Api(api), custom=k8s.CustomObjectsApi(api),
        storage=k8s.StorageV1Api(api),
    )
    ping(clients, timeout_s)
    if kind is None:
        return clients
    try:
        reported = nodes.provider_ids(clients)
    except ApiException:   # a server that will not list its nodes says nothing of them
        reported = {}
    if guard.reports_kind_nodes(reported, kind):
        return dataclasses.replace(clients, kind_cluster=kind)
    why = f"docker publishes kind cluster {kind}'s API at {server}, but the server's nodes are not its nodes"
    guard.check_context(ctx, allowed_contexts, None, why)
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
    return first_line(text)[:160]


