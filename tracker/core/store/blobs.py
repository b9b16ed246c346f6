"""The one interface behind which a library keeps its originals and derived files (issue 21).

``BlobStore`` is what the rest of the app needs of a store, taken from what ``PhotoStore``'s
callers do (``services.import_reading``, ``imports``, ``import_undo``, ``erase``,
``consent_forms``, ``care.check``, ``backups``, ``repair``, ``Library.derived``): put an
original durably, ask whether it is there, stream it or read it whole (checked), find one that
is no longer what was stored, remove one; and write, read and forget a photo's thumbnail and
preview. Two implementations pass the same contract tests (``tests/core/store/
test_blob_contract.py``): ``blobs_db.DatabaseBlobStore`` (chunks in the database, the
default for a clinic: one engine to back up) and ``blobs_folder.FolderBlobStore`` (files in a
shared folder, write-once).

A blob is named by its kind and a SHA-256: an original by the SHA-256 of its own bytes (so it
is written once: the same photo twice is one blob, and bytes that do not hash to the name are
refused); a thumbnail or preview by its original's, sealed with it (``photos.seal``) so a
stale or swapped one is found when read. Every call takes the caller's ``Session``: what is
put or deleted is kept only when that session's transaction commits, with the photo's row,
and a rolled-back import leaves no blob. With a ``FileCipher`` a store writes only
ciphertext, encrypted here on the workstation, bound to what each blob is (``identity``), so
the server (or the shared folder) never holds a photo in the clear.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol

from tracker.core.crypto.layout import CHUNK
from tracker.core.errors import EncryptedFileRefused, NotFoundError, StorageError
from tracker.core.files import ChunkReader

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.core.crypto.cipher import FileCipher

BlobKind = Literal["original", "thumbs", "previews"]
KINDS: tuple[BlobKind, ...] = ("original", "thumbs", "previews")
DERIVED: tuple[BlobKind, ...] = ("thumbs", "previews")


class BlobDamaged(StorageError):
    """A stored blob is not what was stored (a byte changed, a chunk cut short or missing, or
    another blob's bytes in its place); nothing of it is used."""


class BlobRefused(StorageError):
    """Bytes given to a store are not what their name says (an original whose SHA-256 is not
    its name); nothing was stored."""


class BlobStore(Protocol):
    """Originals and derived files, kept with the caller's transaction (see the module)."""

    @property
    def encrypted(self) -> bool:
        """Whether what it writes is ciphertext."""
        ...

    def put(self, s: Session, kind: BlobKind, sha256: str, data: bytes) -> bool:
        """Store ``data`` as the blob ``kind``/``sha256``, kept if ``s`` commits. An original
        is written once: False when it is there already (nothing is written), BlobRefused when
        ``data`` does not hash to ``sha256``. A thumbnail or preview replaces the one there."""
        ...

    def has(self, s: Session, kind: BlobKind, sha256: str) -> bool:
        """Whether the blob is stored (or put in ``s``, not yet committed)."""
        ...

    def size(self, s: Session, kind: BlobKind, sha256: str) -> int:
        """The blob's plain size in bytes (what was put); NotFoundError when missing."""
        ...

    def open(
        self, s: Session, kind: BlobKind, sha256: str
    ) -> contextlib.AbstractContextManager[BinaryIO]:
        """A reader of the blob's plain bytes, a chunk at a time (hashing, export, backup):
        BlobDamaged as soon as what is read is found not to be what was stored, and at the
        latest before its last chunk is returned; NotFoundError when missing."""
        ...

    def read(self, s: Session, kind: BlobKind, sha256: str) -> bytes:
        """The blob's plain bytes, whole and checked (see ``open``)."""
        ...

    def read_small(self, s: Session, kind: BlobKind, shas: Iterable[str]) -> dict[str, bytes]:
        """The thumbnails or previews of ``shas`` that are there and whole, read in as few
        statements as the store can (one, in the database); the others left out."""
        ...

    def delete(self, s: Session, kind: BlobKind, sha256: str) -> None:
        """Remove the blob when ``s`` commits (nothing when it is not there)."""
        ...

    def verify(self, s: Session, kind: BlobKind, sha256: str) -> str | None:
        """The sentence that says what is wrong with a stored blob (read whole, decrypted and
        hashed), or None when it is intact; missing is wrong too."""
        ...

    def stored(self, s: Session) -> Iterator[tuple[BlobKind, str]]:
        """Every blob stored, as (kind, sha256): for a check, and to sweep what no row names."""
        ...


# -- shared by the implementations ----------------------------------------------------------


def check_name(kind: str, sha256: str) -> None:
    """Refuse a name that is not a blob's (a bug in the caller, never a person's input)."""
    if kind not in KINDS:
        raise ValueError(f"not a kind of blob: {kind!r}")
    if not is_sha(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")


def is_sha(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def identity(kind: BlobKind, sha256: str) -> str:
    """What a blob's ciphertext is bound to: one blob's bytes put in another's place do not
    decrypt."""
    return f"blob-{kind}:{sha256}"


def describe(kind: BlobKind, sha256: str) -> str:
    """The blob's name as a sentence begins with it."""
    short = sha256[:12]
    if kind == "original":
        return f"The stored original {short}"
    return f"The stored {'thumbnail' if kind == 'thumbs' else 'preview'} of {short}"


def missing(kind: BlobKind, sha256: str) -> NotFoundError:
    remedy = (
        "; put it back from a backup ('tracker restore')"
        if kind == "original"
        else " (it is made again from the original)"
    )
    return NotFoundError(f"{describe(kind, sha256)} is not in the store{remedy}.")


def refused(kind: BlobKind, sha256: str, data: bytes) -> None:
    """BlobRefused when ``data`` is not the original named ``sha256``."""
    if kind == "original" and hashlib.sha256(data).hexdigest() != sha256:
        raise BlobRefused(
            f"{describe(kind, sha256)} was not stored: the bytes given are not the photo of "
            "that SHA-256 (another photo's, or changed since they were hashed)."
        )


def plain_pieces(data: bytes | memoryview) -> Iterator[memoryview]:
    """``data`` in chunks of ``CHUNK`` bytes, as the cipher cuts it: always ``len // CHUNK +
    1`` pieces, the last one short (empty when the size is a multiple of the chunk)."""
    view = memoryview(data)
    for index in range(len(view) // CHUNK + 1):
        yield view[index * CHUNK : (index + 1) * CHUNK]


class VerifiedReader(ChunkReader):
    """A file object over a blob's plain chunks that hashes them as they go: the last chunk
    is held back until the whole is known to be the original named ``sha256`` of ``size``
    bytes; else BlobDamaged (``what`` begins its sentence) and nothing more is returned."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        sha256: str,
        size: int,
        what: str,
        close: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self._chunks = chunks
        self._sha256 = sha256
        self._size = size
        self._what = what
        self._close = close
        self._digest = hashlib.sha256()
        self._seen = 0
        self._ahead: bytes | None = None
        self._done = False

    def next_chunk(self) -> bytes:
        """The next checked chunk, b"" after the last."""
        if self._done:
            return b""
        if self._ahead is None:
            self._ahead = self._pull()
        piece, self._ahead = self._ahead, self._pull()
        if not self._ahead:  # ``piece`` is the last: everything has been hashed
            self._done = True
            if self._seen != self._size or self._digest.hexdigest() != self._sha256:
                raise BlobDamaged(
                    f"{self._what} is damaged (a byte changed, or a part of it is missing): "
                    "it is not the photo that was stored; nothing of it is used."
                )
        return piece

    def _pull(self) -> bytes:
        for piece in self._chunks:
            if piece:
                self._digest.update(piece)
                self._seen += len(piece)
                return piece
        return b""

    def close(self) -> None:
        if not self.closed:
            self._close()
        super().close()


def decrypted(cipher: FileCipher, fh: BinaryIO, kind: BlobKind, sha256: str) -> Iterator[bytes]:
    """The plaintext of the encrypted blob that ``fh`` reads, a chunk at a time, each checked
    as it comes (``cipher.DecryptingReader``); BlobDamaged when one is not what was stored."""
    what = describe(kind, sha256)
    try:
        reader = cipher.open(fh, identity(kind, sha256), what)
        while piece := reader.next_chunk():
            yield piece
    except EncryptedFileRefused as exc:
        raise BlobDamaged(str(exc)) from exc


def read_all(reader: BinaryIO) -> bytes:
    """Everything ``reader`` gives, held once (its chunks joined)."""
    parts = []
    while piece := reader.read(CHUNK):
        parts.append(piece)
    return b"".join(parts)
