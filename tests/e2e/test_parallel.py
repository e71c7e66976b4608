"""Parallel drills (pytest-xdist ``-n N``, ``make drill JOBS=N``) on the kind cluster: the same
items, verdicts and report files as a serial run, one run (one id, one lease, one journal
directory); and a worker killed mid-fault, whose fault the controller undoes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from kubedrill import guard, journal
from kubedrill.journalfile import read
from kubedrill.report.results import EXIT_CODES, HARNESS_ERROR
from tests.e2e.conftest import ROOT, leftovers, unbroken_passed

# beside each other: two items in their own namespaces; alone, after them: a retained volume
# rebound (a cluster-scoped PV) and a drain (a node)
ITEMS = ("scenarios/test_plumbing.py",
         "scenarios/test_replicas.py::test_pods_deleted_through_the_api_are_replaced_by_new_pods[Deployment-one]",
         "scenarios/test_persistent_volumes.py::test_a_retained_volume_binds_to_a_new_claim_with_its_data",
         "scenarios/test_node_loss.py::test_deployment_pods_on_a_lost_node_are_replaced_on_the_other_worker[drain]")
ALONE = set(ITEMS[2:])
# a worker's line of the run's output (after any of pytest's progress characters on the same line)
LINE = r"^[.sFEx]*\[gw\d+\] kubedrill: "


def _report_files(d) -> list[str]:
    reports = d.tmp / "reports"
    return sorted(p.name for p in reports.iterdir())


def _junit_ids(d) -> list[str]:
    text = (d.tmp / "junit.xml").read_text()
    return sorted(re.findall(r'<testcase classname="([^"]+)" name="([^"]+)"', text))


def _allure_tests(d) -> list[str]:
    names = []
    for p in (d.tmp / "allure").glob("*-result.json"):
        names.append(json.loads(p.read_text())["fullName"])
    return sorted(names)


def test_parallel_run_gives_what_a_serial_run_gives_as_one_run(drill, clients):
    d_serial, d_parallel = drill(*ITEMS, "--seed", "7"), drill(*ITEMS, "--seed", "7", "-n", "3")
    serial = d_serial.run_clean(clients)
    parallel = d_parallel.run_clean(clients)
    assert list(parallel.rows) == list(serial.rows), "results.json: other items, or in another order"
    # the same verdicts: every item passed in both runs, a default objective missed by a measurement
    # of this machine at that moment aside (tests/e2e/conftest.unbroken_passed), and the run's
    # code and reports/verdict are its worst row's
    for finished in (serial, parallel):
        passed = [unbroken_passed(row, finished.output) for row in finished.rows.values()]
        assert finished.rc == (0 if all(passed) else 1), finished.output[-4000:]
        assert finished.verdict.split()[0] == str(finished.rc)
    assert _report_files(d_parallel) == _report_files(d_serial)
    assert _junit_ids(d_parallel) == _junit_ids(d_serial)
    assert _allure_tests(d_parallel) == _allure_tests(d_serial)
    # one run: one id for the controller and its three workers, their namespaces named after it
    runs = set(re.findall(r"kubedrill: run (\S+), seed", parallel.output))
    assert len(runs) == 1, runs
    (run_id,) = runs
    made = set(re.findall(LINE + r"\[.+?\] namespace (kd-\S+)$", parallel.output, re.M))
    assert len(made) == len(ITEMS) and all(n.startswith(f"kd-{run_id}-") for n in made), made
    # the items that run alone started after every other item had ended
    starts = {m.group(1): m.start() for m in re.finditer(LINE + r"\[(.+?)\] phase deploying: start$",
                                                         parallel.output, re.M)}
    ends = {m.group(1): m.end() for m in re.finditer(LINE + r"\[(.+?)\] phase tearing down: end",
                                                     parallel.output, re.M)}
    alone = {i.rsplit("::", 1)[1] for i in ALONE}
    others = [n for n in ends if n not in alone]
    assert others and alone <= set(starts), (starts, ends)
    assert all(starts[a] > ends[o] for a in alone for o in others), "an item that runs alone overlapped another"
    first, second = sorted(alone, key=starts.get)
    assert starts[second] > ends[first], "the items that run alone overlapped each other"
    # one lease, the drill lock, and the run holds none any more
    leases = clients.coordination.list_lease_for_all_namespaces(label_selector=guard.run_selector(run_id)).items
    assert leases == []


def test_a_worker_killed_mid_fault_is_undone_by_the_controller(drill, clients):
    d = drill("tests/e2e/drills/drill_taint.py", "--seed", "3", "-n", "2").start(pause_at="fault:end")
    pid, run_id = d.wait_paused()
    assert pid != d.proc.pid, "the pause is the worker's"
    # the worker's own journal, in the run's one journal directory: its entries name run, worker, pid
    files = list((d.tmp / "state" / "journal").glob("*.jsonl"))
    assert sorted(p.name for p in files) == sorted([f"{run_id}.jsonl", f"{run_id}.gw0.jsonl"]) or \
        sorted(p.name for p in files) == sorted([f"{run_id}.jsonl", f"{run_id}.gw1.jsonl"]), files
    worker_file = next(p for p in files if p.name != f"{run_id}.jsonl")
    lines = [json.loads(x) for x in worker_file.read_text().splitlines()]
    intents = [x for x in lines if x["op"] == "intent"]
    assert intents and all(x["run_id"] == run_id and x["pid"] == pid and x["worker"] == worker_file.name.split(".")[1]
                           for x in intents), intents
    assert any(e.undo.action == journal.REMOVE_TAINT for e in read(worker_file).pending)
    os.kill(pid, signal.SIGKILL)
    d.keep_reading()
    rc = d.finish()
    out = d.output
    assert "replaying its journal" in out, out[-4000:]
    assert re.search(r"kubedrill: undid: removed taint \S+ from node", out), out[-4000:]
    results = json.loads((d.tmp / "reports" / "results.json").read_text())
    (row,) = results["scenarios"]
    assert row["verdict"] == HARNESS_ERROR and "died" in row["reason"], row
    assert rc == EXIT_CODES[HARNESS_ERROR], out[-4000:]
    assert leftovers(clients, run_id, d.tmp / "state") == []
    again = subprocess.run([sys.executable, "-m", "kubedrill.journal", "--replay", "--dir", str(d.tmp / "state" / "journal")],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.stdout == "kubedrill: fault journal is empty: nothing to undo\n", again.stdout + again.stderr
