"""What a run's metrics may carry as labels (docs/metrics.md), checked on any exposition: the
registry kubedrill builds (tests/unit/test_metrics.py) and a real reports/metrics.prom
(tests/e2e/test_metrics.py). Each problem is one line; none: the labels are right."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable, Mapping

from kubedrill.report import metrics

ALLOWED = frozenset(metrics.LABELS)
STATE = "kubedrill_scenario_verdict"     # the StateSet's own label: its class
# a pytest item id: a path, "::", a name with its parameters; no spaces (a title has them)
ITEM_ID = re.compile(r"^[\w./-]+\.(py|ya?ml|json)::[^\s]+$")


def problems(samples: Iterable[tuple[str, Mapping[str, str]]], document: Mapping) -> list[str]:
    """``samples``: (name, labels) of every sample; ``document``: the run's results.json."""
    out = []
    run_id, seed = str(document["run_id"]), str(document["seed"])
    rows = document.get("scenarios") or []
    n_scenarios = len({metrics.scenario_id(r) for r in rows})
    n_classes = len({r.get("storage_class") or "" for r in rows})
    n_clusters = 1
    bound = n_scenarios * n_clusters * n_classes
    combos: dict[str, set] = defaultdict(set)
    for name, labels in samples:
        for key, value in labels.items():
            if key not in ALLOWED and not (key == STATE and name.startswith(STATE)):
                out.append(f"{name}: label {key!r} is not one of {sorted(ALLOWED)}")
            if run_id in value:
                out.append(f"{name}: label {key}={value!r} carries the run id {run_id}")
            if re.search(rf"(?<![0-9]){re.escape(seed)}(?![0-9])", value):
                out.append(f"{name}: label {key}={value!r} carries the seed {seed}")
        scenario = labels.get("scenario")
        if scenario is not None and not ITEM_ID.match(scenario):
            out.append(f"{name}: scenario={scenario!r} is not an item id (a title? substituted values?)")
        if scenario is not None and re.search(r"\[(.*-)?sc=", scenario):
            out.append(f"{name}: scenario={scenario!r} carries its StorageClass (a label of its own)")
        combos[name].add(tuple(sorted((k, v) for k, v in labels.items() if k != STATE)))
    for name, seen in combos.items():
        if len(seen) > bound:
            out.append(f"{name}: {len(seen)} label-value combinations, more than scenarios x clusters x classes "
                       f"({n_scenarios} x {n_clusters} x {n_classes} = {bound})")
    return out
