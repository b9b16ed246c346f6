"""Restore: a new library from a backup archive (``backups.backup`` makes them).

``restore`` checks every byte against the archive's manifest before it declares success, and
builds the library in a temporary folder renamed into place only at the end: a damaged or
truncated archive leaves nothing at the destination.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any

from tracker.core.care.backups import CHUNK, FORMAT, MANIFEST, ORIGINAL_NAME, Progress
from tracker.core.care.check import check_library
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import LibraryError, UsageError
from tracker.core.queries.listing import counts
from tracker.core.store.library import Library


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
                if path != DB_NAME and not ORIGINAL_NAME.match(path):
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
