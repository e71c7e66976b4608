"""The availability prober's arithmetic (kubedrill.observe.prober.parse): no cluster."""

from kubedrill.observe.prober import Outage, parse


def test_all_requests_succeed():
    r = parse("100.00 1\n100.10 1\n100.20 1\nstopped\n", "http://x/")
    assert (r.requests, r.successes, r.success_ratio, r.longest_outage_s) == (3, 3, 1.0, 0.0)
    assert r.window_s == 0.2 and r.ended_by == "stopped" and r.outages == ()


def test_an_outage_runs_from_the_first_failure_to_the_next_success():
    log = "10.00 1\n10.10 0\n11.10 0\n12.10 1\n12.20 0\n12.60 1\nstopped\n"
    r = parse(log)
    assert r.requests == 6 and r.successes == 3 and r.failures == 3
    assert r.outages == (Outage(0.1, 2.0, 2), Outage(2.2, 0.4, 1))
    assert r.longest_outage_s == 2.0


def test_an_outage_still_open_at_the_end_lasts_until_the_last_request():
    r = parse("5.00 1\n5.50 0\n7.00 0\ndeadline\n")
    assert r.outages == (Outage(0.5, 1.5, 2),) and r.ended_by == "deadline"


def test_no_samples_and_noise_are_not_requests():
    r = parse("wget: bad address\n\nstopped\n")
    assert (r.requests, r.success_ratio, r.longest_outage_s) == (0, 0.0, 0.0)


def test_describe_and_as_dict():
    r = parse("1.0 1\n2.0 0\n3.0 1\nstopped\n", "http://10.0.0.1:8080/")
    assert r.describe().startswith("2/3 requests succeeded (66.7%) over 2.0s; longest outage 1.00s")
    assert r.as_dict()["success_ratio"] == 0.6667 and r.as_dict()["target"] == "http://10.0.0.1:8080/"
