"""Recovery waits of the replicated workloads: the merged pod+controller source and the
fail-fast predicate (kubedrill.workloads.replicated, kubedrill.observe.sources). No cluster."""

import json

import pytest

from kubedrill.errors import RecoveryFailed
from kubedrill.workloads.replicated import recovery_predicate
from kubedrill.observe.sources import MergedSource
from kubedrill.wait import wait_for


def pod(name, uid, ready=True, waiting=None):
    cs = [{"name": "web", "restartCount": 0,
           "state": {"waiting": {"reason": waiting, "message": "not here"}} if waiting else {"running": {}}}]
    return {"kind": "Pod", "metadata": {"name": name, "uid": uid, "namespace": "ns"},
            "status": {"phase": "Running", "containerStatuses": cs,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def rc(failure=None):
    conds = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": failure}] if failure else []
    return {"kind": "ReplicationController", "metadata": {"name": "ReplicationController/web"},
            "status": {"conditions": conds}}


def test_done_when_every_replica_serves_and_none_is_a_killed_one():
    check = recovery_predicate("ReplicationController", "web", 2, frozenset({"u1"}), ("web-a",))
    assert not check([pod("web-a", "u1"), pod("web-b", "u2"), rc()]).done
    assert check([pod("web-b", "u2"), pod("web-c", "u3"), rc()]).done


def test_a_controller_that_cannot_create_pods_fails_at_once_naming_the_pods():
    check = recovery_predicate("ReplicationController", "web", 2, frozenset({"u1"}), ("web-a",))
    with pytest.raises(RecoveryFailed) as err:
        check([pod("web-b", "u2"), rc('pods "web-x" is forbidden: exceeded quota: q')])
    text = str(err.value)
    assert text.startswith("ReplicationController web cannot bring its pods back: waited for replacements of web-a")
    assert "Ready: web-b" in text and "FailedCreate: pods \"web-x\" is forbidden: exceeded quota" in text
    assert "timed out" not in text


def test_a_replacement_stuck_on_an_image_that_never_comes_fails_at_once():
    check = recovery_predicate("Deployment", "web", 2, frozenset({"u1"}), ("web-a",))
    with pytest.raises(RecoveryFailed, match=r"pod web-c: ErrImageNeverPull"):
        check([pod("web-b", "u2"), pod("web-c", "u3", ready=False, waiting="ErrImageNeverPull")])


class FakeSource:
    def __init__(self, items, events, rv="1"):
        self.items, self.events, self.rv, self.watched = items, events, rv, []

    def list(self):
        return [dict(i) for i in self.items], self.rv

    def watch(self, rv, timeout_s):
        self.watched.append(rv)
        yield from self.events
        self.events = []


def test_merged_source_lists_and_watches_both_kinds_and_resumes_from_each_version():
    pods_src = FakeSource([{"metadata": {"name": "web-a", "uid": "u1"}}],
                          [("ADDED", {"metadata": {"name": "web-b", "uid": "u2", "resourceVersion": "7"}})], "5")
    rc_src = FakeSource([{"metadata": {"name": "web"}}], [], "6")
    m = MergedSource({"Pod": pods_src, "ReplicationController": rc_src})
    items, rv = m.list()
    assert [i["kind"] for i in items] == ["Pod", "ReplicationController"]
    assert items[1]["metadata"]["name"] == "ReplicationController/web"   # never collides with a pod
    assert json.loads(rv) == ["5", "6"]
    (etype, obj), = list(m.watch(rv, 1))
    assert etype == "ADDED" and obj["kind"] == "Pod" and json.loads(obj["metadata"]["resourceVersion"]) == ["7", "6"]
    assert pods_src.watched == ["5"] and rc_src.watched == ["6"]


def test_wait_for_on_a_merged_source_ends_with_the_predicate():
    pods_src = FakeSource([], [("ADDED", {"metadata": {"name": "web-b", "uid": "u2", "resourceVersion": "7"}})])
    rc_src = FakeSource([{"metadata": {"name": "web"}}], [])
    m = MergedSource({"Pod": pods_src, "ReplicationController": rc_src})
    res = wait_for(m, lambda items: any(i["kind"] == "Pod" for i in items), description="a pod", timeout_s=5)
    assert res.events_seen == 1
