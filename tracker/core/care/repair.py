"""Repairs the person chooses after a check. None of them deletes anything: missing originals
are copied back from a folder (matched by their contents), stray files are moved to
``quarantine/``, and the cache is rebuilt from the originals."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tracker.core.db import snapshots
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import Photo
from tracker.core.errors import ImageRejected, LibraryError, UsageError
from tracker.core.files import expand_paths
from tracker.core.imaging import decode as imaging
from tracker.core.store.library import Library
from tracker.core.store.lock import WriterLock
from tracker.core.store.photos import storage_error


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
    """Move files in ``originals/`` that belong to no photo to ``quarantine/<date>/``."""
    lib.require_writable()
    with lib.session() as s:
        expected = {
            lib.store.original_relpath(sha, ext)
            for sha, ext in s.execute(select(Photo.sha256, Photo.ext))
        }
    strays = [rel for _, _, rel in lib.store.iter_originals() if rel not in expected]
    dest = lib.root / "quarantine" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for rel in strays:
        target = dest / rel
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(lib.root / rel, target)
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


def restore_snapshot(root: Path, snapshot: Path | None = None) -> dict[str, str]:
    """Put a database snapshot from ``backups/`` back as the library's database; the current
    file is kept in ``backups/`` as ``damaged-<time>.sqlite3``.

    Refused while another program has the library open (it would go on writing to the file
    moved aside). The copy is made and made durable before anything is moved, so a failure
    (a full disk) leaves the library as it was.
    """
    folder = root / "backups"
    snapshot = snapshot or snapshots.newest_snapshot(folder)
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
    lock = WriterLock(root)
    lock.acquire()  # LibraryLocked when the window (or a command) has the library open
    db_path = root / DB_NAME
    part = db_path.with_name(f".{DB_NAME}.{secrets.token_hex(4)}.part")
    kept = folder / f"damaged-{dt.datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    try:
        try:
            shutil.copyfile(snapshot, part)
            os.chmod(part, 0o600)
            with part.open("rb") as fh:
                os.fsync(fh.fileno())
            for suffix in ("", "-wal", "-shm"):
                current = db_path.with_name(db_path.name + suffix)
                if current.exists():
                    os.replace(current, kept.with_name(kept.name + suffix))
            os.replace(part, db_path)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise storage_error(exc) from exc
    finally:
        lock.release()
    return {"restored": snapshot.name, "kept": kept.name}
