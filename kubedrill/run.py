"""One drill run: its id, seed, guard, journal, timeouts, cleanup stacks, phases, signals.

Phases of a scenario (each logged as it starts and ends, and noted as begun for its scope)::

    deploy -> fault -> recover -> verify -> teardown

``KUBEDRILL_PAUSE_AT=<phase>[:start|:end]`` makes the run stop at that point: it appends
``paused <phase>:<where> <pid> <run id>`` to ``$KUBEDRILL_PAUSE_FILE`` (a FIFO or a file) and blocks
until a signal arrives: SIGUSR1 resumes it, SIGINT/SIGTERM interrupt it. Tests use it to interrupt
(or kill) a run at an exact point. The fault journal has points of its own: ``intent:<undo action>``
and ``resolve:<undo action>`` (kubedrill.config.parse_pause_at).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import random
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from kubedrill.config import PHASES, Timeouts
from kubedrill.errors import UsageError
from kubedrill.pins import Images

PHASE_TITLES = {
    "deploy": "deploying", "fault": "injecting the fault", "recover": "waiting for recovery",
    "verify": "verifying", "teardown": "tearing down",
}

Log = Callable[[str], None]


class PhaseListener(Protocol):
    """Told when a phase (or a named step inside one) starts and ends, e.g. the Allure steps."""

    def start(self, name: str, title: str) -> None: ...

    def end(self, name: str, title: str, ok: bool) -> None: ...


def new_run_id(now: _dt.datetime | None = None) -> str:
    """Short, sortable, label- and DNS-safe: e.g. ``1126t0541-3fa9``."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return f"{now:%m%d}t{now:%H%M%S}-{secrets.token_hex(2)}"


def slug(text: str, limit: int = 24) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (s[:limit].rstrip("-")) or "x"


class Cleanups:
    """Cleanup registered right after each create, run last-in-first-out.

    Errors become warnings (they never mask the result). Whatever else ends a cleanup (an
    interrupt, SystemExit, pytest-timeout's ``Failed``: BaseExceptions) does not stop the
    remaining cleanups either; the first of them is re-raised once they are done.
    """

    def __init__(self, warn: Log):
        self._stack: list[tuple[str, Callable[[], object], str]] = []
        self._warn = warn
        self._lock = threading.Lock()

    def defer(self, description: str, fn: Callable[[], object], kind: str = "object") -> None:
        """Register cleanup: ``kind`` is "object" (something created) or "fault" (an undo)."""
        with self._lock:
            self._stack.append((description, fn, kind))

    def __len__(self) -> int:
        return len(self._stack)

    def run_all(self, skip_kinds: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Run everything LIFO (except ``skip_kinds``); return the warnings."""
        warnings: list[str] = []
        interrupted: BaseException | None = None   # the first one
        while True:
            with self._lock:
                if not self._stack:
                    break
                description, fn, kind = self._stack.pop()
            if kind in skip_kinds:
                continue
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - teardown errors become warnings
                text = str(exc).strip().splitlines()
                msg = f"cleanup failed ({description}): {text[0] if text else type(exc).__name__}"
                warnings.append(msg)
                self._warn(msg)
            except BaseException as exc:  # an interrupt, SystemExit, a test timeout: the rest still run
                interrupted = interrupted or exc
                msg = f"cleanup interrupted ({description}) by {type(exc).__name__}; continuing with the rest"
                warnings.append(msg)
                self._warn(msg)
        if interrupted is not None:
            raise interrupted
        return tuple(warnings)


class Signals:
    """SIGINT and SIGTERM raise KeyboardInterrupt, except inside ``shielded()`` (cleanup),
    where they are remembered and raised once the shielded block is done."""

    def __init__(self, log: Log):
        self._log = log
        self._shield = 0
        self._pending: int | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self._shield:
            self._pending = signum
            self._log(f"{name} received while cleaning up: finishing the cleanup first")
            return
        self._log(f"{name} received: cleaning up everything this run created, then exiting")
        raise KeyboardInterrupt(name)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1
            if not self._shield and self._pending is not None:
                signum, self._pending = self._pending, None
                raise KeyboardInterrupt(signal.Signals(signum).name)


@dataclass
class Run:
    """State of one drill run (one pytest session)."""

    run_id: str
    seed: int
    timeouts: Timeouts = field(default_factory=Timeouts)
    images: Images = field(default_factory=Images)   # of the pods kubedrill starts itself (prober, writer's pods)
    log: Log = print
    warn: Log = print
    pause_at: tuple[str, str] | None = None
    pause_file: str | None = None
    phase_listeners: list[PhaseListener] = field(default_factory=list)
    results: list = field(default_factory=list)
    # the phases each scope (a scenario) has begun since it started: its verdict tells a failure
    # before its fault (a harness error) from one after it (kubedrill.report.verdicts)
    begun: dict[str, set[str]] = field(default_factory=dict)
    # seconds each scope spent in each phase (a phase nested in the same phase counted once)
    phase_times: dict[str, dict[str, float]] = field(default_factory=dict)
    _open: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signals = Signals(self.log)

    def replace_result(self, scenario: str, old, new) -> None:
        """Put ``new`` where ``scenario``'s ``old`` measurement is in ``results`` (appended when
        ``old`` was never recorded): a recovery that gained marks after it was recorded."""
        entry = (scenario, old)
        if entry in self.results:
            self.results[self.results.index(entry)] = (scenario, new)
        else:
            self.results.append((scenario, new))

    # --- phase listeners: one rule, a failing listener is a warning and never masks the result ---
    def listen(self, listener: PhaseListener) -> None:
        self.phase_listeners.append(listener)

    def listeners_start(self, name: str, title: str) -> None:
        for listener in list(self.phase_listeners):
            try:
                listener.start(name, title)
            except Exception as exc:  # noqa: BLE001 - a listener (a report) never breaks a drill
                self._listener_failed(listener, f"the start of {name}", exc)

    def listeners_end(self, name: str, title: str, ok: bool) -> None:
        for listener in list(self.phase_listeners):
            try:
                listener.end(name, title, ok)
            except Exception as exc:  # noqa: BLE001 - a listener (a report) never masks the result
                self._listener_failed(listener, f"the end of {name}", exc)

    def _listener_failed(self, listener: PhaseListener, when: str, exc: Exception) -> None:
        text = str(exc).strip().splitlines()
        self.warn(f"phase listener {type(listener).__name__} failed at {when}: "
                  f"{text[0] if text else type(exc).__name__}")

    def rng(self, scope: str = "") -> random.Random:
        """Random choices for one scenario: from the run's seed and the scenario's id,
        so that a choice does not depend on which other scenarios ran before it."""
        return random.Random(f"{self.seed}:{scope}")

    # --- phases and pause points ---------------------------------------------------------
    def phases_begun(self, scope: str) -> frozenset[str]:
        """The phases ``scope`` has begun since it started (or since ``forget_phases``)."""
        return frozenset(self.begun.get(scope, ()))

    def forget_phases(self, scope: str) -> None:
        """A scenario starts: none of its phases has begun."""
        self.begun.pop(scope, None)
        self.phase_times.pop(scope, None)
        self._open.pop(scope, None)

    def times(self, scope: str) -> dict[str, float]:
        """Seconds ``scope`` spent in each phase so far (rounded to the millisecond)."""
        return {k: round(v, 3) for k, v in self.phase_times.get(scope, {}).items()}

    @contextlib.contextmanager
    def phase(self, name: str, scope: str = "") -> Iterator[None]:
        if name not in PHASES:
            raise UsageError(f"unknown phase {name!r}")
        title = PHASE_TITLES[name]
        where = f"[{scope}] " if scope else ""
        self.begun.setdefault(scope, set()).add(name)
        opened = self._open.setdefault(scope, [])
        outermost = name not in opened
        opened.append(name)
        start = time.monotonic()
        self.log(f"{where}phase {title}: start")
        self.listeners_start(name, title)
        ok = False
        try:
            self.pause_point(name, "start")
            yield
            self.pause_point(name, "end")
            ok = True
        finally:
            took = time.monotonic() - start
            opened.pop()
            if outermost:
                times = self.phase_times.setdefault(scope, {})
                times[name] = times.get(name, 0.0) + took
            self.log(f"{where}phase {title}: {'end' if ok else 'FAILED'} ({took:.1f}s)")
            self.listeners_end(name, title, ok)

    def pause_point(self, phase: str, where: str = "start") -> None:
        if self.pause_at != (phase, where):
            return
        line = f"paused {phase}:{where} {os.getpid()} {self.run_id}\n".encode()
        if self.pause_file:
            fd = os.open(self.pause_file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        self.log(f"paused at {phase}:{where} (KUBEDRILL_PAUSE_AT); waiting for a signal (SIGUSR1 resumes)")
        resume = threading.Event()   # set by SIGUSR1; SIGINT/SIGTERM raise out of the wait
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGUSR1, lambda *_: resume.set()) if main else None
        try:
            resume.wait()
        finally:
            if main:
                signal.signal(signal.SIGUSR1, previous)
        self.log(f"resumed at {phase}:{where}")
