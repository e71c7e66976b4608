"""Typed settings: Timeouts (scalable), Objectives (RTO/RPO budgets), option parsing.

Every parse function raises :class:`UsageError` with one clear line on bad input.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import urllib.parse
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from kubedrill import defaults
from kubedrill.errors import UsageError, first_line

# the phases of a scenario, in order (kubedrill.run logs each; KUBEDRILL_PAUSE_AT names one)
PHASES = ("deploy", "fault", "recover", "verify", "teardown")

# what the scenarios measure, as a version a run's record keeps so that figures measured otherwise
# never feed the same objective (benchmarks/runs/README.md: 2 = the restore RTO ends when the
# restored data answers the oracle's query, the RPO is read from the restored data)
MEASUREMENT = 2

# --timeout-scale: a slow machine needs a few times the deadlines, a fast one a fraction; outside
# this range no wait means anything (and 1e308 seconds overflow every clock and socket timeout)
TIMEOUT_SCALE_RANGE = (0.01, 100.0)


@dataclass(frozen=True)
class Timeouts:
    """Deadlines (seconds) of every wait kubedrill does. One object, scaled by one option."""

    api_s: float = 10.0          # a single API call / server reachability
    deploy_s: float = 180.0      # a workload becomes Ready after create
    recover_s: float = 180.0     # a workload recovers after a fault
    verify_s: float = 60.0       # a verification step (exec, oracle read)
    delete_s: float = 180.0      # an object (namespace) is gone after delete
    node_s: float = 300.0        # a node returns Ready after its container is started
    # the default of --wait-for-lock: how long a run waits for the drill lock another run holds.
    # A lease no drill renews is taken over only once seen unchanged for its whole duration, so
    # this is the lease and two retry periods (kubedrill.guard): a gone run's lock is taken by the
    # next run, a live one's refused after that wait
    lock_s: float = 152.0
    lease_duration_s: float = 120.0  # drill lock lease duration (renewed while the run lives)

    @property
    def cleanup_s(self) -> float:
        """The cleanup deadline: the longest a run's cleanup waits once it is stopped (SIGTERM), a
        node fault undone (the node back Ready and untainted, ``node_s``), then its namespaces
        deleted (``delete_s``) and the drill lock released (``api_s``). A runner that stops drills
        gives them at least this long (deploy/gameday: the CronJob's termination grace period)."""
        return self.node_s + self.delete_s + self.api_s

    # the lock's lease and its wait are about another run, not this machine's speed: not scaled
    UNSCALED = ("lock_s", "lease_duration_s")

    def scaled(self, factor: float) -> "Timeouts":
        low, high = TIMEOUT_SCALE_RANGE
        if not low <= factor <= high:   # NaN fails both
            raise UsageError(f"timeout scale must be a number from {low:g} to {high:g}, got {factor!r}")
        return dataclasses.replace(
            self, **{f.name: getattr(self, f.name) * factor for f in fields(self)
                     if f.name not in self.UNSCALED}
        )


@dataclass(frozen=True)
class Objectives:
    """Recovery objectives. Every default is generated from committed run records
    (kubedrill/defaults.py, by benchmarks/objectives.py: p95 x 1.5 of the measured recoveries);
    ``defaults.PROVISIONAL`` names those measured too few times yet, which keep a hand-set value."""

    # scenarios/test_plumbing.py: a killed pod replaced, all Ready
    pod_kill_rto_s: float = defaults.OBJECTIVES["pod_kill_rto_s"]
    # scenarios/test_replicas.py (RC and Deployment share each): RTO, client-visible availability
    # (share of requests answered, at least) and longest outage, per count of pods deleted or killed
    pod_delete_one_rto_s: float = defaults.OBJECTIVES["pod_delete_one_rto_s"]
    pod_delete_half_rto_s: float = defaults.OBJECTIVES["pod_delete_half_rto_s"]
    pod_delete_all_rto_s: float = defaults.OBJECTIVES["pod_delete_all_rto_s"]
    container_kill_one_rto_s: float = defaults.OBJECTIVES["container_kill_one_rto_s"]
    container_kill_half_rto_s: float = defaults.OBJECTIVES["container_kill_half_rto_s"]
    container_kill_all_rto_s: float = defaults.OBJECTIVES["container_kill_all_rto_s"]
    pod_delete_one_availability: float = defaults.OBJECTIVES["pod_delete_one_availability"]
    pod_delete_half_availability: float = defaults.OBJECTIVES["pod_delete_half_availability"]
    pod_delete_all_availability: float = defaults.OBJECTIVES["pod_delete_all_availability"]
    container_kill_one_availability: float = defaults.OBJECTIVES["container_kill_one_availability"]
    container_kill_half_availability: float = defaults.OBJECTIVES["container_kill_half_availability"]
    container_kill_all_availability: float = defaults.OBJECTIVES["container_kill_all_availability"]
    pod_delete_one_outage_s: float = defaults.OBJECTIVES["pod_delete_one_outage_s"]
    pod_delete_half_outage_s: float = defaults.OBJECTIVES["pod_delete_half_outage_s"]
    pod_delete_all_outage_s: float = defaults.OBJECTIVES["pod_delete_all_outage_s"]
    container_kill_one_outage_s: float = defaults.OBJECTIVES["container_kill_one_outage_s"]
    container_kill_half_outage_s: float = defaults.OBJECTIVES["container_kill_half_outage_s"]
    container_kill_all_outage_s: float = defaults.OBJECTIVES["container_kill_all_outage_s"]
    # scenarios/test_statefulset.py and test_persistent_volumes.py
    statefulset_pod_rto_s: float = defaults.OBJECTIVES["statefulset_pod_rto_s"]
    statefulset_all_rto_s: float = defaults.OBJECTIVES["statefulset_all_rto_s"]
    pv_retain_rebind_rto_s: float = defaults.OBJECTIVES["pv_retain_rebind_rto_s"]
    pv_delete_reclaim_s: float = defaults.OBJECTIVES["pv_delete_reclaim_s"]
    # scenarios/test_node_loss.py, per method (stop, drain): the Deployment replaced; the StatefulSet
    # back with its data (from the fault); node back (Ready and untainted) -> its pod Ready again
    node_stop_rto_s: float = defaults.OBJECTIVES["node_stop_rto_s"]
    node_drain_rto_s: float = defaults.OBJECTIVES["node_drain_rto_s"]
    node_stop_statefulset_rto_s: float = defaults.OBJECTIVES["node_stop_statefulset_rto_s"]
    node_drain_statefulset_rto_s: float = defaults.OBJECTIVES["node_drain_statefulset_rto_s"]
    node_back_rto_s: float = defaults.OBJECTIVES["node_back_rto_s"]
    # scenarios/test_snapshot_restore.py: from the loss to the restored data answering the oracle's
    # query; the RPO in records and seconds
    restore_rto_s: float = defaults.OBJECTIVES["restore_rto_s"]
    restore_rpo_records: float = defaults.OBJECTIVES["restore_rpo_records"]
    restore_rpo_s: float = defaults.OBJECTIVES["restore_rpo_s"]


def _float(name: str, text: str, *, positive: bool = True) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"{name}: expected a number, got {text!r}") from None
    if not math.isfinite(value) or (positive and value <= 0) or value < 0:
        raise UsageError(f"{name}: expected a positive number, got {text!r}")
    return value


def parse_timeout_scale(text: str | float | None) -> float:
    """--timeout-scale: a number within TIMEOUT_SCALE_RANGE (so every scaled deadline stays finite)."""
    if text is None:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--timeout-scale: expected a number, got {text!r}") from None
    if value <= 0:
        raise UsageError(f"--timeout-scale: expected a positive number, got {text!r}")
    low, high = TIMEOUT_SCALE_RANGE
    if not low <= value <= high:   # NaN and infinity included
        raise UsageError(f"--timeout-scale: expected a number from {low:g} to {high:g}, got {text!r}")
    return value


# --wait-for-lock: from 0 (one look) to a day
WAIT_FOR_LOCK_MAX_S = 86400.0


def parse_wait_for_lock(text: str | float | None, default: float) -> float:
    """--wait-for-lock SECONDS: how long to wait for a drill lock another run holds (``default``
    when not given; 0 fails at once)."""
    if text is None:
        return default
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"--wait-for-lock: expected a number of seconds, got {text!r}") from None
    if not 0 <= value <= WAIT_FOR_LOCK_MAX_S:   # NaN and infinity included
        raise UsageError(f"--wait-for-lock: expected a number of seconds from 0 to {WAIT_FOR_LOCK_MAX_S:g}, "
                         f"got {text!r}")
    return value


def parse_pushgateway(text: str | None) -> str | None:
    """--pushgateway URL: a Prometheus Pushgateway, ``http(s)://host[:port][/path]`` or
    ``host:port`` (http); None when not given."""
    if text is None:
        return None
    url = text if "://" in text else f"http://{text}"
    try:
        parts = urllib.parse.urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if (not text.strip() or any(c.isspace() for c in text) or parts is None or not port_ok
            or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment):
        raise UsageError(f"--pushgateway: expected http(s)://HOST[:PORT][/PATH] or HOST:PORT, got {text!r}")
    return text


PUSHGATEWAY_ENV = "KUBEDRILL_PUSHGATEWAY"


def pushgateway_of(option: str | None, environ: Mapping[str, str]) -> str | None:
    """The Pushgateway of a run, checked: ``--pushgateway URL`` when given, else
    ``$KUBEDRILL_PUSHGATEWAY`` (empty or unset: no push; deploy/gameday sets it from a ConfigMap)."""
    return parse_pushgateway(option if option is not None else (environ.get(PUSHGATEWAY_ENV) or None))


def parse_seed(text: str | int | None) -> int:
    """The seed given back with --seed, or a fresh one (printed by the caller)."""
    if text is None or text == "":
        return random.SystemRandom().randrange(0, 2**32)
    try:
        value = int(str(text), 10)
    except ValueError:
        raise UsageError(f"--seed: expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise UsageError(f"--seed: expected a non-negative integer, got {text!r}")
    return value


_OBJECTIVE_NAMES = {f.name for f in fields(Objectives)}


def parse_objectives(
    file: str | Path | None = None, overrides: Iterable[str] = (), base: Objectives | None = None
) -> Objectives:
    """Objectives from defaults, then a YAML/JSON file, then NAME=VALUE overrides."""
    values: dict[str, float] = {}
    if file:
        path = Path(file)
        text = read_text(path, "--objectives", "a YAML or JSON file")
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except ValueError as exc:
            raise UsageError(f"--objectives: cannot parse {path}: {exc}") from None
        except yaml.YAMLError as exc:
            raise UsageError(f"--objectives: cannot parse {path}: {yaml_problem(exc)}") from None
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise UsageError(f"--objectives: {path} must hold a mapping of objective: value, got {kind_of(data)}")
        for key, value in data.items():
            name = _objective_name(str(key), f"--objectives {path}")
            values[name] = objective_value(name, str(value), f"--objectives {path}: objective {name}")
    for item in overrides:
        if "=" not in item:
            raise UsageError(f"--objective: expected NAME=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        name = _objective_name(key.strip(), "--objective")
        values[name] = objective_value(name, value.strip(), f"--objective {name}")
    return dataclasses.replace(base or Objectives(), **values)


def read_text(path: Path, where: str, expected: str) -> str:
    """The UTF-8 text of a file the user named; UsageError naming it (and ``expected``, what it
    should be) when it is missing, a directory, unreadable or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{where}: file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{where}: {path} is a directory, expected {expected}") from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read {path}: {exc.strerror or exc}, expected {expected}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: {path} is not UTF-8 text (byte {data[exc.start]:#04x} at offset "
                         f"{exc.start}), expected {expected}") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """One line of a YAML parse error: the problem and where it is."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return first_line(exc)


def kind_of(value: object) -> str:
    """What a parsed YAML document is, for a message: "a string", "a list", ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def is_ratio(name: str) -> bool:
    """An objective that is a share of requests answered (at least this much), not a budget."""
    return name.endswith("_availability")


def may_be_zero(name: str) -> bool:
    """An objective whose 0 can be met: no outage, no record or second of data lost."""
    return name.endswith(("_outage_s", "_rpo_records", "_rpo_s"))


def objective_value(name: str, text: str, where: str) -> float:
    """The value of objective ``name``, refused when no recovery could ever meet it: a share of
    requests answered within 0–1, a recovery time above 0 s (an outage or a record count may be 0)."""
    value = _float(where, text, positive=False)
    if is_ratio(name):
        if not 0 <= value <= 1:
            raise UsageError(f"{where}: a share of requests answered must be between 0 and 1, got {text!r}")
    elif value <= 0 and not may_be_zero(name):
        raise UsageError(f"{where}: no recovery takes 0 s or less; give a budget above 0, got {text!r}")
    return value


def _objective_name(name: str, where: str) -> str:
    if name not in _OBJECTIVE_NAMES:
        known = ", ".join(sorted(_OBJECTIVE_NAMES))
        raise UsageError(f"{where}: unknown objective {name!r} (known: {known})")
    return name


# the undo actions a fault journal knows (kubedrill.undo): KUBEDRILL_PAUSE_AT=intent:<action> and
# resolve:<action> name the journal's own points
JOURNAL_ACTIONS = ("docker_start", "remove_taint", "delete_namespace", "release_lease", "nothing", "uncordon",
                   "reclaim_volume", "helm_uninstall")
JOURNAL_POINTS = ("intent", "resolve")


def parse_pause_at(text: str | None) -> tuple[str, str] | None:
    """KUBEDRILL_PAUSE_AT -> (point, where): ``<phase>[:start|:end]`` (a scenario phase), or
    ``intent:<action>`` (just after the first journal intent with that undo action is on disk,
    before its fault acts) or ``resolve:<action>`` (just before the first such entry is recorded
    as undone, after its undo acted)."""
    if not text:
        return None
    phase, colon, where = text.partition(":")
    if phase in JOURNAL_POINTS:
        if where not in JOURNAL_ACTIONS:
            raise UsageError(f"KUBEDRILL_PAUSE_AT: {phase}: expected one of {', '.join(JOURNAL_ACTIONS)}, "
                             f"got {text!r}")
        return phase, where
    if not colon:
        where = "start"
    if phase not in PHASES or where not in ("start", "end"):   # "deploy:" names no point
        raise UsageError(
            f"KUBEDRILL_PAUSE_AT: expected one of {', '.join(PHASES)} with optional :start or :end, "
            f"or intent:<undo action> or resolve:<undo action>, got {text!r}")
    return phase, where
