"""What kubedrill adds to each Allure result: the seed component (``feature``), a
``severity``, a link to the scenario's source, the ``verdict`` label and tag, a failure message
that starts with ``[verdict class]``, and the measured values as parameters."""

from __future__ import annotations

import os
from pathlib import Path

from kubedrill.report.allure import VERDICT_LABEL
from kubedrill.report.results import ScenarioResult

# (words in the scenario's file name, the seed component they mean)
COMPONENTS = (
    (("replicationcontroller", "replicas", "replica", "deployment"), "ReplicationController and Deployment"),
    (("statefulset",), "StatefulSet"),
    (("snapshot", "restore", "postgres"), "snapshot restore"),
    (("persistentvolume", "retention", "pv", "volume"), "PersistentVolume"),
    (("node",), "node loss"),
    (("chaos", "experiment"), "Chaos Toolkit experiment"),
)
DATA_COMPONENTS = frozenset({"StatefulSet", "snapshot restore", "PersistentVolume"})
VERDICT_TAG = "verdict: "
MEASURED_PARAMETERS = ("RTO", "RPO", "availability")


def component_of(marked: str | None, module_component: str | None, path: str) -> str:
    """The seed component (Allure feature): the ``component`` marker's, the module's
    ``COMPONENT``, or a word of the scenario's file name; "plumbing" otherwise."""
    if marked is not None:
        return marked
    if module_component is not None:
        return module_component
    stem = Path(path).stem.lower()
    words = set(stem.replace("-", "_").split("_"))
    for keys, component in COMPONENTS:
        if words & set(keys) or any(k in stem for k in keys if len(k) > 4):
            return component
    return "plumbing"


def severity_of(marked_data_or_node: bool, component: str) -> str:
    """critical when the scenario guards data or a node, normal otherwise."""
    if marked_data_or_node or component in DATA_COMPONENTS or component == "node loss":
        return "critical"
    return "normal"


def source_link(path: str, line: int | None, rootpath: Path) -> tuple[str, str]:
    """(name, url) of the scenario's source. ``KUBEDRILL_SOURCE_URL`` makes it a web link, e.g.
    ``https://github.com/acme/kubedrill/blob/main/{path}#L{line}``; a file:// link otherwise.
    ``line`` is 0-based (pytest's item.location)."""
    lineno = (line or 0) + 1
    name = f"{path}:{lineno}"
    template = os.environ.get("KUBEDRILL_SOURCE_URL")
    if template:
        return name, template.format(path=path, line=lineno)
    return name, (Path(rootpath) / path).resolve().as_uri() + f"#L{lineno}"


def verdict_labels(verdict: str) -> tuple[tuple[str, str], ...]:
    """(name, value) labels of a verdict: ``verdict`` and the tag ``verdict: <class>``."""
    return (VERDICT_LABEL, verdict), ("tag", f"{VERDICT_TAG}{verdict}")


def is_verdict_label(name: str, value: str) -> bool:
    return name == VERDICT_LABEL or (name == "tag" and value.startswith(VERDICT_TAG))


def measured_parameters(result: ScenarioResult) -> tuple[tuple[str, str], ...]:
    """(name, value) of RTO, RPO and availability, as measured (shown, not in the history id)."""
    out: list[tuple[str, str]] = []
    if result.rto_s is not None:
        rto = f"{result.rto_s:.2f}s" + (f" (objective {result.objective_s:g}s)" if result.objective_s is not None else "")
        out.append(("RTO", rto))
    if result.rpo:
        out.append(("RPO", f"{result.rpo['records_lost']} records, {result.rpo['seconds_lost']:.1f}s"))
    if result.availability:
        out.append(("availability", f"{100 * result.availability['success_ratio']:.1f}%, longest outage "
                                    f"{result.availability['longest_outage_s']:.1f}s"))
    return tuple(out)
