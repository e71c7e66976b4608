"""PostgreSQL as a drill workload: the pod spec, queries, and reading every record back for the
oracle. The writer's sink (a psql session) is kubedrill.data.sinks.PsqlSink.

The image is the pinned ``IMAGE_POSTGRES`` (Debian's postgresql-15, docs/storage.md): it runs
as uid/gid 999, keeps its cluster in ``PGDATA=/var/lib/postgresql/data/pgdata`` (on the
volume), runs initdb only on an empty volume and stops on SIGINT (fast shutdown).

The oracle's records go into one table, one record per row, byte-exact::

    drill_records(seq bigint PRIMARY KEY, line text NOT NULL)   -- line = oracle.record(...)

so a restored database is verified by reading the lines back (``COPY ... TO STDOUT``) and
handing them to ``oracle.verify``: the oracle is the same one the file writer uses.
"""

from __future__ import annotations

from typing import Any

from kubedrill import pins
from kubedrill.data.sinks import PSQL, TABLE
from kubedrill.errors import ExecFailed
from kubedrill.k8s import podexec

CONTAINER = "postgres"
MOUNT = "/var/lib/postgresql/data"
PGDATA = f"{MOUNT}/pgdata"
PASSWORD = "kubedrill"   # a throwaway drill database, reachable only inside its namespace
# every record line, in sequence order; nothing at all when the table does not exist
READ_RECORDS = (f"SELECT CASE WHEN to_regclass('{TABLE}') IS NULL THEN 'no table' ELSE 'table' END;")
COPY_RECORDS = f"COPY (SELECT line FROM {TABLE} ORDER BY seq) TO STDOUT;"


def image() -> str:
    return pins.load().get("IMAGE_POSTGRES") or "kubedrill.local/postgres:15"


def pod_spec(pgdata: str = PGDATA) -> dict[str, Any]:
    """One PostgreSQL container on the claim ``data`` (mounted at MOUNT). ``pgdata`` elsewhere
    than under MOUNT is the broken setup of the e2e tests: a database writing outside its
    volume."""
    return {
        "securityContext": {"runAsUser": 999, "runAsGroup": 999, "fsGroup": 999},
        "terminationGracePeriodSeconds": 30,
        "containers": [{
            "name": CONTAINER, "image": image(), "imagePullPolicy": "IfNotPresent",
            "env": [{"name": "POSTGRES_PASSWORD", "value": PASSWORD}, {"name": "PGDATA", "value": pgdata}],
            "args": ["postgres", "-c", "shared_buffers=16MB", "-c", "max_wal_size=64MB",
                     "-c", "fsync=on", "-c", "synchronous_commit=on"],
            "ports": [{"containerPort": 5432, "name": "postgres"}],
            "readinessProbe": {"exec": {"command": ["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres"]},
                               "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1},
            "volumeMounts": [{"name": "data", "mountPath": MOUNT}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        }],
    }


def psql(clients, namespace: str, pod: str, sql: str, timeout_s: float = 60.0) -> podexec.ExecResult:
    """Run SQL in the pod (local socket); the result, whatever its exit code."""
    return podexec.run(clients, namespace, pod, [*PSQL, "-c", sql], container=CONTAINER,
                       timeout_s=timeout_s, check=False)


def checkpoint(clients, namespace: str, pod: str, timeout_s: float = 60.0) -> str:
    r = psql(clients, namespace, pod, "CHECKPOINT;", timeout_s)
    if r.exit_code != 0:
        raise ExecFailed(f"CHECKPOINT failed in {namespace}/{pod}: {r.stderr.strip()[:300]}")
    return "CHECKPOINT done"


def answers(clients, namespace: str, pod: str, timeout_s: float = 30.0) -> tuple[bool, str]:
    """(True, detail) when the database answers a query over TCP, as a client would."""
    try:
        r = podexec.run(clients, namespace, pod,
                        ["env", f"PGPASSWORD={PASSWORD}", "psql", "-X", "-t", "-A", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
                         "-c", "SELECT 'answered ' || now();"],
                        container=CONTAINER, timeout_s=timeout_s, check=False)
    except ExecFailed as exc:
        return False, str(exc)
    if r.exit_code == 0:
        return True, r.stdout.strip()
    return False, (r.stderr.strip().splitlines() or [f"exit {r.exit_code}"])[-1]


def read_records(clients, namespace: str, pod: str, timeout_s: float = 60.0) -> tuple[str, str]:
    """(every record line, a note). No table reads as no records: a database that came back
    empty has lost its data, which the oracle then says."""
    has = psql(clients, namespace, pod, READ_RECORDS, timeout_s)
    if has.exit_code != 0:
        raise ExecFailed(f"cannot query {namespace}/{pod}: {has.stderr.strip()[:300]}")
    if has.stdout.strip() != "table":
        return "", f"table {TABLE} does not exist"
    r = psql(clients, namespace, pod, COPY_RECORDS, timeout_s)
    if r.exit_code != 0:
        raise ExecFailed(f"cannot read {TABLE} in {namespace}/{pod}: {r.stderr.strip()[:300]}")
    return r.stdout, f"table {TABLE}"

