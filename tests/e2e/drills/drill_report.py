"""A drill used by tests/e2e/test_reports.py: one verdict class per scenario, so that the
report shows each. Run together with scenarios/test_plumbing.py (a real scenario that passes).

- a pod is killed and the recovery misses a deliberately impossible objective (objective missed,
  with a timeline and the diagnostics of a failure)
- the data oracle's error, raised on purpose (data lost)
- skipped, with its reason
"""

import pytest

from kubedrill.errors import DataLost

COMPONENT = "ReplicationController and Deployment"


IMPOSSIBLE_S = 0.0001


def test_recovery_misses_an_impossible_objective(web, faults, phase, drill_report):
    drill_report.objective("pod_kill_rto_s", IMPOSSIBLE_S)
    killed = faults.kill_pods(web, count=1)
    recovery = web.wait_all_ready(after=killed)
    with phase("verify"):
        assert recovery.rto_s <= IMPOSSIBLE_S, (
            f"deliberately failing: RTO {recovery.rto_s:.2f}s exceeds the objective {IMPOSSIBLE_S}s")


@pytest.mark.component("StatefulSet")
def test_data_is_lost_on_purpose(namespace, phase):
    with phase("verify"):
        raise DataLost("data lost: records 1–5 missing (deliberately, for the report)")


def test_skipped_with_a_reason(namespace):
    pytest.skip("deliberately skipped: the report shows the reason")
