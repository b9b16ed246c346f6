"""Originals and derived files in the library's database (issue 21): the clinic's default store.

A blob is a ``blob`` row (its plain size, its number of chunks, and its encryption header or
NULL) and its ``blob_chunk`` rows in order (migration 0006). Plain, chunk ``i`` is bytes
``i·CHUNK`` to ``(i+1)·CHUNK`` of the blob; encrypted, chunk ``i`` is the cipher's chunk ``i``
(its ciphertext and tag: ``crypto.cipher``), the header apart in the row, so a chunk of
ciphertext is 16 bytes larger than its plaintext. Either way there are ``size // CHUNK + 1``
chunks, the last one short. Everything is written with the caller's ``Session``, in the
transaction of the photo's row: a rolled-back import leaves no blob, and one backup of the
database holds the photos with their records.

Reading fetches one chunk at a time, decrypts it (each chunk is authenticated with the header,
the blob's identity, its index and whether it is the last) and hashes what it returns, so a
40 MB original is never in memory as ciphertext and plaintext at once, and a changed byte, a
chunk cut short, missing or swapped, or a blob put under another's name is refused with a
sentence (``BlobDamaged``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, cast

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from tracker.core.crypto.layout import CHUNK
from tracker.core.db.models import Blob, BlobChunk
from tracker.core.store import blobs
from tracker.core.store.blobs import BlobDamaged, BlobKind, VerifiedReader
from tracker.core.store.photos import MAX_CACHE_BYTES, seal, unseal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.core.crypto.cipher import FileCipher


class _Row(NamedTuple):
    size: int  # of the plaintext (sealed, for a thumbnail or preview)
    chunks: int
    header: bytes | None  # of the encryption; None when stored plain


class DatabaseBlobStore:
    """``blobs.BlobStore`` in the database the caller's session writes to."""

    def __init__(self, cipher: FileCipher | None = None) -> None:
        # None: blobs are stored plain; else each is encrypted here before it is sent.
        self.cipher = cipher

    @property
    def encrypted(self) -> bool:
        return self.cipher is not None

    # -- writing ---------------------------------------------------------------------------

    def put(self, s: Session, kind: BlobKind, sha256: str, data: bytes) -> bool:
        blobs.check_name(kind, sha256)
        blobs.refused(kind, sha256, data)
        if kind == "original":
            if self._row(s, kind, sha256) is not None:
                return False
        else:
            data = seal(data, sha256)
            # Replaced only when there: an assistant may add stored files, never delete one.
            if self._row(s, kind, sha256) is not None:
                self.delete(s, kind, sha256)
        chunks = len(data) // CHUNK + 1
        pieces = self._pieces(kind, sha256, data)
        header = next(pieces) if self.cipher is not None else None
        try:
            # A savepoint: an original another session stored meanwhile (PostgreSQL makes
            # this one wait for it) is that original, and this transaction goes on.
            with s.begin_nested():
                s.execute(
                    insert(Blob).values(
                        sha256=sha256, kind=kind, size=len(data), chunks=chunks, header=header
                    )
                )
        except IntegrityError:
            if kind == "original" and self._row(s, kind, sha256) is not None:
                return False
            raise
        for seq, piece in enumerate(pieces):
            s.execute(
                insert(BlobChunk).values(sha256=sha256, kind=kind, seq=seq, data=bytes(piece))
            )
        return True

    def _pieces(self, kind: BlobKind, sha256: str, data: bytes) -> Iterator[bytes | memoryview]:
        if self.cipher is None:
            return blobs.plain_pieces(data)
        return self.cipher.encrypt(data, blobs.identity(kind, sha256))

    def delete(self, s: Session, kind: BlobKind, sha256: str) -> None:
        blobs.check_name(kind, sha256)
        # The chunks first: SQLite's foreign keys may be off (a migration's connection).
        s.execute(delete(BlobChunk).where(*_chunk_key(kind, sha256)))
        s.execute(delete(Blob).where(Blob.sha256 == sha256, Blob.kind == kind))

    # -- reading ---------------------------------------------------------------------------

    def has(self, s: Session, kind: BlobKind, sha256: str) -> bool:
        blobs.check_name(kind, sha256)
        return self._row(s, kind, sha256) is not None

    def size(self, s: Session, kind: BlobKind, sha256: str) -> int:
        row = self._found(s, kind, sha256)
        if kind != "original":
            return len(self.read(s, kind, sha256))
        return row.size

    def open(
        self, s: Session, kind: BlobKind, sha256: str
    ) -> contextlib.AbstractContextManager[BinaryIO]:
        row = self._found(s, kind, sha256)
        if kind != "original":
            return contextlib.closing(io.BytesIO(self._derived(s, kind, sha256)))
        stream = self._plain_chunks(s, kind, sha256, row)
        reader = VerifiedReader(stream, sha256, row.size, blobs.describe(kind, sha256))
        return contextlib.closing(cast(BinaryIO, reader))

    def read(self, s: Session, kind: BlobKind, sha256: str) -> bytes:
        with self.open(s, kind, sha256) as fh:
            return blobs.read_all(fh)

    def read_small(self, s: Session, kind: BlobKind, shas: Iterable[str]) -> dict[str, bytes]:
        """The thumbnails or previews of ``shas`` stored in one chunk, in one statement (a
        timeline's dozens, one round trip): those damaged, in more chunks or not there are
        left out, for ``read`` to read, remake or refuse one by one."""
        blobs.check_name(kind, "0" * 64)
        wanted = [sha for sha in dict.fromkeys(shas) if blobs.is_sha(sha)]
        if kind == "original" or not wanted:
            return {}
        found = s.execute(
            select(Blob.sha256, Blob.size, Blob.chunks, Blob.header, BlobChunk.data)
            .join(
                BlobChunk,
                (BlobChunk.sha256 == Blob.sha256)
                & (BlobChunk.kind == Blob.kind)
                & (BlobChunk.seq == 0),
            )
            .where(Blob.kind == kind, Blob.sha256.in_(wanted), Blob.chunks == 1)
        )
        out = {}
        for sha, size, chunks, header, data in found:
            row = _Row(int(size), int(chunks), None if header is None else bytes(header))
            with contextlib.suppress(BlobDamaged):
                out[sha] = self._derived(s, kind, sha, row, [bytes(data)])
        return out

    def _derived(
        self,
        s: Session,
        kind: BlobKind,
        sha256: str,
        row: _Row | None = None,
        stored: list[bytes] | None = None,
    ) -> bytes:
        """A thumbnail or preview, checked and unsealed (from its ``row`` and ``stored``
        chunks when they were read already)."""
        row = row if row is not None else self._found(s, kind, sha256)
        what = blobs.describe(kind, sha256)
        if row.size > MAX_CACHE_BYTES + len(seal(b"", sha256)):
            raise BlobDamaged(
                f"{what} is far larger than any picture the app makes; it is not used."
            )
        sealed = b"".join(self._plain_chunks(s, kind, sha256, row, stored))
        data = unseal(sealed, sha256) if len(sealed) == row.size else None
        if data is None:
            raise BlobDamaged(f"{what} is damaged or was not made from that photo; it is not used.")
        return data

    def _plain_chunks(
        self, s: Session, kind: BlobKind, sha256: str, row: _Row, read: list[bytes] | None = None
    ) -> Iterator[bytes]:
        """The blob's plaintext a chunk at a time, each decrypted (or its length, when plain)
        checked as it comes (``read``: its chunks, when they were read already)."""
        what = blobs.describe(kind, sha256)
        stored = (
            iter(read)
            if read is not None
            else self._stored_chunks(s, kind, sha256, row.chunks, what)
        )
        header = row.header
        if (header is None) != (self.cipher is None):
            raise BlobDamaged(
                f"{what} is encrypted, but this store is not; nothing of it is used."
                if self.cipher is None
                else f"{what} is not encrypted, though the store is: it was put there from "
                "outside the app, so it is not used."
            )
        if self.cipher is None or header is None:
            for seq, piece in enumerate(stored):
                last = seq == row.chunks - 1
                if len(piece) != (row.size - seq * CHUNK if last else CHUNK):
                    raise BlobDamaged(
                        f"{what} has a chunk cut short or grown (its chunk {seq + 1} of "
                        f"{row.chunks}); nothing of it is used."
                    )
                yield piece
            return
        raw = cast(BinaryIO, _Stored(header, stored))
        yield from blobs.decrypted(self.cipher, raw, kind, sha256)

    def _stored_chunks(
        self, s: Session, kind: BlobKind, sha256: str, chunks: int, what: str
    ) -> Iterator[bytes]:
        """The chunks as stored, fetched one at a time (never the whole blob at once)."""
        for seq in range(chunks):
            data = s.scalar(
                select(BlobChunk.data).where(*_chunk_key(kind, sha256), BlobChunk.seq == seq)
            )
            if data is None:
                raise BlobDamaged(
                    f"{what} is missing its chunk {seq + 1} of {chunks}; nothing of it is used."
                )
            yield bytes(data)

    def verify(self, s: Session, kind: BlobKind, sha256: str) -> str | None:
        blobs.check_name(kind, sha256)
        row = self._row(s, kind, sha256)
        if row is None:
            return str(blobs.missing(kind, sha256))
        chunks = row.chunks
        count = s.scalar(
            select(func.count()).select_from(BlobChunk).where(*_chunk_key(kind, sha256))
        )
        if count != chunks:
            return (
                f"{blobs.describe(kind, sha256)} has {count} chunks where it should have "
                f"{chunks}; it is damaged."
            )
        try:
            if kind == "original":
                with self.open(s, kind, sha256) as fh:
                    while fh.read(CHUNK):
                        pass
            else:
                self._derived(s, kind, sha256)
        except BlobDamaged as exc:
            return str(exc)
        return None

    def stored(self, s: Session) -> Iterator[tuple[BlobKind, str]]:
        for kind, sha256 in s.execute(select(Blob.kind, Blob.sha256).order_by(Blob.sha256)):
            yield cast(BlobKind, kind), str(sha256)

    # -- rows ------------------------------------------------------------------------------

    def _row(self, s: Session, kind: BlobKind, sha256: str) -> _Row | None:
        found = s.execute(
            select(Blob.size, Blob.chunks, Blob.header).where(
                Blob.sha256 == sha256, Blob.kind == kind
            )
        ).first()
        if found is None:
            return None
        size, chunks, header = found
        return _Row(int(size), int(chunks), None if header is None else bytes(header))

    def _found(self, s: Session, kind: BlobKind, sha256: str) -> _Row:
        blobs.check_name(kind, sha256)
        row = self._row(s, kind, sha256)
        if row is None:
            raise blobs.missing(kind, sha256)
        return row


def _chunk_key(kind: BlobKind, sha256: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return BlobChunk.sha256 == sha256, BlobChunk.kind == kind


class _Stored:
    """The header and then each stored chunk, read by the cipher's reader as one file: each
    ``read`` gives the next stored piece itself (a cipher block is one chunk's row), so no
    chunk is copied on its way to be decrypted."""

    def __init__(self, header: bytes, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._current = header

    def read(self, size: int) -> bytes:
        while not self._current:
            piece = next(self._chunks, None)
            if piece is None:
                return b""
            self._current = piece
        # A damaged chunk longer than a block is cut: it then fails to decrypt, as it must.
        out, self._current = self._current[:size], self._current[size:]
        return out

    def close(self) -> None:
        self._chunks = iter(())
