"""The oracle's shell writer (``oracle.WRITER_SH``) run in a pod by one exec, and the records read
back: for workloads whose data is seeded before a fault and checked after it (StatefulSet pods,
a volume's consumer pod, node loss), where the continuous writer (kubedrill.data.writer) is not
needed. WRITER_SH appends and syncs each record, then acknowledges it in ``<path>.ack``."""

from __future__ import annotations

from kubedrill.data import oracle
from kubedrill.errors import ExecFailed
from kubedrill.k8s import podexec
from kubedrill.k8s.execclient import for_exec


def write_records(clients, namespace: str, pod: str, path: str, count: int, container: str | None = None,
                  timeout_s: float = 60.0) -> int:
    """Append ``count`` records to ``path`` in the pod; the last acknowledged sequence number.
    ExecFailed when the writer fails or acknowledges nothing readable."""
    script = (f"DATA={path} COUNT={int(count)} INTERVAL=0; export DATA COUNT INTERVAL\n"
              f"{oracle.WRITER_SH}\ncat {path}.ack")
    res = podexec.run(for_exec(clients), namespace, pod, ["sh", "-c", script], container=container,
                      timeout_s=timeout_s)
    try:
        return int(res.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise ExecFailed(f"writer in {namespace}/{pod} acknowledged nothing readable: {res.stdout[-200:]!r}") from None


def read_records(clients, namespace: str, pod: str, path: str, container: str | None = None,
                 timeout_s: float = 60.0) -> str:
    """Every record line in ``path`` ("" when the file does not exist)."""
    return podexec.run(for_exec(clients), namespace, pod, ["sh", "-c", f"cat {path} 2>/dev/null || true"],
                       container=container, timeout_s=timeout_s).stdout


def verify_records(clients, namespace: str, pod: str, path: str, acknowledged: int, container: str | None = None,
                   timeout_s: float = 60.0) -> oracle.Report:
    """Every acknowledged record back, checksums valid; DataLost ("data lost: records 1–N
    missing") otherwise."""
    return oracle.check(read_records(clients, namespace, pod, path, container, timeout_s), acknowledged)
