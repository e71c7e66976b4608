"""Chaos Toolkit experiments, through the same guard as kubedrill's own faults.

Before an experiment runs, every activity is checked: chaostoolkit-kubernetes activities
must target a namespace the run created (or one explicitly allowed) through their ``ns``
argument; node actions and process/HTTP providers are refused (node loss goes through
kubedrill.faults.nodes, which journals its undo).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from kubedrill import journal as kjournal
from kubedrill.errors import FaultFailed, GuardRefused, UsageError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ExperimentResult:
    title: str
    status: str            # completed, failed, aborted, interrupted
    deviated: bool
    journal_path: str


def load(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        raise UsageError(f"experiment not found: {p}") from None
    except ValueError as exc:
        raise UsageError(f"experiment {p} is not valid JSON: {exc}") from None


def activities(experiment: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    hyp = experiment.get("steady-state-hypothesis") or {}
    for group in (hyp.get("probes") or [], experiment.get("method") or [], experiment.get("rollbacks") or []):
        for act in group:
            if isinstance(act, dict) and "provider" in act:
                yield act


def _substitute(value: Any, configuration: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: str(configuration.get(m.group(1), m.group(0))), value)
    return value


def check(experiment: Mapping[str, Any], guard, configuration: Mapping[str, Any] | None = None) -> None:
    """Raise GuardRefused when an activity would touch anything the run may not touch."""
    conf = {**{k: v for k, v in (experiment.get("configuration") or {}).items() if not isinstance(v, dict)},
            **(configuration or {})}
    for act in activities(experiment):
        name = act.get("name", "?")
        provider = act.get("provider") or {}
        ptype = provider.get("type")
        if ptype != "python":
            raise GuardRefused(f"activity {name!r}: {ptype} providers are not allowed in drills")
        module = provider.get("module", "")
        if not module.startswith("chaosk8s."):
            raise GuardRefused(f"activity {name!r}: module {module!r} is not a chaostoolkit-kubernetes module")
        if module.startswith("chaosk8s.node"):
            raise GuardRefused(f"activity {name!r}: node actions go through kubedrill faults (journalled)")
        args = provider.get("arguments") or {}
        ns = _substitute(args.get("ns", "default"), conf)
        if act.get("type") == "action" or module.endswith(".actions"):
            guard.check_namespace(ns, f"run chaos action {name!r} in")
        elif ns in guard.protected_namespaces:
            raise GuardRefused(f"activity {name!r}: namespace {ns!r} is never a drill target")


def run_experiment(scope, path: str | Path, configuration: Mapping[str, Any] | None = None) -> ExperimentResult:
    """Check an experiment, journal it, run it with the ``chaos`` CLI against the drilled context."""
    experiment = load(path)
    conf = {"ns": scope.namespace, **(configuration or {})}
    check(experiment, scope.guard, conf)
    exe = shutil.which("chaos") or str(Path(sys.executable).with_name("chaos"))
    if not Path(exe).exists():
        raise UsageError("the chaos CLI (chaostoolkit) is not installed")
    out = Path(scope.journal.directory).parent / "chaos" / f"{scope.run.run_id}-{Path(path).stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    clients = scope.clients
    env = {**os.environ, "KUBECONFIG": str(clients.kubeconfig), "KUBERNETES_CONTEXT": clients.context}
    cmd = [exe, "--no-version-check", "--log-file", str(out.with_suffix(".log")),
           "run", "--journal-path", str(out)]
    for k, v in conf.items():
        cmd += ["--var", f"{k}:str={v}"]
    cmd.append(str(path))
    with scope.phase("fault"):
        scope.journal.record(f"chaos experiment {Path(path).name} in {scope.namespace}",
                             kjournal.Undo(kjournal.NOTHING, {},
                                           "nothing to undo: experiment activities are namespaced to the run"))
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=scope.timeouts.recover_s + scope.timeouts.deploy_s)
    if not out.exists():
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise FaultFailed(f"chaos run failed: {lines[-1] if lines else proc.returncode}")
    j = json.loads(out.read_text())
    return ExperimentResult(experiment.get("title", ""), j.get("status", ""), bool(j.get("deviated")), str(out))
