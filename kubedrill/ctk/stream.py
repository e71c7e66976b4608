"""kubedrill's writer through the fault, as an experiment's data check (the extension's
``data.stream``), and the RPO it measures.

Before the fault kubedrill.data.writer's RecordWriter starts appending oracle records to a file
in the pod (kubedrill.data.sinks.FileSink: each record fsynced, then acknowledged), and the
method starts once ``before`` records are acknowledged. The acknowledgements are kept here,
outside the pod, so they survive its loss. The writer stops when the method ends (a pod the
method deleted or restored breaks it sooner: a record it could not get acknowledged is never
written again under another number).

After the recovery the file must hold records 1..k, each once, intact, the writer's own, and
nothing after a gap: anything else is data lost. When the pod's claim was restored from a
snapshot that kubedrill.ctk.actions.snapshot_claims took with the writer paused (``quiesced``),
k must be that snapshot's cut exactly (kubedrill.data.rpo.verify_cut): fewer is data lost, more a
restore of the wrong point in time; what was acknowledged after the cut is the RPO, and is not
data lost for want of an RPO objective (losing it is what a restore does). The acknowledged records it does not hold are
the RPO, records and seconds (kubedrill.data.rpo.measure), held to the objectives ``rpo_records``
and ``rpo_s``; an experiment with neither allows no loss: an acknowledged record lost is data lost.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from kubedrill import checks
from kubedrill.data import inpod, oracle, rpo
from kubedrill.data.sinks import FileSink
from kubedrill.data.writer import RecordWriter
from kubedrill.errors import FaultFailed, KubedrillError, first_line
from kubedrill.ctk import volumes as kvolumes
from kubedrill.observe.measure import Instant, Rpo

INTERVAL_S = 0.05   # between two records when the extension gives none
BEFORE = 20         # records acknowledged before the fault when the extension gives none


@dataclass
class Stream:
    clients: Any
    namespace: str
    spec: Mapping[str, Any]
    timeout_s: float = 60.0
    log: Callable[[str], None] = print
    allow_loss: bool = False       # an RPO objective is given: a loss is measured, not data lost
    writer: RecordWriter | None = field(default=None, init=False)
    cut: rpo.Cut | None = field(default=None, init=False)   # of the last quiesced snapshot

    @property
    def pod(self) -> str:
        return self.spec["pod"]

    def describe(self) -> str:
        return f"kubedrill's writer appending to {self.spec['path']} in pod {self.pod}"

    def start(self) -> int:
        """Start writing; return once ``before`` records are acknowledged (how many are)."""
        self.writer = RecordWriter(self.pod, float(self.spec.get("interval_s") or INTERVAL_S),
                                   ack_timeout_s=self.timeout_s, log=self.log)
        try:
            sink = FileSink(self.clients, self.namespace, self.pod, self.spec["path"], self.spec.get("container"))
        except KubedrillError as exc:
            raise FaultFailed(f"data.stream: cannot write in pod {self.pod}: {first_line(exc)}") from None
        self.writer.start(sink)
        return self.writer.wait_acknowledged(int(self.spec.get("before") or BEFORE), self.timeout_s).seq

    def in_statefulset(self, name: str) -> bool:
        """The writer's pod is one of StatefulSet ``name``'s (``name``-<ordinal>)."""
        return re.fullmatch(rf"{re.escape(name)}-\d+", self.pod) is not None

    @contextlib.contextmanager
    def quiesced(self) -> Iterator[rpo.Cut]:
        """The writer paused (nothing in flight) for a snapshot: the cut is its last
        acknowledged record; it goes on writing afterwards."""
        state = self.writer.pause(self.timeout_s)
        cut = rpo.Cut(state.seq, state.last.at if state.last else Instant.now(), quiesced=True)
        self.log(f"writer paused for the snapshot: cut at record {state.seq}")
        try:
            yield cut
        finally:
            self.cut = rpo.Cut(cut.seq, cut.at, True, Instant.now())
            self.writer.resume()

    def _restored(self) -> bool:
        """The pod's claim was made again from a snapshot (kubedrill.ctk.actions.restore_claims)."""
        return any(claim.endswith(f"-{self.pod}") for claim in kvolumes.restored(self.namespace))

    def stop(self) -> int:
        """Stop writing (the method is over): the last acknowledged record."""
        return self.writer.stop().seq if self.writer is not None else 0

    def verify(self, record: Callable[[Rpo], None] = lambda r: None) -> Rpo:
        """The file read back, held to the acknowledgements: the RPO (given to ``record``
        first); DataLost when what came back is not records 1..k of this writer, once each,
        intact, or when records were lost and ``allow_loss`` is false (no RPO objective)."""
        acks = self.writer.acks() if self.writer is not None else ()
        text = inpod.read_records(self.clients, self.namespace, self.pod, self.spec["path"],
                                  self.spec.get("container"), self.timeout_s)
        if self.cut is not None and self._restored():
            return self._verify_cut(text, acks, record)
        held = oracle.verify(text, writer=self.pod).valid
        through = rpo.unbroken_through(held)
        report = oracle.verify(text, expected_through=through, writer=self.pod)
        after_gap = sorted(s for s in held if s > through)
        lost = rpo.measure(range(1, through + 1), acks, acks[-1].at if acks else Instant.now())
        self.log(f"{self.pod}: {len(acks)} records acknowledged, records 1–{through} back"
                 + (f", records {oracle.describe_ranges(after_gap)} after a gap" if after_gap else "")
                 + f"; RPO {lost.records_lost} records / {lost.seconds_lost:.2f}s")
        record(lost)
        problems = [report.describe()] if not report.intact else []
        if after_gap:
            problems.append(f"records {oracle.describe_ranges(after_gap)} came back after record {through + 1} "
                            "was lost (a gap)")
        checks.data("experiment.stream", not problems, f"{self.pod}: " + "; ".join(problems))
        checks.data("experiment.stream", self.allow_loss or not lost.records_lost,
                    f"{self.pod}: {lost.records_lost} acknowledged records lost (records "
                    f"{oracle.describe_ranges(a.seq for a in acks if a.seq > through)}), and no RPO objective "
                    "(rpo_records, rpo_s) allows a loss")
        return lost

    def _verify_cut(self, text: str, acks, record: Callable[[Rpo], None]) -> Rpo:
        """Restored from a quiesced snapshot: records 1..cut back, none after it."""
        where = f"{self.pod}:{self.spec['path']}"
        verification = rpo.verify_cut(text, where, self.cut, acks, acks[-1].at if acks else Instant.now(),
                                      writer=self.pod)
        self.log(f"restored from the snapshot cut at record {self.cut.seq}: {verification.statement}")
        record(verification.rpo)
        try:
            rpo.check(verification, f"the snapshot's cut at record {self.cut.seq}")
        except rpo.NotConsistent as exc:
            checks.data("experiment.stream", False, f"{self.pod}: {exc}")
        return verification.rpo
