"""``tracker --library postgresql://… backup OUT.zip`` (issue 21): a clinic library backed up in
the same archive as a library folder (``care.backups``), so that ``tracker restore`` makes a
working library folder of it, and ``tracker clinic migrate-from`` of that folder puts it back.

Why that format and not ``pg_dump``: a restore of it is already checked to the last byte
(``care.restore``: bounded reading, the schema, every file against the manifest and the
database, a check of the library made), it needs nothing but this app to restore anywhere,
even without a server, and one archive format means one restore to trust. The server's own
tools (``pg_dump``, base backups) still back up the whole database, logins and all; this is
the library, as its records and photos.

It is one moment of the library: everything is read in one ``REPEATABLE READ`` transaction
of the server, photos and rows alike (the originals are in the same database). The rows are
copied with their ids (``table_copy``) into a new SQLite database made by the migrations (so
the restore finds exactly the schema it expects), taken as an image with SQLite's backup API.
Each photo's original and consent's signed form is read from the blob store, whole and
checked against its name (a damaged or missing one is refused, naming it, unless ``force``:
then it is left out and listed, as a folder's forced backup does); thumbnails and previews
are made again after a restore. The archive is written beside ``out`` under an OS lock, read
back entry by entry against its manifest, and only then renamed into place. There is no audit
anchor to carry (the server's trail is append-only by its rights); the backup's own entry is
the caller's, after it (``cli.care``), as for a folder.

Only an admin, a practitioner or the library's owner backs it up: the server accepts a
backup's audit entry from them only (``db.roles``), so anyone else is refused first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker import __version__
from tracker.core.care import table_copy
from tracker.core.care.backups import (
    CHANGED,
    CHUNK,
    FORMAT,
    MANIFEST,
    MAX_FILES,
    Damage,
    Progress,
    refusal,
    remove_abandoned,
)
from tracker.core.care.clinic_migrate import named_files
from tracker.core.care.unpack import open_archive, read_manifest
from tracker.core.db import engine as db
from tracker.core.db.engine import DB_NAME
from tracker.core.db.snapshots import database_image
from tracker.core.errors import (
    LibraryError,
    NotFoundError,
    OriginalsDamaged,
    StorageError,
    UsageError,
)
from tracker.core.store.blobs import BlobDamaged
from tracker.core.store.lock import claim
from tracker.core.store.photos import fsync_dir
from tracker.core.store.server_library import ServerLibrary

_MAY_BACK_UP = (
    "SELECT NOT row_security_active('audit') OR pg_has_role('tracker_admin', 'MEMBER') "
    "OR pg_has_role('tracker_practitioner', 'MEMBER')"
)


def backup_server(
    lib: ServerLibrary, out: Path, *, force: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """Write the clinic library to ``out`` (a .zip) as a folder's backup archive, complete or
    not at all (see the module); as ``backups.backup``: {"file", "files", "bytes",
    "left_out"}. ``OriginalsDamaged`` names what is damaged, unless ``force``. An encrypted
    clinic library is refused: its photos would be in the archive in plain."""
    if lib.keys is not None:
        raise UsageError(encrypted_refusal(lib.server))
    _check_destination(out)
    remove_abandoned(out)
    part = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    with tempfile.TemporaryDirectory(prefix="stria-") as tmp, lib.session() as s:
        # The first statement of the transaction: all it reads is one moment.
        s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        if not s.scalar(text(_MAY_BACK_UP)):
            raise LibraryError(
                f"{s.scalar(text('SELECT session_user'))} may not back up {lib.server}: only "
                "an admin or a practitioner may (the server enters each backup in the audit "
                "trail, from them only)."
            )
        image = _database(s, Path(tmp))
        try:
            files, damage = _write(lib, s, part, image, force, progress)
            if damage and not force:
                raise OriginalsDamaged(
                    refusal(
                        damage,
                        "repair it first ('tracker check' says what), or back up what is "
                        "there with 'tracker backup --force', which leaves those out",
                    ),
                    tuple(damage),
                )
            _read_back(part, out)
            os.replace(part, out)
            fsync_dir(out.parent)
        except OSError as exc:
            raise LibraryError(
                f"The backup could not be written to {out} ({exc.strerror or exc})."
            ) from exc
        finally:
            part.unlink(missing_ok=True)
    return {
        "file": str(out),
        "files": files,
        "bytes": out.stat().st_size,
        "left_out": [d.to_json() for d in damage],
    }


def encrypted_refusal(server: str | None) -> str:
    """Why the encrypted clinic library ``server`` is not backed up (``backup_server``'s
    refusal, which the window says before a file is chosen)."""
    return (
        f"The photos of {server} are encrypted, and this backup would hold them in plain, so "
        "it is not made: back the server up with its own tools (pg_dump, base backups), which "
        "keep the photos encrypted; nothing was written."
    )


def _check_destination(out: Path) -> None:
    if out.suffix.lower() != ".zip":
        raise UsageError(f"{out.name}: a backup is a .zip archive; choose a name ending in .zip.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")


def _database(s: Session, tmp: Path) -> bytes:
    """The rows ``s`` sees, copied into a new SQLite database made by the migrations, as one
    image of it."""
    path = tmp / DB_NAME
    engine = db.open_database(path, tmp / "backups")
    try:
        with db.session_scope(db.session_factory(engine)) as dst:
            table_copy.copy_rows(s, dst)
    finally:
        engine.dispose()
    return database_image(path)


def _write(
    lib: ServerLibrary,
    s: Session,
    part: Path,
    image: bytes,
    force: bool,
    progress: Progress | None,
) -> tuple[int, list[Damage]]:
    """Write the archive to ``part``; how many files it holds, and what it could not hold.
    Without ``force``, once damage is found the rest is only checked (to name all of it)."""
    named = named_files(s)
    if len(named) > MAX_FILES:
        raise UsageError(
            f"The library holds {len(named):,} photos and forms, more than one archive holds "
            f"({MAX_FILES:,}); back the database up with the server's own tools instead."
        )
    fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    listed: list[dict[str, Any]] = []
    damage: list[Damage] = []
    with os.fdopen(fd, "w+b") as fh:
        claim(fd)
        now = time.localtime()[:6]
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            info = zipfile.ZipInfo(DB_NAME, now)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, image)
            listed.append(_entry(DB_NAME, image))
            for n, file in enumerate(named, start=1):
                try:
                    data = lib.blobs.read(s, "original", file.sha256)
                except NotFoundError:
                    damage.append(file.damage("missing"))
                except BlobDamaged:
                    damage.append(file.damage(CHANGED))
                else:
                    if len(data) != file.size:
                        damage.append(file.damage(CHANGED))
                    elif force or not damage:
                        zf.writestr(zipfile.ZipInfo(file.relpath, now), data)
                        listed.append(_entry(file.relpath, data))
                if progress:
                    progress(n, len(named), file.relpath)
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "app": f"stria-tracker {__version__}",
                "created": dt.datetime.now().isoformat(timespec="seconds"),
                "server": lib.server,
                "files": listed,
            }
            if damage:
                manifest["left_out"] = [d.to_json() for d in damage]
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    return len(listed), damage


def _entry(path: str, data: bytes) -> dict[str, Any]:
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _read_back(part: Path, out: Path) -> None:
    """Read the written archive as a restore will (``unpack``: its directory and manifest
    bounded and checked) and hash every file against its manifest."""
    try:
        with open_archive(part) as zf:
            files, _left_out = read_manifest(zf, part)
            for file in files:
                digest, size = hashlib.sha256(), 0
                with zf.open(file.info) as fh:
                    while chunk := fh.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                if size != file.size or digest.hexdigest() != file.sha256:
                    raise StorageError(f"{file.path} does not read back as it was written")
    except LibraryError as exc:
        raise StorageError(
            f"The backup written to {out} did not read back as it was written "
            f"({str(exc).rstrip('.')}); it was not kept."
        ) from exc
