"""kubedrill's checks as Chaos Toolkit probes (``type: python``, ``module: kubedrill.ctk.probes``):
read-only, in the drill's namespace.

``data_intact`` reads kubedrill's data back now (the extension's ``data.records`` and
``data.stream``): True, or the probe fails naming what is lost, and a steady state after the
method missed that way is "data lost", not "not recovered". ``availability`` gives the prober's
figures so far (the extension's ``availability``), for a tolerance on one of them:

    {"type": "probe", "name": "web-answers", "tolerance": {"type": "range", "range": [0.9, 1.0],
     "target": "success_ratio"},
     "provider": {"type": "python", "module": "kubedrill.ctk.probes", "func": "availability"}}

    {"type": "probe", "name": "db-all-ready", "tolerance": true,
     "provider": {"type": "python", "module": "kubedrill.ctk.probes", "func": "all_ready",
                  "arguments": {"kind": "StatefulSet", "name": "db"}}}
"""

from __future__ import annotations

from chaoslib.exceptions import ActivityFailed

from kubedrill.ctk import current
from kubedrill.ctk.handles import workload
from kubedrill.errors import DataLost


def ready_count(kind: str, name: str, ns: str | None = None) -> int:
    """How many of the workload's own pods are Ready and not terminating."""
    s = current.scope(ns)
    return workload(s, kind, name).ready_count()


def all_ready(kind: str, name: str, ns: str | None = None) -> bool:
    """Every replica the workload wants is Ready (none terminating)."""
    s = current.scope(ns)
    handle = workload(s, kind, name)
    return handle.ready_count() >= handle.replicas


def data_intact(ns: str | None = None) -> bool:
    """kubedrill's records (data.records) all back, once, intact, each pod's own, and its writer's
    (data.stream) back as records 1..k with no gap, none lost unless an RPO objective allows it:
    True; ActivityFailed naming what is lost otherwise."""
    current.scope(ns)
    records, stream = current.check("records"), current.check("stream")
    if records is None and stream is None:
        raise ActivityFailed("data_intact: the experiment's kubedrill extension has no data.records or data.stream")
    try:
        if records is not None:
            records.verify()
        if stream is not None:
            stream.verify()
    except DataLost as exc:
        raise ActivityFailed(str(exc)) from None
    return True


def availability(ns: str | None = None) -> dict:
    """The prober's figures so far: requests, successes, success_ratio, window_s,
    longest_outage_s, outages (the extension's ``availability``)."""
    current.scope(ns)
    prober = current.check("prober")
    if prober is None:
        raise ActivityFailed("availability: the experiment's kubedrill extension has no availability (a Service "
                             "the prober measures)")
    return prober.peek().as_dict()
