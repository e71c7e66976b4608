"""Read cluster/versions.env: KEY=value lines, ``${VAR}`` expansion, ``#`` comments.

Every image reference kubedrill uses comes from here, so that a test can check that each
image in use on the cluster is listed in the pins file; the images of the pods kubedrill starts
itself (Images) may be given instead, for a cluster that pulls from its own registry.

The Kubernetes version is the file's KUBE_VERSION unless $KUBEDRILL_KUBE_VERSION (``make ...
KUBE_VERSION=v1.36.3``) names another: every ``${KUBE_VERSION}`` in the file expands to it. The etcd,
CoreDNS and pause pins of that version are the ones its kubeadm deploys, recorded by the cluster
build in the cache (``~/.cache/kubedrill/pins/<KUBE_VERSION>.env``, cluster/pins.sh), read after
the file: as cluster/pins.sh's load_pins reads them.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from kubedrill.errors import UsageError

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def default_path() -> Path:
    env = os.environ.get("KUBEDRILL_PINS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "cluster" / "versions.env"


def parse(text: str, environ: Mapping[str, str] | None = None,
          given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Parse KEY=value lines. Later keys may refer to earlier ones (or to ``environ``). A key in
    ``given`` keeps its given value: the file's own line for it is skipped (a make command-line
    variable)."""
    env = dict(environ or {})
    values: dict[str, str] = dict(given or {})
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise UsageError(f"pins file line {lineno}: expected KEY=value, got {raw!r}")
        key, value = match.group(1), match.group(2).strip()
        if given and key in given:
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quoted, value = value[0], value[1:-1]
            if quoted == "'":
                values[key] = value
                continue
        else:
            value = value.split(" #", 1)[0].strip()

        def expand(m: re.Match[str], _lineno: int = lineno) -> str:
            name = m.group(1) or m.group(2)
            if name in values:
                return values[name]
            if name in env:
                return env[name]
            raise UsageError(f"pins file line {_lineno}: ${{{name}}} is not defined")

        values[key] = _VAR.sub(expand, value)
    return values


_KUBE_VERSION = re.compile(r"^v1\.[0-9]+\.[0-9]+$")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("KUBEDRILL_CACHE") or Path.home() / ".cache" / "kubedrill")


def kubeadm_pins_path(kube_version: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where the build records what kubeadm of ``kube_version`` deploys (etcd, CoreDNS, pause)."""
    return cache_dir(environ) / "pins" / f"{kube_version}.env"


def load(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The pins file for the chosen Kubernetes version ($KUBEDRILL_KUBE_VERSION, else the file's),
    then what that version's kubeadm deploys when the build recorded it."""
    env = os.environ if environ is None else environ
    p = Path(path) if path else default_path()
    chosen = env.get("KUBEDRILL_KUBE_VERSION")
    try:
        values = parse(p.read_text(), given={"KUBE_VERSION": chosen} if chosen else None)
    except FileNotFoundError:
        raise UsageError(f"pins file not found: {p}") from None
    version = values.get("KUBE_VERSION", "")
    if _KUBE_VERSION.match(version):
        recorded = kubeadm_pins_path(version, env)
        try:
            text = recorded.read_text()
        except FileNotFoundError:
            return values
        values.update(parse(text))
    return values


def images(pins: Mapping[str, str]) -> dict[str, str]:
    """Every IMAGE_* entry: the image references the cluster may use."""
    return {k: v for k, v in pins.items() if k.startswith("IMAGE_")}


def shell_image(path: Path | str | None = None) -> str:
    pins = load(path)
    try:
        return pins["IMAGE_SHELL"]
    except KeyError:
        raise UsageError("pins file has no IMAGE_SHELL entry") from None


@dataclass(frozen=True)
class Images:
    """The images of the pods kubedrill starts itself, beside the workloads it drills: the
    availability prober (kubedrill.observe.prober) and the pods that hold the writer's records (a
    claim's consumer pod, kubedrill.faults.volumes; the file database, kubedrill.workloads.database).
    None: the pinned shell image (IMAGE_SHELL, preloaded into the local kind cluster). Either way
    the pull policy is IfNotPresent: a preloaded image is used as it is, any other is pulled by the
    node from its registry the first time a pod there needs it."""

    prober: str | None = None   # --prober-image, KUBEDRILL_PROBER_IMAGE
    writer: str | None = None   # --writer-image, KUBEDRILL_WRITER_IMAGE

    def prober_image(self) -> str:
        return self.prober or shell_image()

    def writer_image(self) -> str:
        return self.writer or shell_image()


# an image reference as a container runtime reads it, [registry[:port]/]path[:tag][@digest]: the
# grammar of the distribution project's reference package (a path in lower case)
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?{_PATH_PART}(?:/{_PATH_PART})*)"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?")
NAME_MAX = 255


def parse_image(where: str, text: str | None) -> str | None:
    """An image reference (``where``: the option or variable that gave it), None when not given;
    UsageError when it is empty or malformed."""
    if text is None:
        return None
    if not text.strip():
        raise UsageError(f"{where}: empty image reference")
    match = _REFERENCE.fullmatch(text)
    if not match:
        raise UsageError(f"{where}: not an image reference ([registry[:port]/]name[:tag][@digest], the name "
                         f"in lower case), got {text!r}")
    if len(match.group("name")) > NAME_MAX:
        raise UsageError(f"{where}: an image name has at most {NAME_MAX} characters, got {text!r}")
    return text


def parse_images(prober: str | None, writer: str | None, environ: Mapping[str, str]) -> Images:
    """--prober-image and --writer-image, else $KUBEDRILL_PROBER_IMAGE and $KUBEDRILL_WRITER_IMAGE
    (set to nothing: an empty reference, refused), else the pinned shell image."""
    def one(option: str, given: str | None, variable: str) -> str | None:
        return parse_image(option, given) if given is not None else parse_image(variable, environ.get(variable))

    return Images(prober=one("--prober-image", prober, "KUBEDRILL_PROBER_IMAGE"),
                  writer=one("--writer-image", writer, "KUBEDRILL_WRITER_IMAGE"))


def cluster_name(path: Path | str | None = None) -> str:
    return os.environ.get("KUBEDRILL_CLUSTER_NAME") or load(path).get("KIND_CLUSTER_NAME", "kubedrill")


def cached_binary(name: str, version_key: str) -> str | None:
    """A tool as kubedrill's make targets build it (``~/.cache/kubedrill/bin/<name>-<version>``,
    or under $KUBEDRILL_CACHE), else the one on PATH, else None."""
    cache = cache_dir()
    try:
        version = load().get(version_key, "")
    except Exception:  # noqa: BLE001 - a missing pins file only means: look on PATH
        version = ""
    pinned = cache / "bin" / f"{name}-{version}"
    if version and pinned.is_file() and os.access(pinned, os.X_OK):
        return str(pinned)
    return shutil.which(name)
