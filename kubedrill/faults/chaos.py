"""Chaos Toolkit experiments, through the same guard as kubedrill's own faults: before an
experiment runs, every activity (steady-state probes, method, rollbacks) is checked by the
guard's policy for experiments (kubedrill.policy: what each provider type may do).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from kubedrill import journal as kjournal
from kubedrill.errors import FaultFailed, UsageError
from kubedrill.policy import activities, check, controls, namespaces_named  # noqa: F401 - the guard's policy

__all__ = ["ExperimentResult", "load", "run_experiment", "activities", "check", "controls", "namespaces_named"]


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
