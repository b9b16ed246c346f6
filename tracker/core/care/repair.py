"""Repairs the person chooses after a check. None of them deletes anything: missing originals
are copied back from a folder (matched by their contents), stray files and links are moved to
``quarantine/``, the cache is rebuilt from the originals, and a database snapshot is put back
with the current database kept. Every one holds the library's writer lock."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tracker.core.care.check import scan_originals
from tracker.core.db import schema, snapshots
from tracker.core.db.engine import DB_NAME, connect_file, db_errors
from tracker.core.db.models import Photo
from tracker.core.errors import ImageRejected, LibraryError, NoLibrary, UsageError
from tracker.core.files import expand_paths
from tracker.core.imaging import decode as imaging
from tracker.core.services import consent_forms
from tracker.core.store.library import Library
from tracker.core.store.lock import WriterLock
from tracker.core.store.photos import fsync_dir, storage_error
from tracker.core.store.unlock_log import AUDIT_ANCHOR


def missing(lib: Library) -> dict[str, str]:
    """sha256 → extension of every photo whose original is missing."""
    with lib.session() as s:
        rows = s.execute(select(Photo.sha256, Photo.ext)).all()
    return {sha: ext for sha, ext in rows if not lib.store.has_original(sha, ext)}


def changed(lib: Library, candidates: Iterable[str]) -> dict[str, str]:
    """sha256 → extension of those ``candidates`` whose original is there but no longer holds
    what was imported (each one is read and hashed)."""
    candidates = set(candidates)
    with lib.session() as s:
        rows = s.execute(select(Photo.sha256, Photo.ext).where(Photo.sha256.in_(candidates))).all()
    out = {}
    for sha, ext in rows:
        if lib.store.has_original(sha, ext) and not lib.store.original_intact(sha, ext):
            out[sha] = ext
    return out


def relink(lib: Library, folder: Path, changed_originals: Iterable[str] = ()) -> dict[str, Any]:
    """Copy missing originals back from ``folder`` (searched through), matched by sha256.

    ``changed_originals`` (sha256s a check reported as changed) are put back the same way; each
    changed file is first moved to ``quarantine/<date>/``, never deleted. A file that turns out
    to be intact is left alone.
    """
    lib.require_writable()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder.")
    damaged = changed(lib, changed_originals)
    lost = missing(lib)
    wanted = {**lost, **damaged}
    found: list[str] = []
    quarantine = lib.root / "quarantine" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if wanted:
        sizes = {}
        with lib.session() as s:
            sizes = dict(
                s.execute(
                    select(Photo.sha256, Photo.file_size).where(Photo.sha256.in_(wanted))
                ).all()
            )
        for path in expand_paths([folder]):
            try:
                if path.stat().st_size not in sizes.values():
                    continue  # cheap: only files of a wanted size are read
                data = path.read_bytes()
            except OSError:
                continue
            sha = hashlib.sha256(data).hexdigest()
            if sha in wanted and sha not in found:
                staged = lib.store.stage_original(data, sha, wanted[sha])
                if sha in damaged:
                    _keep(lib.root, lib.store.original_relpath(sha, wanted[sha]), quarantine)
                lib.store.commit_staged(staged)
                if sha in damaged:
                    lib.store.drop_cache(sha)  # made from the changed file: made again
                found.append(sha)
    relinked = [sha for sha in found if sha in lost]
    replaced = [sha for sha in found if sha in damaged]
    return {
        "relinked": len(relinked),
        "still_missing": len(lost) - len(relinked),
        "replaced": len(replaced),
        "still_changed": len(damaged) - len(replaced),
        "quarantine": str(quarantine) if replaced else "",
    }


def _keep(root: Path, rel: str, quarantine: Path) -> None:
    """Keep the changed file under ``quarantine`` before it is replaced, so that at no moment
    is the photo without a file: a second name where the disk allows hard links, else a copy
    made durable."""
    source, target = root / rel, quarantine / rel
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:  # FAT and exFAT drives, some network shares
            shutil.copyfile(source, target)
            with target.open("rb") as fh:
                os.fsync(fh.fileno())
    except OSError as exc:
        raise LibraryError(
            f"Could not keep the changed file {rel} in {quarantine} "
            f"({exc.strerror or type(exc).__name__}); nothing was replaced."
        ) from exc


def relink_summary(result: dict[str, Any], changed: bool) -> str:
    """A relink's result as sentences (``changed``: changed originals were asked for too)."""
    text = (
        f"Relinked {result['relinked']} missing original(s); "
        f"{result['still_missing']} still missing."
    )
    if changed:
        text += (
            f" Put back {result['replaced']} changed original(s); "
            f"{result['still_changed']} still changed."
        )
        if result["quarantine"]:
            text += f" The changed files are kept in {result['quarantine']}."
    return text


def quarantine_orphans(lib: Library) -> dict[str, Any]:
    """Move what in ``originals/`` belongs to no photo to ``quarantine/<date>/``: stray
    files, and links (a link is never a photo's file, even under a photo's name; the link
    itself is moved, never what it points to)."""
    lib.require_writable()
    with lib.session() as s:
        expected = {
            lib.store.original_relpath(sha, ext)
            for sha, ext in s.execute(select(Photo.sha256, Photo.ext))
        }
        expected |= {form.relpath for form in consent_forms.stored_forms(s)}
    strays = [
        rel for rel, why in scan_originals(lib.root) if why is not None or rel not in expected
    ]
    dest = lib.root / "quarantine" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        for rel in strays:
            target = dest / rel
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(lib.root / rel, target)
    except OSError as exc:
        raise storage_error(exc) from exc
    lib.store.ensure_folders()  # when originals/ itself was the link
    return {"moved": len(strays), "folder": str(dest) if strays else ""}


def rebuild_cache(lib: Library) -> dict[str, Any]:
    """Throw the cache away and make every thumbnail and preview again from the originals."""
    lib.require_writable()
    shutil.rmtree(lib.root / "cache", ignore_errors=True)
    lib.store.ensure_folders()
    with lib.session() as s:
        rows = s.execute(select(Photo.sha256, Photo.ext)).all()
    rebuilt, failed = 0, []
    for sha, ext in rows:
        if not lib.store.has_original(sha, ext):
            failed.append(sha)
            continue
        try:
            decoded = imaging.decode(lib.store.read_original(sha, ext), preview=True, stored=True)
        except ImageRejected:
            failed.append(sha)
            continue
        lib.store.write_cache("thumbs", sha, decoded.thumbnail)
        assert decoded.preview is not None  # asked for
        lib.store.write_cache("previews", sha, decoded.preview)
        rebuilt += 1
    return {"rebuilt": rebuilt, "failed": len(failed)}


def restore_snapshot(
    root: Path, snapshot: Path | None = None, key: bytes | None = None
) -> dict[str, str]:
    """Put a database snapshot back as the library's database; the current file (and its
    write-ahead log) is kept in ``backups/`` as ``damaged-<time>.sqlite3``. An encrypted
    library's snapshots are read and copied with its database ``key`` (``Library.database_key``).

    Takes the library's writer lock first: refused while another program has the library
    open (it would go on writing to the file moved aside). The snapshot must be a copy, not
    the library's own database or another file of the library. Killed at any moment, it
    leaves the library as it was or restored, never without a database: the copy is made
    and made durable beside the database first, the current file is copied to ``backups/``,
    and one rename puts the copy in place. The current write-ahead log is moved aside just
    before that rename, having been written into the database first where SQLite can still
    read it (it must not be applied to the snapshot put back).
    """
    if not root.is_dir():
        raise NoLibrary(f"There is no library at {root}; create one with 'tracker init'.")
    lock = WriterLock(root)
    lock.acquire()  # LibraryLocked when the window (or a command) has the library open
    try:
        folder = root / "backups"
        snapshot = snapshot or snapshots.newest_snapshot(folder)
        if snapshot is None:
            raise UsageError(f"There is no database snapshot in {folder} to restore.")
        _refuse_the_library_itself(root, snapshot)
        db_path = root / DB_NAME
        part = root / f".{DB_NAME}.{secrets.token_hex(4)}{snapshots.PART_SUFFIX}"
        kept = folder / f"damaged-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3"
        try:
            _copy_snapshot(snapshot, part, key)
            kept_name = _keep_current(db_path, kept, key)
            # The audit trail's anchor names the newest entry of the database moved aside;
            # the copy put back on purpose ends earlier, and the next entry anchors it again.
            # Removed before the rename, so a kill between the two leaves no false "cut off".
            (root / AUDIT_ANCHOR).unlink(missing_ok=True)
            os.replace(part, db_path)
            fsync_dir(root)
        except OSError as exc:
            raise storage_error(exc) from exc
        finally:
            part.unlink(missing_ok=True)
    finally:
        lock.release()
    return {"restored": snapshot.name, "kept": kept_name}


def _refuse_the_library_itself(root: Path, snapshot: Path) -> None:
    """A snapshot is a copy: in ``backups/``, or a file outside the library; never the live
    database (putting it "back" would move it aside and leave none) nor another of its files."""
    if not snapshot.is_file():
        raise UsageError(f"There is no database snapshot at {snapshot}.")
    live = root / DB_NAME
    resolved, home = snapshot.resolve(), root.resolve()
    if resolved == live.resolve() or (live.exists() and os.path.samefile(snapshot, live)):
        raise UsageError(
            f"{snapshot} is the library's own database, not a snapshot of it; choose a copy "
            "in backups/ (the newest is taken when none is named)."
        )
    inside = resolved.is_relative_to(home)
    in_backups = resolved.parent == (root / "backups").resolve()
    if inside and not (
        in_backups and resolved.suffix == ".sqlite3" and not resolved.name.startswith(".")
    ):
        raise UsageError(
            f"{snapshot} is a file of the library, not a database snapshot; choose a copy in "
            "backups/ (the newest is taken when none is named)."
        )


def _copy_snapshot(snapshot: Path, part: Path, key: bytes | None = None) -> None:
    """Copy the snapshot (with its write-ahead log, if one lies beside it) to ``part``, made
    0600 before the first byte and durable, refusing one that is damaged or not ours."""
    wal = snapshot.with_name(snapshot.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"  # never writes beside the snapshot
    try:
        src = connect_file(snapshot, mode, key)
    except db_errors() as exc:
        raise LibraryError(f"The snapshot {snapshot.name} cannot be read ({exc}).") from exc
    try:
        try:
            ok = src.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        except db_errors():
            ok = False
        if not ok:
            raise LibraryError(
                f"The snapshot {snapshot.name} is damaged or is not a database; choose another "
                "(an older one in backups/)."
            )
        schema.verify_schema(
            src, subject=f"The snapshot {snapshot.name}", outcome="it was not put back"
        )
        os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        dst = connect_file(part, None, key)
        try:
            src.backup(dst)
        except db_errors() as exc:
            raise LibraryError(
                f"The snapshot {snapshot.name} could not be copied into the library ({exc})."
            ) from exc
        finally:
            dst.close()
    finally:
        src.close()
    with part.open("rb") as fh:
        os.fsync(fh.fileno())


def _keep_current(db_path: Path, kept: Path, key: bytes | None = None) -> str:
    """Keep the current database in ``backups/`` (a durable copy: it stays in place until the
    snapshot replaces it) and move its write-ahead log beside that copy; the name kept, or ""
    when there was no database. Its log is first written into it where SQLite can, so that a
    kill before the snapshot is in place leaves the database whole."""
    wal = db_path.with_name(db_path.name + "-wal")
    kept_name = ""
    if db_path.exists():
        with contextlib.suppress(*db_errors()):
            conn = connect_file(db_path, None, key)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        kept.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            shutil.copyfile(db_path, kept)  # into the file made 0600: its mode is kept
            with kept.open("rb") as fh:
                os.fsync(fh.fileno())
        except BaseException:
            kept.unlink(missing_ok=True)
            raise
        kept_name = kept.name
    if wal.exists():
        os.replace(wal, kept.with_name(kept.name + "-wal"))  # never applied to the snapshot
    db_path.with_name(db_path.name + "-shm").unlink(missing_ok=True)
    fsync_dir(kept.parent)
    return kept_name
