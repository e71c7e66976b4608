"""What kubedrill writes into the Allure results directory beside allure-pytest's own files:
environment.properties, categories.json (verdict classes), kubedrill-perf.json (RTO, RPO
and availability as Allure 3 metrics, so the report's trend shows them run after run) and, when
the storage scenarios ran per StorageClass, a result holding the classes side by side.

allure-pytest writes neither environment.properties nor categories.json.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from dataclasses import asdict
from typing import Iterable, Mapping, Sequence

from kubedrill import __version__ as kd_version
from kubedrill.config import MEASUREMENT
from kubedrill import pins
from kubedrill.client import Clients
from kubedrill.report import plot, trends
from kubedrill.report import results as kreport

VERDICT_LABEL = "verdict"

# The Allure status of each verdict class (set on each result, whatever allure-pytest made of the
# error's type): the workload failed -> failed; the drill could not say -> broken; did not run -> skipped
ALLURE_STATUS = {
    kreport.PASSED: "passed",
    kreport.OBJECTIVE_MISSED: "failed",
    kreport.DATA_LOST: "failed",
    kreport.IDENTITY_LOST: "failed",
    kreport.NOT_RECOVERED: "failed",
    kreport.FAULT_NOT_INJECTED: "broken",
    kreport.NOT_APPLICABLE: "skipped",
    kreport.HARNESS_ERROR: "broken",
    kreport.INTERRUPTED: "broken",
}


def message_prefix(verdict: str) -> str:
    """Messages start with the verdict class, e.g. ``[data lost] records 1-5 missing``: the
    marker the categories match (never the error's own text)."""
    return f"[{verdict}] "


def status_message(verdict: str, message: str | None, reason: str) -> str | None:
    """The result's message with its ``[verdict class]`` marker (None for a pass: no message)."""
    if verdict == kreport.PASSED:
        return None
    prefix = message_prefix(verdict)
    text = message or reason or verdict
    return text if text.startswith(prefix) else prefix + text


def names_of(verdict: str) -> tuple[str, ...]:
    """The class and the version-1 names read as it (results of older runs in the history)."""
    return (verdict,) + tuple(sorted(old for old, new in kreport.V1_VERDICTS.items() if new == verdict))


def _alternatives(verdict: str) -> str:
    """A regular expression for the class's names (plain words: nothing to escape)."""
    names = names_of(verdict)
    return names[0] if len(names) == 1 else f"({'|'.join(names)})"


def categories_allure2() -> list[dict]:
    """categories.json (Allure 2 format, read by allure 2 and allure 3's classic report): one per
    verdict class, matched on the status kubedrill set and the ``[verdict class]`` marker."""
    out = []
    for v in kreport.VERDICTS:
        category = {"name": v, "description": kreport.VERDICT_MEANINGS[v], "matchedStatuses": [ALLURE_STATUS[v]]}
        if v != kreport.PASSED:
            category["messageRegex"] = rf"(?s)\[{_alternatives(v)}\].*"
        out.append(category)
    return out


def categories_allure3() -> list[dict]:
    """The same verdict classes for allure 3's awesome report: matched on the ``verdict`` label
    kubedrill puts on every result (version 1's names too, for the history)."""
    return [{"id": f"kubedrill-{v.replace(' ', '-')}", "name": v,
             "matchers": {"labels": {VERDICT_LABEL: f"^{_alternatives(v)}$"}}, "groupByMessage": v != kreport.PASSED,
             "expand": v not in (kreport.PASSED, kreport.NOT_APPLICABLE)}
            for v in kreport.VERDICTS]


def properties_text(values: Mapping[str, str]) -> str:
    """Java .properties: ``key=value`` lines, with the characters that need it escaped."""
    def esc(s: str, key: bool = False) -> str:
        s = str(s).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        if key:
            s = s.replace("=", "\\=").replace(":", "\\:").replace(" ", "\\ ")
        return s
    return "".join(f"{esc(k, True)}={esc(v)}\n" for k, v in values.items())


def write_environment(results_dir: Path, values: Mapping[str, str]) -> Path:
    path = Path(results_dir) / "environment.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(properties_text(values))
    return path


def write_categories(results_dir: Path) -> Path:
    path = Path(results_dir) / "categories.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(categories_allure2(), indent=2) + "\n")
    return path


def metrics(results: Iterable[kreport.ScenarioResult], now_ms: int | None = None) -> list[dict]:
    """Allure 3 performance metrics: one RTO per scenario (and RPO, availability when measured)."""
    now_ms = now_ms or int(time.time() * 1000)
    out = []

    def add(key: str, value: float, title: str, unit: str, group: str, better: str, dur_s: float) -> None:
        out.append({"id": str(uuid.uuid4()), "key": key, "value": float(value), "title": title, "unit": unit,
                    "group": group, "better": better, "start": now_ms - int(dur_s * 1000), "stop": now_ms})

    for r in results:
        short = r.scenario.split("::")[-1]
        if r.rto_s is not None:
            add(f"rto_s:{r.scenario}", r.rto_s, f"RTO {short}", "s", "RTO", "lower", r.duration_s)
        if r.rpo:
            add(f"rpo_records:{r.scenario}", r.rpo.get("records_lost", 0), f"RPO {short}", "records", "RPO",
                "lower", r.duration_s)
        if r.availability and r.availability.get("success_ratio") is not None:
            add(f"availability:{r.scenario}", r.availability["success_ratio"], f"availability {short}", "ratio",
                "availability", "higher", r.duration_s)
    return out


def write_metrics(results_dir: Path, results: Iterable[kreport.ScenarioResult]) -> Path | None:
    values = metrics(results)
    if not values:
        return None
    path = Path(results_dir) / "kubedrill-perf.json"
    path.write_text(json.dumps(values, indent=2) + "\n")
    return path


COMPARISON_NAME = "StorageClasses side by side"


def write_result(results_dir: Path, name: str, history_id: str, suite: str, feature: str, description: str,
                 attachments: Iterable[tuple[str, bytes | str, str, str]], now_ms: int | None = None) -> Path:
    """An Allure result of kubedrill's own (status passed), with its attachments: (title, body,
    MIME type, file extension) each."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    now_ms = now_ms or int(time.time() * 1000)
    attached = []
    for title, body, mime, ext in attachments:
        source = f"{uuid.uuid4()}-attachment.{ext}"
        (results_dir / source).write_bytes(body if isinstance(body, bytes) else body.encode())
        attached.append({"name": title, "source": source, "type": mime})
    result = {"uuid": str(uuid.uuid4()), "historyId": history_id, "testCaseId": history_id,
              "name": name, "fullName": history_id, "status": "passed", "stage": "finished",
              "description": description, "start": now_ms, "stop": now_ms, "attachments": attached,
              "labels": [{"name": "suite", "value": suite}, {"name": "feature", "value": feature},
                         {"name": "framework", "value": "kubedrill"}]}
    path = results_dir / f"{result['uuid']}-result.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def write_comparison(results_dir: Path, compared: dict | None, now_ms: int | None = None) -> Path | None:
    """The StorageClasses side by side (kubedrill.report.results.comparison), as an Allure result
    of its own in the "storage classes" suite: the table as text, the comparison as JSON. Its
    status is passed; each class's verdict is in the table (and on its own scenario's result)."""
    if not compared:
        return None
    classes = ", ".join(compared["classes"])
    return write_result(
        results_dir, COMPARISON_NAME, "kubedrill.storage_classes", "storage classes", "storage",
        f"The storage scenarios run once per StorageClass ({classes}): verdict, RTO, RPO, "
        "snapshot ready time and restore time of each class.",
        [("StorageClasses side by side (table)", "\n".join(kreport.format_comparison(compared)) + "\n",
          "text/plain", "txt"),
         ("StorageClasses side by side (JSON)", json.dumps(compared, indent=2) + "\n", "application/json", "json")],
        now_ms)


TRENDS_NAME = "RTO and RPO over runs"


def write_trends(results_dir: Path, series: Sequence[trends.Series], history: Path,
                 now_ms: int | None = None) -> Path | None:
    """Each scenario's RTO and RPO over the runs of the history (kubedrill.report.trends), as an
    Allure result of its own in the "trends" suite: one plot per scenario that measured something,
    and the series as JSON. None when no scenario measured anything."""
    measured = [s for s in series if s.measured]
    if not measured:
        return None
    runs = measured[0].runs
    return write_result(
        results_dir, TRENDS_NAME, "kubedrill.trends", "trends", "trends",
        f"RTO and RPO of each scenario over the last {len(runs)} run{'s' if len(runs) != 1 else ''} "
        f"({runs[0]} to {runs[-1]}), each with its objective; from {history}.",
        [(f"{s.scenario}: RTO and RPO over runs", plot.trend_png(s), "image/png", "png") for s in measured]
        + [("RTO and RPO over runs (JSON)", json.dumps([asdict(s) for s in measured], indent=2) + "\n",
            "application/json", "json")],
        now_ms)


# --- the environment -------------------------------------------------------------------------
def kind_binary() -> str | None:
    """kind as `make cluster` installs it (~/.cache/kubedrill/bin/kind-<KIND_VERSION>), else PATH."""
    return pins.cached_binary("kind", "KIND_VERSION")


def kind_version() -> str:
    exe = kind_binary()
    if not exe:
        return "not installed"
    try:
        out = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out or "unknown"


def source_commit() -> str:
    """The commit kubedrill runs from (``-dirty`` with uncommitted changes; "unknown" outside git):
    benchmarks/objectives.py records only runs of a commit."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def environment(clients: Clients, run_id: str, seed: int) -> dict[str, str]:
    """Kubernetes version, nodes, CSI driver(s), kind version, run id, seed: read from the cluster.
    Whatever cannot be read says so; this never raises."""
    from kubernetes import client as k8s

    env: dict[str, str] = {"run_id": run_id, "seed": str(seed), "context": clients.context,
                           "kubedrill": kd_version, "commit": source_commit(),
                           "measurement": str(MEASUREMENT)}
    try:
        env["kubernetes"] = k8s.VersionApi(clients.api).get_code(_request_timeout=10).git_version
    except Exception as exc:  # noqa: BLE001
        env["kubernetes"] = f"unknown ({type(exc).__name__})"
    try:
        nodes = clients.core.list_node(_request_timeout=10).items
        parts = []
        for n in sorted(nodes, key=lambda n: n.metadata.name):
            ready = next((c.status for c in n.status.conditions or [] if c.type == "Ready"), "Unknown")
            role = "control-plane" if "node-role.kubernetes.io/control-plane" in (n.metadata.labels or {}) else "worker"
            parts.append(f"{n.metadata.name} ({role}, {n.status.node_info.kubelet_version}, "
                         f"Ready={ready})")
        env["nodes"] = f"{len(nodes)}: " + ", ".join(parts)
    except Exception as exc:  # noqa: BLE001
        env["nodes"] = f"unknown ({type(exc).__name__})"
    try:
        drivers = [d.metadata.name for d in clients.storage.list_csi_driver(_request_timeout=10).items]
        images = []
        for ds in clients.apps.list_namespaced_daemon_set("kubedrill-storage", _request_timeout=10).items:
            images += [c.image for c in ds.spec.template.spec.containers]
        env["csi_driver"] = ", ".join(drivers) or "none"
        if images:
            env["csi_images"] = ", ".join(sorted(set(images)))
    except Exception as exc:  # noqa: BLE001
        env["csi_driver"] = f"unknown ({type(exc).__name__})"
    try:
        classes = clients.custom.list_cluster_custom_object("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses",
                                                           _request_timeout=10)["items"]
        env["snapshot_classes"] = ", ".join(c["metadata"]["name"] for c in classes) or "none"
    except Exception:  # noqa: BLE001 - no snapshot CRDs on this cluster
        env["snapshot_classes"] = "none (no VolumeSnapshot API)"
    env["kind"] = kind_version() if clients.kind_cluster else "not a kind cluster"
    return env


# --- the HTML report's configuration -------------------------------------------------------------
def allurerc(name: str, output: Path, history: Path, history_limit: int | None = None) -> dict:
    """allure 3 configuration (allurerc.json) for `allure generate`."""
    cfg = {
        "name": name,
        "output": str(output),
        "historyPath": str(history),
        "categories": categories_allure3(),
        "performance": {"groups": {"RTO": {"title": "RTO (s)"}, "RPO": {"title": "RPO (records)"},
                                   "availability": {"title": "availability (success ratio)"}}},
        "plugins": {"awesome": {"options": {"reportName": name, "singleFile": False,
                                            "reportLanguage": "en", "groupBy": ["feature"]}}},
    }
    if history_limit:
        cfg["historyLimit"] = history_limit
    return cfg
