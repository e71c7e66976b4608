"""What a scenario needs of the cluster (``--require``), without a cluster: the option's parsing,
a missing capability as a named skip or as "not applicable", which node-loss scenarios a
``--node-fault`` filter keeps, how a container is killed from inside, and what a look at a
volume's node reports when it cannot be made."""

from __future__ import annotations

import dataclasses

import pytest

from fixtures import requirements
from fixtures.node_loss import method_of
from kubedrill import docker
from kubedrill.errors import FaultFailed, KubedrillError, NotApplicable, UsageError
from kubedrill.faults import containers, nodes, volumes
from kubedrill.k8s.claims import PvInfo
from kubedrill.observe.measure import Instant, Recovery, Timeline


class Config:
    """The one thing requirements reads of a pytest config: ``--require``'s values."""

    def __init__(self, *values: str):
        self.values = list(values)

    def getoption(self, name, default=None):
        assert name == "--require"
        return self.values


@dataclasses.dataclass
class Clients:
    context: str
    kind_cluster: str | None


def test_require_takes_capabilities_comma_separated_repeated_or_all():
    assert requirements.parse([]) == frozenset()
    assert requirements.parse(["node-stop,snapshot", "snapshot"]) == {"node-stop", "snapshot"}
    assert requirements.parse([" all "]) == frozenset(requirements.CAPABILITIES)
    assert {"node-stop", "snapshot", "container-kill", "data-on-node"} <= set(requirements.CAPABILITIES)


@pytest.mark.parametrize("value, message", [
    ("node-stp", "--require: unknown capability 'node-stp'; known: node-stop, snapshot"),
    ("snapshot,", "--require 'snapshot,': empty capability"),
])
def test_an_unknown_or_empty_capability_is_one_line_of_usage_error(value, message):
    with pytest.raises(UsageError) as exc:
        requirements.parse([value])
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_a_missing_capability_skips_with_its_name_unless_required():
    with pytest.raises(pytest.skip.Exception) as skipped:
        requirements.unavailable(Config("snapshot"), "node-stop", "context staging is not the local kind cluster")
    assert str(skipped.value) == ("node-stop not available: context staging is not the local kind cluster "
                                  "(--require node-stop makes this a failure)")
    with pytest.raises(NotApplicable) as failed:
        requirements.unavailable(Config("all"), "node-stop", "context staging is not the local kind cluster")
    assert str(failed.value) == ("not applicable: node-stop not available: context staging is not the local "
                                 "kind cluster (required by --require node-stop)")


def test_a_check_that_cannot_be_made_is_recorded_unless_required():
    why = requirements.not_checkable(Config(), "data-on-node", "not the local kind cluster")
    assert why == "not checkable: data-on-node not available: not the local kind cluster"
    with pytest.raises(NotApplicable):
        requirements.not_checkable(Config("data-on-node"), "data-on-node", "not the local kind cluster")


def test_the_library_names_the_capabilities_requirements_knows():
    assert containers.CAPABILITY in requirements.CAPABILITIES
    with pytest.raises(ValueError):
        requirements.required(Config(), "no-such-capability")


def test_a_scenario_loses_its_node_by_its_parameter_or_its_fixture():
    assert method_of(("node_fault", "spread_web"), {"node_fault": "drain"}) == "drain"
    assert method_of(("hard_node_stop", "node_local_db"), {}) == "stop"
    assert method_of(("node_drain", "node_local_db"), {}) == "drain"
    assert method_of(("replicated",), {"how_many": "one"}) is None


def test_a_node_is_stopped_only_on_a_kind_context():
    why = nodes.stop_unavailable(Clients("staging", None))
    assert why.startswith("context staging is not the local kind cluster") and "drain runs anywhere" in why


def test_docker_that_does_not_answer_is_an_error_not_an_empty_answer(monkeypatch):
    monkeypatch.setattr(docker, "installed", lambda: True)

    def refuse(cluster):
        raise FaultFailed("docker ps failed: Cannot connect to the Docker daemon")

    monkeypatch.setattr(docker, "node_containers", refuse)
    with pytest.raises(KubedrillError, match="docker does not answer") as exc:
        docker.local_nodes("kubedrill")
    assert not isinstance(exc.value, FaultFailed)
    assert docker.local_nodes(None) == ()


# /proc/1/status of busybox httpd (handles SIGHUP only) and of a shell trapping TERM and INT
HTTPD = "Name:\thttpd\nSigBlk:\t0000000000000000\nSigIgn:\t0000000080010000\nSigCgt:\t0000000000000001\n"
TRAPPING_SH = "Name:\tsh\nSigCgt:\t0000000000004002\n"


def test_the_signals_pid_1_handles_decide_how_it_is_killed_from_inside():
    assert containers.caught_signals(HTTPD) == {1}
    assert containers.exit_signal(containers.caught_signals(HTTPD)) is None
    assert containers.caught_signals(TRAPPING_SH) == {2, 15}
    assert containers.exit_signal({2, 15}) == "TERM" and containers.exit_signal({3, 2}) == "INT"
    with pytest.raises(ValueError):
        containers.caught_signals("Name:\tx\n")


def test_a_kill_that_cannot_be_done_is_not_applicable_by_default():
    with pytest.raises(NotApplicable, match="^not applicable: container-kill not available: PID 1"):
        containers.not_applicable(containers.CAPABILITY, "PID 1 handles nothing")


PV = PvInfo("pvc-1", "u", "Bound", "Delete", "ns", "scratch", "vol-1")


def test_a_volume_off_the_local_kind_cluster_is_not_checkable_with_the_reason():
    seen = volumes.data_on_node(Clients("staging", None), PV, "w1")
    assert seen.present is None and not seen.checkable
    assert seen.why == "node w1 is not a container of the local kind cluster: its disk cannot be looked at"
    assert seen.mark() == ("data on node not checkable", seen.why)
    not_csi = volumes.data_on_node(Clients("kind-kubedrill", "kubedrill"), dataclasses.replace(PV, volume_handle=""), "w1")
    assert not not_csi.checkable and "not a CSI volume" in not_csi.why
    with pytest.raises(ValueError):
        volumes.data_on_node(Clients("staging", None), PV, "")


def test_what_was_seen_on_the_node_is_marked_on_the_recovery():
    origin = Instant(mono=100.0, wall=1_700_000_000.0)
    rec = Recovery("volume pvc-1 deleted", 0.4, Timeline(origin).add("fault", 100.0).add("PV deleted", 100.4))
    gone = volumes.NodeData("pvc-1", "w1", "/var/lib/kubedrill-csi/volumes/vol-1", False)
    marked = volumes.noted(rec, gone)
    assert [m.name for m in marked.timeline.marks] == ["fault", "PV deleted", "data gone from node"]
    assert marked.timeline.marks[-1].detail == "w1:/var/lib/kubedrill-csi/volumes/vol-1"
    assert marked.rto_s == rec.rto_s and rec.timeline.first("data gone from node") is None
