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


@pytest.mark.parametrize("ns", ["kube-system", "kubedrill-storage", "local-path-storage", "csi-hostpath",
                                "kubedrill-gameday"])
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


def test_refuses_a_context_that_is_not_the_local_kind_cluster_whatever_its_name():
    for name in ("prod-eu", "kind-other"):
        with pytest.raises(UsageError, match=f"'{name}' is not the local kind cluster.*--allow-context {name}"):
            guard.check_context(name)


def test_the_local_kind_cluster_is_allowed_and_others_only_by_name():
    guard.check_context("kind-kubedrill", kind_cluster="kubedrill")
    guard.check_context("staging", kind_cluster="kubedrill")      # the name does not matter, the server does
    guard.check_context("staging", allowed=("staging",))
    with pytest.raises(UsageError, match=r"'staging' is not the local kind cluster \(no docker\); refusing"):
        guard.check_context("staging", allowed=("other",), why="no docker")


@pytest.mark.parametrize("server, address", [
    ("https://127.0.0.1:35121", ("127.0.0.1", 35121)),
    ("https://LocalHost:6443/", ("localhost", 6443)),
    ("https://[::1]:6443", ("::1", 6443)),
    ("https://api.staging.example.com", ("api.staging.example.com", 443)),
    ("http://10.0.0.1", ("10.0.0.1", 80)),
    ("https://127.0.0.1:notaport", None),
    ("unix:///var/run/k8s.sock", None),
    ("", None),
])
def test_the_servers_address_is_read_from_its_url(server, address):
    assert guard.server_address(server) == address


@pytest.mark.parametrize("published, server, serves", [
    (["127.0.0.1:35121"], "https://127.0.0.1:35121", True),
    (["127.0.0.1:35121"], "https://localhost:35121", True),
    (["0.0.0.0:35121", "[::]:35121"], "https://127.0.0.1:35121", True),
    (["[::]:35121"], "https://[::1]:35121", True),
    (["127.0.0.1:35121"], "https://127.0.0.1:35122", False),       # another port: another server
    (["127.0.0.1:35121"], "https://172.18.0.3:6443", False),      # the container's own address
    (["0.0.0.0:35121"], "https://10.1.2.3:35121", False),         # the same port on another machine
    (["127.0.0.1:35121"], "https://[::1]:35121", False),          # ::1 is not where docker listens
    ([], "https://127.0.0.1:35121", False),
    (["garbage"], "https://127.0.0.1:35121", False),
])
def test_a_server_is_the_kind_api_only_at_the_address_docker_publishes(published, server, serves):
    assert guard.serves_at(published, server) is serves


def test_the_api_server_must_report_the_kind_clusters_own_nodes():
    ours = {"kubedrill-control-plane": "kind://docker/kubedrill/kubedrill-control-plane",
            "kubedrill-worker": "kind://docker/kubedrill/kubedrill-worker"}
    assert guard.reports_kind_nodes(ours, "kubedrill")
    assert not guard.reports_kind_nodes(ours, "other")
    assert not guard.reports_kind_nodes({**ours, "gke-pool-1": "gce://proj/zone/gke-pool-1"}, "kubedrill")
    assert not guard.reports_kind_nodes({"kubedrill-worker": ""}, "kubedrill")
    assert not guard.reports_kind_nodes({}, "kubedrill")


def test_labels_carry_managed_by_and_run_id():
    assert guard.labels("r9") == {"app.kubernetes.io/managed-by": "kubedrill", "kubedrill.io/run-id": "r9"}
    assert guard.run_selector("r9") == "app.kubernetes.io/managed-by=kubedrill,kubedrill.io/run-id=r9"


def test_lock_observation_arithmetic_is_on_the_contenders_own_clock():
    seen = guard.Observation()
    assert not seen.expired(0.0)                       # nothing seen yet
    assert seen.see(("other", "renewed at 10:00"), 120, now=500.0)
    assert not seen.see(("other", "renewed at 10:00"), 120, now=520.0)
    assert seen.expires_in(520.0) == pytest.approx(100) and seen.unchanged_for(520.0) == 20
    assert seen.expired(620.0)
    assert seen.see(("other", "renewed at 10:02"), 120, now=620.0)   # renewed: watched anew
    assert seen.expires_in(620.0) == 120


def test_the_holder_injects_no_fault_past_two_thirds_of_its_lease():
    assert guard.may_inject(100.0, 120, 179.9)
    assert not guard.may_inject(100.0, 120, 180.0)
    assert not guard.may_inject(None, 120, 0.0)
    assert guard.retry_period_s(15) == pytest.approx(2) and guard.renew_deadline_s(15) == pytest.approx(10)
