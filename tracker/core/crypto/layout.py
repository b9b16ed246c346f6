"""What an encrypted library looks like on disk, without loading any cryptography: the name
of its key file and the sizes of its encrypted files. A plain library's every command and
the window's start read only this (``cryptography`` loads when a library is encrypted)."""

from __future__ import annotations

import struct
from pathlib import Path

KEY_FILE = "library.key"

MAGIC = b"STRIAENC"
VERSION = 1
CHUNK = 1 << 20
TAG = 16
HEADER = struct.Struct("!8sBBI12s48s8s")  # see ``cipher``
HEADER_SIZE = HEADER.size


def is_encrypted(folder: Path) -> bool:
    """Whether the library in ``folder`` is encrypted (it has a key file)."""
    return (folder / KEY_FILE).exists()


def stored_size(plain: int) -> int:
    """How many bytes a file of ``plain`` bytes takes encrypted (a backup's sizes are checked
    against the database's before a byte is restored)."""
    return HEADER_SIZE + plain + (plain // CHUNK + 1) * TAG


def plain_size(stored: int) -> int:
    """The plaintext's size of a whole encrypted file of ``stored`` bytes (``stored_size``
    turned round)."""
    body = stored - HEADER_SIZE
    return body - (body // (CHUNK + TAG) + 1) * TAG


_SQLITE_MAGIC = b"SQLite format 3\0"


def lost_its_key(folder: Path, db_name: str) -> bool:
    """Whether the library in ``folder`` was encrypted and has lost its key file: no key file,
    a database that does not begin as SQLite's do (SQLCipher's begins with random bytes), and
    an original that begins as this app's encrypted files do. One read of 16 bytes for a
    plain library."""
    try:
        with (folder / db_name).open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    if len(head) < 16 or head == _SQLITE_MAGIC or is_encrypted(folder):
        return False
    for sub in sorted((folder / "originals").glob("*/*"))[:8]:
        try:
            with sub.open("rb") as fh:
                if fh.read(len(MAGIC)) == MAGIC:
                    return True
        except OSError:
            continue
    return False
