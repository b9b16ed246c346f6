"""Finishing or undoing a conversion of a plain library into an encrypted one (``tracker
encrypt``, ``core.care.encrypt``) that a crash cut short; called first by ``Library.open``.

The conversion builds the whole encrypted library in ``tmp/encrypting/`` (the key file, the
SQLCipher database, every original, thumbnail, preview and snapshot encrypted), makes it
durable, and then renames its key file to ``library.key``: that one rename is the commit.
Before it the library is plain and whole, and the staging folder is discarded here; after
it the library is encrypted, and the moves that put the staged files in place are finished
here (each is a rename, and each is done again or skipped, so a crash during this, too, is
finished at the next open).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from tracker.core.crypto.layout import KEY_FILE
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import LibraryError
from tracker.core.store.lock import WriterLock
from tracker.core.store.photos import fsync_dir

log = logging.getLogger(__name__)

STAGING = Path("tmp") / "encrypting"
# The folders swapped whole: the staged one in, the plain one out (then deleted).
SWAPPED = ("originals", "cache")


def staging(root: Path) -> Path:
    return root / STAGING


def finish_encrypting(root: Path) -> None:
    """Roll forward or discard an interrupted conversion in ``root`` (one ``stat`` when there
    is none). Left alone while another program holds the library (the conversion itself)."""
    if not staging(root).is_dir():
        return
    lock = WriterLock(root)
    try:
        lock.acquire()
    except LibraryError:
        return  # the conversion is running, or the folder cannot be written: not ours to do
    try:
        if (root / KEY_FILE).exists():
            roll_forward(root)
            log.info("Finished encrypting the library (it had been interrupted)")
        else:
            discard(root)
            log.info("Removed an encryption of the library that had been interrupted")
    finally:
        lock.release()


def discard(root: Path) -> None:
    """Remove the staging folder of a conversion that was not committed."""
    shutil.rmtree(staging(root), ignore_errors=True)
    fsync_dir(root / "tmp")


def roll_forward(root: Path) -> None:
    """Put every staged file in place (the key file being in place already). Idempotent."""
    stage = staging(root)
    for name in SWAPPED:
        new, old, live = stage / name, stage / f"plain-{name}", root / name
        if not new.is_dir():
            continue
        if live.exists() and not old.exists():
            os.replace(live, old)
        elif live.is_dir() and not any(live.iterdir()):
            live.rmdir()  # an empty folder made since the plain one was moved out
        os.replace(new, live)
        fsync_dir(root)
    staged_backups = stage / "backups"
    if staged_backups.is_dir():
        (root / "backups").mkdir(mode=0o700, exist_ok=True)
        for path in sorted(staged_backups.iterdir()):
            os.replace(path, root / "backups" / path.name)
            for suffix in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    (root / "backups" / f"{path.name}{suffix}").unlink()
        fsync_dir(root / "backups")
    staged_db = stage / DB_NAME
    if staged_db.exists():
        # The plain database's log was written into it (and into the staged copy) before the
        # commit; it must not be applied to the encrypted file that replaces it.
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                (root / f"{DB_NAME}{suffix}").unlink()
        os.replace(staged_db, root / DB_NAME)
        fsync_dir(root)
    shutil.rmtree(stage)
    fsync_dir(root / "tmp")
