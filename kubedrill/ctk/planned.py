"""The plan of a Chaos Toolkit experiment (kubedrill.plan): read from its file alone, before
anything runs. The namespace from its kubedrill extension's target (a fresh one, or the existing
one it names), the objects from its manifests, the faults from its method's actions in order
(then its rollbacks), the nodes, cluster-scoped kinds and capabilities from what kubedrill's own
providers do; and, when the guard would refuse the experiment (an invalid extension, a namespace
the run may not drill, an activity the guard's policy refuses), why."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from kubedrill import plan as kplan
from kubedrill.ctk import extension, runner, target
from kubedrill.errors import KubedrillError, first_line
from kubedrill.plan import Namespace, Plan
from kubedrill.policy import OWN_MODULE, Policy, activities, check

# claim kinds: a volume is provisioned for each (a cluster-scoped PersistentVolume)
_CLAIMS = ("PersistentVolumeClaim",)


def of(item: str, scenario: str, doc: Mapping[str, Any], path: Path | str, guard, configuration: Mapping[str, Any],
       var_files: tuple[str, ...] = (), policy: Policy = Policy(), shown: Path | str | None = None) -> Plan:
    """The plan of the experiment ``doc`` (read from ``path``, named ``shown`` in messages),
    collected as ``item`` and named ``scenario`` (its fresh namespace is named after it).
    ``guard`` decides what the run may drill; ``configuration`` is the run's --var values."""
    try:
        ext = replace(extension.of(doc, shown or path), where=str(path))   # manifests relative to the file
    except KubedrillError as exc:
        return Plan(item=item, refused=first_line(exc))
    existing = ext.existing_namespace
    namespace = Namespace(scenario=scenario, existing=existing)
    base = Plan(item=item, namespaces=(namespace,), cluster_kinds=() if existing else ("Namespace",))
    try:
        parts = [base, _target(ext), _kubedrill_parts(ext), *(_activity(a, rollback) for a, rollback in _acting(doc))]
    except KubedrillError as exc:
        return base.merged(Plan(refused=first_line(exc)))
    plan = parts[0].merged(*parts[1:])
    why = refusal(doc, ext, guard, {**configuration}, var_files, policy,
                  existing or kplan.fresh_namespace(guard.run_id, scenario, 0))
    return plan.merged(Plan(refused=why)) if why else plan


def refusal(doc, ext, guard, configuration: dict, var_files, policy: Policy, namespace: str) -> str:
    """Why the guard would refuse the experiment in ``namespace`` ('' when it would not)."""
    try:
        if ext.existing_namespace:
            guard.check_namespace(namespace, "drill")
        exp, (cvars, _) = runner.prepared(doc, {**configuration, "ns": namespace}, tuple(var_files))
        fresh = not ext.existing_namespace and namespace not in guard.owned
        if fresh:
            guard.claim(namespace)   # the policy sees the namespace as the run's own, as it will be
        try:
            check(exp, guard, {**cvars, "ns": namespace}, policy)
        finally:
            if fresh:
                guard.release(namespace)
    except KubedrillError as exc:
        return first_line(exc)
    return ""


def _target(ext: extension.Extension) -> Plan:
    """What the target applies: its manifests read (a helm chart or a kustomize directory named)."""
    t = ext.target
    if "manifests" in t:
        docs = [d for _, d in target.documents(ext)]
        objects = tuple(f"{d.get('kind', '?')} {(d.get('metadata') or {}).get('name', '?')}" for d in docs)
        pdbs = tuple(_pdb(d) for d in docs if d.get("kind") == "PodDisruptionBudget")
        claims = any(d.get("kind") in _CLAIMS or (d.get("spec") or {}).get("volumeClaimTemplates") for d in docs)
        return Plan(objects=objects, pdbs=pdbs, cluster_kinds=("PersistentVolume",) if claims else ())
    if "helm" in t:
        where = f" into {t['helm']['namespace']}" if t["helm"].get("namespace") else ""
        return Plan(objects=(f"the objects of helm chart {t['helm']['chart']} (release {target.release(ext)}{where})",))
    if "kustomize" in t:
        return Plan(objects=(f"the objects kustomize builds from {t['kustomize']}",))
    return Plan()


def _pdb(doc: Mapping[str, Any]) -> str:
    spec = doc.get("spec") or {}
    said = ", ".join(f"{k} {spec[k]}" for k in ("minAvailable", "maxUnavailable") if k in spec)
    return f"PodDisruptionBudget {(doc.get('metadata') or {}).get('name', '?')}" + (f" ({said})" if said else "")


def _kubedrill_parts(ext: extension.Extension) -> Plan:
    """What kubedrill adds to the target: the prober's pod, the writer of data.stream."""
    objects = []
    if ext.availability:
        objects.append(f"Pod (the prober of Service {ext.availability.get('service', '?')})")
    if "stream" in ext.data:
        objects.append("the writer of data.stream")
    return Plan(objects=tuple(objects))


def _acting(doc: Mapping[str, Any]):
    """The method's actions in order, then the rollbacks: (activity, is a rollback)."""
    method = [a for a in activities({"method": doc.get("method") or []}) if a.get("type") == "action"]
    rollbacks = list(activities({"rollbacks": doc.get("rollbacks") or []}))
    return [(a, False) for a in method] + [(a, True) for a in rollbacks]


def _activity(act: Mapping[str, Any], rollback: bool) -> Plan:
    provider = act.get("provider") or {}
    ptype = provider.get("type")
    args = provider.get("arguments") or {}
    name = str(act.get("name", "?"))
    if ptype == "python":
        func = f"{provider.get('module', '?')}.{provider.get('func', '?')}"
        shown = ", ".join(f"{k}={v}" for k, v in args.items()) if isinstance(args, dict) else str(args)
        said = f"{name}: {func}({shown})"
    elif ptype == "http":
        said = f"{name}: http {str(provider.get('method') or 'GET').upper()} {provider.get('url', '?')}"
    else:
        said = f"{name}: {ptype} {provider.get('path', '?')}"
    fault = Plan(faults=(("rollback " if rollback else "") + said,))
    if ptype != "python" or not str(provider.get("module", "")).startswith(OWN_MODULE):
        return fault
    return fault.merged(_own(str(provider.get("func", "")), args if isinstance(args, dict) else {}))


def _own(func: str, args: Mapping[str, Any]) -> Plan:
    """What one of kubedrill's own actions touches beyond the drilled namespace."""
    workload = f"{args.get('kind', 'StatefulSet')} {args.get('name', '?')}"
    if func == "kill_containers":
        return Plan(capabilities=(kplan.CONTAINER_KILL,),
                    nodes=(f"the nodes of {workload}'s chosen pods (a container killed through their runtime)",))
    if func == "lose_node":
        how = str(args.get("how", "drain"))
        return Plan(capabilities=(kplan.NODE_STOP,) if how == "stop" else (), cluster_kinds=("Node",),
                    nodes=(f"one worker, chosen at run time: the one hosting most of {workload}'s pods "
                           f"({'stopped' if how == 'stop' else 'drained'})",))
    if func == "delete_claim":
        return Plan(cluster_kinds=("PersistentVolume",))
    if func == "snapshot_claims":
        return Plan(capabilities=(kplan.SNAPSHOT,), cluster_kinds=("VolumeSnapshotContent",))
    if func == "restore_claims":
        return Plan(capabilities=(kplan.SNAPSHOT,), cluster_kinds=("PersistentVolume", "VolumeSnapshotContent"))
    return Plan()
