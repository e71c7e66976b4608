"""Node loss without a cluster: the tolerations the sample workloads set, the stages of a
node-loss timeline and which one took the time, the scheduler's volume reason."""

import pytest

from kubedrill.k8s import pods
from kubedrill.observe.measure import Instant
from kubedrill.observe.nodestages import DEPLOYMENT_STAGES, NodeLossTimeline, Replacement
from kubedrill.workloads import base as workloads
from kubedrill.workloads import statefulset as stateful

ORIGIN = Instant(mono=1000.0, wall=1_700_000_000.0)


def timeline(marks, ended_s=None, how="stop"):
    return NodeLossTimeline(how, "w2", ORIGIN, DEPLOYMENT_STAGES[how],
                            tuple((n, ORIGIN.mono + t, "") for n, t in marks), ended_s)


def test_tolerations_cover_not_ready_and_unreachable_or_leave_the_defaults():
    tols = workloads.tolerations(10)
    assert {(t["key"], t["effect"], t["tolerationSeconds"]) for t in tols} == {
        ("node.kubernetes.io/not-ready", "NoExecute", 10), ("node.kubernetes.io/unreachable", "NoExecute", 10)}
    assert workloads.tolerations(None) == []


def test_stages_run_from_mark_to_mark_in_their_order():
    t = timeline([("node stopped", 10.2), ("node unreachable", 53.0), ("taint added", 53.1),
                  ("pods evicted", 63.2), ("replacement scheduled", 63.3), ("replacements Ready", 65.0)])
    stages = t.stages()
    assert [s.name for s in stages] == ["node unreachable", "taint added", "pods evicted", "replacements Ready"]
    assert [round(s.duration_s(), 1) for s in stages] == [53.0, 0.1, 10.1, 1.8]
    assert all(s.done for s in stages) and t.running() is None
    assert t.slowest().name == "node unreachable"
    assert t.summary() == "node unreachable 53.0s, taint added 0.1s, pods evicted 10.1s, replacements Ready 1.8s"
    assert [m.name for m in t.timeline().marks][:2] == ["fault", "node stopped"]


def test_a_running_stage_counts_up_to_the_end_of_observation_and_can_be_the_slowest():
    t = timeline([("node unreachable", 55.0), ("taint added", 55.1)], ended_s=150.0)
    running = t.running()
    assert running.name == "pods evicted" and running.end_s is None
    assert t.slowest().name == "pods evicted"
    assert t.summary().endswith("pods evicted >94.9s (still running)")
    assert t.as_dict()["stages"][-1] == {"name": "pods evicted", "start_s": 55.1, "end_s": None,
                                         "duration_s": 94.9, "detail": ""}


def test_a_drain_has_its_own_stages():
    t = timeline([("cordoned", 0.1), ("pods evicted", 4.0), ("replacements Ready", 6.0)], how="drain")
    assert [s.name for s in t.stages()] == ["cordoned", "pods evicted", "replacements Ready"]


def test_the_replacement_waits_for_its_volume_in_either_wording():
    new = Replacement("db-0", "u", True, "Unschedulable",
                      "0/3 nodes are available: 1 node(s) didn't match PersistentVolume's node affinity, "
                      "2 node(s) had untolerated taint(s).", "", 60.0)
    old = Replacement("db-0", "u", True, "Unschedulable", "1 node(s) had volume node affinity conflict", "", 1)
    placed = Replacement("db-0", "u", False, "", "", "w1", 60.0)
    assert new.waits_for_its_volume and old.waits_for_its_volume and not placed.waits_for_its_volume


@pytest.mark.parametrize("volume", ["pvc", "emptyDir"])
def test_the_statefulset_pod_keeps_its_data_where_it_is_told(volume):
    spec = stateful.db_pod_spec(volume, 10, image="img")
    assert spec["containers"][0]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert ("volumes" in spec) == (volume == "emptyDir")
    with pytest.raises(ValueError):
        stateful.db_pod_spec("hostPath", 10, image="img")


def test_the_broken_statefulset_pod_keeps_its_data_outside_its_claim():
    spec = stateful.db_pod_spec("outside", 10, image="img")
    container = spec["containers"][0]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/claim"}]
    assert "volumes" not in spec    # the claim comes from the volumeClaimTemplate
    assert container["command"][-1].startswith("mkdir -p /data; ")


def test_how_long_a_pod_tolerates_an_unreachable_node():
    def pod(*tols):
        return {"spec": {"tolerations": list(tols)}}

    default = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
               "tolerationSeconds": 300}
    assert pods.toleration_s(pod(default)) == 300
    assert pods.toleration_s(pod({"operator": "Exists"})) == float("inf")
    assert pods.toleration_s(pod({"key": "other", "operator": "Exists", "effect": "NoExecute"})) == 0
