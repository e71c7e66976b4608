"""The drill lock as the shell steps read it (``python -m kubedrill.lock``), and whose lock
counts as held. No cluster: the server here does not answer."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

from kubedrill import guard

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_a_live_lock_of_another_run_is_held_an_expired_or_own_one_is_not():
    lock = guard.LockState("1130t093653-e178", T0, 120)
    assert lock.held_against("", T0 + dt.timedelta(seconds=30))
    assert lock.held_against("other-run", T0 + dt.timedelta(seconds=119))
    assert not lock.held_against("", T0 + dt.timedelta(seconds=121))          # its run is gone
    assert not lock.held_against("1130t093653-e178", T0)                       # our own
    assert not guard.LockState("", T0, 120).held_against("", T0)               # no holder


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
