import pytest

from kubedrill import config
from kubedrill.config import Objectives, Timeouts
from kubedrill.errors import UsageError


@pytest.mark.parametrize("text", ["0", "-1", "abc", "nan", "inf", ""])
def test_bad_timeout_scale_is_refused(text):
    with pytest.raises(UsageError, match="--timeout-scale"):
        config.parse_timeout_scale(text)


def test_timeouts_scale_every_deadline():
    t = Timeouts().scaled(config.parse_timeout_scale("2.5"))
    assert t.deploy_s == Timeouts().deploy_s * 2.5 and t.recover_s == Timeouts().recover_s * 2.5
    assert t.lease_duration_s == Timeouts().lease_duration_s  # the lock's lease is not a wait


@pytest.mark.parametrize("text", ["-3", "x", "1.5"])
def test_bad_seed_is_refused(text):
    with pytest.raises(UsageError, match="--seed"):
        config.parse_seed(text)


def test_seed_is_given_back_or_fresh():
    assert config.parse_seed("42") == 42
    assert 0 <= config.parse_seed(None) < 2**32


def test_objectives_from_file_then_overrides(tmp_path):
    f = tmp_path / "objectives.yaml"
    f.write_text("pod_kill_rto_s: 12\nnode_stop_rto_s: 200\n")
    o = config.parse_objectives(f, ["pod_kill_rto_s=9.5"])
    assert o.pod_kill_rto_s == 9.5 and o.node_stop_rto_s == 200
    assert o.node_back_rto_s == Objectives().node_back_rto_s


def test_objectives_json_file(tmp_path):
    f = tmp_path / "o.json"
    f.write_text('{"restore_rto_s": 30}')
    assert config.parse_objectives(f).restore_rto_s == 30


@pytest.mark.parametrize("override, message", [
    ("pod_kil_rto_s=3", "unknown objective 'pod_kil_rto_s'"),
    ("pod_kill_rto_s", "expected NAME=VALUE"),
    ("pod_kill_rto_s=fast", "expected a number"),
    ("pod_kill_rto_s=0", "no recovery takes 0 s or less"),
    ("pod_delete_one_rto_s=-1", "expected a positive number"),
    ("pod_delete_one_availability=5", "between 0 and 1"),
    ("container_kill_all_availability=1.01", "between 0 and 1"),
    ("restore_rpo_records=-1", "expected a positive number"),
    ("node_back_rto_s=0", "no recovery takes 0 s or less"),
    ("restore_rto_s=0", "no recovery takes 0 s or less"),
])
def test_bad_objective_overrides(override, message):
    with pytest.raises(UsageError, match=message):
        config.parse_objectives(None, [override])


def test_objectives_that_can_be_met_are_taken():
    o = config.parse_objectives(None, ["pod_delete_one_availability=1", "restore_rpo_records=0", "pod_kill_rto_s=0.01",
                                       "pod_delete_all_outage_s=0", "container_kill_one_availability=0",
                                       "restore_rpo_s=0"])
    assert (o.pod_delete_one_availability, o.restore_rpo_records, o.pod_kill_rto_s) == (1.0, 0.0, 0.01)
    assert (o.pod_delete_all_outage_s, o.container_kill_one_availability, o.restore_rpo_s) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("name", ["container_kill_rto_s", "rpo_records", "availability_min_ratio", "longest_outage_s"])
def test_objectives_that_checked_nothing_are_gone(name):
    with pytest.raises(UsageError, match=f"unknown objective '{name}'"):
        config.parse_objectives(None, [f"{name}=1"])


def test_an_objectives_file_that_cannot_be_met_is_refused(tmp_path):
    f = tmp_path / "objectives.yaml"
    f.write_text("pod_delete_all_availability: 1.5\n")
    with pytest.raises(UsageError, match="objective pod_delete_all_availability: a share of requests"):
        config.parse_objectives(f)


def test_bad_objectives_files(tmp_path):
    with pytest.raises(UsageError, match="file not found"):
        config.parse_objectives(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(UsageError, match="must hold a mapping"):
        config.parse_objectives(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(UsageError, match="cannot parse"):
        config.parse_objectives(broken)


def test_pause_points():
    assert config.parse_pause_at("recover") == ("recover", "start")
    assert config.parse_pause_at("fault:end") == ("fault", "end")
    assert config.parse_pause_at("") is None
    with pytest.raises(UsageError, match="KUBEDRILL_PAUSE_AT"):
        config.parse_pause_at("lunch")
    with pytest.raises(UsageError):
        config.parse_pause_at("fault:middle")


@pytest.mark.parametrize("text, seconds", [(None, Timeouts().lock_s), ("0", 0.0), ("30", 30.0), ("2.5", 2.5),
                                           ("86400", 86400.0)])
def test_wait_for_lock_is_seconds_from_zero_to_a_day(text, seconds):
    assert config.parse_wait_for_lock(text, Timeouts().lock_s) == seconds


@pytest.mark.parametrize("text", ["-1", "abc", "", "nan", "inf", "1e308", "86401"])
def test_bad_wait_for_lock_is_refused(text):
    with pytest.raises(UsageError, match=r"^--wait-for-lock: expected a number of seconds") as err:
        config.parse_wait_for_lock(text, Timeouts().lock_s)
    assert "\n" not in str(err.value)


def test_the_lock_wait_defaults_to_a_lease_and_two_retries_and_is_not_scaled():
    from kubedrill import guard

    t = Timeouts()
    assert t.lock_s >= t.lease_duration_s + 2 * guard.retry_period_s(t.lease_duration_s)
    assert t.scaled(0.1).lock_s == t.lock_s and t.scaled(10).lock_s == t.lock_s
