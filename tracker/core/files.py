"""Files: writing exports complete or not at all, hashing files without reading them whole,
and the files a list of files and folders names."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from tracker.core.errors import UsageError

PRIVATE_UMASK = 0o077  # files 0600 and folders 0700: everything the app writes is the owner's


def private_umask() -> None:
    """Make every file and folder this process creates the owner's alone, whatever the
    user's umask (photos are health data): called first by the command line and the window."""
    os.umask(PRIVATE_UMASK)


def refuse_inside(root: Path | None, out: Path) -> None:
    """UsageError when ``out`` (symlinks followed) lies inside the library at ``root``: only
    the library writes into its folder, and an export there could replace an original.
    ``root`` None: a library in a database (``lib.server``), with no folder to write into."""
    if root is None:
        return
    try:
        inside = out.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop: not a place to write either
        inside = True
    if inside:
        raise UsageError(
            f"{out} is inside the library folder {root}; write it somewhere outside the library."
        )


def write_atomically(out: Path, data: bytes) -> None:
    """Write ``out`` completely or not at all (a temporary file, the owner's only, renamed
    into place); an existing ``out`` that is not a regular file is refused, never followed."""
    if out.is_symlink() or (out.exists() and not out.is_file()):
        raise UsageError(f"{out} is not a regular file; choose another name.")
    part = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise UsageError(f"{out} could not be written ({exc.strerror or exc}).") from exc


def sha256_of(fh: BinaryIO, chunk: int = 1 << 20) -> str:
    """The sha256 of what is left to read in ``fh``, read a megabyte at a time."""
    digest = hashlib.sha256()
    while block := fh.read(chunk):
        digest.update(block)
    return digest.hexdigest()


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files to import: folders are walked (sorted, hidden entries skipped), files kept as given."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
        else:
            out.append(path)
    return out


def dated_name(folder: Path, words: Sequence[str], suffix: str, day: dt.date) -> Path:
    """A file name to offer for something made today, that names no file already there: the
    words (what it is, whose, which area) and the date, ``backup-Ana Ruiz-2026-12-01.zip``,
    then ``…-2026-12-01-2.zip`` and on (a second backup of the same day must not be offered
    the first one's name). A word is kept readable but cannot leave ``folder`` or upset a
    file system: separators, control characters and Windows' reserved ones become "-"."""
    parts = [_file_word(w) for w in words]
    base = "-".join([p for p in parts if p] + [day.isoformat()])
    candidate = folder / f"{base}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{base}-{n}{suffix}"
        n += 1
    return candidate


def _file_word(word: str) -> str:
    kept = "".join("-" if c in '/\\:*?"<>|' or not c.isprintable() else c for c in word)
    return kept.strip(" .-")[:60].strip()


class ChunkReader(io.RawIOBase):
    """A read-only file object over the pieces ``next_chunk`` returns (b"" after the last):
    what the encrypted file's and the stored blob's readers share."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def next_chunk(self) -> bytes:
        raise NotImplementedError

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            piece = self.next_chunk()
            if not piece:
                return 0
            self._buffer = memoryview(piece)
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n
