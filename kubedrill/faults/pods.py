"""Pods killed through the API: deleted (this exact UID), chosen from the run's seed; the owner
recreates them. Guarded, journalled first, returning a frozen PodKill."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import journal
from kubedrill.faults.targets import choose_count, report_foreign
from kubedrill.k8s import pods
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope
from kubedrill.workloads.base import Workload


@dataclass(frozen=True)
class PodKill:
    namespace: str
    workload: str
    pods: tuple[str, ...]
    uids: frozenset[str]
    at: Instant           # when the first delete was sent
    seed: int
    before: frozenset[str] = frozenset()   # UIDs of the workload's pods just before the kill

    @property
    def count(self) -> int:
        return len(self.pods)

    def describe(self) -> str:
        return f"killed {self.count} pod(s) of {self.workload}: {', '.join(self.pods)}"


def kill_pods(scope: Scope, target: Workload, count: int | None = None, fraction: float | None = None,
              grace_s: int = 0) -> PodKill:
    """Delete pods of ``target`` through the API (chosen from the run's seed)."""
    s = scope
    if count is None and fraction is None:
        count = 1
    with s.phase("fault"):
        s.guard.check_namespace(target.namespace, "kill pods in")
        report_foreign(s, target)
        candidates = sorted((p for p in target.pods() if not p.terminating), key=lambda p: p.name)
        n = choose_count(len(candidates), count, fraction)
        chosen = sorted(s.rng.sample(candidates, n), key=lambda p: p.name)
        for p in chosen:
            s.guard.check_object(dict(p.labels), p.namespace, f"pod {p.name}")
        entry = s.journal.record(
            f"delete pods {target.namespace}/{','.join(p.name for p in chosen)}",
            journal.Undo(journal.NOTHING, {"owner": chosen[0].owner},
                         f"nothing to undo: {chosen[0].owner or 'the owner'} recreates the deleted pods"))
        at = Instant.now()
        for p in chosen:
            pods.delete(s.clients, p.namespace, p.name, p.uid, grace_s)
        s.journal.resolve(entry)  # nothing to undo once sent: the owner recreates them
        kill = PodKill(target.namespace, target.name, tuple(p.name for p in chosen),
                       frozenset(p.uid for p in chosen), at, s.run.seed,
                       frozenset(p.uid for p in candidates))
        s.run.log(f"[{s.name}] {kill.describe()} (seed {s.run.seed})")
    return kill
