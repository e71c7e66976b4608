"""RTO and RPO of each scenario over runs, without a server.

``make report`` (``python -m kubedrill.report html``) adds the run's reports/results.json to
reports/history/results-history.jsonl, beside Allure's history (reports/allure-results is
cleaned at every run; the history is not, and ``make clean`` leaves it alone). One JSON line per
run, keyed by its run id: reporting the same run again replaces its line, so a run counts once.
Only what the trend needs is kept of each scenario (verdict, RTO, RPO, their objectives), and
only the last :data:`TREND_RUNS` runs.

From the history, :func:`series` gives each scenario (its pytest node id: stable from run to
run, with no seed, run id or substituted value in it) its values run by run, and :func:`chart`
the lines of its plot (``plot.trend_png``): the measured values and the objective, run by run
(a step line: an objective may change between runs).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from kubedrill.errors import UsageError
from kubedrill.report import results as kreport

HISTORY_NAME = "results-history.jsonl"
RECORD_VERSION = 1

# How many runs the trend keeps: two months of nightly drills, enough to see a recovery time
# creep toward its objective over weeks (the alert looks at the last 3), and still a
# readable plot (60 points on 8 inches) and a small file (about 0.27 KB per scenario and run: 60
# runs of 20 scenarios make 310 KB, and their 20 plots take 2.6 s to draw on 2 cores).
TREND_RUNS = 60


@dataclass(frozen=True)
class Panel:
    """One quantity of a scenario over runs: the measured values and the objective, one entry per
    run (None: not measured, or no objective, in that run)."""

    title: str
    unit: str
    values: tuple[float | None, ...]
    objective: tuple[float | None, ...]
    objective_name: str


@dataclass(frozen=True)
class Series:
    """One scenario over the runs of the history (every tuple has one entry per run)."""

    scenario: str
    runs: tuple[str, ...]
    verdicts: tuple[str | None, ...]         # None: the scenario did not run in that run
    rto_s: tuple[float | None, ...]
    rto_objective_s: tuple[float | None, ...]
    rpo_records: tuple[float | None, ...]
    rpo_objective_records: tuple[float | None, ...]
    rpo_s: tuple[float | None, ...]
    rpo_objective_s: tuple[float | None, ...]

    @property
    def measured(self) -> bool:
        return any(v is not None for v in self.rto_s + self.rpo_records + self.rpo_s)


def _objective(objectives: dict, suffix: str) -> float | None:
    """The strictest objective the scenario read whose name ends with ``suffix`` (e.g. the
    snapshot restore's ``restore_rpo_records``)."""
    values = [float(v) for name, v in (objectives or {}).items() if name.endswith(suffix) and v is not None]
    return min(values) if values else None


def run_record(document: dict) -> dict:
    """What the trend keeps of one results document (any schema version): its run id, context,
    seed, and per scenario its verdict, RTO, RPO and their objectives."""
    doc = kreport.upgraded(document)
    scenarios = {}
    for row in doc.get("scenarios", []):
        rpo = row.get("rpo") or {}
        scenarios[row["scenario"]] = {
            "verdict": row.get("verdict"),
            "rto_s": row.get("rto_s"),
            "rto_objective_s": row.get("objective_s"),
            "rpo_records": rpo.get("records_lost"),
            "rpo_s": rpo.get("seconds_lost"),
            "rpo_objective_records": _objective(row.get("objectives"), "_rpo_records"),
            "rpo_objective_s": _objective(row.get("objectives"), "_rpo_s"),
            "storage_class": row.get("storage_class") or "",
        }
    return {"version": RECORD_VERSION, "run_id": doc["run_id"], "context": doc.get("context", ""),
            "seed": doc.get("seed"), "scenarios": scenarios}


def read_run(path: Path) -> dict:
    """The run record of a results.json; UsageError with one line when it is missing or invalid."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} not found: run a drill first (make drill)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} cannot be read: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{path} is not a results document (a JSON object), but {type(document).__name__}")
    problems = kreport.validate(document)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"{path} is not a valid results.json: {problems[0]}{more}")
    return run_record(document)


def read_history(path: Path, warn=lambda line: None) -> list[dict]:
    """The run records of a history file, oldest first ([] when there is none); a line that is not
    a run record is left out, with a warning naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("run_id"), str) \
                or not isinstance(record.get("scenarios"), dict):
            warn(f"{path}:{n} is not a run record: left out")
            continue
        records.append(record)
    return records


def appended(history: Sequence[dict], record: dict, limit: int = TREND_RUNS) -> list[dict]:
    """The history with ``record`` added: in place of the record of the same run id (a run
    reported again counts once), else at the end; the last ``limit`` runs."""
    if limit < 1:
        raise UsageError(f"the trend keeps at least one run, not {limit}")
    out = [r for r in history if r["run_id"] != record["run_id"]]
    at = next((i for i, r in enumerate(history) if r["run_id"] == record["run_id"]), None)
    if at is None:
        out.append(record)
    else:
        out.insert(at, record)
    return out[-limit:]


def write_history(path: Path, records: Iterable[dict]) -> None:
    """The history file, whole: written beside it, then renamed over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")  # scenarios in run order
    os.replace(tmp, path)


def update(results_json: Path, history: Path, limit: int = TREND_RUNS, warn=lambda line: None) -> list[dict]:
    """Add the run of ``results_json`` to the history file and return the history; UsageError
    (history untouched) when the results file is missing or invalid."""
    record = read_run(results_json)
    records = appended(read_history(history, warn), record, limit)
    write_history(history, records)
    return records


# the Series' numeric fields, in order, as the run records name them
_COLUMNS = ("rto_s", "rto_objective_s", "rpo_records", "rpo_objective_records", "rpo_s", "rpo_objective_s")


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def series(history: Sequence[dict]) -> list[Series]:
    """Each scenario of the history over all its runs, in the order scenarios first appear."""
    runs = tuple(r["run_id"] for r in history)
    names = list(dict.fromkeys(name for r in history for name in r["scenarios"]))
    out = []
    for name in names:
        rows = [r["scenarios"].get(name) or {} for r in history]
        out.append(Series(name, runs, tuple(row.get("verdict") for row in rows),
                          *(tuple(_number(row.get(key)) for row in rows) for key in _COLUMNS)))
    return out


def chart(s: Series) -> list[Panel]:
    """The panels of a scenario's plot: RTO, and RPO in records and in seconds when it measured
    them, each with its objective run by run."""
    panels = [Panel("RTO", "s", s.rto_s, s.rto_objective_s, "RTO objective"),
              Panel("RPO", "records", s.rpo_records, s.rpo_objective_records, "RPO objective"),
              Panel("RPO", "s", s.rpo_s, s.rpo_objective_s, "RPO objective")]
    return [p for p in panels if any(v is not None for v in p.values)]
