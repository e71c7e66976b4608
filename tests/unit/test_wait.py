import pytest

from kubedrill.errors import WaitTimeout
from kubedrill.k8s import pods
from kubedrill.wait import Check, Expired, wait_for


def pod(name, uid, ready=True, node="w1", deleting=False, rv="1"):
    meta = {"name": name, "namespace": "ns", "uid": uid, "resourceVersion": rv}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"nodeName": node},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class FakeSource:
    """Scripted list + watch: each watch() call plays the next batch of events; every event
    advances the fake clock by ``step`` seconds (time passes only as events arrive)."""

    def __init__(self, clock, items, batches, step=1.0, lists=None):
        self.clock = clock
        self.items = items
        self.batches = list(batches)
        self.step = step
        self.lists = list(lists or [])
        self.list_calls = 0
        self.watch_rvs = []

    def list(self):
        self.list_calls += 1
        if self.list_calls > 1 and self.lists:
            return self.lists.pop(0), "50"
        return list(self.items), "10"

    def watch(self, rv, timeout_s):
        self.watch_rvs.append(rv)
        batch = self.batches.pop(0) if self.batches else []
        for ev in batch:
            self.clock.t += self.step
            if ev == "EXPIRED":
                raise Expired()
            yield ev
        if not batch:  # an empty watch chunk still takes its time on the server
            self.clock.t += timeout_s


def test_condition_already_true_at_list_returns_without_watching():
    clock = FakeClock()
    src = FakeSource(clock, [pod("a", "1"), pod("b", "2")], [])
    res = wait_for(src, pods.all_serving(2), description="2 Ready", timeout_s=10, clock=clock)
    assert res.summary == "2/2 Ready" and res.elapsed_s == 0 and src.watch_rvs == []


def test_waits_for_a_replacement_with_a_new_uid():
    clock = FakeClock()
    src = FakeSource(clock, [pod("a", "1"), pod("b", "2", deleting=True, ready=False), pod("c", "3")], [[
        ("DELETED", pod("b", "2", deleting=True, rv="11")),
        ("ADDED", pod("d", "4", ready=False, rv="12")),
        ("MODIFIED", pod("d", "4", ready=True, rv="13")),
        ("MODIFIED", pod("a", "1", rv="14")),
    ]])
    events = []
    res = wait_for(src, pods.all_serving(3, excluding={"2"}), description="3 Ready", timeout_s=30,
                   clock=clock, on_event=lambda t, e, o: events.append((e, o["metadata"]["name"])))
    assert res.summary == "3/3 Ready"
    assert res.satisfied_at == 103.0  # the third event made it true; the fourth was never needed
    assert ("ADDED", "d") in events and ("LISTED", "b") in events
    assert {o["metadata"]["uid"] for o in res.items} == {"1", "3", "4"}


def test_a_killed_uid_coming_back_ready_does_not_count():
    clock = FakeClock()
    src = FakeSource(clock, [pod("a", "1"), pod("b", "2")], [[("MODIFIED", pod("c", "3"))]], lists=[])
    with pytest.raises(WaitTimeout):
        wait_for(src, pods.all_serving(3, excluding={"2"}), description="3 Ready", timeout_s=5, clock=clock)


def test_deadline_raises_wait_timeout_carrying_the_last_state():
    clock = FakeClock()
    src = FakeSource(clock, [pod("a", "1"), pod("b", "2", ready=False)],
                     [[("MODIFIED", pod("b", "2", ready=False, rv="11"))], [], [], [], []])
    with pytest.raises(WaitTimeout) as err:
        wait_for(src, pods.all_serving(2), description="deployment web: 2 pods Ready", timeout_s=5,
                 clock=clock, chunk_s=2)
    exc = err.value
    assert exc.description == "deployment web: 2 pods Ready" and exc.timeout_s == 5
    assert exc.summary == "1/2 Ready"
    assert sorted(o["metadata"]["name"] for o in exc.last_state) == ["a", "b"]
    assert str(exc) == "timed out after 5.0s waiting for deployment web: 2 pods Ready; last seen: 1/2 Ready"
    assert clock.t >= 105


def test_watch_resumes_from_the_last_resource_version_and_relists_on_410():
    clock = FakeClock()
    src = FakeSource(clock, [pod("a", "1", ready=False)],
                     [[("MODIFIED", pod("a", "1", ready=False, rv="20"))], ["EXPIRED"], []],
                     lists=[[pod("a", "1", ready=True, rv="50")]])
    res = wait_for(src, pods.all_serving(1), description="1 Ready", timeout_s=60, clock=clock)
    assert src.watch_rvs[:2] == ["10", "20"]
    assert src.list_calls == 2 and res.summary == "1/1 Ready"


def test_progress_reports_what_how_far_and_elapsed():
    clock = FakeClock()
    seen = []
    src = FakeSource(clock, [], [[("ADDED", pod("a", "1", ready=False))], [("MODIFIED", pod("a", "1"))]])
    wait_for(src, pods.all_serving(1), description="1 Ready", timeout_s=60, clock=clock,
             progress=lambda d, s, e, done: seen.append((d, s, e, done)))
    assert seen[0] == ("1 Ready", "0/1 Ready", 0.0, False)
    assert seen[-1] == ("1 Ready", "1/1 Ready", 2.0, True)


def test_a_plain_boolean_predicate_works():
    clock = FakeClock()
    src = FakeSource(clock, [{"metadata": {"name": "ns1"}}], [[("DELETED", {"metadata": {"name": "ns1"}})]])
    res = wait_for(src, lambda items: not items, description="ns1 gone", timeout_s=10, clock=clock)
    assert res.items == ()


def test_check_is_frozen():
    c = Check(True, "x")
    with pytest.raises(AttributeError):
        c.done = False
