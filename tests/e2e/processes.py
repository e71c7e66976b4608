"""Processes the e2e tests start themselves (a browser, the Pushgateway, Prometheus, a registry)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest


def stop(proc: subprocess.Popen, grace_s: float = 30) -> None:
    """SIGTERM, up to ``grace_s`` for it to exit, then SIGKILL; returns once it is gone."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def until(what: str, deadline_s: float, probe, proc: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``probe`` (None: not yet; anything else: the answer) until its answer or the deadline;
    fails with the last thing seen, and at once when ``proc`` exits."""
    deadline = time.monotonic() + deadline_s
    pause = threading.Event()
    last = None
    while True:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited {proc.returncode}:\n{log.read_text()[-3000:] if log else ''}")
        try:
            answer = probe()
        except OSError as exc:   # not listening yet
            answer, last = None, exc
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {deadline_s:g}s (last: {last!r})")
        pause.wait(0.2)   # the poll's period: the condition above decides, not this
