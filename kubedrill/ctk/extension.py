"""The ``kubedrill`` entry of a Chaos Toolkit experiment's ``extensions``: what CTK has no place
for (the target, what must recover, the data check, objectives, timeouts), checked against
schemas/experiment-extension.schema.json. Every error is one line: the file, the path in the
document, what is wrong. A valid entry becomes a frozen :class:`Extension`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from kubedrill.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "experiment-extension.schema.json"
NAME = "kubedrill"
_ONE_OF = {
    "target": "namespace, manifests, kustomize or helm",
    "probe": "sql, http or exec",
}


class ExtensionInvalid(UsageError):
    """The experiment's kubedrill extension is missing or malformed: one line per error."""

    def __init__(self, lines: list[str]):
        self.lines = tuple(lines)
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str = ""
    selector: str = ""
    rto_s: float | str | None = None    # a number, or the name of one of kubedrill's objectives

    def describe(self) -> str:
        return f"{self.kind} {self.name}" if self.name else f"{self.kind}s {self.selector}"


@dataclass(frozen=True)
class Extension:
    target: Mapping[str, Any]
    recover: tuple[Workload, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    objectives: Mapping[str, float | str] = field(default_factory=dict)   # str: kubedrill's objective of that name
    timeouts: Mapping[str, float] = field(default_factory=dict)
    availability: Mapping[str, Any] = field(default_factory=dict)   # the Service the prober GETs
    where: str = ""      # the experiment's file, to resolve the target's relative paths

    @property
    def existing_namespace(self) -> str:
        """The namespace drilled as it is ('' when the run makes a fresh one)."""
        target = self.target
        return target.get("namespace") or (target.get("helm") or {}).get("namespace") or ""


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _message(error: jsonschema.ValidationError) -> str:
    kind, last = error.validator, (error.path[-1] if error.path else "")
    if kind == "additionalProperties":
        known = ", ".join(sorted((error.schema.get("properties") or {})))
        extra = sorted(set(error.instance) - set(error.schema.get("properties") or {}))
        return f"unknown key {', '.join(map(repr, extra))} (expected: {known})"
    if kind == "required":
        return f"missing {error.message.split(' is a required')[0]}"
    if kind == "minProperties" and last == "data":
        return "give one or more of probe, records, stream"
    if kind in ("minProperties", "maxProperties") and last in _ONE_OF:
        return f"give exactly one of {_ONE_OF[last]}"
    if kind == "oneOf" and isinstance(error.instance, dict) and "kind" in error.instance:
        return "give exactly one of name or selector"
    if kind == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if kind == "const":
        return f"expected {error.validator_value!r}, got {error.instance!r}"
    if kind == "anyOf":   # an objective: a number, or the name of one of kubedrill's
        if isinstance(error.instance, str):
            return (f"{error.instance!r} is not one of kubedrill's objectives (give a number, or a name of "
                    "kubedrill/defaults.py)")
        numeric = [e for e in error.context if e.validator != "enum"]
        if numeric:
            return _message(numeric[0])
    return error.message


def errors(entry: Any, file: str, index: int) -> list[str]:
    """One line per error of the extension at ``extensions[index]``."""
    validator = jsonschema.Draft202012Validator(schema())
    found = sorted(validator.iter_errors(entry), key=lambda e: (list(map(str, e.path)), e.validator))
    prefix = f"{file}: extensions[{index}]"
    return [f"{prefix}{_where(e.path)}: {_message(e)}" for e in found]


def of(experiment: Mapping[str, Any], file: str | Path) -> Extension:
    """The experiment's kubedrill extension; ExtensionInvalid with one line per error."""
    entries = [(i, e) for i, e in enumerate(experiment.get("extensions") or [])
               if isinstance(e, dict) and e.get("name") == NAME]
    if not entries:
        raise ExtensionInvalid([f"{file}: extensions: no entry named {NAME!r}: kubedrill needs its target and "
                                "what must recover (schemas/experiment-extension.schema.json)"])
    if len(entries) > 1:
        raise ExtensionInvalid([f"{file}: extensions[{entries[1][0]}]: a second entry named {NAME!r}; give one"])
    index, entry = entries[0]
    lines = errors(entry, str(file), index)
    if not lines and not entry.get("availability"):
        lines = [f"{file}: extensions[{index}].objectives.{k}: needs 'availability' (the Service the prober measures)"
                 for k in ("availability", "longest_outage_s") if k in (entry.get("objectives") or {})]
    if not lines and not (entry.get("data") or {}).get("stream"):
        lines = [f"{file}: extensions[{index}].objectives.{k}: needs 'data.stream' (the writer whose RPO is measured)"
                 for k in ("rpo_records", "rpo_s") if k in (entry.get("objectives") or {})]
    if lines:
        raise ExtensionInvalid(lines)
    return Extension(
        target=entry["target"],
        recover=tuple(Workload(w["kind"], w.get("name", ""), w.get("selector", ""), w.get("rto_s"))
                      for w in entry["recover"]),
        data=entry.get("data") or {}, objectives=entry.get("objectives") or {},
        timeouts=entry.get("timeouts") or {}, availability=entry.get("availability") or {}, where=str(file))


def resolve(ext: Extension, objectives: Any) -> Extension:
    """``ext`` with each objective given by name (``rto_s: pod_delete_one_rto_s``) replaced by
    that objective's value in ``objectives`` (kubedrill.config.Objectives: the generated
    defaults, --objectives, --objective): an experiment held to kubedrill's measured objectives."""
    def value(v):
        return float(getattr(objectives, v)) if isinstance(v, str) else v

    return replace(ext, objectives={k: value(v) for k, v in ext.objectives.items()},
                   recover=tuple(replace(w, rto_s=value(w.rto_s)) for w in ext.recover))
