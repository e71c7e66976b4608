"""The fault journal: before a fault is injected, what it will do and how to undo it is
written to disk (and fsynced). After a crash, even SIGKILL, the next run and
``python -m kubedrill.journal --replay`` undo whatever the journal still lists and say what
they undid.

File format: one JSON object per line in ``<state dir>/journal/<run id>.jsonl``::

    {"op": "intent", "id": 3, "what": "...", "undo": {"action": "docker_start", "args": {...},
     "description": "..."}, "run_id": ..., "kubeconfig": ..., "context": ..., "pid": ..., "host": ...}
    {"op": "resolved", "id": 3}

An intent without a matching ``resolved`` line is pending. The undo actions, their records
(``Undo``, ``Entry``) and the executors that carry them out are in kubedrill.undo; they are
re-exported here, so ``journal.Undo(journal.NOTHING, ...)`` reads as before.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from kubedrill.config import parse_timeout_scale
from kubedrill.errors import KubedrillError, UsageError
from kubedrill.undo import (DELETE_NAMESPACE, DOCKER_START, NOTHING, RELEASE_LEASE, REMOVE_TAINT, UNCORDON, Entry,
                            Executor, Undo, default_executors)

__all__ = ["DOCKER_START", "REMOVE_TAINT", "DELETE_NAMESPACE", "RELEASE_LEASE", "NOTHING", "UNCORDON",
           "Undo", "Entry", "Executor", "Journal", "JournalFile", "ReplayReport", "state_dir", "check_state_dir",
           "journal_dir", "read", "journals", "replay", "default_executors", "main"]


def state_dir() -> Path:
    """$KUBEDRILL_STATE_DIR, else .kubedrill, made absolute against the working directory: read
    it once at start and keep it, so that a later change of directory moves nothing."""
    return Path(os.environ.get("KUBEDRILL_STATE_DIR") or ".kubedrill").expanduser().absolute()


def check_state_dir(directory: Path) -> Path:
    """``directory`` when the journal can be written under it; creates nothing (a probe file in
    the nearest existing directory on its path comes and goes). UsageError naming it otherwise."""
    existing = directory / "journal"
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    why = None if existing.is_dir() else f"{existing} is not a directory"
    if why is None:
        try:
            fd, probe = tempfile.mkstemp(prefix=".kubedrill-probe-", dir=existing)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            why = f"{exc.strerror or exc}: {existing}"
    if why:
        raise UsageError(f"state directory {directory} is not writable ({why}); "
                         "expected a writable directory (KUBEDRILL_STATE_DIR)")
    return directory


def journal_dir() -> Path:
    return state_dir() / "journal"


def _append(path: Path, obj: dict) -> None:
    line = (json.dumps(obj, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """The journal of one run."""

    def __init__(self, directory: Path | str, run_id: str, kubeconfig: str = "", context: str = "",
                 pending: Iterable[Entry] = ()):
        """``pending``: the entries still pending when a journal on disk is taken up again (replay)."""
        self.directory = Path(directory)
        self.run_id = run_id
        self.kubeconfig = str(kubeconfig)
        self.context = context
        self.path = self.directory / f"{run_id}.jsonl"
        self._lock = threading.Lock()
        self._pending: dict[int, Entry] = {e.id: e for e in pending}
        self._next = max(self._pending, default=0) + 1

    def record(self, what: str, undo: Undo) -> Entry:
        """Write (and fsync) what is about to happen and how to undo it. Call BEFORE acting."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            entry = Entry(self._next, self.run_id, what, undo, self.kubeconfig, self.context,
                          os.getpid(), socket.gethostname(), time.time())
            self._next += 1
            _append(self.path, {"op": "intent", "id": entry.id, "run_id": entry.run_id,
                                "what": what, "undo": undo.as_dict(), "kubeconfig": entry.kubeconfig,
                                "context": entry.context, "pid": entry.pid, "host": entry.host,
                                "ts": entry.ts})
            self._pending[entry.id] = entry
            return entry

    def resolve(self, entry: Entry) -> None:
        """The fault was undone (or the object cleaned up): the entry needs no replay."""
        with self._lock:
            if entry.id not in self._pending:
                return
            _append(self.path, {"op": "resolved", "id": entry.id})
            del self._pending[entry.id]

    def pending(self) -> tuple[Entry, ...]:
        with self._lock:
            return tuple(self._pending.values())

    def is_pending(self, entry: Entry) -> bool:
        with self._lock:
            return entry.id in self._pending

    def close(self) -> None:
        """Remove the file when nothing is pending (a clean end of run)."""
        with self._lock:
            if not self._pending and self.path.exists():
                self.path.unlink()


@dataclass(frozen=True)
class JournalFile:
    path: Path
    run_id: str
    pending: tuple[Entry, ...]
    pid: int
    host: str
    unreadable_lines: int = 0


def read(path: Path) -> JournalFile:
    intents: dict[int, Entry] = {}
    resolved: set[int] = set()
    bad = 0
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if d.get("op") == "intent":
                e = Entry.from_dict(d)
                intents[e.id] = e
            elif d.get("op") == "resolved":
                resolved.add(int(d["id"]))
            else:
                bad += 1
        except (ValueError, KeyError, TypeError):
            bad += 1  # a line torn by a crash mid-write
    pending = tuple(e for i, e in sorted(intents.items()) if i not in resolved)
    first = next(iter(intents.values()), None)
    return JournalFile(path, path.stem, pending, first.pid if first else 0,
                       first.host if first else "", bad)


def _alive(pid: int, host: str) -> bool:
    if not pid or host != socket.gethostname():
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def journals(directory: Path | str | None = None) -> tuple[JournalFile, ...]:
    d = Path(directory) if directory else journal_dir()
    if not d.is_dir():
        return ()
    return tuple(read(p) for p in sorted(d.glob("*.jsonl")))


@dataclass(frozen=True)
class ReplayReport:
    undone: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    skipped_live: tuple[str, ...] = ()   # journals of runs still alive


def replay(directory: Path | str | None = None, executors: Mapping[str, Executor] | None = None,
           *, out: Callable[[str], None] = lambda s: None, skip_run: str | None = None,
           include_live: bool = False) -> ReplayReport:
    """Undo every pending entry of every journal (newest first within a run).

    Journals of runs still alive are skipped (another drill on this machine), as is
    ``skip_run`` (the caller's own run). A journal whose entries are all undone is removed.
    """
    execs = dict(executors) if executors is not None else default_executors()
    undone: list[str] = []
    failed: list[str] = []
    live: list[str] = []
    for jf in journals(directory):
        if jf.run_id == skip_run:
            continue
        if not include_live and _alive(jf.pid, jf.host):
            live.append(jf.run_id)
            continue
        journal = Journal(jf.path.parent, jf.run_id, pending=jf.pending)
        for entry in reversed(jf.pending):
            fn = execs.get(entry.undo.action)
            try:
                if fn is None:
                    raise KubedrillError(f"no way to undo action {entry.undo.action!r}")
                message = fn(entry)
            except Exception as exc:  # noqa: BLE001 - every undo is attempted; failures are reported
                msg = f"could not undo {entry.what} (run {entry.run_id}): {_one_line(exc)}"
                failed.append(msg)
                out(msg)
                continue
            journal.resolve(entry)
            line = f"undid: {message} (run {entry.run_id}: {entry.what})"
            undone.append(line)
            out(line)
        journal.close()
    return ReplayReport(tuple(undone), tuple(failed), tuple(live))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        self.exit(2, f"kubedrill: error: {message} (see --help)\n")


def main(argv: Iterable[str] | None = None) -> int:
    parser = _Parser(prog="python -m kubedrill.journal", description="Show or replay (undo) the kubedrill fault journal.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--replay", action="store_true", help="undo every pending entry; say what was undone")
    mode.add_argument("--replay-if-needed", action="store_true", help="like --replay, silent when empty")
    mode.add_argument("--show", action="store_true", help="list pending entries")
    parser.add_argument("--dir", default=None, help="journal directory (default .kubedrill/journal)")
    parser.add_argument("--timeout-scale", default="1", help="scale the deadlines of undo waits")
    args = parser.parse_args(list(argv) if argv is not None else None)

    def say(line: str) -> None:
        print(f"kubedrill: {line}", flush=True)

    try:
        scale = parse_timeout_scale(args.timeout_scale)
        files = journals(args.dir)
        if args.show:
            n = 0
            for jf in files:
                for e in jf.pending:
                    n += 1
                    say(f"pending (run {e.run_id}, pid {e.pid}): {e.what} -> undo: {e.undo.description}")
            if not n:
                say("fault journal is empty")
            return 0
        pending = sum(len(jf.pending) for jf in files)
        if not pending:
            for jf in files:  # journals with nothing pending are leftovers of clean runs
                jf.path.unlink(missing_ok=True)
            if args.replay:
                say("fault journal is empty: nothing to undo")
            return 0
        report = replay(args.dir, default_executors(scale), out=say)
        for run in report.skipped_live:
            say(f"skipped the journal of run {run}: its process is still running")
        if not report.undone and not report.failed and args.replay:
            say("nothing to undo")
        return 1 if report.failed else 0
    except KubedrillError as exc:
        print(f"kubedrill: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kubedrill: interrupted; run the replay again to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
