"""Backups: whole-library archives (database snapshots in ``backups/`` are ``db.snapshots``).

An archive (``tracker backup OUT.zip``) holds the database copied with SQLite's backup API
(consistent while the library is open), every original, and ``manifest.json`` with the size and
sha256 of each file. ``restore`` checks every byte against the manifest before it declares
success, and builds the library in a temporary folder renamed into place only at the end: a
damaged or truncated archive leaves nothing at the destination.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracker import __version__
from tracker.core.care.check import check_library
from tracker.core.db.engine import DB_NAME, copy_database
from tracker.core.db.snapshots import record_archive
from tracker.core.errors import LibraryError, UsageError
from tracker.core.queries.listing import counts
from tracker.core.store.library import Library

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1 << 20
_ORIGINAL = re.compile(r"^originals/[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|heic|webp|tif)$")
Progress = Callable[[int, int, str], None]


# -- archives ---------------------------------------------------------------------------------


def _add(
    zf: zipfile.ZipFile, path: Path, name: str, compress: int = zipfile.ZIP_STORED
) -> tuple[str, int]:
    """Copy ``path`` into the archive as ``name``, hashing it on the way: read once."""
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = compress
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as src, zf.open(info, "w") as dst:  # info knows the size: zip64 if needed
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def backup(
    lib: Library,
    out: Path,
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Write the whole library to ``out`` (a .zip), complete or not at all."""
    if out.suffix.lower() != ".zip":
        raise UsageError(f"{out.name}: a backup is a .zip archive; choose a name ending in .zip.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    if out.resolve().is_relative_to(lib.root.resolve()):
        raise UsageError("Put the backup outside the library folder, ideally on another disk.")
    originals = list(lib.store.iter_originals())
    total = len(originals) + 1
    part = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    db_copy = part.with_name(part.name + ".sqlite3")
    files: list[dict[str, Any]] = []
    try:
        copy_database(lib.root / DB_NAME, db_copy)
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            sha, size = _add(zf, db_copy, DB_NAME, zipfile.ZIP_DEFLATED)
            files.append({"path": DB_NAME, "sha256": sha, "size": size})
            if progress:
                progress(1, total, DB_NAME)
            for n, (_sha, _ext, relpath) in enumerate(originals, start=2):
                if cancel and cancel():
                    raise UsageError("The backup was cancelled; nothing was written.")
                sha, size = _add(zf, lib.root / relpath, relpath)
                files.append({"path": relpath, "sha256": sha, "size": size})
                if progress:
                    progress(n, total, relpath)
            manifest = {
                "format": FORMAT,
                "app": f"stria-tracker {__version__}",
                "created": dt.datetime.now().isoformat(timespec="seconds"),
                "files": files,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
        os.chmod(part, 0o600)  # health data: readable by its owner only, like the library
        with part.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(part, out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise LibraryError(
            f"The backup could not be written to {out} ({exc.strerror or exc})."
        ) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        db_copy.unlink(missing_ok=True)
    record_archive(lib.root / "backups", out)
    return {"file": str(out), "files": len(files), "bytes": out.stat().st_size}


def restore(archive: Path, dest: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Make a new library at ``dest`` from an archive, every file checked against the manifest."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} already exists and is not empty; restore into a new folder.")
    if not archive.is_file():
        raise UsageError(f"There is no backup archive at {archive}.")
    parent = dest.parent
    if not parent.is_dir():
        raise UsageError(f"The folder {parent} does not exist.")
    work = parent / f".{dest.name}.restoring-{secrets.token_hex(4)}"
    try:
        try:
            zf = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as exc:
            raise LibraryError(
                f"{archive.name} is not a complete backup archive (it is damaged or was cut short)."
            ) from exc
        with zf:
            try:
                manifest = json.loads(zf.read(MANIFEST))
            except KeyError as exc:
                raise LibraryError(
                    f"{archive.name} has no manifest; it is not a backup made by this app."
                ) from exc
            except ValueError as exc:
                raise LibraryError(f"The manifest of {archive.name} is damaged.") from exc
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise LibraryError(
                    f"{archive.name} is a backup in a format this version does not know."
                )
            entries = manifest.get("files")
            if not isinstance(entries, list) or not entries:
                raise LibraryError(f"The manifest of {archive.name} lists no files.")
            names = set(zf.namelist()) - {MANIFEST}
            listed = {e.get("path") for e in entries if isinstance(e, dict)}
            if names != listed:
                raise LibraryError(
                    f"{archive.name} does not hold exactly the files its manifest lists; it has been altered."
                )
            if DB_NAME not in listed:
                raise LibraryError(f"{archive.name} holds no database.")
            work.mkdir(mode=0o700)
            for n, entry in enumerate(entries, start=1):
                path = str(entry["path"])
                if path != DB_NAME and not _ORIGINAL.match(path):
                    raise LibraryError(
                        f"{archive.name} holds an unexpected file ({path}); it was not restored."
                    )
                target = work / path
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                try:
                    with zf.open(path) as src, target.open("wb") as out:
                        while chunk := src.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise LibraryError(
                        f"{path} in {archive.name} cannot be read ({exc}); the archive is damaged."
                    ) from exc
                if digest.hexdigest() != entry.get("sha256") or size != entry.get("size"):
                    raise LibraryError(
                        f"{path} in {archive.name} does not match its checksum; the archive is damaged."
                    )
                if path != DB_NAME:
                    name_sha = Path(path).stem
                    if name_sha != digest.hexdigest():
                        raise LibraryError(
                            f"{path} in {archive.name} is not the photo its name says."
                        )
                    os.chmod(target, 0o400)
                else:
                    os.chmod(target, 0o600)
                if progress:
                    progress(n, len(entries), path)
        # The database must open, pass its checks, and know exactly these originals.
        lib = Library.open(work)
        try:
            # Every byte was just checked against the manifest and each original's name; what is
            # left to check is the database and that it knows exactly these files.
            report = check_library(lib, rehash=False)
            if not report.ok:
                raise LibraryError(
                    f"The restored library does not pass its check: {report.problems[0].detail}"
                )
            held = counts(lib)
        finally:
            lib.close()
        (work / "lock").unlink(missing_ok=True)
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {"library": str(dest), "files": len(entries), **held}
