"""Copies of the database kept in the library's ``backups/`` folder: one before every schema
upgrade (made by ``engine.open_database``) and a rolling daily one. Putting one back is a
repair (``care.repair.restore_snapshot``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import sqlite3
import tempfile
from pathlib import Path

from tracker.core.db.engine import connect_file, copy_database, db_errors

KEEP_SNAPSHOTS = 10
SNAPSHOT_EVERY = dt.timedelta(hours=20)
# A copy being written is ``.NAME.<random>.part`` beside where it goes: never taken for a
# snapshot, and one a killed process left is removed the next time the library opens.
PART_SUFFIX = ".part"


def snapshots(folder: Path) -> list[Path]:
    """Database snapshots in ``backups/``, newest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("library-*.sqlite3") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def made_at(path: Path) -> dt.datetime:
    """When a copy was last written, in UTC without a zone (as the database keeps times)."""
    return _naive_utc(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """A time in UTC without its zone; a time without one is taken as local (as written by
    the first version of the archive log)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def newest_snapshot(folder: Path) -> Path | None:
    found = snapshots(folder)
    return found[0] if found else None


def rolling_snapshot(
    db_path: Path, folder: Path, now: dt.datetime | None = None, key: bytes | None = None
) -> Path | None:
    """Copy the database to ``backups/`` when the newest automatic copy is older than a day's
    use, keeping the last ten automatic copies (copies made before upgrades are kept). An
    encrypted library's copies are encrypted with its database ``key``."""
    now = now or dt.datetime.now()
    autos = sorted(folder.glob("library-*-auto.sqlite3")) if folder.is_dir() else []
    if autos and now - dt.datetime.fromtimestamp(autos[-1].stat().st_mtime) < SNAPSHOT_EVERY:
        return None
    try:
        dest = private_copy(db_path, folder / f"library-{now:%Y%m%d-%H%M%S}-auto.sqlite3", key)
        for old in sorted(folder.glob("library-*-auto.sqlite3"))[:-KEEP_SNAPSHOTS]:
            old.unlink()
    except (OSError, *db_errors()):  # type: ignore[misc]  # a tuple of exception classes
        return None  # a missed snapshot must not stop the library from opening
    return dest


def private_copy(db_path: Path, dest: Path, key: bytes | None = None) -> Path:
    """Copy the database to ``dest`` with SQLite's backup API, complete or not at all and
    readable by its owner only (it holds everything the library knows): written as a
    temporary file made 0600 before the first byte, made durable, then renamed into place."""
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}{PART_SUFFIX}")
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        copy_database(db_path, part, key)  # SQLite writes into the empty file, keeping its mode
        with part.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return dest


def database_image(db_path: Path, key: bytes | None = None) -> bytes:
    """The whole database as one consistent image in memory (SQLite's backup API, then its
    serialisation), read without writing to the file: what a backup archives. Taken in one
    step, it is the database as of one committed moment, whoever is writing beside it.

    An encrypted library's image is encrypted with its ``key`` (SQLCipher cannot serialise):
    copied with the backup API into a file in a private temporary folder, encrypted as it is
    written, and read back; nothing decrypted is written."""
    # In a folder this program cannot write (a read-only disk), "ro" could not make the
    # shared-memory file it needs: the file is read as it is.
    mode = "mode=ro" if os.access(db_path.parent, os.W_OK) else "immutable=1"
    if key is not None:
        with tempfile.TemporaryDirectory(prefix="stria-") as tmp:
            copy = Path(tmp) / "image.sqlite3"
            src = connect_file(db_path, mode, key)
            try:
                out = connect_file(copy, None, key)
                try:
                    src.backup(out)
                    out.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal to carry
                finally:
                    out.close()
            finally:
                src.close()
            return copy.read_bytes()
    src = sqlite3.connect(f"{db_path.resolve().as_uri()}?{mode}", uri=True)
    try:
        mem = sqlite3.connect(":memory:")
        try:
            src.backup(mem)
            return mem.serialize()
        finally:
            mem.close()
    finally:
        src.close()


def stale_copies(folder: Path) -> list[Path]:
    """Copies of the database that a killed process left half-written in ``folder`` (the
    library's root or its ``backups/``); only the library's writer makes them, so while it
    holds the library any it did not make itself are stale."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(".")
        and ".sqlite3." in p.name
        and p.name.endswith((PART_SUFFIX, f"{PART_SUFFIX}-journal"))
    )


# -- the backup archives a library wrote --------------------------------------------------------

ARCHIVE_LOG = "archives.log"


def record_archive(folder: Path, archive: Path, now: dt.datetime | None = None) -> None:
    """Note in ``backups/archives.log`` that a backup archive was written, so that an erase
    can say which copies still hold what it took away. One line of JSON per archive, appended
    with a single write (a backup may run while the window has the library open)."""
    made = now or dt.datetime.now(dt.UTC)
    line = json.dumps({"file": str(archive.resolve()), "made": made.isoformat()}, ensure_ascii=True)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(folder / ARCHIVE_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode("ascii"))
        finally:
            os.close(fd)
    except OSError:
        pass  # the archive is written; only the note of it is missing


def archive_log(folder: Path) -> list[tuple[Path, dt.datetime]]:
    """The archives ``record_archive`` noted, oldest first, each with when it was made (in
    UTC, without a zone, as the database keeps times). Unreadable lines are skipped."""
    try:
        text = (folder / ARCHIVE_LOG).read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            made = dt.datetime.fromisoformat(str(entry["made"]))
            out.append((Path(str(entry["file"])), _naive_utc(made)))
        except (ValueError, KeyError, TypeError):
            continue
    return out
