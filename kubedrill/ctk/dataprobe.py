"""The app's own data check (the extension's ``data.probe``): an SQL query, an HTTP GET through
the API server's service proxy, or a command in a pod. Its result before the fault must equal
(``compare: prefix``: be a prefix of) its result after. A probe that answered before the fault
and fails after it lost the data (the table is gone, the file is gone). A password comes from a
Secret in the target namespace and is never reported: :class:`Probe` keeps every secret value it
read, for kubedrill to take out of whatever it reports.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Mapping

from kubedrill.errors import DataLost, UsageError, first_line
from kubedrill.k8s import podexec
from kubedrill.k8s.common import read_or_none

SHOWN = 200   # characters of a result shown in a verdict's reason

# psql with the password on stdin, never in the command line
_PSQL = ('read -r PGPASSWORD; export PGPASSWORD; '
         'exec psql -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$1" -d "$2" -c "$3"')


@dataclass
class Probe:
    clients: Any
    namespace: str
    spec: Mapping[str, Any]
    secrets: set[str] = field(default_factory=set)   # values read from Secrets: never reported

    @property
    def kind(self) -> str:
        return next(k for k in ("sql", "http", "exec") if k in self.spec)

    def describe(self) -> str:
        s = self.spec[self.kind]
        if self.kind == "sql":
            return f"sql in pod {s['pod']}: {s['query']}"
        if self.kind == "http":
            return f"GET service {s['service']}{':' + str(s['port']) if s.get('port') else ''}{s['path']}"
        return f"exec in pod {s['pod']}: {' '.join(s['command'])}"

    def _secret(self, ref: Mapping[str, str]) -> str:
        secret = read_or_none(self.clients.core.read_namespaced_secret, ref["name"], self.namespace)
        if secret is None or ref["key"] not in (secret.data or {}):
            raise UsageError(f"data probe: Secret {self.namespace}/{ref['name']} has no key {ref['key']!r}")
        value = base64.b64decode(secret.data[ref["key"]]).decode()
        self.secrets.add(value)
        return value

    def read(self) -> str:
        """The probe's result now (ExecFailed or an API error when it cannot answer)."""
        s = self.spec[self.kind]
        if self.kind == "http":
            port = f":{s['port']}" if s.get("port") else ""
            return str(self.clients.core.connect_get_namespaced_service_proxy_with_path(
                f"{s['service']}{port}", self.namespace, s["path"].lstrip("/")))
        if self.kind == "exec":
            return podexec.run(self.clients, self.namespace, s["pod"], list(s["command"]),
                               container=s.get("container")).stdout
        password = self._secret(s["password_secret"]) if s.get("password_secret") else ""
        user = s.get("user") or "postgres"
        return podexec.run(self.clients, self.namespace, s["pod"],
                           ["sh", "-c", _PSQL, "psql", user, s.get("database") or user, s["query"]],
                           container=s.get("container"), stdin=password + "\n").stdout

    def after(self, before: str) -> str:
        """The result after the fault, held to ``before``: DataLost when it differs (or, with
        ``compare: prefix``, when ``before`` is not its prefix) or when the probe fails now."""
        try:
            now = self.read()
        except Exception as exc:  # noqa: BLE001 - an exec that fails, an API error (5xx) alike
            raise DataLost(f"the data probe ({self.describe()}) answered before the fault and fails after "
                           f"it: {first_line(exc, SHOWN)}") from None
        prefix = self.spec.get("compare") == "prefix"
        ok = now.startswith(before) if prefix else now == before
        if not ok:
            how = "does not start with" if prefix else "differs from"
            raise DataLost(f"the data probe ({self.describe()}) after the fault {how} its result before: "
                           f"before {before[:SHOWN]!r}, after {now[:SHOWN]!r}")
        return now
