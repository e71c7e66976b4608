"""The kubedrill image in a team's registry (README: "Pushing the images to your registry"): a real
registry, distribution's, built by `make registry-tools`, started here with TLS (a CA and a
certificate made by the test) and htpasswd auth, on a free port of the gateway of docker's
`kind` network (the address the kind nodes reach the host at; nothing else listens). `make push`
pushes the images there, logged in with crane as a team would be; the nodes' containerd trusts
the CA through /etc/containerd/certs.d/<host:port>/hosts.toml (kind's local-registry way, undone
at the end); a pod with `imagePullSecrets` pulls the kubedrill image and runs `kubedrill version`,
and the same pod without the secret is refused (401): the secret is what lets it pull."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
from kubernetes import client as k8s

from kubedrill import docker, guard, pins, run
from kubedrill.k8s import namespaces
from kubedrill.wait import ApiSource, Check, wait_for
from tests.e2e.conftest import ROOT, leftovers
from tests.e2e.processes import stop, until

pytestmark = pytest.mark.e2e

PINS = pins.load()
IMAGE = PINS["IMAGE_KUBEDRILL"]
PATH = "kubedrill"        # REGISTRY=<host:port>/kubedrill
USER = "gameday"
UP_S = 30                 # the registry answers /v2/
PUSH_S = 300              # make push: three images (about 650 MB) saved and pushed
POD_S = 120               # a pod pulled its image and ran, or was refused
CERTS_D = "/etc/containerd/certs.d"
CONFIG_PATH = re.compile(r'^\s*config_path\s*=\s*"/etc/containerd/certs\.d"', re.M)


def tool(name: str) -> str:
    """A binary `make registry-tools` built (never one from PATH)."""
    done = subprocess.run([str(ROOT / "cluster" / "registry.sh"), "--print", name],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def kind_gateway() -> str:
    """The IPv4 gateway of docker's `kind` network: the host's address on that bridge."""
    out = docker.cli("network", "inspect", "kind", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}")
    found = [a for a in out.split() if ipaddress.ip_address(a).version == 4]
    assert len(found) == 1 and ipaddress.ip_address(found[0]).is_private, out
    return found[0]


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Registry:
    host: str           # host:port
    ca: Path
    password: str
    log: Path


def tls(tmp: Path, address: str) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for ``address`` it signed: (ca.crt, server.crt, server.key)."""
    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=kubedrill e2e registry CA", "-keyout", str(tmp / "ca.key"), "-out", str(tmp / "ca.crt"))
    (tmp / "ext").write_text(f"subjectAltName=IP:{address}\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", f"/CN={address}", "-keyout", str(tmp / "server.key"), "-out", str(tmp / "server.csr"))
    openssl("x509", "-req", "-in", str(tmp / "server.csr"), "-CA", str(tmp / "ca.crt"), "-CAkey", str(tmp / "ca.key"),
            "-CAcreateserial", "-days", "1", "-extfile", str(tmp / "ext"), "-out", str(tmp / "server.crt"))
    return tmp / "ca.crt", tmp / "server.crt", tmp / "server.key"


def v2_status(host: str, ca: Path) -> int:
    """The status of GET https://host/v2/ without credentials (401: up, and asking for them)."""
    try:
        with urllib.request.urlopen(f"https://{host}/v2/", timeout=5,
                                    context=ssl.create_default_context(cafile=str(ca))) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registry")
    address = kind_gateway()
    host = f"{address}:{free_port(address)}"
    ca, cert, key = tls(tmp, address)
    password = secrets.token_urlsafe(18)
    (tmp / "htpasswd").write_text(f"{USER}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}\n")
    (tmp / "config.yml").write_text(json.dumps({
        "version": "0.1", "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(tmp / "data")}, "delete": {"enabled": True}},
        "http": {"addr": host, "tls": {"certificate": str(cert), "key": str(key)}},
        "auth": {"htpasswd": {"realm": "kubedrill-e2e", "path": str(tmp / "htpasswd")}}}))
    log = tmp / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([tool("registry"), "serve", str(tmp / "config.yml")], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        until("the registry asks for credentials at /v2/", UP_S,
              lambda: True if v2_status(host, ca) == 401 else None, proc, log)
        yield Registry(host, ca, password, log)
    finally:
        stop(proc)


def on_node(node: str, script: str, stdin: bytes = b"") -> str:
    done = subprocess.run(["docker", "exec", "-i", node, "sh", "-c", script], input=stdin,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, (node, script, done.stderr.decode())
    return done.stdout.decode()


@pytest.fixture(scope="module")
def nodes_trust(registry, clients):
    """Every node's containerd trusts the registry's CA, as kind's local-registry guide sets it up
    (a hosts.toml in the hosts directory, config_path); removed at the end with the images the
    nodes pulled from there."""
    names = [c.name for c in docker.node_containers(clients.kind_cluster)]
    assert names, f"no node container of kind cluster {clients.kind_cluster}"
    missing = [n for n in names if not CONFIG_PATH.search(on_node(n, "cat /etc/containerd/config.toml"))]
    if missing:
        pytest.fail(f"the containerd of {', '.join(missing)} reads no hosts directory (config_path "
                    f"{CERTS_D}): the cluster was made before cluster/up.sh set it; `make cluster` makes it anew",
                    pytrace=False)
    where = f"{CERTS_D}/{registry.host}"
    hosts = (f'server = "https://{registry.host}"\n\n[host."https://{registry.host}"]\n'
             f'  capabilities = ["pull", "resolve"]\n  ca = "{where}/ca.crt"\n')
    done = []
    try:
        for node in names:
            done.append(node)
            on_node(node, f"mkdir -p '{where}' && cat > '{where}/ca.crt'", registry.ca.read_bytes())
            on_node(node, f"cat > '{where}/hosts.toml'", hosts.encode())
        yield names
    finally:
        for node in done:   # the hosts directory, and the images pulled from the registry
            try:
                on_node(node, f"rm -rf '{where}' && ctr -n k8s.io images ls -q | grep -F '{registry.host}/' "
                              "| xargs -r ctr -n k8s.io images rm >/dev/null")
            except AssertionError as exc:   # teardown errors become warnings
                warnings.warn(f"could not remove {where} from node {node}: {exc}")


@pytest.fixture(scope="module")
def pushed(registry, tmp_path_factory) -> dict[str, str]:
    """`make push REGISTRY=<host:port>/kubedrill`, logged in with crane into a docker config of its
    own, trusting the CA through SSL_CERT_FILE: {local image: the pushed reference with its digest}."""
    tmp = tmp_path_factory.mktemp("push")
    env = {**os.environ, "DOCKER_CONFIG": str(tmp), "SSL_CERT_FILE": str(registry.ca)}
    login = subprocess.run([tool("crane"), "auth", "login", registry.host, "-u", USER, "--password-stdin"],
                           input=registry.password, capture_output=True, text=True, env=env, timeout=60)
    assert login.returncode == 0, login.stderr
    done = subprocess.run(["make", "--no-print-directory", "push", f"REGISTRY={registry.host}/{PATH}"], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=PUSH_S)
    assert done.returncode == 0, done.stdout + done.stderr + registry.log.read_text()[-3000:]
    found = dict(re.findall(r"^kubedrill: push: pushed (\S+) to (\S+@sha256:[0-9a-f]{64}) \(\d+ s\)$", done.stdout, re.M))
    assert set(found) == {PINS["IMAGE_KUBEDRILL"], PINS["IMAGE_SHELL"], PINS["IMAGE_POSTGRES"]}, done.stdout
    return found


@pytest.fixture
def namespace(clients):
    """A namespace of this test's run (kubedrill's labels and a run id): (name, run id); deleted at
    the end, its deletion awaited."""
    run_id = run.new_run_id()
    name = namespaces.create(clients, f"kd-{run_id}-registry", run_id)
    yield name, run_id
    try:
        namespaces.delete(clients, name, run_id)
        namespaces.wait_gone(clients, name, 180)
    except Exception as exc:  # noqa: BLE001 - teardown errors become warnings, never mask the result
        warnings.warn(f"cleanup of namespace {name}: {exc}")


def pull_secret(registry: Registry, password: str) -> dict:
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    config = {"auths": {registry.host: {"username": USER, "password": password, "auth": auth}}}
    return {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}


def pod(name: str, image: str, run_id: str, secret: str | None) -> k8s.V1Pod:
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name=name, labels=guard.labels(run_id)),
        spec=k8s.V1PodSpec(
            restart_policy="Never", termination_grace_period_seconds=1,
            image_pull_secrets=[k8s.V1LocalObjectReference(name=secret)] if secret else None,
            containers=[k8s.V1Container(name="kubedrill", image=image, image_pull_policy="Always",
                                        command=["kubedrill", "version"])]))


def outcome(p: dict) -> Check:
    """Done when the pod ran to its end or its image could not be pulled; the summary says which."""
    phase = p["status"].get("phase", "")
    if phase in ("Succeeded", "Failed"):
        return Check(True, phase)
    for s in p["status"].get("containerStatuses") or []:
        waiting = (s.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "ErrImagePull":   # its message says why (ImagePullBackOff's does not)
            return Check(True, f"ErrImagePull: {waiting.get('message', '')}")
    return Check(False, phase or "no status")


def settled(clients, ns: str, name: str) -> tuple[str, dict]:
    """Wait until pod ``ns/name`` ran or failed to pull: (what happened, the pod)."""
    done = wait_for(ApiSource(clients.core.list_namespaced_pod, ns, field_selector=f"metadata.name={name}"),
                    lambda items: outcome(items[0]) if items else Check(False, "no pod"),
                    description=f"pod {ns}/{name} to run or fail to pull", timeout_s=POD_S)
    return done.summary, done.items[0]


def test_a_node_pulls_the_pushed_image_with_the_pull_secret_and_not_without(
        registry, nodes_trust, pushed, namespace, clients):
    ns, run_id = namespace
    image, digest = pushed[IMAGE].split("@")          # host:port/kubedrill/kubedrill:dev, sha256:...
    assert image == f"{registry.host}/{PATH}/{IMAGE.rsplit('/', 1)[1]}", pushed
    clients.core.create_namespaced_secret(ns, k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="registry", labels=guard.labels(run_id)),
        type="kubernetes.io/dockerconfigjson", data=pull_secret(registry, registry.password)))
    clients.core.create_namespaced_pod(ns, pod("with-secret", image, run_id, "registry"))
    clients.core.create_namespaced_pod(ns, pod("without-secret", image, run_id, None))

    happened, with_secret = settled(clients, ns, "with-secret")
    assert happened == "Succeeded", happened
    (status,) = with_secret["status"]["containerStatuses"]
    assert status["state"]["terminated"]["exitCode"] == 0
    assert status["imageID"].endswith(f"@{digest}"), status   # the manifest pushed, pulled by its digest
    out = clients.core.read_namespaced_pod_log("with-secret", ns, _preload_content=False).data.decode()
    assert re.match(r"kubedrill \S+\n", out) and "\nPython 3.11." in out, out

    happened, _ = settled(clients, ns, "without-secret")
    assert happened.startswith("ErrImagePull: ") and "401 Unauthorized" in happened, happened

    # nothing left behind once the namespace is gone
    namespaces.delete(clients, ns, run_id)
    namespaces.wait_gone(clients, ns, 180)
    assert leftovers(clients, run_id) == []
