"""The record writer's sinks (kubedrill.data.writer.Sink): a line session in the pod that stores
each record durably, then prints ``ack <seq>``.

- ``PsqlSink``: one ``psql`` session; an INSERT into the oracle's table, then ``\\echo ack <seq>``,
  which psql prints only after the INSERT committed (autocommit, synchronous_commit on). One row
  per record, the record line byte-exact::

      drill_records(seq bigint PRIMARY KEY, line text NOT NULL)   -- line = oracle.record(...)

- ``FileSink``: a shell loop that appends one record per stdin line to a file, fsyncs it, then
  acknowledges it. On start it makes the file end on a whole line (``oracle.TAIL_SH``): a torn
  last record, never acknowledged, is cut off, so the next record never lands glued to it.
"""

from __future__ import annotations

from kubedrill.data import oracle
from kubedrill.k8s.podsession import Session

TABLE = "drill_records"
PSQL = ("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "postgres")
CREATE_TABLE = f"CREATE TABLE IF NOT EXISTS {TABLE} (seq bigint PRIMARY KEY, line text NOT NULL);"
# the file sink: the file's tail repaired, then one record per stdin line, appended, fsynced,
# then acknowledged
FILE_SINK_SH = (oracle.TAIL_SH + 'DATA="$F"; touch "$F" && repair_tail && echo ready; while IFS= read -r l; do '
                'printf "%s\\n" "$l" >> "$F" && sync "$F" && echo "ack ${l%%|*}"; done')
READY_S = 60.0


class PsqlSink:
    """The writer's sink in a PostgreSQL pod: one psql session (local socket)."""

    def __init__(self, clients, namespace: str, pod: str, container: str):
        self.session = Session(clients, namespace, pod, list(PSQL), container=container)
        self.session.send(CREATE_TABLE + "\n\\echo ready\n")
        self.session.read_until("ready", READY_S)

    def write(self, seq: int, line: str, timeout_s: float) -> None:
        quoted = line.replace("'", "''")
        self.session.send(f"INSERT INTO {TABLE} (seq, line) VALUES ({seq}, '{quoted}');\n\\echo ack {seq}\n")
        self.session.read_until(f"ack {seq}", timeout_s)

    def close(self) -> None:
        self.session.close()


class FileSink:
    """The writer's sink in a shell pod: appends to ``path``, fsyncs, then acknowledges."""

    def __init__(self, clients, namespace: str, pod: str, path: str, container: str):
        self.session = Session(clients, namespace, pod, ["sh", "-c", f"F={path}; {FILE_SINK_SH}"],
                               container=container)
        self.session.read_until("ready", READY_S)

    def write(self, seq: int, line: str, timeout_s: float) -> None:
        self.session.send(line + "\n")
        self.session.read_until(f"ack {seq}", timeout_s)

    def close(self) -> None:
        self.session.close()
