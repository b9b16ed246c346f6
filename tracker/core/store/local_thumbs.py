"""Thumbnails of an encrypted clinic library kept on the workstation (issue 21: "thumbnails are
cached locally (encrypted)"), so that a client's photos show at once over a slow link instead
of one round trip to the server each, every time the window starts.

A thumbnail is named by its original's SHA-256 and made from it alone, so a copy never goes
stale; it is kept as the library's own files are, AES-GCM under the library's key
(``crypto.cipher``, bound to its name), in the per-user cache folder
(``paths.workstation_cache()/clinic/<library id>/ab/<sha256>.thumb``, readable by the user
only), written to a temporary file and renamed into place. A copy that does not decrypt (cut
short, changed, another library's) is removed and fetched again. Only an encrypted clinic
library's thumbnails are kept so: a plain one's would be photos in the clear on the
workstation's disk. Previews (about 15 times larger) are not kept.

An erased photo's copy goes from this workstation's cache at once, and from the others' the
next time they open the library (``sweep``, with the photos the library still holds): until
then it is ciphertext that only the library's key opens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Container
from pathlib import Path

from tracker.core.crypto.cipher import FileCipher
from tracker.core.crypto.keys import Keys
from tracker.core.errors import TrackerError
from tracker.core.paths import workstation_cache

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[0-9a-f]{64}\.thumb$")


class LocalThumbs:
    """The thumbnails of one encrypted clinic library on this workstation."""

    def __init__(self, keys: Keys, root: Path | None = None) -> None:
        self.folder = (root or workstation_cache()) / "clinic" / keys.library_id
        self._cipher = FileCipher(keys)

    def _path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}.thumb"

    def get(self, sha256: str) -> bytes | None:
        """The thumbnail kept here, or None (not kept, or removed as unreadable)."""
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            return self._cipher.decrypt_bytes(data, _identity(sha256), path.name)
        except TrackerError:
            log.info("A thumbnail kept on this workstation did not decrypt; it is fetched again")
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def put(self, sha256: str, data: bytes) -> None:
        """Keep ``data`` (best effort: a full disk or a locked folder costs the copy only)."""
        path = self._path(sha256)
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, self._cipher.encrypt_bytes(data, _identity(sha256)))
            finally:
                os.close(fd)
            os.replace(part, path)
        except OSError as exc:
            log.info("A thumbnail could not be kept on this workstation (%s)", type(exc).__name__)
            with contextlib.suppress(OSError):
                part.unlink()

    def drop(self, sha256: str) -> None:
        with contextlib.suppress(OSError):
            self._path(sha256).unlink()

    def sweep(self, owned: Container[str]) -> int:
        """Remove the copies of photos the library no longer holds (and stray files); how
        many were removed."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for sub in self.folder.iterdir():
            if not sub.is_dir():
                continue
            for path in sub.iterdir():
                keep = _NAME.match(path.name) is not None and path.name[:64] in owned
                if not keep:
                    with contextlib.suppress(OSError):
                        path.unlink()
                        removed += 1
        return removed


def _identity(sha256: str) -> str:
    return f"workstation thumbnail {sha256}"
