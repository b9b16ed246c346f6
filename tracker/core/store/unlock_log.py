"""Unlock attempts waiting to enter an encrypted library's audit trail.

A wrong passphrase cannot be written to the library's database (without the key it cannot be
opened), so ``store.encrypted.unlock`` notes each attempt, failed or not, as one line in
``UNLOCK_LOG`` in the library folder: the outcome and the time, nothing else (no passphrase,
no part of one, no user name). The next entry written to the audit trail takes the lines
(``take``: the file is renamed first, so an attempt noted meanwhile waits for the next entry),
enters them with their times, and ``done`` removes the taken file once they are kept. A file
that cannot be written (a folder for reading only) loses the note, never the unlock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

UNLOCK_LOG = "unlock-attempts.txt"
_TAKEN = UNLOCK_LOG + ".taken"
# The audit trail's anchor (``services.audit``): its newest entry's hash and the count, kept
# beside the database so entries cut off the end are found.
AUDIT_ANCHOR = "audit-anchor.json"
FILES = (UNLOCK_LOG, _TAKEN, AUDIT_ANCHOR)  # what a library folder may hold of the audit
FAILED = "failed"
UNLOCKED = "unlocked"
_MOST = 1000  # the newest lines entered from one file: a flood beyond that is not entered whole


def note(root: Path, outcome: str) -> None:
    """Append ``outcome`` (FAILED or UNLOCKED) and the time now (UTC) to the log."""
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    try:
        fd = os.open(root / UNLOCK_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{outcome} {stamp}\n".encode("ascii"))
        finally:
            os.close(fd)
    except OSError:
        pass  # a folder for reading only: the attempt goes unrecorded, the unlock goes on


def _parse(line: str) -> tuple[str, dt.datetime] | None:
    outcome, _, stamp = line.strip().partition(" ")
    if outcome not in (FAILED, UNLOCKED):
        return None
    try:
        return outcome, dt.datetime.fromisoformat(stamp).replace(tzinfo=None)
    except ValueError:
        return None


def take(root: Path) -> list[tuple[str, dt.datetime]]:
    """The attempts waiting (oldest first), their file set aside for ``done``."""
    log, taken = root / UNLOCK_LOG, root / _TAKEN
    try:
        if not taken.exists() and log.exists():
            os.replace(log, taken)  # one left by a writer stopped short goes first
        text = taken.read_text("ascii", errors="replace") if taken.exists() else ""
    except OSError:
        return []
    found = [parsed for line in text.splitlines() if (parsed := _parse(line)) is not None]
    return sorted(found, key=lambda item: item[1])[-_MOST:]


def done(root: Path) -> None:
    """The taken attempts are in the audit trail: their file goes."""
    with contextlib.suppress(OSError):  # left, it is read again, not lost
        (root / _TAKEN).unlink(missing_ok=True)
