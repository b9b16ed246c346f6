"""Reading a backup archive as something a stranger may have made (``care.restore`` uses it).

Nothing here trusts the archive: the zip's directory is bounded before zipfile reads it whole,
the manifest is bounded before it is read and checked field by field, every name appears once
and is one this app writes, every entry is stored or deflated and not encrypted and of the size
the manifest gives, and ``copy`` stops at the first byte past what an entry promised. Each
refusal is a ``LibraryError`` saying the archive "is damaged or was not made by this app".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from tracker.core.care import backups
from tracker.core.care.backups import CHUNK, FORMAT, MANIFEST, ORIGINAL_NAME
from tracker.core.crypto.layout import KEY_FILE
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import LibraryError

# Bounds on what an archive may ask of memory before its files are read: a manifest lists
# about 200 bytes per file, a zip directory about 150. ``backups.backups.MAX_FILES`` is the most an
# archive this app makes holds, so every backup it writes can be restored.
MAX_MANIFEST = 64 << 20
DIRECTORY_BYTES = 256  # per entry of the zip's directory, with room to spare
_SHA256 = re.compile(r"[0-9a-f]{64}")
# What reading an entry of a zip can raise when the archive is damaged or hostile.
READ_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    zlib.error,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
# The zip's end records (APPNOTE 4.3.16, 4.3.15, 4.3.14).
_END = struct.Struct("<4s4H2LH")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")


@dataclass(frozen=True)
class ArchiveFile:
    """A file of the archive as its manifest lists it, with its entry in the zip."""

    path: str
    sha256: str
    size: int
    info: zipfile.ZipInfo


class Overflow(Exception):
    """An entry gave more bytes than it promised."""


class Unreadable(Exception):
    """An entry's bytes could not be read out of the archive."""


def open_archive(archive: Path) -> zipfile.ZipFile:
    """The archive opened as a zip, its directory's size checked first: zipfile reads the whole
    directory into memory when it opens one."""
    try:
        with archive.open("rb") as fh:
            found = _directory(fh)
        if found is not None:
            entries, size = found
            if (
                entries > backups.MAX_FILES + 1
                or size > (min(entries, backups.MAX_FILES) + 2) * DIRECTORY_BYTES
            ):
                raise damaged(archive, "it holds more files than this app puts in one archive")
        return zipfile.ZipFile(archive)
    except OSError as exc:
        raise LibraryError(f"{archive.name} cannot be read ({exc.strerror or exc}).") from exc
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error) as exc:
        raise LibraryError(
            f"{archive.name} is not a complete backup archive (it is damaged or was cut short)."
        ) from exc


def _directory(fh: BinaryIO) -> tuple[int, int] | None:
    """The number of entries and the size in bytes of the zip's directory, as its end record
    says (found the way zipfile finds it); None when there is none, for zipfile to refuse."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    start = max(size - (1 << 16) - _END.size, 0)
    fh.seek(start)
    tail = fh.read()
    at = len(tail) - _END.size
    if at < 0:
        return None
    if not (tail[at : at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _END.size > len(tail):
            return None
    end = _END.unpack_from(tail, at)
    entries, directory = end[4], end[5]
    locator_at = start + at - _END64_LOCATOR.size
    if locator_at - _END64.size >= 0:
        fh.seek(locator_at - _END64.size)
        record = fh.read(_END64.size + _END64_LOCATOR.size)
        if record[_END64.size : _END64.size + 4] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            end64 = _END64.unpack_from(record)
            entries, directory = end64[7], end64[8]
    return entries, directory


def read_manifest(zf: zipfile.ZipFile, archive: Path) -> tuple[list[ArchiveFile], list[str]]:
    """The files to restore, the database first, each checked against its zip entry; and the
    originals a forced backup left out."""
    infos = zf.infolist()
    if len(infos) > backups.MAX_FILES + 1:
        raise damaged(archive, "it holds more files than this app puts in one archive")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in by_name:  # zipfile keeps both; only the last would be read by name
            raise damaged(archive, f"it holds {shown(info.filename)} twice")
        by_name[info.filename] = info
    manifest = _load_manifest(zf, by_name.pop(MANIFEST, None), archive)
    entries = manifest.get("files")
    if not isinstance(entries, list) or not entries:
        raise LibraryError(f"The manifest of {archive.name} lists no files.")
    if len(entries) > backups.MAX_FILES:
        raise damaged(archive, "its manifest lists more files than this app puts in one archive")
    files: dict[str, ArchiveFile] = {}
    # An encrypted library's archive holds its key file too, and gives each original's sha256
    # as stored (encrypted): its name is checked against its plaintext once it is unlocked.
    encrypted = manifest.get("encrypted") is True
    ours = {DB_NAME, KEY_FILE} if encrypted else {DB_NAME}
    for n, entry in enumerate(entries, start=1):
        path, sha256, size = _fields(entry, archive, n)
        if path in files:
            raise damaged(archive, f"its manifest lists {shown(path)} twice")
        if path not in ours and not ORIGINAL_NAME.fullmatch(path):
            raise LibraryError(
                f"{archive.name} holds an unexpected file ({shown(path)}); it was not restored."
            )
        if path not in ours and not encrypted and Path(path).name.partition(".")[0] != sha256:
            raise damaged(archive, f"{path} is not named after its checksum")
        held = by_name.get(path)
        if held is None:
            raise damaged(archive, f"its manifest lists {shown(path)}, which it does not hold")
        _check_entry(held, archive)
        if held.file_size != size:
            raise damaged(archive, f"{path} is not the size its manifest says")
        files[path] = ArchiveFile(path, sha256, size, held)
    unlisted = sorted(set(by_name) - set(files))
    if unlisted:
        raise damaged(archive, f"it holds {shown(unlisted[0])}, which its manifest does not list")
    database = files.pop(DB_NAME, None)
    if database is None:
        raise LibraryError(f"{archive.name} holds no database.")
    if encrypted and KEY_FILE not in files:
        raise damaged(archive, f"it is encrypted but holds no key file ({KEY_FILE})")
    return [database, *files.values()], _left_out(manifest, files, archive)


def _load_manifest(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo | None, archive: Path
) -> dict[str, Any]:
    if info is None:
        raise LibraryError(f"{archive.name} has no manifest; it is not a backup made by this app.")
    _check_entry(info, archive)
    if info.file_size > MAX_MANIFEST:
        raise damaged(archive, "its manifest is larger than any this app writes")
    data = bytearray()
    try:
        with zf.open(info) as fh:  # a megabyte at a time: zipfile inflates as much as is asked
            while len(data) <= info.file_size and (chunk := fh.read(CHUNK)):
                data += chunk
    except READ_ERRORS as exc:
        raise damaged(archive, f"its manifest cannot be read: {exc}") from exc
    if len(data) != info.file_size:
        raise damaged(archive, "its manifest is not the size the archive's directory says")
    try:
        manifest = json.loads(data, object_pairs_hook=_without_repeats)
    except (ValueError, RecursionError) as exc:
        raise damaged(archive, "its manifest is not JSON as this app writes it") from exc
    if not isinstance(manifest, dict):
        raise damaged(archive, "its manifest is not the list of files this app writes")
    version = manifest.get("format")
    if type(version) is not int or version != FORMAT:
        raise LibraryError(f"{archive.name} is a backup in a format this version does not know.")
    return manifest


def _without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when it gives a key twice (json keeps the last silently)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a key is given twice")
    return out


def _fields(entry: object, archive: Path, n: int) -> tuple[str, str, int]:
    """An entry of the manifest's files as (path, sha256, size), each of the type it must be."""
    if isinstance(entry, dict):
        path, sha256, size = entry.get("path"), entry.get("sha256"), entry.get("size")
        if (
            isinstance(path, str)
            and isinstance(sha256, str)
            and _SHA256.fullmatch(sha256)
            and type(size) is int
            and size >= 0
        ):
            return path, sha256, size
    raise damaged(archive, f"file {n} of its manifest is not as this app lists one")


def _left_out(manifest: dict[str, Any], files: dict[str, ArchiveFile], archive: Path) -> list[str]:
    """The originals a forced backup could not archive: their photos come without them."""
    entries = manifest.get("left_out", [])
    paths = (
        [e.get("path") for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    )
    named = [
        p for p in paths if isinstance(p, str) and ORIGINAL_NAME.fullmatch(p) and p not in files
    ]
    if not isinstance(entries, list) or len(set(named)) != len(entries):
        raise damaged(archive, "its manifest lists what it left out in a way this app does not")
    return named


def _check_entry(info: zipfile.ZipInfo, archive: Path) -> None:
    if info.flag_bits & 0x1:
        raise damaged(archive, f"{shown(info.filename)} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise damaged(
            archive, f"{shown(info.filename)} is compressed in a way this app does not use"
        )


def copy(
    src: IO[bytes],
    out: IO[bytes],
    limit: int,
    head: Callable[[bytes, int], bool] | None = None,
) -> tuple[str, int]:
    """Copy ``src`` to ``out``, never more than ``limit`` bytes: ``Overflow`` at the first
    byte past it (nothing past it is written), ``Unreadable`` when ``src`` fails or ``head``
    refuses the first chunk. Returns the sha256 and the size of what was copied."""
    digest, size = hashlib.sha256(), 0
    while True:
        try:
            chunk = src.read(min(CHUNK, limit - size + 1))
        except READ_ERRORS as exc:
            raise Unreadable(str(exc)) from exc
        if not chunk:
            return digest.hexdigest(), size
        if size + len(chunk) > limit:
            raise Overflow
        if size == 0 and head is not None and not head(chunk, limit):
            raise Unreadable("it is not a database")
        size += len(chunk)
        digest.update(chunk)
        out.write(chunk)


def damaged(archive: Path, reason: str) -> LibraryError:
    return LibraryError(
        f"{archive.name} is damaged or was not made by this app ({reason}); nothing was restored."
    )


def shown(name: str) -> str:
    """A name from the archive fit for a one-line message: quoted, control and invisible
    characters escaped, cut short when it is long."""
    return repr(name if len(name) <= 120 else name[:117] + "…")
