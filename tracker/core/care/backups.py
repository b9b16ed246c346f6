"""Backups: whole-library archives (database snapshots in ``backups/`` are ``db.snapshots``).

An archive (``tracker backup OUT.zip``) holds the database copied with SQLite's backup API
(consistent while the library is open), every original, and ``manifest.json`` with the size and
sha256 of each file. ``care.restore`` makes a library of one again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracker import __version__
from tracker.core.db.engine import DB_NAME, copy_database
from tracker.core.db.snapshots import record_archive
from tracker.core.errors import LibraryError, UsageError
from tracker.core.store.library import Library

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1 << 20
ORIGINAL_NAME = re.compile(r"^originals/[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|heic|webp|tif)$")
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
