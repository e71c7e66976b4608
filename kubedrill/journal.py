"""The fault journal: before a fault is injected, what it will do and how to undo it is
written to disk (and fsynced). After a crash, even SIGKILL, the next run and
``python -m kubedrill.journal --replay`` undo whatever the journal still lists and say what
they undid.

File format: one JSON object per line in ``<state dir>/journal/<run id>.jsonl``, ``op`` first::

    {"op": "intent", "id": 3, "what": "...", "undo": {"action": "docker_start", "args": {...},
     "description": "..."}, "run_id": ..., "holder": ..., "host": ..., "pid": ..., "kubeconfig": ..., ...}
    {"op": "resolved", "id": 3}
    {"op": "resolved", "id": 4, "note": "forgotten by operator", ...}
    {"op": "resolved", "line": 7, "note": "forgotten by operator", ...}

Every intent names its writer: the run id, the drill lock's holder identity, the host and the
pid. An intent without a matching ``resolved`` line is pending; a ``resolved`` line with a
``line`` releases an unreadable line. Reading a file back (kubedrill.journalfile) reports every
line it cannot read with its file and line number. The undo actions, their records (``Undo``,
``Entry``) and the executors that carry them out are in kubedrill.undo; they are re-exported here,
so ``journal.Undo(journal.NOTHING, ...)`` reads as before.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from kubedrill import journalfile
from kubedrill.config import parse_timeout_scale
from kubedrill.errors import KubedrillError, UsageError, first_line
from kubedrill.journalfile import (ALIVE, FORGOTTEN, HOW_TO_FORGET, UNKNOWN, BadLine, JournalFile, append,
                                   check_state_dir, liveness, read)
from kubedrill.undo import (DELETE_NAMESPACE, DOCKER_START, HELM_UNINSTALL, NOTHING, RECLAIM_VOLUME, RELEASE_LEASE,
                            REMOVE_TAINT, UNCORDON, Entry, Executor, Undo, default_executors)

__all__ = ["DOCKER_START", "REMOVE_TAINT", "DELETE_NAMESPACE", "RELEASE_LEASE", "NOTHING", "UNCORDON", "RECLAIM_VOLUME", "HELM_UNINSTALL",
           "Undo", "Entry", "Executor", "Journal", "JournalFile", "BadLine", "ReplayReport", "state_dir",
           "check_state_dir", "journal_dir", "read", "journals", "liveness", "replay", "forget",
           "default_executors", "main", "FORGOTTEN"]



def state_dir() -> Path:
    """$KUBEDRILL_STATE_DIR, else .kubedrill, made absolute against the working directory: read
    it once at start and keep it, so that a later change of directory moves nothing."""
    return Path(os.environ.get("KUBEDRILL_STATE_DIR") or ".kubedrill").expanduser().absolute()


def journal_dir() -> Path:
    return state_dir() / "journal"


class Journal:
    """The journal of one run."""

    def __init__(self, directory: Path | str, run_id: str, kubeconfig: str = "", context: str = "",
                 pending: Iterable[Entry] = (), holder: str = "", worker: str = "", name: str = ""):
        """``pending``: the entries still pending when a journal on disk is taken up again (replay).
        ``holder``: the identity the run holds the drill lock by (its run id when not given).
        ``worker``: the parallel worker (pytest-xdist's ``gw0``...) that writes it, when the run has
        workers: its file is ``<run id>.<worker>.jsonl`` and each intent names it. ``name``: the
        file's stem, when a journal on disk is taken up again (its run id otherwise)."""
        self.directory = Path(directory)
        self.run_id = run_id
        self.holder = holder or run_id
        self.kubeconfig = str(kubeconfig)
        self.context = context
        self.worker = worker
        self.path = self.directory / f"{name or (f'{run_id}.{worker}' if worker else run_id)}.jsonl"
        self._lock = threading.Lock()
        self._pending: dict[int, Entry] = {e.id: e for e in pending}
        self._next = max(self._pending, default=0) + 1
        # KUBEDRILL_PAUSE_AT=intent:<action> / resolve:<action> (kubedrill.run.Run.pause_point)
        self.pause: Callable[[str, str], None] = lambda point, action: None

    def record(self, what: str, undo: Undo) -> Entry:
        """Write (and fsync) what is about to happen and how to undo it. Call BEFORE acting."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            entry = Entry(self._next, self.run_id, what, undo, self.kubeconfig, self.context,
                          os.getpid(), socket.gethostname(), time.time(), self.holder)
            self._next += 1
            append(self.path, {"op": "intent", "id": entry.id, "run_id": entry.run_id,
                                "what": what, "undo": undo.as_dict(), "kubeconfig": entry.kubeconfig,
                                "context": entry.context, "pid": entry.pid, "host": entry.host,
                                "holder": entry.holder, "ts": entry.ts,
                                **({"worker": self.worker} if self.worker else {})})
            self._pending[entry.id] = entry
        self.pause("intent", undo.action)   # the intent is on disk, its fault has not acted
        return entry

    def resolve(self, entry: Entry, note: str = "") -> None:
        """The fault was undone (or the object cleaned up): the entry needs no replay. ``note``:
        why, when it was not undone (FORGOTTEN)."""
        if self.is_pending(entry):
            self.pause("resolve", entry.undo.action)   # undone, not yet recorded as undone
        with self._lock:
            if entry.id not in self._pending:
                return
            append(self.path, {"op": "resolved", "id": entry.id, **_by(note)})
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


def _by(note: str) -> dict:
    """A resolved line's note and who wrote it (host, pid, time), when there is a note."""
    return {"note": note, "host": socket.gethostname(), "pid": os.getpid(), "ts": time.time()} if note else {}


def journals(directory: Path | str | None = None) -> tuple[JournalFile, ...]:
    return journalfile.journals(Path(directory) if directory else journal_dir())


@dataclass(frozen=True)
class ReplayReport:
    undone: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()          # undos that failed: still pending
    skipped_live: tuple[str, ...] = ()    # run ids of journals whose writer still runs here
    skipped_unknown: tuple[str, ...] = ()  # run ids of journals written on another host
    lost: tuple[str, ...] = ()            # unreadable lines that may be intents: an undo may be lost
    forgotten: tuple[str, ...] = ()       # released by the operator (force) without being undone
    warnings: tuple[str, ...] = ()        # other unreadable lines

    @property
    def clean(self) -> bool:
        """Nothing failed and no undo may be lost."""
        return not self.failed and not self.lost


def forget_line(path: Path, b: BadLine) -> None:
    """Release an unreadable line (FORGOTTEN): later replays no longer report it as lost."""
    append(path, {"op": "resolved", "line": b.number, **_by(FORGOTTEN)})


def replay(directory: Path | str | None = None, executors: Mapping[str, Executor] | None = None,
           *, out: Callable[[str], None] = lambda s: None, skip_run: str | None = None,
           include_live: bool = False, other_hosts: bool = False, force: bool = False,
           only: str | None = None) -> ReplayReport:
    """Undo every pending entry of every journal (newest first within a run), then report each
    unreadable line that may have been an intent (its undo may be lost).

    Skipped, with one line each: ``skip_run`` (the caller's own run); journals whose writer still
    runs on this host (unless ``include_live``); journals written on another host, whose liveness
    cannot be told from here (unless ``other_hosts``: the operator knows that run is gone).
    ``force``: an undo that fails, and an unreadable intent line, is released (FORGOTTEN) after
    saying what it would have done. A journal with nothing left to undo is removed. ``only``: that
    journal alone (its file's stem, e.g. a dead parallel worker's ``<run id>.gw1``).
    """
    execs = dict(executors) if executors is not None else default_executors()
    said: dict[str, list[str]] = {k: [] for k in ("undone", "failed", "live", "unknown", "lost",
                                                  "forgotten", "warnings")}

    def say(kind: str, line: str) -> None:
        said[kind].append(line)
        out(line)

    for jf in journals(directory):
        if jf.run_id == skip_run or (only is not None and jf.run_id != only):
            continue
        # no readable intent, no writer to ask after: nothing to undo, its bad lines are reported
        state = liveness(jf.pid, jf.host) if jf.host else None
        if state == ALIVE and not include_live:
            said["live"].append(jf.run_id)
            out(f"skipped the journal of run {jf.run_id}: its process is still running (pid {jf.pid})")
            continue
        if state == UNKNOWN and not other_hosts and (jf.pending or jf.lost):
            said["unknown"].append(jf.run_id)
            undos = "; ".join(e.undo_text() for e in reversed(jf.pending)) or "nothing readable"
            out(f"skipped the journal of run {jf.run_id} ({jf.writer()}): written on another host, whether "
                f"it still runs is unknown; it would undo: {undos}; once that run is gone: "
                f"make clean OTHER_HOSTS=1 or python -m kubedrill.journal --replay --other-hosts"
                + (f" ({len(jf.lost)} unreadable line(s) too)" if jf.lost else ""))
            continue
        for b in jf.bad_lines:
            if not b.intent:
                say("warnings", b.message())
        journal = Journal(jf.path.parent, jf.run_id, pending=jf.pending, name=jf.path.stem)
        for entry in reversed(jf.pending):
            fn = execs.get(entry.undo.action)
            try:
                if fn is None:
                    raise KubedrillError(f"no way to undo action {entry.undo.action!r}")
                message = fn(entry)
            except Exception as exc:  # noqa: BLE001 - every undo is attempted; failures are reported
                say("failed", f"could not undo entry {entry.ref} ({entry.what}, run {entry.run_id}): {first_line(exc, 200)}"
                    + ("" if force else f"; it stays in the journal for the next replay; if it can never run, "
                                        f"release it: {HOW_TO_FORGET} {entry.ref}"))
                if force:
                    journal.resolve(entry, FORGOTTEN)
                    say("forgotten", f"forgot {entry.ref} ({FORGOTTEN}): would have undone: {entry.undo_text()} "
                                     f"(run {entry.run_id}: {entry.what})")
                continue
            journal.resolve(entry)
            say("undone", f"undid: {message} (run {entry.run_id}: {entry.what})")
        for b in jf.lost:
            say("lost", b.message())
            if force:
                forget_line(jf.path, b)
                say("forgotten", f"forgot {b.ref} ({FORGOTTEN}): an unreadable line at {b.where()}: {b.shown()}")
        if not journal.pending() and (force or not jf.lost):
            journal.close()
    return ReplayReport(*(tuple(said[k]) for k in ("undone", "failed", "live", "unknown", "lost", "forgotten",
                                                   "warnings")))


def forget(ref: str, directory: Path | str | None = None, *, out: Callable[[str], None] = lambda s: None) -> None:
    """Release the pending entry (``<run id>/<id>``) or unreadable line (``<run id>/line<n>``)
    ``ref`` names, without undoing it: say what it would have done, then append a resolved line
    noted FORGOTTEN. UsageError (one line) when nothing pending is so named, or its run still runs."""
    files = journals(directory)
    found: list[tuple[JournalFile, Entry | BadLine]] = [
        (jf, item) for jf in files for item in (*jf.pending, *jf.lost)
        if ref.strip() in (item.ref, item.ref.partition("/")[2])]
    if not found:
        raise UsageError(f"no pending journal entry {ref!r} (python -m kubedrill.journal --show lists them)")
    if len(found) > 1:
        raise UsageError(f"journal entry {ref!r} is ambiguous: {', '.join(i.ref for _, i in found)}; name one")
    ((jf, item),) = found
    if liveness(jf.pid, jf.host) == ALIVE:
        raise UsageError(f"journal entry {item.ref} belongs to run {jf.run_id}, which is still running "
                         f"(pid {jf.pid}): its own cleanup undoes it; not forgotten")
    if isinstance(item, BadLine):
        out(f"would have undone whatever {item.where()} recorded (unreadable: {item.why}): {item.shown()}")
        forget_line(jf.path, item)
    else:
        out(f"would have undone {item.ref}: {item.undo_text()} (run {item.run_id}: {item.what}; {jf.writer()})")
        Journal(jf.path.parent, jf.run_id, pending=jf.pending, name=jf.path.stem).resolve(item, FORGOTTEN)
    out(f"forgot {item.ref}: nothing was undone; {jf.path} notes it \"{FORGOTTEN}\"")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        self.exit(2, f"kubedrill: error: {message} (see --help)\n")


def _show(files: tuple[JournalFile, ...], say: Callable[[str], None]) -> None:
    n = 0
    for jf in files:
        state = liveness(jf.pid, jf.host)
        for e in jf.pending:
            n += 1
            say(f"pending {e.ref} ({jf.writer()}: {state}): {e.what} -> undo: {e.undo.description}")
        for b in jf.bad_lines:
            n += 1
            say(b.message())
    if not n:
        say("fault journal is empty")


def main(argv: Iterable[str] | None = None) -> int:
    parser = _Parser(prog="python -m kubedrill.journal", description="Show or replay (undo) the kubedrill fault journal.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--replay", action="store_true", help="undo every pending entry; say what was undone")
    mode.add_argument("--replay-if-needed", action="store_true", help="like --replay, silent when empty")
    mode.add_argument("--show", action="store_true", help="list pending entries and unreadable lines")
    mode.add_argument("--forget", metavar="ID", help="release the entry ID (<run id>/<n>, or <run id>/line<n> for "
                      "an unreadable line) without undoing it, after saying what it would have done")
    parser.add_argument("--force", action="store_true", help="with a replay: release (forget) each undo that "
                        "fails and each unreadable intent line, after saying what it would have done")
    parser.add_argument("--other-hosts", action="store_true", help="also replay journals written on another "
                        "host (only once you know their run is gone)")
    parser.add_argument("--dir", default=None, help="journal directory (default .kubedrill/journal)")
    parser.add_argument("--timeout-scale", default="1", help="scale the deadlines of undo waits")
    args = parser.parse_args(list(argv) if argv is not None else None)

    def say(line: str) -> None:
        print(f"kubedrill: {line}", flush=True)

    try:
        scale = parse_timeout_scale(args.timeout_scale)
        if args.show:
            _show(journals(args.dir), say)
            return 0
        if args.forget is not None:
            forget(args.forget, args.dir, out=say)
            return 0
        report = replay(args.dir, default_executors(scale), out=say, other_hosts=args.other_hosts,
                        force=args.force)
        if args.replay and not any((report.undone, report.failed, report.skipped_live, report.skipped_unknown,
                                    report.lost, report.forgotten, report.warnings)):
            say("fault journal is empty: nothing to undo")
        return 0 if report.clean or args.force else 1
    except KubedrillError as exc:
        print(f"kubedrill: error: {first_line(exc, 200)}", file=sys.stderr)
        return 2
    except OSError as exc:   # a journal that cannot be written (read-only, full, another user's)
        print(f"kubedrill: error: cannot write the fault journal: {exc.strerror or exc}: {exc.filename}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kubedrill: interrupted; run the replay again to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
