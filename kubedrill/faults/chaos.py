"""Chaos Toolkit experiments, through the same guard as kubedrill's own faults.

Before an experiment runs, every activity (steady-state probes, method, rollbacks) is checked:
a chaostoolkit-kubernetes activity must name its namespace through its ``ns`` argument, and
that namespace (and any namespace its selectors name) must be one the run created or one
explicitly allowed. An activity without ``ns`` would act on ``default`` (the library's
fallback) or on the whole cluster: it is refused, unless it is a namespace activity naming a
namespace the run created. Node actions, process and HTTP providers, controls (code that runs
around every activity) and secrets that pick another cluster are refused (node loss goes
through kubedrill.faults.nodes, which journals its undo).
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


def controls(experiment: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The experiment's controls and those of each activity."""
    for control in experiment.get("controls") or []:
        yield control
    for act in activities(experiment):
        for control in act.get("controls") or []:
            yield control


def namespaces_named(args: Mapping[str, Any], configuration: Mapping[str, Any]) -> tuple[str, ...]:
    """The namespaces an activity's arguments name: ``ns``, and the namespaces a Chaos Mesh
    selector (``namespaces_selectors``, ``target_namespaces_selectors``) points at."""
    named = [str(_substitute(args["ns"], configuration))] if "ns" in args else []
    for key, value in args.items():
        if key.endswith("namespaces_selectors") and value:
            value = _substitute(value, configuration)
            named += value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return tuple(n.strip() for n in named)


def check(experiment: Mapping[str, Any], guard, configuration: Mapping[str, Any] | None = None) -> None:
    """Raise GuardRefused when an activity would touch anything the run may not touch."""
    conf = {**{k: v for k, v in (experiment.get("configuration") or {}).items() if not isinstance(v, dict)},
            **(configuration or {})}
    for control in controls(experiment):
        raise GuardRefused(f"control {control.get('name', '?')!r}: controls run their own code around every "
                           "activity, out of the guard's sight; drills allow none")
    for scope_name, values in (experiment.get("secrets") or {}).items():
        picked = sorted(k for k in (values or {}) if str(k).startswith("KUBERNETES_"))
        if picked:
            raise GuardRefused(f"secrets {scope_name!r} set {', '.join(picked)}: an experiment runs against "
                               "the drilled context only")
    for act in activities(experiment):
        check_activity(act, guard, conf)


def check_activity(act: Mapping[str, Any], guard, conf: Mapping[str, Any]) -> None:
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
    if "ns" not in args:
        if module.startswith("chaosk8s.namespace."):
            target = str(_substitute(args.get("name", ""), conf))
            if target not in guard.owned:
                raise GuardRefused(f"activity {name!r}: namespace {target!r} was not created by run "
                                   f"{guard.run_id}; a namespace activity may only name one it created")
            return
        raise GuardRefused(f"activity {name!r} ({module}.{provider.get('func', '?')}) names no namespace: it "
                           "would act on 'default' or on the whole cluster; give it \"ns\": \"${ns}\"")
    for ns in namespaces_named(args, conf):
        if act.get("type") == "action" or module.endswith(".actions"):
            guard.check_namespace(ns, f"run chaos action {name!r} in")
        elif not ns or ns in guard.protected_namespaces:
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
