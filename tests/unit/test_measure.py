import pytest

from kubedrill.observe import measure
from kubedrill.observe.measure import Instant, Stats, Timeline


def test_rto_is_fault_to_first_recovered_moment():
    assert measure.rto_s(10.0, 13.25) == pytest.approx(3.25)
    with pytest.raises(ValueError):
        measure.rto_s(10.0, 9.0)


@pytest.mark.parametrize("p, expected", [(0, 1), (50, 5.5), (95, 9.55), (100, 10)])
def test_percentile_matches_linear_interpolation(p, expected):
    assert measure.percentile(range(1, 11), p) == pytest.approx(expected)


def test_percentile_of_one_value_and_unsorted_input():
    assert measure.percentile([4.0], 95) == 4.0
    assert measure.percentile([3, 1, 2], 50) == 2


def test_percentile_rejects_nonsense():
    with pytest.raises(ValueError):
        measure.percentile([], 50)
    with pytest.raises(ValueError):
        measure.percentile([1], 101)


def test_stats_and_the_objective_rule():
    s = Stats.of([2.0, 2.0, 3.0, 4.0, 10.0])
    assert (s.n, s.median, s.max) == (5, 3.0, 10.0)
    assert s.p95 == pytest.approx(8.8)
    assert s.objective() == pytest.approx(13.2)


def test_timeline_orders_marks_and_gives_offsets_from_the_fault():
    origin = Instant(mono=100.0, wall=1_700_000_000.0)
    t = (Timeline(origin).add("Ready", 104.5, "3/3").add("fault", 100.0)
         .add("first NotReady", 100.2).add("replacement scheduled", 101.0, "p on w1"))
    assert [m.name for m in t.marks] == ["fault", "first NotReady", "replacement scheduled", "Ready"]
    assert t.offsets()[-1] == ("Ready", 4.5, "3/3")
    assert t.first("replacement scheduled").detail == "p on w1"
    assert t.as_dict()["origin_unix"] == 1_700_000_000.0
    assert origin.at(104.5).wall == 1_700_000_004.5


def test_rpo_in_records_and_seconds():
    assert measure.rpo(100, 100, 50.0, 50.0) == measure.Rpo(0, 0.0)
    assert measure.rpo(100, 90, 50.0, 45.0) == measure.Rpo(10, 5.0)


def test_results_are_frozen():
    r = measure.Recovery("x", 1.0, Timeline(Instant(0, 0)))
    with pytest.raises(AttributeError):
        r.rto_s = 0
