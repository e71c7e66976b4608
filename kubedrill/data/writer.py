"""The record writer: a thread that writes the data oracle's records (kubedrill.data.oracle: seq,
timestamp, sha256 of both and the payload) one at a time into a sink inside a pod, and keeps
every acknowledged sequence number with the moment it was acknowledged.

A sink is a line session in the pod (kubedrill.k8s.podsession): the writer sends one record
and waits for ``ack <seq>``, which the sink prints only once the record is durable (a
committed INSERT for PostgreSQL, an fsynced append for a file). So "acknowledged" means what
it means to a client, and the acknowledgements live here, outside the pod, surviving its loss.

Every record carries the writer's identity, its ``name`` (a stream id, e.g. the database's
name), which the oracle checks (``oracle.verify(..., writer=name)``). Numbering lives here, not
in the sink: it never starts again at 1 while the writer lives.

``pause()`` returns once no write is in flight (the cut is then exact: the last
acknowledged record); ``resume(sink)`` goes on with the next sequence number.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from kubedrill.data import oracle
from kubedrill.errors import KubedrillError, WaitTimeout
from kubedrill.observe.measure import Instant


class Sink(Protocol):
    def write(self, seq: int, line: str, timeout_s: float) -> None: ...   # returns once acknowledged

    def close(self) -> None: ...


@dataclass(frozen=True)
class Ack:
    seq: int
    at: Instant          # when the acknowledgement arrived


@dataclass(frozen=True)
class WriterState:
    last: Ack | None         # the last acknowledged record (None: nothing yet)
    count: int
    failures: tuple[str, ...]

    @property
    def seq(self) -> int:
        return self.last.seq if self.last else 0


class RecordWriter:
    """Writes records 1, 2, 3 … of writer ``name`` every ``interval_s`` while running."""

    def __init__(self, name: str, interval_s: float = 0.05, ack_timeout_s: float = 30.0,
                 log: Callable[[str], None] = print):
        self.name = oracle.check_writer(name)
        self.interval_s = interval_s
        self.ack_timeout_s = ack_timeout_s
        self.log = log
        self._cv = threading.Condition()
        self._acks: list[Ack] = []
        self._failures: list[str] = []
        self._sink: Sink | None = None
        self._want_pause = False
        self._stopping = False
        self._busy = False
        self._broken = False
        self._next = 1
        self._thread: threading.Thread | None = None
        self._pace = threading.Event()

    # --- control ----------------------------------------------------------------------
    def start(self, sink: Sink) -> None:
        with self._cv:
            self._sink = sink
            self._broken = False
        self._thread = threading.Thread(target=self._loop, name=f"kubedrill-writer-{self.name}", daemon=True)
        self._thread.start()

    def pause(self, timeout_s: float = 60.0) -> WriterState:
        """Stop writing; return once nothing is in flight. The sink stays open."""
        with self._cv:
            self._want_pause = True
            self._pace.set()
            if not self._cv.wait_for(lambda: not self._busy, timeout=timeout_s):
                raise WaitTimeout(f"writer {self.name} to pause", timeout_s, self.state(), "a write in flight")
            self._pace.clear()
            return self.state()

    def resume(self, sink: Sink | None = None) -> None:
        """Go on writing (into a new sink, e.g. a session in the replacement pod)."""
        with self._cv:
            if sink is not None:
                old, self._sink = self._sink, sink
                if old is not None and old is not sink:
                    old.close()
            self._broken = False
            self._want_pause = False
            self._cv.notify_all()

    def detach(self) -> None:
        """Close the sink while paused (its pod is about to go)."""
        with self._cv:
            if self._sink is not None:
                self._sink.close()
            self._sink = None

    def stop(self) -> WriterState:
        with self._cv:
            self._stopping = True
            self._pace.set()
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.ack_timeout_s + 5)
        with self._cv:
            if self._sink is not None:
                self._sink.close()
                self._sink = None
            return self.state()

    # --- observation ------------------------------------------------------------------
    def state(self) -> WriterState:
        with self._cv:
            return WriterState(self._acks[-1] if self._acks else None, len(self._acks), tuple(self._failures))

    def acks(self) -> tuple[Ack, ...]:
        with self._cv:
            return tuple(self._acks)

    def wait_acknowledged(self, seq: int, timeout_s: float) -> WriterState:
        """Wait until record ``seq`` is acknowledged (a condition, not a sleep)."""
        with self._cv:
            if not self._cv.wait_for(lambda: (self._acks and self._acks[-1].seq >= seq) or self._broken,
                                     timeout=timeout_s) or (self._broken and self.state().seq < seq):
                st = self.state()
                last_failure = st.failures[-1] if st.failures else "no failure"
                raise WaitTimeout(f"writer {self.name} to acknowledge record {seq}", timeout_s, st,
                                  f"{st.seq} acknowledged; {last_failure}")
            return self.state()

    # --- the thread -------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._stopping or (not self._want_pause and not self._broken
                                                              and self._sink is not None))
                if self._stopping:
                    return
                sink, seq = self._sink, self._next
                self._busy = True
            line = oracle.record(seq, time.time_ns(), f"r{seq}", writer=self.name)
            try:
                sink.write(seq, line, self.ack_timeout_s)
                ack, failure = Ack(seq, Instant.now()), None
            except KubedrillError as exc:
                ack, failure = None, f"record {seq}: {exc}"
            with self._cv:
                self._busy = False
                if ack is not None:
                    self._acks.append(ack)
                    self._next = seq + 1
                else:
                    # not acknowledged: it may or may not be stored; never written again under
                    # another number, so the next record gets the next number
                    self._next = seq + 1
                    self._failures.append(failure)
                    self._broken = True
                self._cv.notify_all()
            if failure:
                self.log(f"writer {self.name}: {failure}; stopped writing")
            self._pace.wait(self.interval_s)   # the writing rate, not a wait for anything
