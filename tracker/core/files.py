"""Files: writing exports complete or not at all, and hashing files without reading them whole."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from tracker.core.errors import UsageError


def write_atomically(out: Path, data: bytes) -> None:
    """Write ``out`` completely or not at all (a temporary file renamed into place)."""
    part = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    try:
        with part.open("wb") as fh:
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
