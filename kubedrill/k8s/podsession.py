"""A long-running command in a pod's container, fed line by line on stdin (``psql``, a shell
loop); one-shot commands are kubedrill.k8s.podexec.run.

Every session gets an ApiClient of its own: the kubernetes client's ``stream()`` swaps the
request method of the ApiClient it is given for the duration of the call, so sharing one with
another thread (the drill lock's renewal, the scenario's watches and execs) would break it.
"""

from __future__ import annotations

import time
from typing import Sequence

from kubernetes import client as k8s
from kubernetes.stream import stream

from kubedrill.errors import ExecFailed


def _open(clients, namespace: str, pod: str, command: Sequence[str], container: str | None,
          timeout_s: float):
    core = k8s.CoreV1Api(k8s.ApiClient(clients.api.configuration))
    try:
        return stream(core.connect_get_namespaced_pod_exec, pod, namespace,
                      container=container, command=list(command), stdin=True, stdout=True,
                      stderr=True, tty=False, _preload_content=False, _request_timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - ApiException, websocket errors: one typed error
        text = str(exc).strip().splitlines()
        raise ExecFailed(f"exec in {namespace}/{pod}: {text[0] if text else type(exc).__name__}") from None


class Session:
    """A long-running command fed line by line on stdin, answering on stdout (e.g. ``psql``)."""

    def __init__(self, clients, namespace: str, pod: str, command: Sequence[str],
                 container: str | None = None, timeout_s: float = 3600.0):
        self.where = f"{namespace}/{pod}"
        self._ws = _open(clients, namespace, pod, command, container, timeout_s)
        self._out = ""
        self._err = ""

    def send(self, text: str) -> None:
        try:
            self._ws.write_stdin(text)
        except Exception as exc:  # noqa: BLE001 - a broken socket is a broken session
            raise ExecFailed(f"exec session in {self.where} broke: {exc or type(exc).__name__}") from None

    def read_until(self, marker: str, timeout_s: float) -> str:
        """Everything on stdout up to and including the line ``marker``; ExecFailed when the
        session ends first or the deadline passes."""
        deadline = time.monotonic() + timeout_s
        want = marker + "\n"
        while True:
            at = self._out.find(want)
            if at >= 0 and (at == 0 or self._out[at - 1] == "\n"):
                end = at + len(want)
                text, self._out = self._out[:end], self._out[end:]
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise ExecFailed(f"exec session in {self.where}: no {marker!r} within {timeout_s:.0f}s"
                                 + self._stderr_tail())
            if not self._ws.is_open():
                raise ExecFailed(f"exec session in {self.where} ended" + self._stderr_tail())
            try:
                self._ws.update(timeout=min(left, 1.0))
            except Exception as exc:  # noqa: BLE001
                raise ExecFailed(f"exec session in {self.where} broke: {exc or type(exc).__name__}") from None
            if self._ws.peek_stdout():
                self._out += self._ws.read_stdout()
            if self._ws.peek_stderr():
                self._err += self._ws.read_stderr()

    def _stderr_tail(self) -> str:
        try:
            if self._ws.peek_stderr():
                self._err += self._ws.read_stderr()
        except Exception:  # noqa: BLE001
            pass
        tail = self._err.strip().splitlines()[-3:]
        return (": " + " / ".join(tail)) if tail else ""

    def close(self) -> None:
        try:
            self._ws.close()
        except Exception:  # noqa: BLE001 - closing a dead session is fine
            pass
