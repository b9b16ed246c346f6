"""Printing a command's result: one JSON value with ``--json``, readable text without."""

from __future__ import annotations

import argparse
import json
from typing import Any


def emit(args: argparse.Namespace, value: Any, text: str) -> None:
    if args.json:
        try:
            out = json.dumps(value, ensure_ascii=False, indent=None)
            out.encode("utf-8")
        except UnicodeEncodeError:
            # A file name that is not valid UTF-8: escape it rather than write invalid output.
            out = json.dumps(value, ensure_ascii=True)
        print(out)
    else:
        print(text)


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
