"""Every cleanup runs whatever ends a test: pytest-timeout's ``Failed``, KeyboardInterrupt and
SystemExit are BaseExceptions; one of them in a cleanup, or at the start of the teardown phase,
does not skip the remaining cleanups, and the first is raised once they are done."""

import pytest

from fixtures.namespace import run_teardown
from kubedrill.run import Cleanups, Run

Failed = pytest.fail.Exception   # what pytest-timeout raises (timeout_method = signal)


def raises(exc):
    def fn():
        raise exc
    return fn


@pytest.mark.parametrize("exc", [Failed("Timeout >900.0s"), KeyboardInterrupt("SIGINT"), SystemExit(3)],
                         ids=["timeout", "interrupt", "exit"])
def test_a_base_exception_in_one_cleanup_does_not_skip_the_others(exc):
    order, warned = [], []
    c = Cleanups(warned.append)
    c.defer("delete namespace", lambda: order.append("ns"))
    c.defer("start node container w1", raises(exc), kind="fault")
    c.defer("remove taint", lambda: order.append("taint"), kind="fault")
    with pytest.raises(type(exc)) as raised:
        c.run_all()
    assert raised.value is exc
    assert order == ["taint", "ns"] and len(c) == 0
    assert warned == [f"cleanup interrupted (start node container w1) by {type(exc).__name__}; "
                      "continuing with the rest"]


def test_the_first_base_exception_is_raised_after_all_cleanups_and_errors_stay_warnings():
    order, warned = [], []
    c = Cleanups(warned.append)
    c.defer("a", lambda: order.append("a"))
    c.defer("b", raises(SystemExit(1)))
    c.defer("c", raises(RuntimeError("409 conflict")))
    c.defer("d", raises(Failed("Timeout")))
    with pytest.raises(Failed):
        c.run_all()
    assert order == ["a"]
    assert warned == ["cleanup interrupted (d) by Failed; continuing with the rest",
                      "cleanup failed (c): 409 conflict",
                      "cleanup interrupted (b) by SystemExit; continuing with the rest"]


class TimesOutAtTheStartOfTeardown:
    def start(self, name, title):
        if name == "teardown":
            raise Failed("Timeout >900.0s")

    def end(self, name, title, ok):
        pass


def quiet_run() -> Run:
    return Run(run_id="r1", seed=1, log=lambda s: None, warn=lambda s: None)


def test_a_timeout_at_the_start_of_the_teardown_phase_still_runs_every_cleanup():
    run = quiet_run()
    run.listen(TimesOutAtTheStartOfTeardown())
    order = []
    c = Cleanups(run.warn)
    c.defer("delete namespace", lambda: order.append("ns"))
    c.defer("remove taint", lambda: order.append("taint"), kind="fault")
    with pytest.raises(Failed, match="Timeout"):
        run_teardown(run, "test_x", c, keeping=False)
    assert order == ["taint", "ns"]


def test_the_teardown_phase_raises_the_first_interruption_after_every_cleanup():
    run = quiet_run()
    order = []
    c = Cleanups(run.warn)
    c.defer("delete namespace", lambda: order.append("ns"))
    c.defer("stop the writer", raises(KeyboardInterrupt("SIGTERM")))
    c.defer("start node container w1", raises(Failed("Timeout")), kind="fault")
    c.defer("remove taint", lambda: order.append("taint"), kind="fault")
    with pytest.raises(Failed):
        run_teardown(run, "test_x", c, keeping=False)
    assert order == ["taint", "ns"] and len(c) == 0


def test_a_kept_scenario_still_undoes_its_faults_when_interrupted():
    run = quiet_run()
    run.listen(TimesOutAtTheStartOfTeardown())
    order = []
    c = Cleanups(run.warn)
    c.defer("delete namespace", lambda: order.append("ns"))
    c.defer("remove taint", lambda: order.append("taint"), kind="fault")
    with pytest.raises(Failed):
        run_teardown(run, "test_x", c, keeping=True)
    assert order == ["taint"]
