import pytest

from kubedrill import guard
from kubedrill.errors import GuardRefused, UsageError
from kubedrill.guard import Guard


def test_refuses_a_namespace_the_run_did_not_create():
    g = Guard("r1")
    g.claim("kd-r1-mine")
    g.check_namespace("kd-r1-mine")
    with pytest.raises(GuardRefused, match="'someone-elses'.*not created by run r1"):
        g.check_namespace("someone-elses")


def test_refuses_kube_system_even_if_the_run_claims_it():
    g = Guard("r1")
    g.claim("kube-system")
    with pytest.raises(GuardRefused, match="kube-system.*never a drill target"):
        g.check_namespace("kube-system")


@pytest.mark.parametrize("ns", ["kube-system", "kubedrill-storage", "local-path-storage", "csi-hostpath"])
def test_protected_namespaces_cannot_even_be_allowed(ns):
    with pytest.raises(UsageError, match="can never be a drill target"):
        Guard("r1", allowed_namespaces=frozenset({ns}))


def test_an_explicitly_allowed_namespace_is_a_target():
    g = Guard("r1", allowed_namespaces=frozenset({"staging-app"}))
    g.check_namespace("staging-app")
    g.check_object({"app": "x"}, "staging-app", "pod p")  # foreign objects are fine there


def test_a_released_namespace_is_no_longer_a_target():
    g = Guard("r1")
    g.claim("kd-a")
    g.release("kd-a")
    with pytest.raises(GuardRefused):
        g.check_namespace("kd-a")


def test_objects_in_owned_namespaces_must_carry_the_run_id():
    g = Guard("r1")
    g.claim("kd-a")
    g.check_object({guard.RUN_ID: "r1"}, "kd-a", "pod p")
    with pytest.raises(GuardRefused, match="does not carry run id r1"):
        g.check_object({guard.RUN_ID: "r2"}, "kd-a", "pod p")


def test_refuses_a_context_that_is_not_kind():
    with pytest.raises(UsageError, match="'prod-eu' is not a kind context.*--allow-context prod-eu"):
        guard.check_context("prod-eu")


def test_kind_contexts_are_allowed_and_others_only_by_name():
    guard.check_context("kind-kubedrill")
    guard.check_context("staging", allowed=("staging",))
    with pytest.raises(UsageError):
        guard.check_context("staging", allowed=("other",))
    with pytest.raises(UsageError):
        guard.check_context("kind-")


def test_labels_carry_managed_by_and_run_id():
    assert guard.labels("r9") == {"app.kubernetes.io/managed-by": "kubedrill", "kubedrill.io/run-id": "r9"}
    assert guard.run_selector("r9") == "app.kubernetes.io/managed-by=kubedrill,kubedrill.io/run-id=r9"


def test_lock_expiry_arithmetic():
    import datetime as dt

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    st = guard.LockState("other", t0, 120)
    assert st.expires_in(t0 + dt.timedelta(seconds=20)) == pytest.approx(100)
    assert st.expires_in(t0 + dt.timedelta(seconds=200)) < 0
