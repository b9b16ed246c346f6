"""Copies of the database kept in the library's ``backups/`` folder: one before every schema
upgrade (made by ``engine.open_database``) and a rolling daily one, and putting a copy back
when the database is damaged."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import sqlite3
from pathlib import Path

from tracker.core.db.engine import DB_NAME, copy_database
from tracker.core.errors import LibraryError, UsageError

KEEP_SNAPSHOTS = 10
SNAPSHOT_EVERY = dt.timedelta(hours=20)


def snapshots(folder: Path) -> list[Path]:
    """Database snapshots in ``backups/``, newest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("library-*.sqlite3") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def newest_snapshot(folder: Path) -> Path | None:
    found = snapshots(folder)
    return found[0] if found else None


def rolling_snapshot(db_path: Path, folder: Path, now: dt.datetime | None = None) -> Path | None:
    """Copy the database to ``backups/`` when the newest automatic copy is older than a day's
    use, keeping the last ten automatic copies (copies made before upgrades are kept)."""
    now = now or dt.datetime.now()
    autos = sorted(folder.glob("library-*-auto.sqlite3")) if folder.is_dir() else []
    if autos and now - dt.datetime.fromtimestamp(autos[-1].stat().st_mtime) < SNAPSHOT_EVERY:
        return None
    try:
        dest = copy_database(db_path, folder / f"library-{now:%Y%m%d-%H%M%S}-auto.sqlite3")
        for old in sorted(folder.glob("library-*-auto.sqlite3"))[:-KEEP_SNAPSHOTS]:
            old.unlink()
    except (OSError, sqlite3.Error):
        return None  # a missed snapshot must not stop the library from opening
    return dest


def restore_snapshot(root: Path, snapshot: Path | None = None) -> dict[str, str]:
    """Put a snapshot back as the library's database; the current file is kept beside it.

    For a damaged database: call with the library closed.
    """
    folder = root / "backups"
    snapshot = snapshot or newest_snapshot(folder)
    if snapshot is None or not snapshot.is_file():
        raise UsageError(f"There is no database snapshot in {folder} to restore.")
    check = sqlite3.connect(f"{snapshot.resolve().as_uri()}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        ok = False
    finally:
        check.close()
    if not ok:
        raise LibraryError(f"The snapshot {snapshot.name} is damaged too; choose an older one.")
    db_path = root / DB_NAME
    kept = folder / f"damaged-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        current = db_path.with_name(db_path.name + suffix)
        if current.exists():
            os.replace(current, kept.with_name(kept.name + suffix))
    part = db_path.with_name(f".{DB_NAME}.{secrets.token_hex(4)}.part")
    shutil.copyfile(snapshot, part)
    os.chmod(part, 0o600)
    os.replace(part, db_path)
    return {"restored": snapshot.name, "kept": kept.name}
