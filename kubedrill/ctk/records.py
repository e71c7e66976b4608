"""kubedrill's records as an experiment's data check (the extension's ``data.records``).

Before the fault, the oracle's shell writer (kubedrill.data.inpod) appends ``count`` records to
``path`` in every pod of the named StatefulSet, each synced before it is acknowledged and stamped
with the pod's name. After the recovery every pod's file is read back and held to what was
acknowledged: every record once, intact, the pod's own (kubedrill.data.oracle). A record missing,
stored twice, corrupt or another pod's is data lost; the records lost and the seconds they cover
are the experiment's RPO in results.json, as for the built-in StatefulSet scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from kubedrill import checks
from kubedrill.data import inpod, oracle
from kubedrill.errors import ExecFailed, FaultFailed
from kubedrill.k8s.common import read_or_none
from kubedrill.observe.measure import Instant, Rpo
from kubedrill.workloads.statefulset import Written

COUNT = 50   # records per pod when the extension gives no count


@dataclass
class Records:
    clients: Any
    namespace: str
    spec: Mapping[str, Any]
    timeout_s: float = 60.0
    written: list[Written] = field(default_factory=list)

    def describe(self) -> str:
        return f"kubedrill's records in {self.spec['path']} of every pod of StatefulSet {self.spec['statefulset']}"

    def pods(self) -> list[str]:
        """The StatefulSet's pods by ordinal (its replicas now)."""
        name = self.spec["statefulset"]
        sts = read_or_none(self.clients.apps.read_namespaced_stateful_set, name, self.namespace)
        if sts is None:
            raise FaultFailed(f"data.records: no StatefulSet {self.namespace}/{name} to write records into")
        return [f"{name}-{i}" for i in range(sts.spec.replicas or 0)]

    def write(self) -> list[Written]:
        """Append the records in every pod; FaultFailed when a writer acknowledges fewer."""
        count, path, container = int(self.spec.get("count") or COUNT), self.spec["path"], self.spec.get("container")
        for pod in self.pods():
            started = Instant.now()
            try:
                acked = inpod.write_records(self.clients, self.namespace, pod, path, count, container,
                                            self.timeout_s, writer=pod)
            except ExecFailed as exc:
                raise FaultFailed(f"data.records: the writer acknowledged no record in {pod}: {exc}") from None
            if acked < count:
                raise FaultFailed(f"data.records: the writer acknowledged {acked} of {count} records in {pod}")
            self.written.append(Written(pod, acked, pod, started, Instant.now()))
        return self.written

    def verify(self, log=lambda line: None, record=lambda rpo: None) -> Rpo:
        """Every pod's records held to what it acknowledged: the RPO they show (given to
        ``record`` first); DataLost naming every pod whose records are not all back, once, intact
        and its own."""
        lost, problems = Rpo(0, 0.0), []
        for w in self.written:
            text = inpod.read_records(self.clients, self.namespace, w.pod, self.spec["path"],
                                      self.spec.get("container"), self.timeout_s)
            report = oracle.verify(text, expected_through=w.acknowledged, writer=w.writer)
            log(f"{w.pod}: {report.describe()}")
            shown = oracle.rpo(report, w.at.wall, w.started.wall)
            lost = Rpo(lost.records_lost + shown.records_lost, max(lost.seconds_lost, shown.seconds_lost))
            if not report.ok:
                problems.append(f"{w.pod}: {report.describe()}")
        record(lost)
        checks.data("experiment.records", not problems, "; ".join(problems))
        return lost
