"""kubedrill.checks: each kind of check raises the typed error its verdict class comes from."""

import pytest

from kubedrill import checks
from kubedrill.config import Objectives
from kubedrill.errors import DataLost, FaultNotInjected, IdentityLost, NotRecovered, ObjectiveExceeded


@pytest.mark.parametrize("check, error", [(checks.recovered, NotRecovered), (checks.identity, IdentityLost),
                                          (checks.injected, FaultNotInjected), (checks.data, DataLost)])
def test_a_failed_check_raises_its_type_and_names_its_id(check, error):
    check("x.ok", True, "never raised")
    with pytest.raises(error, match=r"^it broke \[x\.broke\]$"):
        check("x.broke", False, "it broke")


def test_an_objective_is_met_at_the_limit_and_missed_past_it():
    o = Objectives(pod_kill_rto_s=2.0, pod_delete_one_availability=0.9)
    assert checks.objective("p.rto", o, "pod_kill_rto_s", 2.0) == 2.0
    with pytest.raises(ObjectiveExceeded) as e:
        checks.objective("p.rto", o, "pod_kill_rto_s", 2.25)
    assert (e.value.name, e.value.measured, e.value.limit) == ("pod_kill_rto_s", 2.25, 2.0)
    assert str(e.value) == "RTO 2.250s misses the objective pod_kill_rto_s (at most 2s) [p.rto]"
    checks.objective("p.av", o, "pod_delete_one_availability", 0.95, at_most=False)
    with pytest.raises(ObjectiveExceeded, match=r"at least 0\.9"):
        checks.objective("p.av", o, "pod_delete_one_availability", 0.5, at_most=False, unit="")


def test_a_count_is_printed_without_decimals():
    o = Objectives(restore_rpo_records=5)
    with pytest.raises(ObjectiveExceeded, match=r"^RPO 22 records misses the objective restore_rpo_records "
                                                 r"\(at most 5 records\)"):
        checks.objective("r.rpo", o, "restore_rpo_records", 22, what="RPO", unit=" records")
