"""PostgreSQL as a drill workload: the pod spec, queries, and reading every record back for the
oracle. The writer's sink (a psql session) is kubedrill.data.sinks.PsqlSink.

The image is the pinned ``IMAGE_POSTGRES`` (Debian's postgresql-15, docs/storage.md): it runs
as uid/gid 999, keeps its cluster in ``PGDATA=/var/lib/postgresql/data/pgdata`` (on the
volume), runs initdb only on an empty volume and stops on SIGINT (fast shutdown).

The oracle's records go into one table, one record per row, byte-exact::

    drill_records(seq bigint PRIMARY KEY, line text NOT NULL)   -- line = oracle.record(...)

so a restored database is verified by reading the lines back (``COPY ... TO STDOUT`` over TCP,
as a client: ``read_records``, the oracle's query that ends the restore RTO) and handing them to
``oracle.verify``: the oracle is the same one the file writer uses.
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
# the oracle's query as a client makes it (TCP, password): every record line in sequence order,
# or exit NO_TABLE_EXIT when the table does not exist
CLIENT = "psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres"
NO_TABLE_EXIT = 4
READ_SH = (f'export PGPASSWORD={PASSWORD}; '
           f'has=$({CLIENT} -c "SELECT to_regclass(\'{TABLE}\') IS NOT NULL;") || exit 3; '
           f'[ "$has" = t ] || exit {NO_TABLE_EXIT}; '
           f'exec {CLIENT} -c "COPY (SELECT line FROM {TABLE} ORDER BY seq) TO STDOUT;"')


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


def read_records(clients, namespace: str, pod: str, timeout_s: float = 60.0) -> tuple[str, str]:
    """(every record line, where they were read from): the oracle's query, over TCP as a client
    makes it, in one exec. No table reads as no records: a database that came back empty has
    lost its data, which the oracle then says. ExecFailed when the database does not answer."""
    r = podexec.run(clients, namespace, pod, ["sh", "-c", READ_SH], container=CONTAINER, timeout_s=timeout_s,
                    check=False)
    if r.exit_code == NO_TABLE_EXIT:
        return "", f"table {TABLE} does not exist"
    if r.exit_code != 0:
        raise ExecFailed(f"cannot read {TABLE} in {namespace}/{pod} (exit {r.exit_code}): "
                         f"{(r.stderr.strip().splitlines() or [''])[-1][:300]}")
    return r.stdout, f"table {TABLE}"
