"""A fault journal file: where it may be written (``check_state_dir``), a record appended and
fsynced (``append``), and reading it back: its pending entries, every line it could not read (with
its file and line number; one that may have been an intent means an undo may be lost), who wrote it
(run id, the drill lock's holder identity, host, pid) and whether that writer still runs.

Layer 5, beside kubedrill.journal, which writes and replays journals and re-exports these names.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kubedrill.errors import JournalUnwritable, UsageError
from kubedrill.undo import Entry


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
            try:   # a byte written and synced: a full filesystem is found now, not at the first fault
                os.write(fd, b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            why = f"{exc.strerror or exc}: {existing}"
    if why:
        raise UsageError(f"state directory {directory} is not writable ({why}); "
                         "expected a writable directory (KUBEDRILL_STATE_DIR)")
    return directory


def append(path: Path, obj: dict) -> None:
    """Append one record as a line (``op`` first: a line torn by a crash still says what it was),
    written and fsynced before returning; JournalUnwritable when it cannot be (a full filesystem)."""
    line = (json.dumps({"op": obj["op"], **{k: obj[k] for k in sorted(obj) if k != "op"}}) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            before = os.fstat(fd).st_size
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(28, "No space left on device")
                os.fsync(fd)
            except OSError:
                # a line written in part (the filesystem filled up) is taken back: its fault never
                # acts, so no torn intent may make a replay fear a lost undo
                try:
                    os.ftruncate(fd, before)
                except OSError:
                    pass   # not a regular file (e.g. /dev/full): nothing was kept to take back
                raise
        finally:
            os.close(fd)
    except OSError as exc:
        raise JournalUnwritable(f"cannot write the fault journal {path}: {exc.strerror or exc}; nothing is done "
                                "without its journal line") from None

# the liveness of a journal's writer
ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"

# a line's first bytes as kubedrill writes it: ``op`` comes first, so a torn line still says
# what it was
RESOLVED_PREFIX = '{"op": "resolved"'
# the note of a resolved line that released an undo without running it, and how to do so
FORGOTTEN = "forgotten by operator"
HOW_TO_FORGET = "make clean FORCE=1 or python -m kubedrill.journal --forget"


@dataclass(frozen=True)
class BadLine:
    """A line of a journal file that is no journal record."""

    path: Path
    number: int        # 1-based; 0 when the file itself cannot be read
    text: str
    why: str
    intent: bool       # it may have been an intent: the undo it recorded may be lost

    @property
    def ref(self) -> str:
        """How an operator names it (``--forget``): ``<run id>/line<number>``."""
        return f"{self.path.stem}/line{self.number}"

    def where(self) -> str:
        return f"{self.path}:{self.number}"

    def shown(self, limit: int = 120) -> str:
        return repr(self.text if len(self.text) <= limit else self.text[:limit] + "...")

    def message(self) -> str:
        """The line that reports it: a warning, or an error when an undo may be lost."""
        if not self.intent:
            return f"WARNING: {self.where()}: unreadable line skipped ({self.why}): {self.shown()}"
        return (f"ERROR: {self.where()}: unreadable line that may be an intent ({self.why}): the undo it "
                f"recorded may be lost; check by hand what run {self.path.stem} changed, then release it with "
                f"{HOW_TO_FORGET} {self.ref}: {self.shown()}")


@dataclass(frozen=True)
class JournalFile:
    path: Path
    run_id: str
    pending: tuple[Entry, ...]
    pid: int
    host: str
    holder: str = ""
    bad_lines: tuple[BadLine, ...] = ()    # those an operator forgot are left out

    @property
    def unreadable_lines(self) -> int:
        return len(self.bad_lines)

    @property
    def lost(self) -> tuple[BadLine, ...]:
        """The unreadable lines that may have been intents."""
        return tuple(b for b in self.bad_lines if b.intent)

    def writer(self) -> str:
        return (f"run {self.run_id}, lock holder {self.holder or '?'}, host {self.host or '?'}, "
                f"pid {self.pid or '?'}")


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a whole number: {value!r}")
    return value


def _parse(line: str) -> tuple[str, object]:
    """("intent", Entry), ("resolved", id), ("forgotten", line number) or ("bad", (why, intent))."""
    try:
        d = json.loads(line)
    except ValueError:
        if line.startswith(RESOLVED_PREFIX):
            return "bad", ("a resolved line, torn or not JSON: its entry may be undone again", False)
        return "bad", ("torn or not JSON", True)
    if not isinstance(d, dict):
        return "bad", (f"JSON but not an object: {type(d).__name__}", False)
    op = d.get("op")
    try:
        if op == "intent":
            return "intent", Entry.from_dict(d)
        if op == "resolved":
            if "id" not in d and "line" in d:
                return "forgotten", _whole(d["line"])
            return "resolved", _whole(d["id"])
    except (KeyError, TypeError, ValueError, AttributeError):
        if op == "intent":
            return "bad", ("an intent without the fields of one", True)
        return "bad", ("a resolved line without an id: its entry may be undone again", False)
    return "bad", (f"unknown op {str(op)[:40]!r}", False)


def read(path: Path) -> JournalFile:
    """The journal file at ``path``: never raises for what is in it; a file that cannot be read
    at all is one bad line (number 0) that may have held intents."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        why = f"the file cannot be read ({exc.strerror or exc})"
        return JournalFile(path, path.stem, (), 0, "", "", (BadLine(path, 0, "", why, True),))
    intents: dict[int, Entry] = {}
    resolved: set[int] = set()
    forgotten: set[int] = set()
    bad: list[BadLine] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        kind, value = _parse(line)
        if kind == "intent":
            intents[value.id] = value   # type: ignore[attr-defined]
        elif kind == "resolved":
            resolved.add(value)         # type: ignore[arg-type]
        elif kind == "forgotten":
            forgotten.add(value)        # type: ignore[arg-type]
        else:
            why, intent = value         # type: ignore[misc]
            bad.append(BadLine(path, number, line, why, intent))
    pending = tuple(e for i, e in sorted(intents.items()) if i not in resolved)
    first = next(iter(intents.values()), None)
    return JournalFile(path, path.stem, pending, first.pid if first else 0, first.host if first else "",
                       first.holder if first else "", tuple(b for b in bad if b.number not in forgotten))


def journals(directory: Path) -> tuple[JournalFile, ...]:
    if not directory.is_dir():
        return ()
    return tuple(read(p) for p in sorted(directory.glob("*.jsonl")))


def liveness(pid: int, host: str) -> str:
    """Whether the process ``pid`` on ``host`` (a journal's writer) still runs: ALIVE, DEAD or
    UNKNOWN. A process on another host cannot be seen from here: UNKNOWN, never DEAD. On this
    host, a pid that is gone, or a zombie, is DEAD; a pid that runs is ALIVE (even when the pid
    was reused since: a wrong ALIVE skips a replay, a wrong DEAD would undo a live run's faults)."""
    if not host or host != socket.gethostname() or pid <= 0:
        return UNKNOWN
    if pid == os.getpid():
        return ALIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return DEAD
    except PermissionError:
        return ALIVE
    except (OverflowError, OSError):
        return DEAD   # no process can have that pid
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return DEAD if stat.rsplit(")", 1)[1].split()[0] == "Z" else ALIVE
    except (OSError, IndexError):
        return ALIVE
