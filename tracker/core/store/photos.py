"""The photo store: the one module that reads and writes originals, thumbnails and previews.

Callers deal in bytes and content hashes, never in paths. In an encrypted library (a store
made with a ``FileCipher``) every original, thumbnail and preview is written encrypted and
decrypted as it is read, here and nowhere else, so callers do not change; each file is bound
to what it is (``original:<sha256>.<ext>``, ``thumbs:<sha256>``), so one photo's file put in
another's place is refused. Nothing decrypted is written: staged and held originals (in
``tmp/``) are the encrypted files themselves, moved by renames. A plain library's files are
written exactly as before, without a byte of overhead.

Crash safety of an import rests on the order of steps here and in the importer:

1. ``stage_original`` writes ``tmp/<sha>.<ext>.part``, fsyncs it, and renames it to
   ``tmp/<sha>.<ext>.staged``: a ``.staged`` file is always complete.
2. The importer commits the photo's database row.
3. ``commit_staged`` renames the staged file to ``originals/ab/<sha>.<ext>``.

``recover`` runs on every open: a staged file whose row was committed is moved into place
(roll forward); every other file in ``tmp/`` is debris of an interrupted import and is removed.
So a photo is either fully imported or absent, wherever the process was killed.

Undoing an import in the window runs the same steps backwards: ``hold_original`` moves each
original to ``tmp/undone/`` *before* the rows are deleted, and a redo puts the rows back and
then ``release_held`` moves the files back. ``recover`` treats a held file as it treats a staged
one, so a crash at any step leaves the photo either imported or gone, and the files of an undo
that can no longer be redone go when the library is closed or next opened.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import stat
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from tracker.core.crypto.layout import plain_size
from tracker.core.errors import (
    DiskFull,
    EncryptedFileRefused,
    FolderReadOnly,
    LibraryError,
    StorageError,
)
from tracker.core.files import sha256_of

if TYPE_CHECKING:
    from tracker.core.crypto.cipher import FileCipher

log = logging.getLogger(__name__)

CacheKind = Literal["thumbs", "previews"]
_STAGED = ".staged"
_PART = ".part"
UNDONE = "undone"
DIR_MODE = 0o700


@dataclass(frozen=True)
class StoredOriginal:
    sha256: str
    ext: str
    size: int
    relpath: str


@dataclass
class RecoveryReport:
    rolled_forward: int = 0
    removed: int = 0


_SEAL = b"\x00STRIA-DERIVED-1\x00"  # after the JPEG's end, where decoders do not look
MAX_CACHE_BYTES = 64 * 1024 * 1024  # far more than a 2048-pixel preview


def seal(data: bytes, sha256: str) -> bytes:
    """A derived file's bytes with what it was made from: the original's sha256 and a digest
    of both, so that a swapped, stale or damaged file is found when read (``unseal``)."""
    source = bytes.fromhex(sha256)
    return data + _SEAL + source + hashlib.sha256(data + source).digest()


def unseal(sealed: bytes, sha256: str) -> bytes | None:
    """The derived file's own bytes if it was made from the original ``sha256`` and is
    whole, else None."""
    tail = len(_SEAL) + 64
    if len(sealed) <= tail or sealed[-tail:-64] != _SEAL:
        return None
    data, source, digest = sealed[:-tail], sealed[-64:-32], sealed[-32:]
    if source != bytes.fromhex(sha256) or hashlib.sha256(data + source).digest() != digest:
        return None
    return data


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_synced(part: Path, pieces: Iterable[bytes]) -> None:
    """Write ``pieces`` in order to the new file ``part`` (owner only), fsync it and make it
    read-only: what is renamed into place afterwards is complete. Raises OSError; the caller
    removes ``part`` and says why (``storage_error``)."""
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for piece in pieces:
            view = memoryview(piece)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(part, stat.S_IRUSR)


def _is_sha(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _check_sha(sha256: str) -> None:
    if not _is_sha(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")


def _original_identity(sha256: str, ext: str) -> str:
    return f"original:{sha256}.{ext}"


class PhotoStore:
    def __init__(self, root: Path, cipher: FileCipher | None = None) -> None:
        self.root = root
        # None for a plain library; else what encrypts and decrypts each of its files.
        self.cipher = cipher
        self.originals = root / "originals"
        self.cache = root / "cache"
        self.tmp = root / "tmp"

    def ensure_folders(self) -> None:
        """The library's folders, made where missing. ``cache/`` or ``tmp/`` found as a file
        (nothing of the library is lost there: both are remade) is moved into
        ``quarantine/`` and the folder made; ``originals/`` as a file is refused with a
        sentence."""
        if self.originals.exists() and not self.originals.is_dir():
            raise StorageError(
                f"{self.originals} is a file, not the library's folder of photos; move it away "
                "and put the folder back from a backup ('tracker restore')."
            )
        for folder in (self.cache, self.tmp):
            if folder.exists() and not folder.is_dir() and not folder.is_symlink():
                kept = self.root / "quarantine"
                kept.mkdir(mode=DIR_MODE, exist_ok=True)
                os.replace(folder, kept / f"{folder.name}-was-a-file-{secrets.token_hex(4)}")
                log.warning("%s was a file, not a folder; it was moved to quarantine/", folder.name)
        for folder in (self.originals, self.cache, self.tmp):
            folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)

    # -- originals ---------------------------------------------------------------------------

    @staticmethod
    def original_relpath(sha256: str, ext: str) -> str:
        _check_sha(sha256)
        return f"originals/{sha256[:2]}/{sha256}.{ext}"

    def _original_path(self, sha256: str, ext: str) -> Path:
        return self.root / self.original_relpath(sha256, ext)

    def has_original(self, sha256: str, ext: str) -> bool:
        return self._original_path(sha256, ext).is_file()

    def read_original(self, sha256: str, ext: str) -> bytes:
        """An original's bytes (decrypted, in memory, in an encrypted library); in one,
        EncryptedFileRefused says when the file is damaged, cut short or not its own."""
        path = self._original_path(sha256, ext)
        if self.cipher is None:
            return path.read_bytes()
        with path.open("rb") as fh:
            what = f"The original {self.original_relpath(sha256, ext)}"
            return self.cipher.decrypt(fh, _original_identity(sha256, ext), what)

    def open_original(self, sha256: str, ext: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A binary file object for streaming an original (hashing, export)."""
        fh = self._original_path(sha256, ext).open("rb")
        return self.plain_reader(
            fh, sha256, ext, f"The original {self.original_relpath(sha256, ext)}"
        )

    def plain_reader(self, fh: BinaryIO, sha256: str, ext: str, what: str) -> BinaryIO:
        """``fh``, an original's stored file opened by the caller, as its plain bytes: itself
        in a plain library, else a reader that decrypts it a chunk at a time (``what``, the
        file's name, starts the sentence of an EncryptedFileRefused)."""
        if self.cipher is None:
            return fh
        try:
            reader = self.cipher.open(fh, _original_identity(sha256, ext), what)
        except BaseException:
            fh.close()
            raise
        return reader  # type: ignore[return-value]  # a RawIOBase: read() as a file's

    def stage_original(self, data: bytes, sha256: str, ext: str) -> Path:
        """Write ``data`` durably into ``tmp/`` under a name that says it is complete."""
        _check_sha(sha256)
        self.tmp.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        part = self.tmp / f"{sha256}.{ext}.{secrets.token_hex(6)}{_PART}"
        staged = self.tmp / f"{sha256}.{ext}{_STAGED}"
        try:
            pieces: Iterable[bytes] = (
                (data,)
                if self.cipher is None
                else self.cipher.encrypt(data, _original_identity(sha256, ext))
            )
            write_synced(part, pieces)  # encrypted a chunk at a time, as it is written
            os.replace(part, staged)
        except OSError as exc:
            with contextlib.suppress(OSError):
                part.unlink()
            raise storage_error(exc) from exc
        return staged

    def original_size(self, staged: Path) -> int:
        """The size of the original a staged file holds: the photo's own size, which an
        encrypted file exceeds by its header and tags (duplicates are found by size)."""
        size = staged.stat().st_size
        return size if self.cipher is None else plain_size(size)

    def commit_staged(self, staged: Path) -> StoredOriginal:
        """Move a staged original into ``originals/`` (after its row was committed)."""
        name = staged.name.removesuffix(_STAGED)
        sha256, ext = name.split(".", 1)
        dest = self._original_path(sha256, ext)
        dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.replace(staged, dest)
        fsync_dir(dest.parent)
        return StoredOriginal(sha256, ext, dest.stat().st_size, self.original_relpath(sha256, ext))

    def discard_staged(self, staged: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()

    def _held_path(self, sha256: str, ext: str) -> Path:
        _check_sha(sha256)
        return self.tmp / UNDONE / f"{sha256}.{ext}"

    def hold_original(self, sha256: str, ext: str) -> None:
        """Move an original out of ``originals/`` into ``tmp/undone/`` (an import being undone)."""
        held = self._held_path(sha256, ext)
        held.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        try:
            os.replace(self._original_path(sha256, ext), held)
        except OSError as exc:
            raise storage_error(exc) from exc
        fsync_dir(held.parent)

    def has_held(self, sha256: str, ext: str) -> bool:
        return self._held_path(sha256, ext).is_file()

    def release_held(self, sha256: str, ext: str) -> None:
        """Put a held original back in ``originals/`` (the redo of an undone import)."""
        dest = self._original_path(sha256, ext)
        dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        try:
            os.replace(self._held_path(sha256, ext), dest)
        except OSError as exc:
            raise storage_error(exc) from exc
        fsync_dir(dest.parent)

    def discard_held(self, sha256: str, ext: str) -> None:
        """Remove a held original for good (its rows are gone: an erase)."""
        with contextlib.suppress(FileNotFoundError):
            self._held_path(sha256, ext).unlink()
        fsync_dir(self.tmp / UNDONE)

    def temp_files(self) -> list[str]:
        """Files left in ``tmp/`` by interrupted work (the originals of an undone import, kept
        in ``tmp/undone/`` for its redo, are not: they are the window's to keep)."""
        if not self.tmp.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.tmp.iterdir() if p.name != UNDONE)

    def recover(self, is_committed: Callable[[str], bool]) -> RecoveryReport:
        """Finish or undo imports that a crash interrupted (see the module docstring).

        ``is_committed(sha256)`` says whether the database has a row for that original.
        """
        report = RecoveryReport()
        if not self.tmp.is_dir():
            return report
        for path in sorted(self.tmp.iterdir()):
            if path.name.endswith(_STAGED):
                sha256 = path.name.split(".", 1)[0]
                ext = path.name.removesuffix(_STAGED).split(".", 1)[-1]
                if _is_sha(sha256) and is_committed(sha256) and not self.has_original(sha256, ext):
                    self.commit_staged(path)
                    report.rolled_forward += 1
                    continue
            if path.is_dir():
                if path.name == UNDONE:
                    self._recover_held(path, is_committed, report)
                continue
            path.unlink()
            report.removed += 1
        if report.removed or report.rolled_forward:
            fsync_dir(self.tmp)
        return report

    def _recover_held(
        self, folder: Path, is_committed: Callable[[str], bool], report: RecoveryReport
    ) -> None:
        for path in sorted(folder.iterdir()):
            sha256, _, ext = path.name.partition(".")
            if _is_sha(sha256) and is_committed(sha256) and not self.has_original(sha256, ext):
                self.release_held(sha256, ext)  # a redo was cut short after its rows came back
                report.rolled_forward += 1
            elif path.is_file():
                path.unlink()
                report.removed += 1

    # -- cache -------------------------------------------------------------------------------

    def _cache_path(self, kind: CacheKind, sha256: str) -> Path:
        _check_sha(sha256)
        return self.cache / kind / sha256[:2] / f"{sha256}.jpg"

    def write_cache(self, kind: CacheKind, sha256: str, data: bytes) -> None:
        """Cache files are rebuilt when lost, so they are written atomically but not fsynced.
        Each carries what it was made from (``seal``), checked whenever it is read."""
        data = seal(data, sha256)
        if self.cipher is not None:
            data = self.cipher.encrypt_bytes(data, f"{kind}:{sha256}")
        dest = self._cache_path(kind, sha256)
        dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        self.tmp.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        part = self.tmp / f"{kind}-{sha256}.{secrets.token_hex(6)}{_PART}"
        try:
            part.write_bytes(data)
            os.replace(part, dest)
        except OSError as exc:
            with contextlib.suppress(OSError):
                part.unlink()
            raise storage_error(exc) from exc

    def read_cache(self, kind: CacheKind, sha256: str) -> bytes | None:
        """A photo's thumbnail or preview as cached, or None when there is none that was
        made from this photo's original: a missing file, a folder or a link in its place,
        random bytes, a stale file, or another picture put there (it would be shown as this
        patient's photo) are all "none", and the caller makes it again."""
        path = self._cache_path(kind, sha256)
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                return None
            with path.open("rb") as fh:
                data = fh.read(MAX_CACHE_BYTES + 1)
        except OSError:  # missing, unreadable, or replaced by something that cannot be read
            return None
        if self.cipher is not None:
            try:
                data = self.cipher.decrypt_bytes(data, f"{kind}:{sha256}", str(path))
            except EncryptedFileRefused:
                return None  # damaged or not this photo's: made again from the original
        return unseal(data, sha256)

    def read_caches(self, kind: CacheKind, shas: Iterable[str]) -> dict[str, bytes]:
        """``read_cache`` of each of ``shas``; those it has none of are left out."""
        found = {sha: self.read_cache(kind, sha) for sha in dict.fromkeys(shas)}
        return {sha: data for sha, data in found.items() if data is not None}

    def sweep_cache(self, owned: Container[str]) -> int:
        """Remove cached thumbnails and previews of photos the library does not hold (``owned``
        is every stored photo's sha256): what an import killed before its commit left. Returns
        how many files went."""
        removed = 0
        for kind in ("thumbs", "previews"):
            folder = self.cache / kind
            if not folder.is_dir():
                continue
            for sub in folder.iterdir():
                if not sub.is_dir() or sub.is_symlink():
                    continue
                for f in sub.iterdir():
                    sha256 = f.name.partition(".")[0]
                    if not _is_sha(sha256) or sha256 not in owned:
                        with contextlib.suppress(OSError):
                            f.unlink()
                            removed += 1
        return removed

    def drop_cache(self, sha256: str) -> None:
        """Forget a photo's thumbnail and preview (made from an original since put back)."""
        kinds: tuple[CacheKind, ...] = ("thumbs", "previews")
        for kind in kinds:
            with contextlib.suppress(FileNotFoundError):
                self._cache_path(kind, sha256).unlink()

    def original_intact(self, sha256: str, ext: str) -> bool:
        """Whether the stored original still holds what was imported (it is read whole; in
        an encrypted library, one that does not decrypt is not intact)."""
        try:
            with self.open_original(sha256, ext) as fh:
                return sha256_of(fh) == sha256
        except EncryptedFileRefused:
            return False

    def has_cache(self, kind: CacheKind, sha256: str) -> bool:
        """Whether a good cached file is there (``read_cache`` would return it)."""
        return self.read_cache(kind, sha256) is not None


def storage_error(exc: OSError) -> LibraryError:
    """The library error for a failed write of the library's files, by its errno."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull("The disk holding the library is full.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FolderReadOnly("The library folder cannot be written to.")
    return StorageError(f"Writing to the library failed ({exc.strerror or exc}).")
