"""helm, for an experiment's helm target: a chart rendered with ``helm template`` into manifests
for a fresh namespace, or installed with ``helm install`` as a release in an existing namespace
the run may drill (uninstalled afterwards; the install is journalled first, so a crash's replay
uninstalls it: kubedrill.undo). helm is the one ``make helm`` builds from its Go module
(cluster/versions.env HELM_VERSION); charts are read from disk, never from a repository."""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any, Mapping

import yaml

from kubedrill import pins
from kubedrill.errors import UsageError, first_line

TIMEOUT_S = 300


def binary() -> str:
    exe = pins.cached_binary("helm", "HELM_VERSION")
    if exe is None:
        raise UsageError("a helm target needs helm: run `make helm` (it builds the pinned helm from its Go module)")
    return exe


def _run(args: list[str], kube: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(dict(values or {}), f)
        f.flush()
        cmd = [binary(), *args, "--values", f.name]
        if kube:
            cmd += ["--kubeconfig", kube["kubeconfig"], "--kube-context", kube["context"]]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise UsageError(f"helm {args[0]} {args[1]}: {first_line(proc.stderr or proc.stdout)}")
    return proc.stdout


def template(name: str, chart: str, namespace: str, values: Mapping[str, Any] | None = None) -> str:
    """The chart rendered for ``namespace`` (YAML documents)."""
    return _run(["template", name, chart, "--namespace", namespace], values=values)


def install(name: str, chart: str, namespace: str, kubeconfig: str, context: str,
            values: Mapping[str, Any] | None = None) -> str:
    """``helm install`` the release into ``namespace`` (no --wait: kubedrill waits for its workloads)."""
    return _run(["install", name, chart, "--namespace", namespace], {"kubeconfig": kubeconfig, "context": context},
                values)


def uninstall(name: str, namespace: str, kubeconfig: str, context: str) -> bool:
    """``helm uninstall``; False when the release was not there any more."""
    cmd = [binary(), "uninstall", name, "--namespace", namespace, "--kubeconfig", kubeconfig,
           "--kube-context", context, "--wait", "--timeout", f"{TIMEOUT_S}s"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S + 30)
    if proc.returncode != 0:
        text = proc.stderr or proc.stdout
        if "not found" in text:
            return False
        raise UsageError(f"helm uninstall {name}: {first_line(text)}")
    return True
