"""Interrupt a run at each phase (SIGINT) and once with SIGKILL followed by `make clean`
(the fault journal's replay): afterwards nothing is left: no object with the run's
label, no PV or VolumeSnapshotContent pointing at its namespaces, no stopped node, no taint."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from kubedrill import docker, journal
from tests.e2e.conftest import ROOT, leftovers

pytestmark = pytest.mark.e2e

DRILL = "tests/e2e/drills/drill_taint.py"


@pytest.mark.parametrize("point, sig", [
    ("deploy", signal.SIGINT), ("fault:end", signal.SIGINT), ("recover", signal.SIGINT),
    ("verify", signal.SIGINT), ("teardown", signal.SIGINT), ("recover", signal.SIGTERM)])
def test_an_interrupt_cleans_up_everything_the_run_created(drill, clients, point, sig):
    d = drill(DRILL, "--seed", "3").start(pause_at=point)
    pid, run_id = d.wait_paused()
    assert pid == d.proc.pid
    if point != "deploy":  # from the fault on, the run has tainted a node
        assert any(line for line in leftovers(clients, run_id) if "taint" in line)
    d.signal(sig)
    rc = d.finish()
    assert rc == 2, d.output[-4000:]   # pytest's own code for an interrupted run
    assert (d.tmp / "reports" / "verdict").read_text() == "2 interrupted\n"
    assert f"{sig.name} received: cleaning up everything this run created" in d.output
    assert leftovers(clients, run_id) == []
    assert journal.journals(d.tmp / "state" / "journal") == ()
    if point != "teardown":  # at teardown the scenario already has its verdict
        assert re.search(r"drill_taint.py::\S+\s+interrupted", d.output), d.output[-3000:]


def test_sigkill_then_make_clean_undoes_what_the_journal_lists(drill, clients):
    d = drill(DRILL, "--seed", "3").start(pause_at="recover")
    _, run_id = d.wait_paused()
    before = leftovers(clients, run_id)
    assert any("taint" in line for line in before) and any(line.startswith("namespace ") for line in before)
    d.signal(signal.SIGKILL)
    d.finish()
    assert d.proc.returncode == -signal.SIGKILL
    # `make clean`, as a user types it after a crash; the run's journal and reports are its own
    replay = subprocess.run(["make", "--no-print-directory", "clean", f"REPORTS={d.tmp / 'reports'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "KUBEDRILL_STATE_DIR": str(d.tmp / "state")})
    assert replay.returncode == 0, replay.stdout + replay.stderr
    out = replay.stdout
    assert "kubedrill: undid: removed taint kubedrill.io/fault:NoSchedule from node" in out
    assert "kubedrill: undid: deleted namespace kd-" in out
    assert "kubedrill: undid: released drill lock default/kubedrill-drill-lock" in out
    assert leftovers(clients, run_id) == []
    again = subprocess.run([sys.executable, "-m", "kubedrill.journal", "--replay",
                            "--dir", str(d.tmp / "state" / "journal")],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.stdout == "kubedrill: fault journal is empty: nothing to undo\n"


@pytest.mark.slow
def test_sigkill_with_a_stopped_node_then_replay_starts_it_again(drill, clients):
    from kubedrill.k8s import nodes

    d = drill("tests/e2e/drills/drill_node.py", "--seed", "5").start(pause_at="fault:end")
    _, run_id = d.wait_paused()
    stopped = [c.name for c in docker.node_containers(clients.kind_cluster) if not c.running]
    assert len(stopped) == 1
    d.signal(signal.SIGKILL)
    d.finish()
    # heartbeats carry whole seconds; the restarted kubelet posts one at start, which can be
    # before the replay returns, so the mark is taken before the replay runs
    before_replay = int(time.time())
    replay = subprocess.run([sys.executable, "-m", "kubedrill.journal", "--replay",
                             "--dir", str(d.tmp / "state" / "journal")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"kubedrill: undid: started node container {stopped[0]}" in replay.stdout
    assert leftovers(clients, run_id) == []
    # the node returns (a fresh kubelet heartbeat, not the stale Ready from before the stop)
    nodes.wait_ready(clients, stopped[0], 300, heartbeat_after=before_replay)


def test_an_expired_lock_of_a_vanished_run_is_taken_over(drill, clients):
    import datetime as dt

    from kubernetes import client as k8s

    from kubedrill import guard

    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    clients.coordination.create_namespaced_lease(guard.LOCK_NAMESPACE, k8s.V1Lease(
        metadata=k8s.V1ObjectMeta(name=guard.LOCK_NAME, labels=guard.labels("ghost-run")),
        spec=k8s.V1LeaseSpec(holder_identity="ghost-run", lease_duration_seconds=15,
                             acquire_time=long_ago, renew_time=long_ago)))
    d = drill("scenarios/test_plumbing.py")
    rc = d.run()
    leases = clients.coordination.list_namespaced_lease(
        guard.LOCK_NAMESPACE, field_selector=f"metadata.name={guard.LOCK_NAME}").items
    if leases:  # never leave the ghost behind, whatever happened
        clients.coordination.delete_namespaced_lease(guard.LOCK_NAME, guard.LOCK_NAMESPACE)
    assert rc == 0, d.output[-4000:]
    assert leases == []  # taken over, then released at the end of the run
