"""Restore: a new library from a backup archive (``backups.backup`` makes them).

An archive is read as something a stranger may have made. Before a byte is written, its zip
directory, its entries and its manifest are bounded and checked against each other: exactly
the files the manifest lists, each once, of the sizes it says, stored or deflated and not
encrypted, with room for all of them on the disk. The database comes out first and must be
ours (no trigger, view, table or index our migrations do not make: ``db.schema``) and name
exactly the photos the archive holds; then each original is streamed out, hashed, and stopped
at the first byte past what the manifest promised. The library is built in a hidden folder
beside the destination (held with an OS lock while it is at work) and renamed into place only
at the end: a refused archive leaves nothing at the destination or beside it, and a folder a
killed restore left is removed by the next restore to the same destination.

An encrypted library's archive (its manifest says so) is restored still encrypted, as a
library locked with the same passphrase and recovery key: its key file comes out first and
``unlock`` (a callback: the command line asks for the passphrase) opens it, then the database
is read with its key and, once every file is out, every original is decrypted and checked
against its name. Nothing decrypted is written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.core.care import archived
from tracker.core.care.backups import MANIFEST, Progress
from tracker.core.care.check import check_library
from tracker.core.care.unpack import (
    READ_ERRORS,
    ArchiveFile,
    Overflow,
    Unreadable,
    copy,
    damaged,
    open_archive,
    read_manifest,
    shown,
)
from tracker.core.crypto.layout import KEY_FILE, stored_size
from tracker.core.db import schema
from tracker.core.db.engine import DB_NAME, connect_file, db_errors
from tracker.core.domain.consent import Action, FormKind
from tracker.core.errors import (
    DatabaseDamaged,
    DiskFull,
    FolderReadOnly,
    ForeignSchema,
    LibraryError,
    NewerLibraryError,
    PassphraseNeeded,
    StorageError,
    TrackerError,
    UsageError,
)
from tracker.core.queries.listing import counts
from tracker.core.services import audit
from tracker.core.services.consent_forms import form_relpath
from tracker.core.store.library import Library
from tracker.core.store.lock import abandoned, claim

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys

log = logging.getLogger(__name__)

SPARE = 4 << 20  # free space wanted beyond the files and the database's first snapshot

_SQLITE_MAGIC = b"SQLite format 3\0"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def restore(
    archive: Path,
    dest: Path,
    *,
    progress: Progress | None = None,
    unlock: Callable[[Path], Keys] | None = None,
) -> dict[str, Any]:
    """Make a new library at ``dest`` from an archive, every file checked against the manifest.

    A photo a forced backup left out (its manifest's ``left_out``) is restored without its
    original, as it was in the library, and listed in ``left_out``. An encrypted archive
    needs ``unlock(folder)``: the keys of the library whose key file is in ``folder``
    (``store.encrypted.unlock``); without it, ``PassphraseNeeded``.
    """
    _check_places(archive, dest)
    _remove_abandoned(dest)
    with open_archive(archive) as zf:
        files, left_out = read_manifest(zf, archive)
        anchor = _manifest_anchor(zf, archive)
        _check_space(files, archive, dest)
        key_file = next((f for f in files if f.path == KEY_FILE), None)
        originals = [f for f in files[1:] if f is not key_file]
        if key_file is not None and unlock is None:
            raise PassphraseNeeded(
                f"{archive.name} is a backup of an encrypted library; it restores with that "
                "library's passphrase or recovery key."
            )
        work, fd = _make_work(archive, dest)
        try:
            keys = None
            if key_file is not None and unlock is not None:
                _extract(zf, key_file, work, archive, dest)
                keys = unlock(work)
            _extract(zf, files[0], work, archive, dest, keys is not None)
            if progress:
                progress(1, len(files), files[0].path)
            _check_database(work / DB_NAME, originals, left_out, archive, keys)
            for n, file in enumerate(originals, start=2):
                _extract(zf, file, work, archive, dest)
                if progress:
                    progress(n, len(files), file.path)
            if anchor is not None:
                try:
                    archived.put_anchor(work, anchor)
                except OSError as exc:
                    raise _write_error(exc, archive, dest) from exc
            held = _open_restored(work, archive, dest, left_out, keys)
            _move_into_place(work, archive, dest)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            if fd is not None:
                os.close(fd)  # releases the OS lock: after the work folder is gone or renamed
    return {"library": str(dest), "files": len(files), **held, "left_out": sorted(left_out)}


# -- before anything is written -------------------------------------------------------------


def _check_places(archive: Path, dest: Path) -> None:
    if dest.is_symlink():
        raise UsageError(f"{dest} is a link; restore into a new folder, not through a link.")
    try:
        taken = dest.exists() and (not dest.is_dir() or any(dest.iterdir()))
    except OSError as exc:
        raise UsageError(f"{dest} cannot be looked into ({exc.strerror or exc}).") from exc
    if taken:
        raise UsageError(f"{dest} already exists and is not empty; restore into a new folder.")
    if not archive.is_file():
        raise UsageError(f"There is no backup archive at {archive}.")
    if not dest.parent.is_dir():
        raise UsageError(f"The folder {dest.parent} does not exist.")


def _check_space(files: list[ArchiveFile], archive: Path, dest: Path) -> None:
    """Refuse when the disk cannot hold the files, the database's first snapshot and a little
    more, before a byte is written."""
    needed = sum(f.size for f in files) + files[0].size + SPARE
    try:
        free = shutil.disk_usage(dest.parent).free
    except OSError:
        return  # cannot tell: a full disk is still caught as it is written
    if needed > free:
        raise DiskFull(
            f"{archive.name} needs {_size(needed)} and the disk holding {dest.parent} has "
            f"{_size(free)} free; nothing was restored."
        )


def _remove_abandoned(dest: Path) -> None:
    """Remove the hidden work folders that killed restores to ``dest`` left beside it, quietly:
    ``.DEST.restoring-<pid>-<hex>`` whose restore is gone (nobody holds its lock)."""
    pattern = re.compile(rf"\.{re.escape(dest.name)}\.restoring-(?:([0-9]+)-)?[0-9a-f]{{8}}")
    try:
        entries = list(os.scandir(dest.parent))
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        pid = int(match.group(1)) if match.group(1) else None
        if abandoned(Path(entry.path), pid):
            shutil.rmtree(entry.path, ignore_errors=True)
            log.info("Removed %s, left by a restore that was stopped", entry.name)


def _make_work(archive: Path, dest: Path) -> tuple[Path, int | None]:
    """The hidden folder the library is built in, and the descriptor holding its lock (None
    where folders cannot be opened)."""
    work = dest.parent / f".{dest.name}.restoring-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        work.mkdir(mode=0o700)
    except OSError as exc:
        raise _write_error(exc, archive, dest) from exc
    try:
        fd = os.open(work, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return work, None
    # Where OS locks fail, its process id (in its name) says it is at work while it lives.
    with contextlib.suppress(OSError):
        claim(fd)
    return work, fd


# -- writing ------------------------------------------------------------------------------------


def _extract(
    zf: zipfile.ZipFile,
    file: ArchiveFile,
    work: Path,
    archive: Path,
    dest: Path,
    encrypted: bool = False,
) -> None:
    """Stream one file out of the archive into ``work``, hashing it on the way, and refuse it
    at the first byte past its promised size or when its checksum differs (an encrypted
    database has no SQLite header to look at first)."""
    target = work / file.path
    database = file.path in (DB_NAME, KEY_FILE)
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except OSError as exc:
        raise _write_error(exc, archive, dest) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                src = zf.open(file.info)
            except READ_ERRORS as exc:
                raise Unreadable(str(exc)) from exc
            with src:
                head = _database_head if file.path == DB_NAME and not encrypted else None
                digest, size = copy(src, out, file.size, head)
        os.chmod(target, 0o600 if database else 0o400)
    except Overflow as exc:
        raise damaged(archive, f"{file.path} holds more than its manifest says") from exc
    except Unreadable as exc:
        raise damaged(archive, f"{file.path} cannot be read: {exc}") from exc
    except OSError as exc:
        raise _write_error(exc, archive, dest) from exc
    if size != file.size or digest != file.sha256:
        raise damaged(archive, f"{file.path} does not match its checksum")


def _database_head(chunk: bytes, size: int) -> bool:
    """Whether the first bytes are a SQLite database's header that agrees with the size the
    manifest gives (so a large file that is no database is refused before it is written)."""
    if len(chunk) < 100 or not chunk.startswith(_SQLITE_MAGIC):
        return False
    page = int.from_bytes(chunk[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return False
    pages = int.from_bytes(chunk[28:32], "big")
    counted = chunk[24:28] == chunk[92:96]  # the page count is valid (SQLite 3.7.0 and later)
    return not counted or pages == 0 or pages * page == size


def _check_database(
    path: Path,
    originals: list[ArchiveFile],
    left_out: list[str],
    archive: Path,
    keys: Keys | None = None,
) -> None:
    """The database must be ours and name exactly the originals the archive holds (with
    those a forced backup left out), before they are written."""
    key = None if keys is None else keys.database_key()
    try:
        conn = connect_file(path, "immutable=1", key)
        try:
            schema.verify_schema(
                path if key is None else conn,
                subject=f"The database in {archive.name}",
                outcome="it was not restored",
            )
            named = [
                (f"originals/{str(sha256)[:2]}/{sha256}.{ext}", size, "a photo")
                for sha256, ext, size in conn.execute("SELECT sha256, ext, file_size FROM photo")
            ]
            named += _forms_named(conn, archive)
            listed = {f.path: f.size for f in originals}
            missing = set(left_out)
            for rel, size, what in named:
                if rel in listed:
                    if listed.pop(rel) != (size if key is None else stored_size(size)):
                        raise damaged(archive, f"{rel} is not the size its database says")
                elif rel in missing:
                    missing.remove(rel)
                else:
                    raise damaged(
                        archive, f"its database names {what} it does not hold, {shown(rel)}"
                    )
        finally:
            conn.close()
    except ForeignSchema:
        raise
    except NewerLibraryError as exc:
        raise NewerLibraryError(
            f"{archive.name} was made by a newer version of the app; update the app to restore it."
        ) from exc
    except DatabaseDamaged as exc:
        raise damaged(archive, f"its database cannot be read: {exc.problem}") from exc
    except db_errors() as exc:
        raise damaged(archive, f"its database cannot be read: {exc}") from exc
    if listed:
        raise damaged(archive, f"it holds {min(listed)}, which its database does not name")
    if missing:
        raise damaged(archive, "it says it left out a photo that its database does not name")


def _forms_named(conn: Any, archive: Path) -> list[tuple[str, int, str]]:
    """(relative path, size, "a signed form") of each form the archive's database names,
    each once; none in a database from before consents held forms (schema 0007)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(consent)")}
    if "form_sha256" not in columns:
        return []
    rows = conn.execute(
        "SELECT DISTINCT form_sha256, form_kind, form_size FROM consent "
        "WHERE form_sha256 IS NOT NULL"
    )
    out = []
    for sha256, kind, size in rows:
        if not (
            isinstance(sha256, str) and len(sha256) == 64 and kind in FormKind._value2member_map_
        ):
            raise damaged(archive, "its database names a signed form this app never keeps")
        out.append((form_relpath(sha256, kind), size, "a signed form"))
    return out


def _manifest_anchor(zf: zipfile.ZipFile, archive: Path) -> dict[str, Any] | None:
    """The audit trail's anchor the manifest carries (``care.archived``), or None when it
    carries none; an anchor this app would not write is refused. The manifest was bounded and
    checked by ``read_manifest`` before."""
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except (*READ_ERRORS, ValueError) as exc:
        raise damaged(archive, f"its manifest cannot be read: {exc}") from exc
    if archived.ANCHOR_KEY not in manifest:
        return None
    anchor = archived.anchor_doc(manifest[archived.ANCHOR_KEY])
    if anchor is None:
        raise damaged(archive, "its manifest gives the audit trail's anchor as this app does not")
    return anchor


def _open_restored(
    work: Path, archive: Path, dest: Path, left_out: list[str], keys: Keys | None = None
) -> dict[str, Any]:
    """Open the library built in ``work`` (migrating an older one), check it, and count it."""
    try:
        lib = Library.open(work, keys=keys)
    except DiskFull as exc:
        raise _disk_full(archive, dest) from exc
    except TrackerError as exc:
        raise LibraryError(
            f"{archive.name} could not be restored ({_in_words(exc, work, dest)})."
        ) from exc
    try:
        # Every byte was just checked against the manifest and each original's name; what is
        # left is the database, and that it knows exactly these files. An encrypted
        # original's name is checked against its plaintext here, decrypted as it is read.
        report = check_library(lib, rehash=keys is not None)
        allowed = {Path(p).name.partition(".")[0] for p in left_out}
        left = ("missing_original", "missing_form")
        problems = [  # a broken audit chain is evidence, kept: the restored check names it
            p
            for p in report.problems
            if not (p.kind in left and p.sha256 in allowed) and p.kind != "audit"
        ]
        if problems:
            raise LibraryError(
                f"The library in {archive.name} does not pass its check "
                f"({_in_words(problems[0].detail, work, dest)}); it was not restored."
            )
        audit.record(lib, Action.RESTORED, detail=archive.name)
        # A trail cut before the backup was made is reported against the anchor it carried.
        trail = [p.detail for p in report.problems if p.kind == "audit"]
        return {**counts(lib), "audit": trail}
    finally:
        lib.close()


def _move_into_place(work: Path, archive: Path, dest: Path) -> None:
    (work / "lock").unlink(missing_ok=True)
    try:
        if dest.is_dir() and not dest.is_symlink():
            dest.rmdir()  # empty, as it was at the start; a folder filled meanwhile is kept
        os.replace(work, dest)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise UsageError(
                f"{dest} is no longer empty; {archive.name} was not restored."
            ) from exc
        raise _write_error(exc, archive, dest) from exc


# -- sentences ----------------------------------------------------------------------------------


def _disk_full(archive: Path, dest: Path) -> DiskFull:
    return DiskFull(f"The disk holding {dest.parent} is full; {archive.name} was not restored.")


def _write_error(exc: OSError, archive: Path, dest: Path) -> LibraryError:
    """The error for a failed write of the restored library, by its errno."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _disk_full(archive, dest)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FolderReadOnly(
            f"{dest.parent} cannot be written to ({exc.strerror}); {archive.name} was not restored."
        )
    return StorageError(
        f"{archive.name} could not be restored into {dest} ({exc.strerror or exc})."
    )


def _in_words(what: object, work: Path, dest: Path) -> str:
    """A message from the work done in ``work`` as the person knows it: naming ``dest``."""
    return str(what).replace(str(work), str(dest)).rstrip(".")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
