"""Pods killed through the API: deleted (this exact UID), chosen from the run's seed; the owner
recreates them. Guarded, journalled first, returning a frozen PodKill."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill import journal
from kubedrill.errors import FaultNotInjected, WaitTimeout
from kubedrill.faults.targets import choose_count, report_foreign
from kubedrill.k8s import evictions, pods
from kubedrill.k8s import poddisruptionbudgets as pdbs
from kubedrill.observe.measure import Instant
from kubedrill.scope import Scope
from kubedrill.wait import Check, wait_for
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
              grace_s: int = 0, evict_within_s: float | None = None) -> PodKill:
    """Delete pods of ``target`` through the API (chosen from the run's seed). With
    ``evict_within_s``, evict them instead (the Eviction API honours PodDisruptionBudgets): an
    eviction a budget refuses is sent again each time a budget of the namespace allows a
    disruption, and one still refused after ``evict_within_s`` is FaultNotInjected naming the
    budgets that cover the pod."""
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
            if evict_within_s is None:
                pods.delete(s.clients, p.namespace, p.name, p.uid, grace_s)
            else:
                _evict(s, p, at.mono + evict_within_s)
        s.journal.resolve(entry)  # nothing to undo once sent: the owner recreates them
        kill = PodKill(target.namespace, target.name, tuple(p.name for p in chosen),
                       frozenset(p.uid for p in chosen), at, s.run.seed,
                       frozenset(p.uid for p in candidates))
        s.run.log(f"[{s.name}] {kill.describe()} (seed {s.run.seed})")
    return kill


def covering(clients, pod: pods.PodInfo) -> list[str]:
    """Names of the namespace's PodDisruptionBudgets whose selector (matchLabels) covers ``pod``."""
    items, _ = pdbs.source(clients, pod.namespace).list()
    labels = dict(pod.labels)
    return sorted(((o.get("metadata") or {}).get("name", "?") for o in items
                   if all(labels.get(k) == v for k, v in
                          (((o.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}).items())))


def _allowing(names: list[str]):
    """Predicate: one of the budgets ``names`` allows a disruption now."""
    def check(items: list[dict]) -> Check:
        mine = [o for o in items if (o.get("metadata") or {}).get("name") in names]
        return pdbs.disruption_allowed(mine)
    return check


def _evict(s: Scope, p: pods.PodInfo, deadline: float) -> None:
    """Evict ``p``; each refusal (429: a budget allows no disruption now) waits, on a watch of the
    budgets, for one to allow a disruption, then evicts again, until ``deadline``."""
    while evictions.evict(s.clients, p.namespace, p.name, p.uid) == evictions.REFUSED:
        names = covering(s.clients, p)
        left = deadline - Instant.now().mono
        s.run.log(f"[{s.name}] eviction of pod {p.name} refused by PodDisruptionBudget {', '.join(names) or '?'}"
                  f"; waiting up to {max(0.0, left):.0f}s for it to allow a disruption")
        try:
            if left <= 0:
                raise WaitTimeout("a disruption allowed", 0, None)
            wait_for(pdbs.source(s.clients, p.namespace), _allowing(names),
                     description=f"PodDisruptionBudget {', '.join(names)} to allow evicting {p.name}",
                     timeout_s=left, progress=s.progress)
        except WaitTimeout:
            raise FaultNotInjected(f"eviction of pod {p.namespace}/{p.name} still refused at its deadline by "
                                   f"PodDisruptionBudget {', '.join(names) or '(none found)'}: it allows no "
                                   "disruption") from None
