"""Results: the summary table, reports/results.json, and the HTML report.

``python -m kubedrill.report html`` builds the HTML report (npm ``allure`` 3, pinned in
package.json) from reports/allure-results into reports/html, keeping a history across runs
(reports/history/). ``python -m kubedrill.report validate [reports/results.json]`` checks a
results file against schemas/results.schema.json.

reports/results.json is described by schemas/results.schema.json (``SCHEMA_VERSION``). Files
of version 1 are read through :func:`read_results` (its verdict classes mapped to today's).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

# verdict classes: how a scenario ended, from the typed error that ended it (kubedrill.report.verdicts)
PASSED = "passed"
OBJECTIVE_MISSED = "objective missed"
DATA_LOST = "data lost"
IDENTITY_LOST = "identity lost"
NOT_RECOVERED = "not recovered"
FAULT_NOT_INJECTED = "fault not injected"
NOT_APPLICABLE = "not applicable"
HARNESS_ERROR = "harness error"
INTERRUPTED = "interrupted"

VERDICTS = (PASSED, OBJECTIVE_MISSED, DATA_LOST, IDENTITY_LOST, NOT_RECOVERED, FAULT_NOT_INJECTED,
            NOT_APPLICABLE, HARNESS_ERROR, INTERRUPTED)

# the exit code of a run whose worst class is this one (0 and 1 as pytest's; pytest's own 2-5
# keep their meanings, so the other classes take 10-19)
EXIT_CODES = {PASSED: 0, OBJECTIVE_MISSED: 1, DATA_LOST: 10, IDENTITY_LOST: 11, NOT_RECOVERED: 12,
              FAULT_NOT_INJECTED: 13, NOT_APPLICABLE: 14, HARNESS_ERROR: 15, INTERRUPTED: 16}

# most severe first: the first of these present in a run is the run's verdict (and exit code)
WORST_FIRST = (DATA_LOST, IDENTITY_LOST, NOT_RECOVERED, OBJECTIVE_MISSED, FAULT_NOT_INJECTED, HARNESS_ERROR,
               INTERRUPTED, NOT_APPLICABLE, PASSED)

# the verdicts whose recovery was measured: a missed objective is a measured recovery too, so
# figures over many runs count it (leaving it out would bias them towards the fast runs)
MEASURED = (PASSED, OBJECTIVE_MISSED)

# what each verdict class means, for the report's categories and the schema
VERDICT_MEANINGS = {
    PASSED: "the scenario recovered within its objectives",
    OBJECTIVE_MISSED: "the workload recovered, outside an objective (too slowly, too long an outage)",
    DATA_LOST: "acknowledged data is missing, corrupt or not where it must be (the data oracle, a volume gone)",
    IDENTITY_LOST: "the workload came back as something else (a name, an ordinal or a PVC UID changed)",
    NOT_RECOVERED: "the workload never came back as required within its deadline",
    FAULT_NOT_INJECTED: "the fault did nothing or could not be injected (e.g. the killed pod is still there)",
    NOT_APPLICABLE: "the scenario cannot run on this cluster; the reason says why",
    HARNESS_ERROR: "kubedrill or the cluster failed before the fault (image missing, API unreachable), "
                   "or in teardown",
    INTERRUPTED: "the run was stopped (SIGINT/SIGTERM) before the scenario finished",
}

# results.json version 1 (before the classes above) named three classes otherwise
V1_VERDICTS = {"infrastructure error": HARNESS_ERROR, "skipped": NOT_APPLICABLE, "failed": HARNESS_ERROR}

SCHEMA_VERSION = 2
ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "results.schema.json"


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's row of results.json and of the summary table.

    The first eight fields keep their positions (older callers pass them positionally).
    """

    scenario: str
    verdict: str
    rto_s: float | None = None
    objective_s: float | None = None
    reason: str = ""
    timeline: dict | None = None
    seed: int | None = None
    duration_s: float = 0.0
    rpo: dict | None = None                 # {"records_lost": int, "seconds_lost": float}
    availability: dict | None = None        # {"success_ratio": float, "longest_outage_s": float, ...}
    objectives: dict = field(default_factory=dict)   # every objective the scenario read: name -> value
    component: str = ""                     # the seed component (Allure feature)
    recoveries: tuple = ()                  # every measured recovery (Recovery.as_dict()) in order
    storage_class: str = ""                 # the StorageClass it ran on (--storage-class); "" otherwise
    snapshot_ready_s: float | None = None   # the last VolumeSnapshot: created to readyToUse
    restore_s: float | None = None          # the last restore: claim created from the snapshot to the data verified
    phases_s: dict = field(default_factory=dict)   # seconds in each run phase: deploy, fault, recover, verify, teardown


def format_table(results: Sequence[ScenarioResult]) -> list[str]:
    """The summary table printed at the end of every run."""
    rows = [("scenario", "verdict", "RTO", "RPO", "availability")]
    for r in results:
        rto = f"{r.rto_s:.2f}s" if r.rto_s is not None else "-"
        if r.rto_s is not None and r.objective_s is not None:
            rto += f" (objective {r.objective_s:g}s)"
        rpo = "-"
        if r.rpo:
            rpo = f"{r.rpo.get('records_lost', 0)} rec / {float(r.rpo.get('seconds_lost', 0.0)):.1f}s"
        avail = "-"
        if r.availability and r.availability.get("success_ratio") is not None:
            avail = f"{100 * float(r.availability['success_ratio']):.1f}%"
            if r.availability.get("longest_outage_s") is not None:
                avail += f" (outage {float(r.availability['longest_outage_s']):.1f}s)"
        rows.append((r.scenario, r.verdict, rto, rpo, avail))
    # drop the RPO/availability columns when no scenario has them (keeps the table narrow)
    keep = [i for i in range(5) if i < 3 or any(row[i] != "-" for row in rows[1:])]
    rows = [tuple(row[i] for i in keep) for row in rows]
    n = len(keep)
    widths = [max(len(row[i]) for row in rows) for i in range(n)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(rows[0], widths)).rstrip(), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows[1:]]
    return out


# --- StorageClasses side by side (--storage-class) -----------------------------------------------
def class_free_id(scenario: str, storage_class: str) -> str:
    """A scenario's id without its StorageClass parameter (``[sc=NAME]``): the same scenario on
    every class has the same one."""
    part = f"sc={storage_class}"
    for old, new in ((f"[{part}]", ""), (f"-{part}]", "]"), (f"[{part}-", "["), (f"-{part}-", "-")):
        if old in scenario:
            return scenario.replace(old, new, 1)
    return scenario


def comparison(results: Iterable[ScenarioResult], classes: dict | None = None) -> dict | None:
    """Each scenario run per StorageClass, its classes side by side: verdict, RTO, RPO, snapshot
    ready time, restore time (and the reason of a class it did not pass on). None when no
    scenario ran per class."""
    rows = [r for r in results if r.storage_class]
    if not rows:
        return None
    names = list(classes or {})
    names += [n for n in dict.fromkeys(r.storage_class for r in rows) if n not in names]
    scenarios: dict[str, dict] = {}
    for r in rows:
        scenarios.setdefault(class_free_id(r.scenario, r.storage_class), {})[r.storage_class] = {
            "verdict": r.verdict, "rto_s": r.rto_s,
            "rpo_records": int(r.rpo["records_lost"]) if r.rpo else None,
            "rpo_s": float(r.rpo["seconds_lost"]) if r.rpo else None,
            "snapshot_ready_s": r.snapshot_ready_s, "restore_s": r.restore_s, "reason": r.reason}
    return {"classes": {n: dict((classes or {}).get(n) or {}) for n in names},
            "scenarios": [{"scenario": name, "classes": by_class} for name, by_class in scenarios.items()]}


def _seconds(value) -> str:
    return f"{float(value):.2f}s" if value is not None else "-"


def format_comparison(compared: dict | None) -> list[str]:
    """The comparison (:func:`comparison`) as a table: one block of rows per scenario, one row per
    class; "-" where a class measured nothing."""
    if not compared:
        return []
    rows = [("scenario", "storage class", "verdict", "RTO", "RPO", "snapshot ready", "restore")]
    for entry in compared["scenarios"]:
        first = True
        for name in [n for n in compared["classes"] if n in entry["classes"]]:
            c = entry["classes"][name]
            rpo = "-" if c["rpo_records"] is None else f"{c['rpo_records']} rec / {float(c['rpo_s']):.1f}s"
            rows.append((entry["scenario"] if first else "", name, c["verdict"], _seconds(c["rto_s"]), rpo,
                         _seconds(c["snapshot_ready_s"]), _seconds(c["restore_s"])))
            first = False
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["StorageClasses side by side",
           "  ".join(c.ljust(w) for c, w in zip(rows[0], widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    return out + ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows[1:]]


def results_document(run_id: str, seed: int, context: str, results: Iterable[ScenarioResult],
                     leaks: Sequence[str] = (), environment: dict | None = None,
                     storage_classes: dict | None = None) -> dict:
    """The content of results.json (see schemas/results.schema.json). ``storage_classes``: each
    class the storage scenarios ran on (--storage-class), name -> what it is (provisioner,
    snapshot class, ...); with them, or any row run on a class, the comparison of the classes."""
    results = list(results)
    rows = []
    for r in results:
        row = asdict(r)
        row["recoveries"] = list(r.recoveries)
        rows.append(row)
    counts = {v: sum(1 for row in rows if row["verdict"] == v) for v in VERDICTS}
    doc = {"schema_version": SCHEMA_VERSION, "run_id": run_id, "seed": seed, "context": context,
           "environment": dict(environment or {}),
           "counts": {k: v for k, v in counts.items() if v},
           "scenarios": rows, "leaks": list(leaks)}
    compared = comparison(results, storage_classes)
    if compared is not None:
        doc["storage_classes"] = compared
    return doc


def write_results(path: Path, run_id: str, seed: int, context: str, results: Iterable[ScenarioResult],
                  leaks: Sequence[str] = (), environment: dict | None = None,
                  storage_classes: dict | None = None) -> dict:
    """reports/results.json (a temporary file renamed into place); returns what it wrote."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = results_document(run_id, seed, context, results, leaks, environment, storage_classes)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return data


def current_verdict(verdict: str) -> str:
    """A verdict class as today's: version 1's "infrastructure error" and "failed" are harness
    errors, its "skipped" is "not applicable" (the row's reason is the skip reason)."""
    return V1_VERDICTS.get(verdict, verdict)


def upgraded(document: dict) -> dict:
    """A results document of any version, as the current version reads it (a new dict)."""
    doc = json.loads(json.dumps(document))
    if doc.get("schema_version", 1) >= SCHEMA_VERSION:
        return doc
    for row in doc.get("scenarios", []):
        row["verdict"] = current_verdict(row.get("verdict", ""))
    counts: dict[str, int] = {}
    for verdict, n in (doc.get("counts") or {}).items():
        counts[current_verdict(verdict)] = counts.get(current_verdict(verdict), 0) + n
    doc["counts"] = counts
    doc["schema_version"] = SCHEMA_VERSION
    return doc


def read_results(path: Path) -> dict:
    """A results.json of any version, read as the current version."""
    return upgraded(json.loads(Path(path).read_text()))


def load_schema(path: Path | None = None) -> dict:
    return json.loads((path or SCHEMA_PATH).read_text())


def validate(document: dict, schema_path: Path | None = None) -> list[str]:
    """Problems of a results document against the schema (empty: valid). Needs jsonschema."""
    import jsonschema  # dev dependency; only validation needs it

    validator = jsonschema.Draft202012Validator(load_schema(schema_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]
