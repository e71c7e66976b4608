"""The checks a scenario makes, each raising the typed error its verdict class comes from.

Scenarios do not use bare ``assert``: each check has an id (the first argument, a literal) that
names its row in docs/checks.md (what it checks, the broken variant that makes it fail, its
verdict class, the e2e test that proves it); tests/unit/test_checks_table.py walks scenarios/
and fails on a check without its row.

    checks.recovered("replicas.count", n == 3, "the count is not restored")      # not recovered
    checks.identity("statefulset.claims", a == b, "PVC UID changed")           # identity lost
    checks.injected("replicas.killed-gone", not left, "a killed pod is still there")  # fault not injected
    checks.data("pv.delete.gone", gone, "the data is still on the node")       # data lost
    checks.objective("replicas.rto", objectives, "pod_delete_one_rto_s", rto, what="RTO")  # objective missed
"""

from __future__ import annotations

from typing import Any

from kubedrill.errors import DataLost, FaultNotInjected, IdentityLost, NotRecovered, ObjectiveExceeded


def _fail(error: type[Exception], check_id: str, message: str) -> None:
    raise error(f"{message} [{check_id}]")


def recovered(check_id: str, ok: Any, message: str) -> None:
    """The workload came back as required (counts, replacements): NotRecovered otherwise."""
    if not ok:
        _fail(NotRecovered, check_id, message)


def identity(check_id: str, ok: Any, message: str) -> None:
    """Names, ordinals, claims and order kept: IdentityLost otherwise."""
    if not ok:
        _fail(IdentityLost, check_id, message)


def injected(check_id: str, ok: Any, message: str) -> None:
    """The fault did something (the killed pod is gone, the restart count moved): FaultNotInjected otherwise."""
    if not ok:
        _fail(FaultNotInjected, check_id, message)


def data(check_id: str, ok: Any, message: str) -> None:
    """The data is where it must be, or gone where it must be gone: DataLost otherwise."""
    if not ok:
        _fail(DataLost, check_id, message)


def _number(value: float) -> str:
    """3 decimals, or none for a count (records)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def objective(check_id: str, objectives: Any, name: str, measured: float, *, at_most: bool = True,
              what: str = "RTO", unit: str = "s") -> float:
    """``measured`` within the objective ``name`` (at most, or at least with ``at_most=False``):
    ObjectiveExceeded otherwise. Returns the limit."""
    limit = float(getattr(objectives, name))
    ok = measured <= limit if at_most else measured >= limit
    if not ok:
        bound = "at most" if at_most else "at least"
        raise ObjectiveExceeded(f"{what} {_number(measured)}{unit} misses the objective {name} ({bound} {limit:g}{unit})"
                                f" [{check_id}]", name, measured, limit)
    return limit
