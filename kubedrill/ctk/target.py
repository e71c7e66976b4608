"""The documents of an experiment's target: manifests (files or directories of YAML or JSON,
relative to the experiment's file) or a kustomize directory (built with ``kubectl kustomize``);
each with where it came from, for one-line errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from kubedrill import helm
from kubedrill.ctk.extension import Extension
from kubedrill.errors import UsageError, first_line

SUFFIXES = (".yaml", ".yml", ".json")
# a directory of manifests may also be a kustomize base: its kustomization is not an object
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _files(base: Path, entry: str) -> list[Path]:
    path = (base / entry).resolve()
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                       and p.name not in KUSTOMIZATIONS)
        if not found:
            raise UsageError(f"manifests {entry}: no .yaml, .yml or .json file in {path}")
        return found
    if path.is_file():
        return [path]
    raise UsageError(f"manifests {entry}: no such file or directory ({path})")


def _parse(text: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: not YAML: {first_line(exc)}") from None
    out = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise UsageError(f"{where}: document {i + 1} is not a mapping")
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            out += [(f"{where}[{i + 1}].items[{j}]", item) for j, item in enumerate(doc["items"])]
        else:
            out.append((f"{where}[{i + 1}]" if len(docs) > 1 else where, doc))
    return out


def kustomize(directory: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise UsageError("kustomize target: kubectl is not on PATH (make cluster builds it into ~/.cache/kubedrill/bin)")
    proc = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise UsageError(f"kustomize {directory}: {first_line(proc.stderr or proc.stdout)}")
    return proc.stdout


def documents_of(base: Path, entries) -> list[tuple[str, dict[str, Any]]]:
    """(where, document) of every object in the files or directories ``entries`` (relative to ``base``)."""
    out = []
    for entry in entries:
        for f in _files(base, entry):
            out += _parse(f.read_text(), str(f.relative_to(base)) if f.is_relative_to(base) else str(f))
    return out


def chart(ext: Extension) -> str:
    """The helm target's chart, a directory or archive relative to the experiment's file."""
    given = ext.target["helm"]["chart"]
    path = (Path(ext.where).resolve().parent / given).resolve()
    if not path.exists():
        raise UsageError(f"helm chart {given}: no such directory or archive ({path}); charts are read from disk, "
                         "never from a repository")
    return str(path)


def release(ext: Extension) -> str:
    return ext.target["helm"].get("release") or Path(ext.where).stem


def documents(ext: Extension, namespace: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(where, document) of every object the target applies into ``namespace`` (a helm chart is
    rendered for it); [] for an existing namespace (a helm release there is installed instead)."""
    base = Path(ext.where).resolve().parent
    if "manifests" in ext.target:
        return documents_of(base, ext.target["manifests"])
    if "helm" in ext.target and not ext.existing_namespace:
        return _parse(helm.template(release(ext), chart(ext), namespace, ext.target["helm"].get("values")),
                      f"helm template {ext.target['helm']['chart']}")
    if "kustomize" in ext.target:
        directory = (base / ext.target["kustomize"]).resolve()
        if not directory.is_dir():
            raise UsageError(f"kustomize {ext.target['kustomize']}: no such directory ({directory})")
        return _parse(kustomize(directory), f"kustomize {ext.target['kustomize']}")
    return []
