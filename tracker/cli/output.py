"""Printing a command's result: one JSON value with ``--json``, readable text without.

A reader that stops early (``tracker list photos | head -1``) is no error: what it did not
read is dropped without a word, and the command ends with its own exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from typing import Any

# Characters that steer a terminal or reorder what it shows: control characters (ESC, BEL,
# CR, NUL, …; a newline is kept) and the bidirectional overrides.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def cell_safe(value: object) -> str:
    """A table cell on one line, made safe for the terminal: a newline in a name or a file
    name is shown escaped too, so it cannot forge a row of the table."""
    return terminal_safe(str(value)).replace("\n", "\\n")


def terminal_safe(text: str) -> str:
    """``text`` as a terminal shows it harmlessly: each control character written as its
    escape (``\x1b``), so a name or a note cannot run terminal escapes. ``--json`` output
    is exact instead (JSON escapes them itself)."""
    if all(ch == "\n" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI) for ch in text):
        return text
    return "".join(
        ch
        if ch == "\n" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI)
        else ascii(ch)[1:-1]
        for ch in text
    )


def say(text: str) -> None:
    """A line for the person on standard error, made safe for the terminal."""
    print(terminal_safe(text), file=sys.stderr)


def emit(args: argparse.Namespace, value: Any, text: str) -> None:
    if args.json:
        try:
            out = json.dumps(value, ensure_ascii=False, indent=None)
            out.encode("utf-8")
        except UnicodeEncodeError:
            # A file name that is not valid UTF-8: escape it rather than write invalid output.
            out = json.dumps(value, ensure_ascii=True)
    else:
        out = terminal_safe(text)
    stream = sys.stdout
    if stream is None:  # started without a standard output (``>&-``): nowhere to write
        return
    try:
        print(out, file=stream)
        stream.flush()  # a closed pipe is found here, not at the interpreter's exit
    except BrokenPipeError:
        discard_stdout()


def discard_stdout() -> None:
    """After the reader of standard output has gone: send what is still buffered, and
    anything printed later, to the null device, so that Python's flush at exit does not
    fail again with a message on standard error (as the ``signal`` module's docs advise)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # no file descriptor (a test's captured output): nothing to do
        pass


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[cell_safe(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
