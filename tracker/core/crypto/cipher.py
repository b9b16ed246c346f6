"""Files of an encrypted library: AES-256-GCM, a random key per file, in chunks.

A file is a header and its chunks::

    magic "STRIAENC" | version 1 | 0 | chunk size (u32) | wrap nonce (12) | wrapped key (48)
    | base nonce (8)                                                   = HEADER_SIZE bytes
    chunk 0 | chunk 1 | … | final chunk       each: ciphertext + 16-byte GCM tag

The file's own key (32 random bytes) is wrapped by the library's file-wrapping key (derived
from its master key), so a file from another library is refused at its first step. Chunk
``i`` is encrypted with the nonce ``base nonce | i`` (a file's key is used for that file only,
so no nonce repeats) and authenticated with the whole header, the file's *identity* (what it
is: ``original:<sha256>.<ext>``, ``thumbs:<sha256>``) and ``i`` and whether it is the last
chunk as associated data. So a changed byte anywhere, a header edited, chunks reordered, a
file cut short at a chunk boundary, or one photo's file put in another's place: each fails
to decrypt, and nothing of it is returned.

Chunks of 1 MiB mean the ciphertext is never held whole: writing streams the plaintext out a
chunk at a time, ``DecryptingReader`` streams it back (hashing, backups, exports), and
``decrypt`` holds only the plaintext it returns.
"""

from __future__ import annotations

import io
import secrets
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tracker.core.crypto.keys import Keys
from tracker.core.crypto.layout import CHUNK, HEADER, HEADER_SIZE, MAGIC, TAG, VERSION
from tracker.core.errors import EncryptedFileRefused
from tracker.core.files import ChunkReader

_HEADER = HEADER
_WRAP_AAD = b"stria-tracker file key v1"


def is_encrypted(head: bytes) -> bool:
    """Whether bytes that begin a file are those of a file this module wrote."""
    return head.startswith(MAGIC)


class FileCipher:
    """Encrypts and decrypts the library's files with keys wrapped by its master key."""

    def __init__(self, keys: Keys) -> None:
        self._wrapping = AESGCM(keys.subkey("file keys"))

    # -- writing -------------------------------------------------------------------------

    def encrypt(self, data: bytes | memoryview, identity: str) -> Iterator[bytes]:
        """The encrypted file for ``data``: its header, then one piece per chunk, to be
        written in order (nothing but the current chunk is held besides ``data``)."""
        key = secrets.token_bytes(32)
        wrap_nonce = secrets.token_bytes(12)
        wrapped = self._wrapping.encrypt(wrap_nonce, key, _WRAP_AAD)
        base = secrets.token_bytes(8)
        header = _HEADER.pack(MAGIC, VERSION, 0, CHUNK, wrap_nonce, wrapped, base)
        yield header
        aead = AESGCM(key)
        view = memoryview(data)
        ident = identity.encode("utf-8")
        index = 0
        while True:
            piece = view[index * CHUNK : (index + 1) * CHUNK]
            final = len(piece) < CHUNK
            yield aead.encrypt(_nonce(base, index), piece, _aad(header, ident, index, final))
            if final:
                return
            index += 1

    def encrypt_bytes(self, data: bytes, identity: str) -> bytes:
        """The whole encrypted file at once (small files: thumbnails, previews)."""
        return b"".join(self.encrypt(data, identity))

    # -- reading -------------------------------------------------------------------------

    def open(self, fh: BinaryIO, identity: str, what: str) -> DecryptingReader:
        """A reader of ``fh``'s plaintext, a chunk at a time; EncryptedFileRefused (a
        sentence starting with ``what``, the file's name) as soon as anything is wrong."""
        return DecryptingReader(self, fh, identity, what)

    def decrypt(self, fh: BinaryIO, identity: str, what: str) -> bytes:
        """The whole plaintext of ``fh``; every chunk is checked before it is returned."""
        reader = self.open(fh, identity, what)
        parts = []
        while piece := reader.next_chunk():
            parts.append(piece)
        return b"".join(parts)

    def decrypt_bytes(self, data: bytes, identity: str, what: str) -> bytes:
        return self.decrypt(io.BytesIO(data), identity, what)

    def _file_key(self, header: bytes, what: str) -> tuple[AESGCM, bytes, int]:
        if len(header) < HEADER_SIZE or not is_encrypted(header):
            raise EncryptedFileRefused(
                f"{what} is not encrypted, though the library is: it was put there from "
                "outside the app, so it is not used."
            )
        _, version, _, chunk, wrap_nonce, wrapped, base = _HEADER.unpack(header)
        if version != VERSION or chunk != CHUNK:
            raise EncryptedFileRefused(
                f"{what} was encrypted by a newer version of the app (format {version}); "
                "update the app to read it."
            )
        try:
            key = self._wrapping.decrypt(wrap_nonce, wrapped, _WRAP_AAD)
        except InvalidTag:
            raise EncryptedFileRefused(
                f"{what} was not encrypted by this library (it comes from another library, or "
                "its header is damaged), so it is not used."
            ) from None
        return AESGCM(key), base, chunk


class DecryptingReader(ChunkReader):
    """A file object over an encrypted file's plaintext (see ``FileCipher.open``)."""

    def __init__(self, cipher: FileCipher, fh: BinaryIO, identity: str, what: str) -> None:
        super().__init__()
        self._fh = fh
        self._what = what
        self._header = fh.read(HEADER_SIZE)
        self._aead, self._base, self._chunk = cipher._file_key(self._header, what)
        self._ident = identity.encode("utf-8")
        self._index = 0
        self._done = False
        self._pending = b""

    def next_chunk(self) -> bytes:
        """The next chunk's plaintext, checked; b"" after the last."""
        if self._done:
            return b""
        block = self._pending or self._fh.read(self._chunk + TAG)
        self._pending = b""
        final = len(block) < self._chunk + TAG
        if not final:
            # A full block is the last one only when nothing follows it: then the file was
            # cut at a chunk boundary (a whole file always ends on a short, final chunk).
            self._pending = self._fh.read(self._chunk + TAG)
            if not self._pending:
                raise self._refused("is cut short (its end is missing)")
        if len(block) < TAG:
            raise self._refused("is cut short (its end is missing)")
        aad = _aad(self._header, self._ident, self._index, final)
        try:
            plain = self._aead.decrypt(_nonce(self._base, self._index), block, aad)
        except InvalidTag:
            raise self._refused(
                "is damaged, cut short, or is another photo's file put in its place"
            ) from None
        self._index += 1
        self._done = final
        return plain

    def _refused(self, why: str) -> EncryptedFileRefused:
        return EncryptedFileRefused(f"{self._what} {why}; nothing of it is used.")

    def close(self) -> None:
        self._fh.close()
        super().close()


def _nonce(base: bytes, index: int) -> bytes:
    return base + struct.pack("!I", index)


def _aad(header: bytes, identity: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack("!IB", index, final) + identity
