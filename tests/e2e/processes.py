"""Processes the e2e tests start themselves (a browser, the Pushgateway, Prometheus)."""

from __future__ import annotations

import subprocess


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
