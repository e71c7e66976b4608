"""``python -m kubedrill.report html|validate``: the HTML report and the results.json check."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

from kubedrill.report import html, results

USAGE = """usage: python -m kubedrill.report html [--results DIR] [--output DIR] [--history FILE]
       python -m kubedrill.report validate [reports/results.json]"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["html"]:
        return html.main(args[1:])
    if args[:1] == ["validate"]:
        path = Path(args[1] if len(args) > 1 else "reports/results.json")
        try:
            problems = results.validate(json.loads(path.read_text()))
        except FileNotFoundError:
            print(f"kubedrill: {path} not found (run `make drill` first)", file=sys.stderr)
            return 2
        except ValueError as exc:
            print(f"kubedrill: {path} is not JSON: {exc}", file=sys.stderr)
            return 1
        for p in problems:
            print(f"kubedrill: {path}: {p}", file=sys.stderr)
        if not problems:
            print(f"kubedrill: {path} is valid (schema {results.SCHEMA_PATH.relative_to(results.ROOT)})")
        return 1 if problems else 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
