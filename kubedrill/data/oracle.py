"""The data oracle: sequence-numbered, self-checksummed records, verified without a copy.

One record per line::

    seq|ts_ns|sha256hex|payload

where sha256hex = sha256("seq|ts_ns|payload"). A record is valid when its checksum matches;
the sequence numbers say exactly which records are missing. WRITER_SH produces the same
format with busybox ``sh`` and ``sha256sum`` inside a pod, appending and syncing each record
before acknowledging it (the acknowledgement is the sequence number in the ack file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kubedrill.errors import DataLost


def checksum(seq: int, ts_ns: int, payload: str) -> str:
    return hashlib.sha256(f"{seq}|{ts_ns}|{payload}".encode()).hexdigest()


def record(seq: int, ts_ns: int, payload: str) -> str:
    if "|" in payload or "\n" in payload:
        raise ValueError("payload must not contain '|' or newlines")
    return f"{seq}|{ts_ns}|{checksum(seq, ts_ns, payload)}|{payload}"


@dataclass(frozen=True)
class Report:
    valid: frozenset[int]
    corrupt_lines: tuple[int, ...]      # 1-based line numbers that failed to parse or verify
    duplicates: tuple[int, ...]
    missing: tuple[tuple[int, int], ...]  # inclusive ranges within 1..expected
    unexpected: tuple[int, ...]          # valid records beyond what was expected present
    last_ts_ns: int

    @property
    def highest(self) -> int:
        return max(self.valid, default=0)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt_lines or self.unexpected)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append("data lost: records " + ", ".join(_range(a, b) for a, b in self.missing) + " missing")
        if self.corrupt_lines:
            parts.append(f"corrupt records on lines {describe_ranges(self.corrupt_lines)}")
        if self.unexpected:
            parts.append(f"records {describe_ranges(self.unexpected)} present but written after the recovery point")
        return "; ".join(parts) or f"records 1–{self.highest} intact"


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


def verify(text: str, expected_through: int | None = None, absent_from: int | None = None) -> Report:
    """Check records. ``expected_through``: records 1..N must be present (acknowledged);
    ``absent_from``: records >= this must be absent (written after a snapshot)."""
    valid: set[int] = set()
    dups: list[int] = []
    corrupt: list[int] = []
    last_ts = 0
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        parts = line.split("|", 3)
        if len(parts) != 4:
            corrupt.append(lineno)
            continue
        seq_s, ts_s, digest, payload = parts
        try:
            seq, ts = int(seq_s), int(ts_s)
        except ValueError:
            corrupt.append(lineno)
            continue
        if seq < 1 or digest != checksum(seq, ts, payload):
            corrupt.append(lineno)
            continue
        if seq in valid:
            dups.append(seq)
        valid.add(seq)
        last_ts = max(last_ts, ts)
    through = expected_through if expected_through is not None else max(valid, default=0)
    missing = ranges(set(range(1, through + 1)) - valid)
    unexpected = tuple(sorted(s for s in valid if absent_from is not None and s >= absent_from))
    return Report(frozenset(valid), tuple(corrupt), tuple(sorted(set(dups))), missing, unexpected, last_ts)


def check(text: str, expected_through: int | None = None, absent_from: int | None = None) -> Report:
    """verify() that raises DataLost naming what is wrong (e.g. "data lost: records 1–N missing")."""
    report = verify(text, expected_through, absent_from)
    if not report.ok:
        raise DataLost(report.describe())
    return report


# The writer, for busybox sh: appends one record per interval to $DATA, syncs, then
# acknowledges by writing the sequence number to $DATA.ack. Resumes after the last record.
# Environment: DATA (file path), INTERVAL (seconds, default 1), COUNT (0 = forever).
WRITER_SH = r'''
DATA="${DATA:-/data/records}"; INTERVAL="${INTERVAL:-1}"; COUNT="${COUNT:-0}"
mkdir -p "$(dirname "$DATA")"; touch "$DATA"
seq=$(tail -n 1 "$DATA" | cut -d'|' -f1); case "$seq" in ''|*[!0-9]*) seq=0;; esac
n=0
while [ "$COUNT" -eq 0 ] || [ "$n" -lt "$COUNT" ]; do
  seq=$((seq + 1)); n=$((n + 1))
  ts="$(date +%s)000000000"
  payload="r${seq}-$(hostname)"
  sum=$(printf '%s|%s|%s' "$seq" "$ts" "$payload" | sha256sum | cut -d' ' -f1)
  printf '%s|%s|%s|%s\n' "$seq" "$ts" "$sum" "$payload" >> "$DATA"
  sync
  echo "$seq" > "$DATA.ack.tmp" && mv "$DATA.ack.tmp" "$DATA.ack"
  [ "$COUNT" -ne 0 ] && [ "$n" -ge "$COUNT" ] && break
  sleep "$INTERVAL"
done
'''
