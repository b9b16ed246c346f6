"""Originals and derived files in a shared folder (issue 21): the clinic's optional store.

The folder holds ``originals/ab/<sha256>``, ``thumbs/ab/<sha256>`` and ``previews/ab/<sha256>``
(``ab``: the name's first two characters) and ``tmp/``. A blob is written as a ``PhotoStore``
original is (``photos.write_synced``): to ``tmp/<kind>-<sha256>.<random>.part``, fsynced,
made read-only, renamed ``….staged`` (a staged file is always whole); then, once the caller's
session has committed (the photo's row with it), renamed into place. A rolled-back session's
staged files are removed. An original is written once: one already in place is never
replaced. With a ``FileCipher`` only ciphertext is written, bound to the blob's identity, so
the folder's server never holds a photo in the clear.

A process killed between the commit and the rename leaves a staged file: ``recover`` moves it
into place when the database names its blob, and removes every other file in ``tmp/``, as
``PhotoStore.recover`` does. A savepoint rolled back does not remove what was put in it: the
outermost transaction decides.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from sqlalchemy import event

from tracker.core.crypto.layout import CHUNK, plain_size
from tracker.core.errors import NotFoundError
from tracker.core.store import blobs
from tracker.core.store.blobs import KINDS, BlobDamaged, BlobKind, VerifiedReader
from tracker.core.store.photos import (
    DIR_MODE,
    MAX_CACHE_BYTES,
    RecoveryReport,
    fsync_dir,
    seal,
    storage_error,
    unseal,
    write_synced,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, SessionTransaction

    from tracker.core.crypto.cipher import FileCipher

log = logging.getLogger(__name__)

_FOLDERS: dict[BlobKind, str] = {
    "original": "originals",
    "thumbs": "thumbs",
    "previews": "previews",
}
_STAGED = ".staged"
_PART = ".part"
# What a session has put (the staged file) or deleted (None), to be done when it commits.
Pending = dict[tuple[BlobKind, str], Path | None]


class FolderBlobStore:
    """``blobs.BlobStore`` in a folder, each blob a file, kept when the caller's session
    commits."""

    def __init__(self, root: Path, cipher: FileCipher | None = None) -> None:
        self.root = root
        # None: blobs are written plain; else each is encrypted here before it is written.
        self.cipher = cipher
        self.tmp = root / "tmp"

    @property
    def encrypted(self) -> bool:
        return self.cipher is not None

    def path(self, kind: BlobKind, sha256: str) -> Path:
        """Where the blob's file is, once committed."""
        blobs.check_name(kind, sha256)
        return self.root / _FOLDERS[kind] / sha256[:2] / sha256

    # -- writing ---------------------------------------------------------------------------

    def put(self, s: Session, kind: BlobKind, sha256: str, data: bytes) -> bool:
        blobs.check_name(kind, sha256)
        blobs.refused(kind, sha256, data)
        pending = self._pending(s)
        if kind == "original" and self._where(pending, kind, sha256) is not None:
            return False  # written once
        if kind != "original":
            data = seal(data, sha256)
        pieces: Iterable[bytes] = (
            (data,)
            if self.cipher is None
            else self.cipher.encrypt(data, blobs.identity(kind, sha256))
        )
        self._forget(pending, kind, sha256)
        pending[kind, sha256] = self._stage(kind, sha256, pieces)
        return True

    def _stage(self, kind: BlobKind, sha256: str, pieces: Iterable[bytes]) -> Path:
        self.tmp.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        name = f"{kind}-{sha256}.{secrets.token_hex(6)}"
        part = self.tmp / f"{name}{_PART}"
        staged = self.tmp / f"{name}{_STAGED}"
        try:
            write_synced(part, pieces)
            os.replace(part, staged)
        except OSError as exc:
            with contextlib.suppress(OSError):
                part.unlink()
            raise storage_error(exc) from exc
        return staged

    def delete(self, s: Session, kind: BlobKind, sha256: str) -> None:
        blobs.check_name(kind, sha256)
        pending = self._pending(s)
        self._forget(pending, kind, sha256)
        pending[kind, sha256] = None

    def _forget(self, pending: Pending, kind: BlobKind, sha256: str) -> None:
        """Drop what this session had put under the name (a thumbnail made again)."""
        staged = pending.pop((kind, sha256), None)
        if staged is not None:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()

    def _pending(self, s: Session) -> Pending:
        """What ``s`` has put or deleted here; the first time, what is done when it ends."""
        s.connection()  # begins the session's transaction, if it has none yet, so it ends
        key = ("blobs_folder", id(self))
        pending: Pending | None = s.info.get(key)
        if pending is not None:
            return pending
        made: Pending = {}
        s.info[key] = made

        def committed(_session: Session) -> None:
            self._commit(made)

        def ended(_session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None:  # the outermost (see the module): rolled back,
                self._discard(made)  # closed, or a commit that failed; after one, nothing

        event.listen(s, "after_commit", committed)
        event.listen(s, "after_transaction_end", ended)
        return made

    def _commit(self, pending: Pending) -> None:
        """Put a committed session's blobs in place (a failure leaves the staged file for
        ``recover``: the database has committed, so nothing can be raised to undo it)."""
        for (kind, sha256), staged in list(pending.items()):
            dest = self.path(kind, sha256)
            try:
                if staged is None:
                    with contextlib.suppress(FileNotFoundError):
                        dest.unlink()
                    fsync_dir(dest.parent)
                    continue
                dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                if kind == "original" and dest.is_file():
                    staged.unlink()  # another session stored the same photo meanwhile
                else:
                    os.replace(staged, dest)
                fsync_dir(dest.parent)
            except OSError:
                log.warning("A stored file could not be put in place; it is when next opened")
        pending.clear()

    def _discard(self, pending: Pending) -> None:
        for staged in pending.values():
            if staged is not None:
                with contextlib.suppress(FileNotFoundError):
                    staged.unlink()
        pending.clear()

    def recover(self, is_committed: Callable[[BlobKind, str], bool]) -> RecoveryReport:
        """Finish the renames a crash cut off after a commit (``is_committed(kind, sha256)``:
        whether the database names that blob); remove every other file in ``tmp/``."""
        report = RecoveryReport()
        if not self.tmp.is_dir():
            return report
        for path in sorted(self.tmp.iterdir()):
            kind, _, rest = path.name.partition("-")
            sha256 = rest.partition(".")[0]
            if path.name.endswith(_STAGED) and kind in KINDS and blobs.is_sha(sha256):
                known = cast(BlobKind, kind)
                if is_committed(known, sha256) and not self.path(known, sha256).is_file():
                    self._commit({(known, sha256): path})
                    report.rolled_forward += 1
                    continue
            if path.is_file() or path.is_symlink():
                path.unlink()
                report.removed += 1
        if report.removed or report.rolled_forward:
            fsync_dir(self.tmp)
        return report

    # -- reading ---------------------------------------------------------------------------

    def _where(self, pending: Pending, kind: BlobKind, sha256: str) -> Path | None:
        """The file that holds the blob as ``s`` sees it (put, not yet committed: the staged
        one), or None."""
        if (kind, sha256) in pending:
            return pending[kind, sha256]
        path = self.path(kind, sha256)
        try:
            return path if stat.S_ISREG(path.lstat().st_mode) else None
        except OSError:
            return None

    def _found(self, s: Session, kind: BlobKind, sha256: str) -> Path:
        blobs.check_name(kind, sha256)
        path = self._where(self._pending(s), kind, sha256)
        if path is None:
            raise blobs.missing(kind, sha256)
        return path

    def has(self, s: Session, kind: BlobKind, sha256: str) -> bool:
        blobs.check_name(kind, sha256)
        return self._where(self._pending(s), kind, sha256) is not None

    def size(self, s: Session, kind: BlobKind, sha256: str) -> int:
        path = self._found(s, kind, sha256)
        if kind != "original":
            return len(self.read(s, kind, sha256))
        stored = path.stat().st_size
        return stored if self.cipher is None else plain_size(stored)

    def open(
        self, s: Session, kind: BlobKind, sha256: str
    ) -> contextlib.AbstractContextManager[BinaryIO]:
        path = self._found(s, kind, sha256)
        if kind != "original":
            return contextlib.closing(io.BytesIO(self._derived(path, kind, sha256)))
        size = self.size(s, kind, sha256)
        fh = path.open("rb")
        chunks: Iterator[bytes] = (
            iter(lambda: fh.read(CHUNK), b"")
            if self.cipher is None
            else blobs.decrypted(self.cipher, fh, kind, sha256)
        )
        reader = VerifiedReader(chunks, sha256, size, blobs.describe(kind, sha256), fh.close)
        return contextlib.closing(cast(BinaryIO, reader))

    def read(self, s: Session, kind: BlobKind, sha256: str) -> bytes:
        with self.open(s, kind, sha256) as fh:
            return blobs.read_all(fh)

    def read_small(self, s: Session, kind: BlobKind, shas: Iterable[str]) -> dict[str, bytes]:
        """Each file read as ``read`` reads it (a shared folder costs no round trip a file)."""
        blobs.check_name(kind, "0" * 64)
        out = {}
        for sha in dict.fromkeys(shas):
            if kind == "original" or not blobs.is_sha(sha):
                continue
            with contextlib.suppress(NotFoundError, BlobDamaged):
                out[sha] = self.read(s, kind, sha)
        return out

    def _derived(self, path: Path, kind: BlobKind, sha256: str) -> bytes:
        what = blobs.describe(kind, sha256)
        with path.open("rb") as fh:
            if self.cipher is None:
                sealed = fh.read(MAX_CACHE_BYTES + 1)
            else:
                sealed = b"".join(blobs.decrypted(self.cipher, fh, kind, sha256))
        data = unseal(sealed, sha256) if len(sealed) <= MAX_CACHE_BYTES else None
        if data is None:
            raise BlobDamaged(f"{what} is damaged or was not made from that photo; it is not used.")
        return data

    def verify(self, s: Session, kind: BlobKind, sha256: str) -> str | None:
        try:
            with self.open(s, kind, sha256) as fh:
                while fh.read(CHUNK):
                    pass
        except (BlobDamaged, NotFoundError) as exc:
            return str(exc)
        except OSError as exc:
            return f"{blobs.describe(kind, sha256)} cannot be read ({exc.strerror or exc})."
        return None

    def stored(self, s: Session) -> Iterator[tuple[BlobKind, str]]:
        del s  # the folder is the same for every session
        for kind in KINDS:
            folder = self.root / _FOLDERS[kind]
            if not folder.is_dir():
                continue
            for sub in sorted(folder.iterdir()):
                if sub.is_dir() and not sub.is_symlink():
                    for f in sorted(sub.iterdir()):
                        if blobs.is_sha(f.name) and f.name[:2] == sub.name:
                            yield kind, f.name
