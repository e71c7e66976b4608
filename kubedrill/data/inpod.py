"""The oracle's shell writer (``oracle.WRITER_SH``) run in a pod by one exec, and the records read
back: for workloads whose data is seeded before a fault and checked after it (StatefulSet pods,
a volume's consumer pod, node loss), where the continuous writer (kubedrill.data.writer) is not
needed. WRITER_SH appends and syncs each record, then acknowledges it in ``<path>.ack``; it goes
on after the last intact record already in the file (a torn last one cut off), and refuses to
append after another writer's records or a corrupt record.

Each record carries its writer's identity: ``writer`` (by default the name of the pod the writer
runs in). Verification checks it: ``writer`` there is the identity the records must carry (by
default the one of the first intact record, so that any other writer's records fail).
"""

from __future__ import annotations

import shlex

from kubedrill.data import oracle
from kubedrill.errors import ExecFailed
from kubedrill.k8s import podexec
from kubedrill.k8s.execclient import for_exec


def write_records(clients, namespace: str, pod: str, path: str, count: int, container: str | None = None,
                  timeout_s: float = 60.0, writer: str | None = None) -> int:
    """Append ``count`` records of ``writer`` (default: ``pod``) to ``path`` in the pod; the last
    acknowledged sequence number. ExecFailed when the writer fails or refuses (the reason), or
    acknowledges nothing readable."""
    who = oracle.check_writer(writer if writer is not None else pod)
    script = (f"DATA={shlex.quote(path)} WRITER={who} COUNT={int(count)} INTERVAL=0; "
              f"export DATA WRITER COUNT INTERVAL\n{oracle.WRITER_SH}\ncat {shlex.quote(path)}.ack")
    res = podexec.run(for_exec(clients), namespace, pod, ["sh", "-c", script], container=container,
                      timeout_s=timeout_s)
    try:
        return int(res.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise ExecFailed(f"writer in {namespace}/{pod} acknowledged nothing readable: {res.stdout[-200:]!r}") from None


def read_records(clients, namespace: str, pod: str, path: str, container: str | None = None,
                 timeout_s: float = 60.0) -> str:
    """Every record line in ``path`` ("" when the file does not exist)."""
    return podexec.run(for_exec(clients), namespace, pod, ["sh", "-c", f"cat {shlex.quote(path)} 2>/dev/null || true"],
                       container=container, timeout_s=timeout_s).stdout


def verify_records(clients, namespace: str, pod: str, path: str, acknowledged: int, container: str | None = None,
                   timeout_s: float = 60.0, writer: str | None = None) -> oracle.Report:
    """Every acknowledged record back once, checksums valid, all of ``writer`` (None: of one
    writer); DataLost ("data lost: records 1–N missing", "records 1–50 written by db-1, not
    db-0", …) otherwise."""
    return oracle.check(read_records(clients, namespace, pod, path, container, timeout_s), acknowledged,
                        writer=writer)
