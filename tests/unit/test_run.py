import os
import signal
import threading

import pytest

from kubedrill import run
from kubedrill.faults import targets as faults
from kubedrill.report import results as report
from kubedrill.errors import FaultFailed
from kubedrill.run import Cleanups, Run, Signals


def test_cleanups_run_lifo_and_errors_become_warnings():
    order, warned = [], []
    c = Cleanups(warned.append)
    c.defer("delete namespace", lambda: order.append("ns"))
    c.defer("delete deployment", lambda: (_ for _ in ()).throw(RuntimeError("409 conflict\ndetail")))
    c.defer("remove taint", lambda: order.append("taint"), kind="fault")
    assert c.run_all() == ("cleanup failed (delete deployment): 409 conflict",)
    assert order == ["taint", "ns"] and warned == ["cleanup failed (delete deployment): 409 conflict"]
    assert len(c) == 0


def test_keeping_objects_still_undoes_faults():
    order = []
    c = Cleanups(lambda s: None)
    c.defer("delete namespace", lambda: order.append("ns"))
    c.defer("remove taint", lambda: order.append("taint"), kind="fault")
    c.run_all(skip_kinds=("object",))
    assert order == ["taint"]


def test_an_interrupt_during_cleanup_finishes_the_rest_then_reraises():
    order = []
    c = Cleanups(lambda s: None)
    c.defer("a", lambda: order.append("a"))

    def interrupted():
        raise KeyboardInterrupt

    c.defer("b", interrupted)
    c.defer("c", lambda: order.append("c"))
    with pytest.raises(KeyboardInterrupt):
        c.run_all()
    assert order == ["c", "a"]


def test_signals_are_deferred_while_shielded_then_raised():
    logged = []
    s = Signals(logged.append)
    s.install()
    try:
        done = []
        with pytest.raises(KeyboardInterrupt):
            with s.shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                done.append("cleanup finished")
        assert done == ["cleanup finished"]
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        s.uninstall()
    assert "SIGTERM received while cleaning up" in logged[0]


def test_pause_point_writes_the_marker_then_blocks_until_a_signal(tmp_path):
    fifo = tmp_path / "pause"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDWR)  # the test's end: a read blocks until the run writes
    lines = []

    def interrupter():
        lines.append(os.read(reader, 200).decode())
        os.kill(os.getpid(), signal.SIGINT)

    r = Run("r1", 1, log=lambda s: None, pause_at=("recover", "start"), pause_file=str(fifo))
    r.signals.install()
    try:
        r.pause_point("fault", "start")  # not the pause point: returns at once
        t = threading.Thread(target=interrupter)
        t.start()
        with pytest.raises(KeyboardInterrupt, match="SIGINT"):
            r.pause_point("recover", "start")
        t.join()
    finally:
        r.signals.uninstall()
        os.close(reader)
    assert lines == [f"paused recover:start {os.getpid()} r1\n"]


def test_rng_is_per_scenario_and_reproducible():
    a, b = Run("r", 7), Run("r2", 7)
    assert a.rng("s1").random() == b.rng("s1").random()
    assert a.rng("s1").random() != a.rng("s2").random()


def test_run_ids_and_slugs_are_label_safe():
    import re

    rid = run.new_run_id()
    assert re.fullmatch(r"[0-9]{4}t[0-9]{6}-[0-9a-f]{4}", rid)
    assert run.slug("test_Deployment[half of 3]") == "test-deployment-half-of"


@pytest.mark.parametrize("available, count, fraction, expected", [
    (3, 1, None, 1), (3, None, 0.5, 2), (4, None, 0.5, 2), (3, None, 1.0, 3), (1, None, 0.1, 1)])
def test_how_many_pods_a_fraction_kills(available, count, fraction, expected):
    assert faults.choose_count(available, count, fraction) == expected


def test_killing_more_pods_than_exist_is_a_fault_failure():
    with pytest.raises(FaultFailed, match="only 2 are running"):
        faults.choose_count(2, 3, None)
    with pytest.raises(ValueError):
        faults.choose_count(2, 1, 0.5)


def test_summary_table():
    lines = report.format_table([report.ScenarioResult("scenarios/test_a.py::test_x", "passed", 3.456),
                                 report.ScenarioResult("scenarios/test_b.py::test_y", "data lost")])
    assert lines[0].split() == ["scenario", "verdict", "RTO"]
    assert lines[2].split() == ["scenarios/test_a.py::test_x", "passed", "3.46s"]
    assert lines[3].split()[-1] == "-"
