"""The drill lock as the shell steps read it (``python -m kubedrill.lock``), and whose lock
counts as held: by a contender's rule, on a fake clock (a lease is free once seen unchanged for
its full duration, whatever its renewTime says). No cluster: the server here does not answer."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

from kubedrill import guard
from tests.unit.lease_fakes import T0, FakeClock, FakeLeases

ROOT = Path(__file__).resolve().parents[2]


def test_no_lease_or_no_holder_is_free_at_once():
    store, clock = FakeLeases(), FakeClock()
    assert guard.live_holder(store, clock=clock) is None
    store.put("", T0)
    assert guard.live_holder(store, clock=clock) is None and clock.slept == []


def test_a_lease_renewed_while_watched_is_held_by_a_live_drill():
    store, clock = FakeLeases(), FakeClock()
    store.put("1130t093653-e178", T0 - dt.timedelta(days=3))     # its renewTime says nothing here
    clock.while_sleeping = lambda t: store.put("1130t093653-e178", T0 + dt.timedelta(seconds=t))
    held = guard.live_holder(store, clock=clock)
    assert held is not None and held.holder == "1130t093653-e178"
    assert clock.t - 1000 <= guard.retry_period_s(120)          # told at the first renewal seen


def test_a_lease_unchanged_for_its_full_duration_is_free_and_a_shorter_watch_says_held():
    store, clock = FakeLeases(), FakeClock()
    store.put("gone-run", T0 + dt.timedelta(hours=2), duration_s=120)   # even a renewTime ahead of us
    lines = []
    assert guard.live_holder(store, clock=clock, progress=lines.append) is None
    assert 120 <= clock.t - 1000 <= 120 + guard.retry_period_s(120) and len(lines) == 1
    held = guard.live_holder(store, wait_s=30, clock=FakeClock())
    assert held is not None and held.expires_in_s == 120 - 30


def test_a_lock_that_cannot_be_read_is_exit_2_and_one_line(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("""apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: kind-ghost, context: {cluster: c, user: u}}]
current-context: kind-ghost
""")
    proc = subprocess.run([sys.executable, "-m", "kubedrill.lock", "--kubeconfig", str(kubeconfig),
                           "--context", "kind-ghost", "--timeout", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "kubedrill: error: cannot read the drill lock of context kind-ghost: cannot reach the API server "
        "https://127.0.0.1:9 (context kind-ghost): Connection refused"]
