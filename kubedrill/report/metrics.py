"""A run's Prometheus metrics, built from its results.json (docs/metrics.md).

Written at the end of every run as reports/metrics.prom (the node-exporter textfile collector's
format; a temporary file renamed into place) and, with ``--pushgateway URL``, pushed (PUT) to
a Prometheus Pushgateway under the grouping key ``{job="kubedrill", cluster=<cluster>}``: each
push replaces the cluster's previous one.

Labels are only ``scenario`` (the pytest item id without its StorageClass parameter: stable
from run to run, never a title, run id or seed), ``cluster`` (the kube context drilled) and
``storage_class`` (empty when the scenario ran on none); the verdict StateSet adds its state
label, one series per verdict class. Values are in base units: seconds, ratios, records.

``kubedrill_scenario_rto_near_objective_runs`` counts the consecutive runs, this one included,
whose RTO was above ``NEAR_OBJECTIVE`` of its objective; its previous value is read from what the
last run pushed (the gateway) or wrote (the previous metrics.prom), so an alert can say "for 3
runs" without counting runs in PromQL.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable, Mapping

from prometheus_client import CollectorRegistry, Enum, Gauge, push_to_gateway, write_to_textfile
from prometheus_client.parser import text_string_to_metric_families

from kubedrill.errors import MetricsUnreported, first_line
from kubedrill.report.results import VERDICTS, class_free_id

JOB = "kubedrill"
PREFIX = "kubedrill_"
LABELS = ("scenario", "cluster", "storage_class")
RUN_LABELS = ("cluster",)
FILE = "metrics.prom"
# an RTO above this share of its objective is "near" it (the alert KubedrillRtoNearObjective)
NEAR_OBJECTIVE = 0.8
STREAK = "kubedrill_scenario_rto_near_objective_runs"

# one gauge per figure of a scenario's row: name, help, how it is read from the row
_ROW_GAUGES = (
    ("scenario_rto_seconds", "recovery time: the fault to the recovery condition (watch events, monotonic clock)",
     lambda r: r.get("rto_s")),
    ("scenario_rto_objective_seconds", "the RTO objective the scenario was held to",
     lambda r: r.get("objective_s")),
    ("scenario_rpo_records", "acknowledged records the recovery lost",
     lambda r: (r.get("rpo") or {}).get("records_lost")),
    ("scenario_rpo_seconds", "the writing time the lost records cover",
     lambda r: (r.get("rpo") or {}).get("seconds_lost")),
    ("scenario_rpo_objective_records", "the RPO objective in records",
     lambda r: objective(r, "rpo_records")),
    ("scenario_rpo_objective_seconds", "the RPO objective in seconds",
     lambda r: objective(r, "rpo_s")),
    ("scenario_availability_ratio", "share of the prober's requests answered during the recovery",
     lambda r: (r.get("availability") or {}).get("success_ratio")),
    ("scenario_availability_objective_ratio", "the availability objective (share answered, at least)",
     lambda r: objective(r, "availability")),
    ("scenario_longest_outage_seconds", "the longest run of failed requests during the recovery",
     lambda r: (r.get("availability") or {}).get("longest_outage_s")),
    ("scenario_longest_outage_objective_seconds", "the longest-outage objective",
     lambda r: objective(r, "outage_s")),
    ("scenario_duration_seconds", "how long the scenario took, set-up to tear-down",
     lambda r: r.get("duration_s")),
)


def objective(row: Mapping, kind: str) -> float | None:
    """The scenario's one objective of ``kind`` (``rpo_records``, ``rpo_s``, ``availability``,
    ``outage_s``): the objectives it read named so or ending ``_<kind>``; None when it read none,
    or several with different values (which one the figure was held to is not known)."""
    values = {float(v) for name, v in (row.get("objectives") or {}).items()
              if name == kind or name.endswith("_" + kind)}
    return values.pop() if len(values) == 1 else None


def scenario_id(row: Mapping) -> str:
    """The ``scenario`` label: the item id without its ``[sc=NAME]`` parameter (the class is a label)."""
    return class_free_id(str(row["scenario"]), row.get("storage_class") or "")


def near_objective(row: Mapping) -> bool:
    rto, objective_s = row.get("rto_s"), row.get("objective_s")
    return rto is not None and objective_s is not None and float(rto) > NEAR_OBJECTIVE * float(objective_s)


def registry(document: Mapping, finished_at: float, run_duration_s: float | None = None,
             streaks_before: Mapping[tuple[str, str], float] | None = None) -> CollectorRegistry:
    """The metrics of the run ``document`` (a results.json) finished at ``finished_at`` (Unix
    seconds). ``streaks_before``: (scenario, storage_class) -> the previous run's
    ``kubedrill_scenario_rto_near_objective_runs``."""
    reg = CollectorRegistry(auto_describe=True)
    cluster = str(document.get("context") or "")
    # prometheus_client calls a StateSet an Enum (OpenMetrics type stateset; a gauge per state in the text format)
    verdict = Enum(PREFIX + "scenario_verdict", "the scenario's verdict class (one series per class)",
                       LABELS, registry=reg, states=list(VERDICTS))
    gauges = [(Gauge(PREFIX + name, text, LABELS, registry=reg), read) for name, text, read in _ROW_GAUGES]
    streak = Gauge(STREAK, f"consecutive runs, this one included, whose RTO was above {NEAR_OBJECTIVE:g} of its "
                           "objective", LABELS, registry=reg)
    last = Gauge(PREFIX + "scenario_last_run_timestamp_seconds", "when the run that drilled the scenario ended",
                 LABELS, registry=reg)
    for row in document.get("scenarios") or ():
        key = (scenario_id(row), row.get("storage_class") or "")
        labels = {"scenario": key[0], "cluster": cluster, "storage_class": key[1]}
        verdict.labels(**labels).state(row["verdict"])
        for gauge, read in gauges:
            value = read(row)
            if value is not None:
                gauge.labels(**labels).set(float(value))
        streak.labels(**labels).set((streaks_before or {}).get(key, 0) + 1 if near_objective(row) else 0)
        last.labels(**labels).set(finished_at)
    Gauge(PREFIX + "run_last_timestamp_seconds", "when the last drill run on the cluster ended", RUN_LABELS,
          registry=reg).labels(cluster=cluster).set(finished_at)
    if run_duration_s is not None:
        Gauge(PREFIX + "run_duration_seconds", "how long the last drill run took", RUN_LABELS,
              registry=reg).labels(cluster=cluster).set(run_duration_s)
    return reg


def streaks(text: str, cluster: str) -> dict[tuple[str, str], float]:
    """The ``kubedrill_scenario_rto_near_objective_runs`` of ``cluster`` in an exposition text
    (a previous metrics.prom, or the Pushgateway's /metrics: only job="kubedrill" there)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if (s.name == STREAK and s.labels.get("cluster", "") == cluster
                    and s.labels.get("job", JOB) == JOB):
                out[(s.labels.get("scenario", ""), s.labels.get("storage_class", ""))] = s.value
    return out


def previous_streaks(cluster: str, path: Path, pushgateway: str | None, timeout_s: float) -> dict:
    """What the previous run left: read from the Pushgateway when one is given (raises
    MetricsUnreported when it does not answer), else from the metrics file at ``path``."""
    if pushgateway:
        url = gateway_url(pushgateway).rstrip("/") + "/metrics"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as answer:
                return streaks(answer.read().decode(), cluster)
        except (OSError, ValueError) as exc:   # URLError and HTTPError are OSErrors
            raise MetricsUnreported(f"could not read the Pushgateway {url}: {first_line(exc)}") from exc
    try:
        return streaks(Path(path).read_text(), cluster)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise MetricsUnreported(f"could not read the previous {path}: {first_line(exc)}") from exc


def gateway_url(url: str) -> str:
    return url if "://" in url else f"http://{url}"


def write(path: Path, reg: CollectorRegistry) -> Path:
    """reports/metrics.prom: the textfile format, written to a temporary file renamed into place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), reg)
    except OSError as exc:
        raise MetricsUnreported(f"could not write {path}: {first_line(exc)}") from exc
    return path


def push(url: str, reg: CollectorRegistry, cluster: str, timeout_s: float) -> None:
    """PUT the metrics to the Pushgateway at ``url`` under {job="kubedrill", cluster=...}: they
    replace what the cluster's last run pushed. Raises MetricsUnreported when it fails."""
    try:
        push_to_gateway(gateway_url(url), job=JOB, registry=reg, grouping_key={"cluster": cluster},
                        timeout=timeout_s)
    except (OSError, ValueError) as exc:
        detail = first_line(exc)
        if isinstance(exc, urllib.error.HTTPError):
            detail = f"HTTP {exc.code} {exc.reason}: {first_line(exc.read().decode(errors='replace') or exc)}"
        raise MetricsUnreported(f"could not push the metrics to the Pushgateway {url}: {detail}") from exc


def label_sets(reg: CollectorRegistry) -> Iterable[tuple[str, dict]]:
    """Every sample's name and labels (for checks and tests)."""
    for family in reg.collect():
        for s in family.samples:
            yield s.name, dict(s.labels)
