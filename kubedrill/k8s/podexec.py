"""Run a command in a pod's container (the exec subresource), e.g. to seed or read a data file."""

from __future__ import annotations

from dataclasses import dataclass

from kubedrill.errors import ExecFailed, first_line


@dataclass(frozen=True)
class ExecResult:
    stdout: str
    stderr: str
    exit_code: int


def run(clients, namespace: str, pod: str, command: list[str], container: str | None = None,
        timeout_s: float = 60.0, check: bool = True, stdin: str | None = None) -> ExecResult:
    """Run ``command`` in ``namespace/pod``; ExecFailed when it exits non-zero (``check``).
    ``stdin`` is written to the command's standard input (a password, never in its arguments)."""
    import yaml
    from kubernetes.stream import stream

    kwargs = {"container": container} if container else {}
    try:
        resp = stream(clients.core.connect_get_namespaced_pod_exec, pod, namespace, command=command,
                      stderr=True, stdin=stdin is not None, stdout=True, tty=False, _preload_content=False,
                      **kwargs)
    except Exception as exc:  # noqa: BLE001 - websocket and API errors alike
        raise ExecFailed(f"cannot exec in pod {namespace}/{pod}: {first_line(exc)}") from None
    out: list[str] = []
    err: list[str] = []
    try:
        if stdin is not None:
            resp.write_stdin(stdin)
        resp.run_forever(timeout=timeout_s)
        out.append(resp.read_stdout() or "")
        err.append(resp.read_stderr() or "")
        if resp.is_open():
            raise ExecFailed(f"exec in pod {namespace}/{pod} did not finish within {timeout_s:.0f}s")
        status = yaml.safe_load(resp.read_channel(3) or "{}") or {}
    finally:
        resp.close()
    code = 0
    if status.get("status") == "Failure":
        code = 1
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                code = int(cause.get("message") or 1)
    result = ExecResult("".join(out), "".join(err), code)
    if check and code != 0:
        detail = (result.stderr.strip() or status.get("message") or "").splitlines()
        raise ExecFailed(f"{' '.join(command[:2])} in pod {namespace}/{pod} exited {code}"
                         + (f": {detail[0]}" if detail else ""))
    return result
