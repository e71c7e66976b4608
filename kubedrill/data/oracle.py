"""The data oracle: sequence-numbered, self-checksummed records of one writer, verified without a copy.

One record per line::

    seq|writer|ts_ns|sha256hex|payload

where sha256hex = sha256("seq|writer|ts_ns|payload"). ``writer`` is the identity of the writer
that made the record: a StatefulSet pod's name (its ordinal is in it), or a stream id (a
database's record writer). One format only: records live for one drill run, none is read back
by a later version.

What ``verify`` checks, against the records acknowledged (``expected_through``) and the writer
it expects (``writer``):

- every record 1..expected_through present with a valid checksum; missing ones are data lost;
- each record stored once: a sequence number stored twice fails (``duplicates``);
- each record is the expected writer's: records of another writer fail, naming it
  (``foreign``; a volume that holds another pod's records). With no expected writer, the
  writer of the first intact record is the stream's and any other is foreign;
- in order: a new record numbered below one before it fails (``out_of_order``);
- a line that does not parse or verify fails (``corrupt_lines``), except a torn last record;
- with ``absent_from``, no record from that number on (written after a recovery point).

A torn last record is the last line, without its newline, failing to verify: the write in
progress when the writer was cut. The rule comes from the writers' acknowledgement: each
appends a record's whole line, newline included, makes it durable, and only then acknowledges
it (WRITER_SH: append, sync, then the ``.ack`` file; sinks.FileSink: append, fsync, then
``ack <seq>``; writer.RecordWriter counts a record only on that ack). So a torn last record was
never acknowledged: it is reported (``torn_last``, "torn last record ...") and is not data loss
by itself. If its record had been acknowledged, it is missing from 1..expected_through, and that
is data lost like any other missing record. A torn line with records after it (a torn record in
the middle) is corrupt: it was not the last write.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kubedrill.errors import DataLost
from kubedrill.observe.measure import Rpo

DEFAULT_WRITER = "stream"
_WRITER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def check_writer(writer: str) -> str:
    """The writer identity, refused (ValueError) unless it is a name of letters, digits, '.',
    '_' and '-' (a pod name, a stream id): safe in the record and in a shell command."""
    if not isinstance(writer, str) or not _WRITER.match(writer):
        raise ValueError(f"writer identity must match {_WRITER.pattern}, got {writer!r}")
    return writer


def checksum(seq: int, ts_ns: int, payload: str, writer: str = DEFAULT_WRITER) -> str:
    return hashlib.sha256(f"{seq}|{writer}|{ts_ns}|{payload}".encode()).hexdigest()


def record(seq: int, ts_ns: int, payload: str, writer: str = DEFAULT_WRITER) -> str:
    if "|" in payload or "\n" in payload:
        raise ValueError("payload must not contain '|' or newlines")
    check_writer(writer)
    return f"{seq}|{writer}|{ts_ns}|{checksum(seq, ts_ns, payload, writer)}|{payload}"


@dataclass(frozen=True)
class Parsed:
    seq: int
    writer: str
    ts_ns: int


def parse(line: str) -> Parsed | None:
    """The record on ``line``, or None when it does not parse or its checksum fails."""
    parts = line.split("|", 4)
    if len(parts) != 5:
        return None
    seq_s, writer, ts_s, digest, payload = parts
    if not (seq_s.isascii() and seq_s.isdigit() and ts_s.isascii() and ts_s.isdigit()):
        return None
    seq, ts = int(seq_s), int(ts_s)
    if seq < 1 or digest != checksum(seq, ts, payload, writer):
        return None
    return Parsed(seq, writer, ts)


@dataclass(frozen=True)
class Report:
    valid: frozenset[int]                 # the expected writer's intact records
    corrupt_lines: tuple[int, ...]        # 1-based lines that failed to parse or verify (not a torn last one)
    duplicates: tuple[int, ...]           # records stored more than once
    missing: tuple[tuple[int, int], ...]  # inclusive ranges within 1..expected
    unexpected: tuple[int, ...]           # valid records beyond what was expected present
    last_ts_ns: int
    writer: str = ""                      # the identity checked ("" when there was no record)
    foreign: tuple[tuple[str, tuple[int, ...]], ...] = ()   # (another writer, its records)
    out_of_order: tuple[int, ...] = ()    # lines of a new record numbered below one before it
    torn_last: int | None = None          # the line of a torn last record (never acknowledged)
    extra_copies: int = 0                 # copies beyond the first, over all duplicates
    timestamps: tuple[tuple[int, int], ...] = ()   # (seq, ts_ns) of the valid records

    @property
    def highest(self) -> int:
        return max(self.valid, default=0)

    @property
    def intact(self) -> bool:
        """Every expected record present once, in order, the expected writer's, nothing corrupt
        (records after a recovery point aside)."""
        return not (self.missing or self.corrupt_lines or self.duplicates or self.foreign or self.out_of_order)

    @property
    def ok(self) -> bool:
        return self.intact and not self.unexpected

    @property
    def records_lost(self) -> int:
        """Expected (acknowledged) records that are not there."""
        return sum(b - a + 1 for a, b in self.missing)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append("data lost: records " + ", ".join(_range(a, b) for a, b in self.missing) + " missing")
        for other, seqs in self.foreign:
            parts.append(f"records {describe_ranges(seqs)} written by {other}, not {self.writer}")
        if self.duplicates:
            parts.append(f"records {describe_ranges(self.duplicates)} stored more than once "
                         f"({self.extra_copies} extra {'copy' if self.extra_copies == 1 else 'copies'})")
        if self.out_of_order:
            parts.append(f"records out of order on lines {describe_ranges(self.out_of_order)}")
        if self.corrupt_lines:
            parts.append(f"corrupt records on lines {describe_ranges(self.corrupt_lines)}")
        if self.unexpected:
            parts.append(f"records {describe_ranges(self.unexpected)} present but written after the recovery point")
        if not parts:
            parts.append(f"records 1–{self.highest} intact" if self.valid else "no records")
        if self.torn_last is not None:
            parts.append(f"torn last record on line {self.torn_last}"
                         + (": the write in progress when the writer was cut, never acknowledged"
                            if not self.missing else ""))
        return "; ".join(parts)


def _range(a: int, b: int) -> str:
    return f"{a}" if a == b else f"{a}–{b}"


def describe_ranges(values) -> str:
    """e.g. "1–3, 7": the values as inclusive ranges."""
    return ", ".join(_range(a, b) for a, b in ranges(values))


def ranges(values) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return tuple(out)


def verify(text: str, expected_through: int | None = None, absent_from: int | None = None,
           writer: str | None = None) -> Report:
    """Check records. ``expected_through``: records 1..N must be present (acknowledged);
    ``absent_from``: records >= this must be absent (written after a snapshot); ``writer``: the
    identity every record must carry (None: the writer of the first intact record)."""
    lines = text.split("\n")
    ended = lines[-1] == ""
    if ended:
        lines.pop()
    parsed = [parse(line) for line in lines]
    torn = len(lines) if lines and not ended and parsed[-1] is None else None
    expected = writer if writer is not None else next((p.writer for p in parsed if p), "")
    seen: dict[int, int] = {}
    stamps: dict[int, int] = {}
    corrupt: list[int] = []
    disorder: list[int] = []
    foreign: dict[str, set[int]] = {}
    top = 0
    for lineno, p in enumerate(parsed, start=1):
        if p is None:
            if lineno != torn:
                corrupt.append(lineno)
            continue
        if p.writer != expected:
            foreign.setdefault(p.writer, set()).add(p.seq)
            continue
        if p.seq not in seen and p.seq < top:
            disorder.append(lineno)
        top = max(top, p.seq)
        seen[p.seq] = seen.get(p.seq, 0) + 1
        stamps.setdefault(p.seq, p.ts_ns)
    valid = frozenset(seen)
    through = expected_through if expected_through is not None else max(valid, default=0)
    missing = ranges(set(range(1, through + 1)) - valid)
    unexpected = tuple(sorted(s for s in valid if absent_from is not None and s >= absent_from))
    dups = tuple(sorted(s for s, n in seen.items() if n > 1))
    return Report(valid, tuple(corrupt), dups, missing, unexpected, max(stamps.values(), default=0), expected,
                  tuple((w, tuple(sorted(s))) for w, s in sorted(foreign.items())), tuple(disorder), torn,
                  sum(n - 1 for n in seen.values()), tuple(sorted(stamps.items())))


def check(text: str, expected_through: int | None = None, absent_from: int | None = None,
          writer: str | None = None) -> Report:
    """verify() that raises DataLost naming what is wrong (e.g. "data lost: records 1–N missing")."""
    report = verify(text, expected_through, absent_from, writer)
    if not report.ok:
        raise DataLost(report.describe())
    return report


def rpo(report: Report, acknowledged_at_wall: float, started_at_wall: float) -> Rpo:
    """The recovery point the data shows: the acknowledged records missing, and the seconds
    from the last record kept before the first gap (the write's start when the gap begins at
    record 1) to the last acknowledgement. Record timestamps come from the writer's clock (the
    shell writer's are whole seconds)."""
    if not report.missing:
        return Rpo(0, 0.0)
    first_gap = report.missing[0][0]
    kept = dict(report.timestamps).get(first_gap - 1)
    point = kept / 1e9 if kept is not None else started_at_wall
    return Rpo(report.records_lost, max(0.0, acknowledged_at_wall - point))


# The shell half of the oracle, for busybox sh: ``intact LINE`` succeeds when LINE is a record
# whose checksum holds, leaving its fields in $s (seq) and $w (writer); ``repair_tail`` makes
# "$DATA" end on a whole line: a last line without its newline that is intact gets its newline,
# one that is not (a torn last record: never acknowledged) is cut off.
TAIL_SH = r'''
intact() {
  s=${1%%|*}; r=${1#*|}; w=${r%%|*}; r=${r#*|}; t=${r%%|*}; r=${r#*|}; h=${r%%|*}; p=${r#*|}
  case "$s" in ''|*[!0-9]*) return 1;; esac
  case "$t" in ''|*[!0-9]*) return 1;; esac
  [ "$(printf '%s|%s|%s|%s' "$s" "$w" "$t" "$p" | sha256sum | cut -d' ' -f1)" = "$h" ]
}
repair_tail() {
  [ -s "$DATA" ] && [ $(( $(tail -c 1 "$DATA" | wc -l) )) -eq 0 ] || return 0
  if intact "$(tail -n 1 "$DATA")"; then printf '\n' >> "$DATA"
  else
    truncate -s $(( $(wc -c < "$DATA") - $(tail -n 1 "$DATA" | wc -c) )) "$DATA"
    echo "cut off a torn last record in $DATA (never acknowledged)"
  fi
  sync
}
'''

# The writer, for busybox sh: appends one record per interval to $DATA, syncs, then
# acknowledges by writing the sequence number to $DATA.ack. Resumes after the last intact
# record (a torn last record cut off first); refuses (exit 3, the reason on stderr) to append
# after a corrupt last record, after another writer's records, or when records it acknowledged
# are gone. Environment: DATA (file path), WRITER (identity, default the hostname), INTERVAL
# (seconds, default 1), COUNT (0 = forever).
WRITER_SH = TAIL_SH + r'''
DATA="${DATA:-/data/records}"; INTERVAL="${INTERVAL:-1}"; COUNT="${COUNT:-0}"; host=$(hostname)
WRITER="${WRITER:-$host}"
refuse() { echo "kubedrill writer $WRITER: $* in $DATA: refusing to append" >&2; exit 3; }
mkdir -p "$(dirname "$DATA")"; touch "$DATA"
repair_tail
seq=0
if [ -s "$DATA" ]; then
  intact "$(tail -n 1 "$DATA")" || refuse "a corrupt last record (line $(wc -l < "$DATA"))"
  [ "$w" = "$WRITER" ] || refuse "records of writer $w"
  seq=$s
fi
acked=$(cat "$DATA.ack" 2>/dev/null); case "$acked" in ''|*[!0-9]*) acked=0;; esac
[ "$acked" -le "$seq" ] || refuse "record $acked acknowledged but the last intact record is $seq"
n=0
while [ "$COUNT" -eq 0 ] || [ "$n" -lt "$COUNT" ]; do
  seq=$((seq + 1)); n=$((n + 1))
  ts="$(date +%s)000000000"
  payload="r${seq}-${host}"
  sum=$(printf '%s|%s|%s|%s' "$seq" "$WRITER" "$ts" "$payload" | sha256sum | cut -d' ' -f1)
  printf '%s|%s|%s|%s|%s\n' "$seq" "$WRITER" "$ts" "$sum" "$payload" >> "$DATA"
  sync
  echo "$seq" > "$DATA.ack.tmp" && mv "$DATA.ack.tmp" "$DATA.ack"
  [ "$COUNT" -ne 0 ] && [ "$n" -ge "$COUNT" ] && break
  sleep "$INTERVAL"
done
'''
