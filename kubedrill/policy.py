"""The guard's policy for Chaos Toolkit experiments: what each activity may do, by provider type,
checked on the document before anything runs (a safety rule, layer 1 beside kubedrill.guard).

- python, ``chaosk8s.*``: an action must name, through ``ns`` (and any Chaos Mesh namespace
  selector), a namespace the run created or one allowed with --allow-namespace; a probe is
  read-only and may name any namespace but a protected one. Without ``ns`` it would act on
  ``default`` or on the whole cluster: refused, unless it is a namespace activity naming a
  namespace the run created. Node activities are refused (node loss goes through kubedrill's own
  faults, which journal their undo).
- python, ``kubedrill.ctk.*``: kubedrill's own providers, guarded and journalled where they act.
- python, any other module: refused (its code acts out of the guard's sight).
- http: a GET (Chaos Toolkit's default method) is read-only and allowed; any other method is refused.
- process: refused unless the run allows it (``allow_process``: --allow-process).
- controls: refused unless the run allows them (``allow_controls``: --allow-controls).
- secrets that set ``KUBERNETES_*``: refused (an experiment runs against the drilled context only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from kubedrill.errors import GuardRefused

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
OWN_MODULE = "kubedrill.ctk."
OWN_CONTROL = "kubedrill.ctk.control"   # kubedrill's own control: allowed
K8S_MODULE = "chaosk8s."


@dataclass(frozen=True)
class Policy:
    allow_process: bool = False     # --allow-process: process providers run any program
    allow_controls: bool = False    # --allow-controls: controls run their code around every activity


def activities(experiment: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every activity: the hypothesis' probes, the method, the rollbacks (tolerance probes too)."""
    hyp = experiment.get("steady-state-hypothesis") or {}
    for group in (hyp.get("probes") or [], experiment.get("method") or [], experiment.get("rollbacks") or []):
        for act in group:
            if isinstance(act, dict) and "provider" in act:
                yield act
                tolerance = act.get("tolerance")
                if isinstance(tolerance, dict) and "provider" in tolerance:
                    yield {**tolerance, "name": f"{act.get('name', '?')} (tolerance)", "type": "probe"}


def controls(experiment: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The experiment's controls and those of each activity."""
    yield from experiment.get("controls") or []
    for act in activities(experiment):
        yield from act.get("controls") or []


def substitute(value: Any, configuration: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: str(configuration.get(m.group(1), m.group(0))), value)
    return value


def namespaces_named(args: Mapping[str, Any], configuration: Mapping[str, Any]) -> tuple[str, ...]:
    """The namespaces an activity's arguments name: ``ns``, and the namespaces a Chaos Mesh
    selector (``namespaces_selectors``, ``target_namespaces_selectors``) points at."""
    named = [str(substitute(args["ns"], configuration))] if "ns" in args else []
    for key, value in args.items():
        if key.endswith("namespaces_selectors") and value:
            value = substitute(value, configuration)
            named += value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return tuple(n.strip() for n in named)


def check(experiment: Mapping[str, Any], guard, configuration: Mapping[str, Any] | None = None,
          policy: Policy = Policy()) -> None:
    """GuardRefused, naming the activity and why, when any of it would touch what the run may not."""
    conf = {**{k: v for k, v in (experiment.get("configuration") or {}).items() if not isinstance(v, dict)},
            **(configuration or {})}
    if not policy.allow_controls:
        for control in controls(experiment):
            if (control.get("provider") or {}).get("module") == OWN_CONTROL:
                continue   # kubedrill's own: it drills the experiment under `chaos run`, and does nothing here
            raise GuardRefused(f"control {control.get('name', '?')!r}: controls run their own code around every "
                               "activity, out of the guard's sight; --allow-controls allows them")
    for scope_name, values in (experiment.get("secrets") or {}).items():
        picked = sorted(k for k in (values or {}) if str(k).startswith("KUBERNETES_"))
        if picked:
            raise GuardRefused(f"secrets {scope_name!r} set {', '.join(picked)}: an experiment runs against "
                               "the drilled context only")
    for act in activities(experiment):
        check_activity(act, guard, conf, policy)


def check_activity(act: Mapping[str, Any], guard, conf: Mapping[str, Any], policy: Policy = Policy()) -> None:
    name = act.get("name", "?")
    provider = act.get("provider") or {}
    ptype = provider.get("type")
    if ptype == "http":
        method = str(provider.get("method") or "GET").upper()
        if method != "GET":
            raise GuardRefused(f"activity {name!r}: an http {method} may change what it reaches; only GET "
                               "(read-only) is allowed")
        return
    if ptype == "process":
        if not policy.allow_process:
            raise GuardRefused(f"activity {name!r}: process providers are not allowed in drills unless "
                               "--allow-process: they run any program, out of the guard's sight")
        return
    if ptype != "python":
        raise GuardRefused(f"activity {name!r}: {ptype!r} providers are not allowed in drills")
    module = str(provider.get("module", ""))
    if module.startswith(OWN_MODULE):
        return
    if not module.startswith(K8S_MODULE):
        raise GuardRefused(f"activity {name!r}: module {module!r} is neither chaostoolkit-kubernetes nor "
                           "kubedrill.ctk: its code acts out of the guard's sight")
    if module.startswith("chaosk8s.node"):
        raise GuardRefused(f"activity {name!r}: node actions go through kubedrill faults (journalled)")
    _check_k8s(act, name, module, provider, guard, conf)


def _check_k8s(act, name: str, module: str, provider, guard, conf) -> None:
    args = provider.get("arguments") or {}
    if "ns" not in args:
        if module.startswith("chaosk8s.namespace."):
            target = str(substitute(args.get("name", ""), conf))
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
