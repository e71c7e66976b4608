"""The shop drilled from Python: the same app as the experiments beside this file, applied with
pytest-kubernetes' ``k8s`` fixture into the scenario's own namespace, broken and measured with
kubedrill's fixtures. Run with ``make drill EXPERIMENTS=examples/shop``."""

from pathlib import Path

MANIFESTS = Path(__file__).parent / "manifests"
ORDERS = "SELECT id, item, placed FROM orders ORDER BY id"
DB_RTO_S = 90


def orders(k8s, namespace: str) -> str:
    """The shop's orders, read in its database pod (the local socket: no password needed)."""
    return k8s.kubectl(["exec", "-n", namespace, "db-0", "-c", "postgres", "--",
                        "psql", "-X", "-A", "-t", "-U", "shop", "-d", "shop", "-c", ORDERS], as_dict=False)


def test_the_database_keeps_its_orders_when_its_pod_dies(k8s, namespace, labelled, workload, faults, phase,
                                                        drill_report):
    k8s.kubectl(["apply", "-n", namespace, "-f", str(labelled(MANIFESTS))], as_dict=False)
    db = workload("StatefulSet", "db")
    before = orders(k8s, namespace)

    kill = faults.kill_pods(db, count=1)
    recovery = db.wait_all_ready(after=kill)

    with phase("verify"):
        drill_report.objective("shop_db_rto_s", DB_RTO_S)
        assert orders(k8s, namespace) == before, "the orders changed: the database lost its data"
        assert recovery.rto_s <= DB_RTO_S, f"RTO {recovery.rto_s:.1f}s misses the objective of {DB_RTO_S}s"
