"""Parallel drills' pure logic: the scheduler (fake xdist nodes), the worker's lease check, the
worker's journal file, namespace numbers, what runs alone, per-phase times."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fixtures.parallel import (AloneLastScheduling, exited, namespace_number, read_alone, row_from_dict, row_to_dict,
                               write_alone)
from kubedrill import journal as kjournal
from kubedrill.errors import LockLost
from kubedrill.k8s.leases import LeaseInfo
from kubedrill.leasewatch import LeaseWatch
from kubedrill.plan import Plan
from kubedrill.report.results import ScenarioResult
from kubedrill.run import Run


class Gateway:
    def __init__(self, id):
        self.id = id


class Node:
    """An xdist worker as the scheduler sees it: it starts an item once it holds the next one or
    its shutdown (xdist.remote.WorkerInteractor.run_one_test)."""

    def __init__(self, name):
        self.gateway = Gateway(name)
        self.queue: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices):
        assert not self.shutting_down
        self.queue.extend(indices)

    def shutdown(self):
        self.shutting_down = True

    def running(self) -> int | None:
        """The item it runs now: its first, once a successor or the shutdown came."""
        if self.queue and (len(self.queue) >= 2 or self.shutting_down):
            return self.queue[0]
        return None


def simulate(items: list[str], alone: set[str], n: int, crash: tuple[str, int] | None = None):
    """Run the scheduler to its end, finishing one running item at a time (round robin over the
    nodes); (the order items ran in, with the items running beside each, the crashed item)."""
    sched = AloneLastScheduling(None, None, lambda: set(alone), numnodes=n)
    nodes = [Node(f"gw{i}") for i in range(n)]
    for node in nodes:
        sched.add_node(node)
    for node in nodes:
        sched.add_node_collection(node, items)
    sched.schedule()
    ran: list[tuple[str, frozenset]] = []
    crashed = None
    for _ in range(10 * len(items) + 10):
        running = [(node, node.running()) for node in nodes if node in sched.node2pending]
        running = [(node, i) for node, i in running if i is not None]
        if not running:
            break
        beside = frozenset(items[i] for _, i in running)
        node, index = running[0]
        if crash and items[index] == crash[0] and crashed is None:
            crashed = sched.remove_node(node)
            nodes.remove(node)
            replacement = Node(f"gw{n + 1}")   # xdist starts one in place of a crashed worker
            nodes.append(replacement)
            sched.add_node(replacement)
            sched.add_node_collection(replacement, items)
            sched.schedule()
            continue
        node.queue.pop(0)
        ran.append((items[index], beside))
        sched.mark_test_complete(node, index)
        for done in [x for x in nodes if x.shutting_down and not x.queue]:   # its session ends
            assert sched.remove_node(done) is None
            nodes.remove(done)
        if sched.tests_finished:   # xdist then shuts every worker down: nothing may be left to send
            assert not sched.parallel and not sched.alone
            assert all(x.shutting_down for x, p in sched.node2pending.items() if p)
        nodes = nodes[1:] + nodes[:1]
    assert sched.tests_finished, "xdist ends the session only once tests_finished"
    return ran, crashed


ITEMS = ["p1", "a1", "p2", "p3", "a2", "p4", "p5"]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_item_runs_once_and_those_that_run_alone_run_last_each_by_itself(n):
    ran, _ = simulate(ITEMS, {"a1", "a2"}, n)
    assert sorted(name for name, _ in ran) == sorted(ITEMS)
    order = [name for name, _ in ran]
    assert order[-2:] == ["a1", "a2"], order
    for name, beside in ran:
        if name.startswith("a"):
            assert beside == {name}, f"{name} ran beside {sorted(beside - {name})}"


def test_parallel_items_run_side_by_side():
    ran, _ = simulate(ITEMS, {"a1", "a2"}, 3)
    assert max(len(beside) for name, beside in ran if name.startswith("p")) == 3


def test_only_alone_items_and_no_alone_items():
    ran, _ = simulate(["a1", "a2", "a3"], {"a1", "a2", "a3"}, 3)
    assert [n for n, _ in ran] == ["a1", "a2", "a3"] and all(len(b) == 1 for _, b in ran)
    ran, _ = simulate(["p1", "p2"], set(), 3)
    assert sorted(n for n, _ in ran) == ["p1", "p2"]


def test_a_crashed_workers_item_is_given_back_and_the_others_still_run():
    ran, crashed = simulate(ITEMS, {"a1", "a2"}, 3, crash=("p2", 0))
    assert crashed == "p2"
    assert sorted(n for n, _ in ran) == sorted(set(ITEMS) - {"p2"})
    assert [n for n, _ in ran][-2:] == ["a1", "a2"]


def test_the_alone_worker_crashing_hands_its_items_to_another():
    ran, crashed = simulate(ITEMS, {"a1", "a2"}, 2, crash=("a1", 0))
    assert crashed == "a1"
    assert [n for n, _ in ran][-1] == "a2"


def test_the_hand_off_file_and_rows(tmp_path):
    write_alone(tmp_path, "gw0", ["b", "a"])
    write_alone(tmp_path, "gw1", ["a", "b"])
    assert read_alone(tmp_path) == {"a", "b"}
    row = ScenarioResult("s::t", "passed", 1.5, 3.0, recoveries=({"rto_s": 1.5},), phases_s={"deploy": 2.0})
    assert row_from_dict(json.loads(json.dumps(row_to_dict(row)))) == row


def test_namespace_numbers_are_unique_across_workers():
    seen = {namespace_number(k, w) for k in range(1, 60) for w in ("gw0", "gw1", "gw2", "gw11")}
    assert len(seen) == 59 * 4
    assert namespace_number(3, "") == 3 and namespace_number(3, "gw1") == 301


def test_what_runs_alone():
    assert Plan(cluster_kinds=("Node",)).alone() == "it changes nodes"
    assert Plan(exclusive="it rebinds a PV").alone() == "it rebinds a PV"
    assert Plan(cluster_kinds=("Namespace", "PersistentVolume"), nodes=("read only",)).alone() == ""
    assert Plan(exclusive="x").merged(Plan(exclusive="y"), Plan(cluster_kinds=("Node",))).alone() == \
        "it changes nodes; x; y"
    assert "runs alone:" in "\n".join(Plan(item="i", cluster_kinds=("Node",)).lines())


class Clock:
    def __init__(self):
        self.t = 100.0

    def monotonic(self):
        return self.t

    def now(self):
        return dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


class Leases:
    namespace, name = "default", "kubedrill-drill-lock"

    def __init__(self, holder="run-1"):
        self.lease = LeaseInfo(holder, dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc), None, 60, 0)
        self.error: Exception | None = None

    def read(self):
        if self.error is not None:
            raise self.error
        return self.lease

    def renew(self, seconds: int):
        self.lease = LeaseInfo(self.lease.holder, self.lease.renew_time + dt.timedelta(seconds=seconds), None, 60, 0)


def test_a_worker_injects_only_while_the_lease_names_its_run_and_is_renewed():
    leases, clock = Leases(), Clock()
    watch = LeaseWatch(leases, "run-1", 60, clock)
    watch.check_held()
    clock.t += 30
    watch.check_held()                     # unchanged for 30 s of a 60 s lease: still fresh
    clock.t += 15
    with pytest.raises(LockLost, match="not renewed for 45s"):
        watch.check_held()                 # unchanged past two thirds of the lease
    leases.renew(20)
    watch.check_held()                     # renewed: fresh again
    leases.error = OSError("connection refused")
    with pytest.raises(LockLost, match="cannot be read"):
        watch.check_held()
    assert watch.lost is None              # only a wait: an answer later may do
    leases.error = None
    leases.lease = LeaseInfo("run-2", leases.lease.renew_time, None, 60, 1)
    with pytest.raises(LockLost, match="run-2 holds it now"):
        watch.check_held()
    assert watch.unrenewed() is watch.lost is not None
    leases.lease = LeaseInfo("run-1", leases.lease.renew_time, None, 60, 2)
    with pytest.raises(LockLost):
        watch.check_held()                 # lost for good


def test_a_workers_journal_names_run_worker_and_pid_and_is_replayed_alone(tmp_path):
    import os

    j = kjournal.Journal(tmp_path, "run-1", worker="gw2")
    other = kjournal.Journal(tmp_path, "run-1")
    j.record("taint node a", kjournal.Undo(kjournal.NOTHING, {}, "nothing"))
    other.record("take the lock", kjournal.Undo(kjournal.NOTHING, {}, "nothing"))
    assert j.path.name == "run-1.gw2.jsonl"
    line = json.loads(j.path.read_text().splitlines()[0])
    assert (line["run_id"], line["worker"], line["pid"]) == ("run-1", "gw2", os.getpid())
    undone = []
    report = kjournal.replay(tmp_path, {kjournal.NOTHING: lambda e: undone.append(e.what) or "nothing"},
                             only="run-1.gw2", include_live=True)
    assert undone == ["taint node a"] and len(report.undone) == 1
    assert not j.path.exists() and other.path.exists()   # its journal alone, closed once undone


def test_phase_times_count_a_nested_phase_once():
    run = Run(run_id="r", seed=1, log=lambda s: None)
    with run.phase("deploy", "s"):
        pass
    with run.phase("fault", "s"):
        with run.phase("fault", "s"):
            pass
    times = run.times("s")
    assert set(times) == {"deploy", "fault"} and all(v >= 0 for v in times.values())
    run.forget_phases("s")
    assert run.times("s") == {}



def test_a_lost_worker_is_seen_exited_and_one_still_running_is_killed_first():
    import os
    import signal
    import socket
    import subprocess
    import sys

    from kubedrill.journalfile import DEAD, liveness

    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    assert exited(running.pid) is True
    assert liveness(running.pid, socket.gethostname()) == DEAD   # exited (a zombie until reaped)
    assert running.wait(timeout=30) == -signal.SIGKILL          # killed, and still its parent's to reap
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, done.pid, os.WEXITED | os.WNOWAIT)   # it has ended, not yet reaped
    assert exited(done.pid) is True and done.wait(timeout=30) == 0   # one that ended is not killed
    assert exited(os.getppid()) is False                              # not a child: liveness decides
