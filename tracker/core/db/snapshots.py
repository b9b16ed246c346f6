"""Copies of the database kept in the library's ``backups/`` folder: one before every schema
upgrade (made by ``engine.open_database``) and a rolling daily one. Putting one back is a
repair (``care.repair.restore_snapshot``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from tracker.core.db.engine import copy_database

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
