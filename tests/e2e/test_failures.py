"""The harness reports what went wrong: a kept namespace on failure, a leak at session end."""

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT, leftovers

pytestmark = pytest.mark.e2e


def test_keep_on_failure_keeps_the_namespace_but_undoes_the_fault(drill, clients):
    d = drill("tests/e2e/drills/drill_failing.py", "--keep-on-failure")
    assert d.run() == 1, d.output[-4000:]
    results = json.loads((d.tmp / "reports" / "results.json").read_text())
    run_id = results["run_id"]
    (row,) = results["scenarios"]
    assert row["verdict"] == "objective missed" and "three replicas, not four" in row["reason"]
    left = leftovers(clients, run_id)
    assert left and all("kd-" + run_id in line for line in left), left  # only the kept namespace
    assert not [line for line in left if "taint" in line]
    assert "kept namespace kd-" + run_id in d.output
    replay = subprocess.run([sys.executable, "-m", "kubedrill.journal", "--replay",
                             "--dir", str(d.tmp / "state" / "journal")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert "kubedrill: undid: deleted namespace kd-" + run_id in replay.stdout, replay.stdout + replay.stderr
    assert leftovers(clients, run_id) == []


def test_the_leak_check_reports_an_object_left_behind(drill, clients):
    d = drill("tests/e2e/drills/drill_leaky.py")
    rc = d.run()
    results = json.loads((d.tmp / "reports" / "results.json").read_text())
    name = f"kubedrill-leak-{results['run_id']}"
    try:
        assert rc == 15, d.output[-4000:]   # a leak is kubedrill's failure: harness error
        assert (d.tmp / "reports" / "verdict").read_text() == "15 harness error\n"
        assert results["scenarios"][0]["verdict"] == "passed"
        assert results["leaks"] == [f"object with the run label left: ConfigMap default/{name}"]
        assert f"LEAK: object with the run label left: ConfigMap default/{name}" in d.output
    finally:
        clients.core.delete_namespaced_config_map(name, "default")
