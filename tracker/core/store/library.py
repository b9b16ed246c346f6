"""A library folder opened for use: its database engine, its photo store and its writer lock.

``Library`` holds what every operation needs and nothing of the domain: reading and changing
clients, visits, photos and ratings is done by ``tracker.core.queries`` and
``tracker.core.services``, which take an open ``Library``; care of the library as a whole
(check, repair, backups) is ``tracker.core.care``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.crypto.layout import KEY_FILE, is_encrypted, lost_its_key
from tracker.core.db import engine as db
from tracker.core.db import snapshots
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import Client, Consent, Photo
from tracker.core.errors import (
    DatabaseDamaged,
    FolderReadOnly,
    KeyFileDamaged,
    LibraryError,
    LibraryLocked,
    NoLibrary,
    NotFoundError,
    PassphraseNeeded,
    ReadOnlyLibrary,
    StorageError,
    TrackerError,
)
from tracker.core.store.encrypting import finish_encrypting
from tracker.core.store.lock import WriterLock
from tracker.core.store.new_folder import create_private_file, prepare_new_folder
from tracker.core.store.photos import CacheKind, PhotoStore, storage_error

if TYPE_CHECKING:
    from PIL import Image

    from tracker.core.crypto.cipher import FileCipher
    from tracker.core.crypto.keys import Keys

log = logging.getLogger(__name__)

DEFAULT_CLIENT = "Me"
# Folders (and files) a library may hold; anything else means the folder is not ours.


class Library:
    """An open library folder. Use ``Library.open`` and ``close`` (or ``with``)."""

    server: str | None = None  # a database's address (``server_library``); None: a folder

    def __init__(
        self,
        root: Path,
        engine: Engine,
        *,
        lock: WriterLock | None = None,
        read_only: str | None = None,
        keys: Keys | None = None,
    ) -> None:
        self.root = root
        self.engine = engine
        # An encrypted library's unlocked keys (None for a plain one): the store encrypts
        # every file with them, and the database is SQLCipher keyed from them.
        self.keys = keys
        self.store = PhotoStore(root, None if keys is None else _cipher(keys))
        self._sessions: sessionmaker[Session] = db.session_factory(engine)
        self._lock = lock
        # None when the library can be changed; otherwise the sentence saying why it cannot.
        self.read_only = read_only

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        create: bool = False,
        read_only: bool = False,
        allow_read_only: bool = False,
        keys: Keys | None = None,
    ) -> Library:
        """Open the library at ``root``; with ``create``, make it first if it is not there.

        An encrypted library needs its ``keys`` (``store.encrypted.unlock``): without them
        this raises ``PassphraseNeeded``; ``store.encrypted.create`` makes a new one.

        Finishes or undoes imports a crash interrupted, so the library is consistent on return.
        Only one program writes to a library at a time: when another holds it, this raises
        ``LibraryLocked``; when the folder cannot be written, ``FolderReadOnly``; unless
        ``allow_read_only``, which opens the library for reading instead, with ``read_only``
        saying why. A damaged database raises ``DatabaseDamaged`` naming the newest snapshot.
        """
        root = Path(root).expanduser()
        db_path = root / DB_NAME
        _refuse_links(root)
        finish_encrypting(root)  # a conversion to encrypted cut short: finished or undone
        key = _database_key(root, keys)
        # An empty database file is what a creation cut off at its first step leaves behind.
        new = not db_path.exists() or db_path.stat().st_size == 0
        held = _library_signs(root) if new else None
        if held is not None:
            # Its database was lost (deleted, emptied, a restore cut short): making a new,
            # empty one would orphan everything there. Offer the newest snapshot instead.
            state = "missing" if not db_path.exists() else "empty (0 bytes)"
            raise damaged(
                root,
                f"its database file is {state}",
                f"The library in {root} holds {held}, but its database file is {state}",
            )
        if new:
            if not create:
                raise NoLibrary(f"There is no library at {root}; create one with 'tracker init'.")
            prepare_new_folder(root)
            create_private_file(db_path)
        refusal: LibraryError | None = None
        reason = None
        if read_only:
            reason = "It was opened for reading only."
        elif not _writable(root, db_path):
            refusal = FolderReadOnly(
                f"The library folder {root} cannot be written to (no permission)."
            )
            reason = f"The library folder {root} cannot be written to (no permission), so it is open for reading only."
            wal = root / f"{DB_NAME}-wal"
            if wal.exists() and wal.stat().st_size > 0:
                # SQLite cannot apply a write-ahead log in a folder it may not write to.
                reason += (
                    " Its latest changes, still in library.sqlite3-wal, cannot be read there:"
                    " what is shown may be older. Open it where it can be written to see them."
                )
        lock = None
        if reason is None:
            lock = WriterLock(root)
            try:
                lock.acquire()
            except LibraryLocked as exc:
                lock, refusal, reason = None, exc, exc.reader_note
        if reason is not None:
            if refusal is not None and not allow_read_only:
                raise refusal
            return cls._open_for_reading(root, db_path, reason, keys)
        assert lock is not None
        engine: Engine | None = None
        try:
            _remove_stale_copies(root)
            engine = db.open_database(db_path, root / "backups", key)
            problem = db.quick_check(engine)
            if problem is not None:
                raise damaged(root, problem)
            lib = cls(root, engine, lock=lock, keys=keys)
            try:
                lib.store.ensure_folders()
                if new:
                    with lib.session() as s:
                        s.add(Client(name=DEFAULT_CLIENT))
                lib._recover()
            except OSError as exc:
                raise storage_error(exc) from exc
        except BaseException as exc:
            # Whatever went wrong after the lock was taken, the lock and the engine go with it.
            if engine is not None:
                engine.dispose()
            lock.release()
            if isinstance(exc, DatabaseDamaged) and exc.root is None:
                raise damaged(root, exc.problem) from exc
            raise
        if not new:
            snapshots.rolling_snapshot(db_path, root / "backups", key=key)
        return lib

    @classmethod
    def _open_for_reading(
        cls, root: Path, db_path: Path, reason: str, keys: Keys | None
    ) -> Library:
        mode = "immutable" if not _writable(root, db_path) else "ro"
        try:
            engine = db.open_read_only(db_path, mode, _database_key(root, keys))
        except DatabaseDamaged as exc:
            raise damaged(root, exc.problem) from exc
        problem = db.quick_check(engine)
        if problem is not None:
            engine.dispose()
            raise damaged(root, problem)
        return cls(root, engine, read_only=reason, keys=keys)

    def _recover(self) -> None:
        recovered = self.store.recover(self._names_original)
        if recovered.removed:
            # An import was cut off: the thumbnails and previews it made for photos it never
            # recorded are swept too (one query for every stored photo's hash).
            with self.session() as s:
                owned = set(s.scalars(select(Photo.sha256)))
            swept = self.store.sweep_cache(owned)
            if swept:
                log.info("Removed %d cached pictures of photos never recorded", swept)
        if recovered.rolled_forward or recovered.removed:
            log.info(
                "Recovered interrupted work: %d files finished, %d removed",
                recovered.rolled_forward,
                recovered.removed,
            )

    def close(self) -> None:
        if self._lock is not None:
            # Originals held for an undone import's redo are no longer needed (see store).
            with contextlib.suppress(TrackerError, OSError):
                self._recover()
            # The database file alone then holds every committed change: a folder copied, or
            # one whose -wal is lost, is complete. A reader in the way: the next close does it.
            with contextlib.suppress(TrackerError):
                self.checkpoint()
        self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def database_key(self) -> bytes | None:
        """SQLCipher's key for this library's database and its copies; None when plain."""
        return None if self.keys is None else self.keys.database_key()

    def require_writable(self) -> None:
        if self.read_only is not None:
            raise ReadOnlyLibrary(f"Nothing can be changed: {self.read_only}")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises. Database
        errors about the library as a whole come out as the core's typed errors."""
        try:
            with db.session_scope(self._sessions) as s:
                yield s
        except DBAPIError as exc:
            mapped = db.translate(exc, self.read_only)
            if mapped is None:
                raise
            raise mapped from exc

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only, as ``db.together.read`` sends them: here, in a
        transaction of its own (a server library's answers them in one round trip)."""
        with self.session() as s:
            yield s.connection()

    def checkpoint(self) -> None:
        """Write the write-ahead log into the database and empty it, so that nothing deleted
        lingers in it (after an erase), and the database file holds every committed change
        (when the library is closed, at the end of every command, and when the window goes
        idle)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except DBAPIError as exc:
            mapped = db.translate(exc, self.read_only)
            if mapped is None:
                raise
            raise mapped from exc

    def has_photo_sha(self, sha256: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Photo.id).where(Photo.sha256 == sha256)) is not None

    def _names_original(self, sha256: str) -> bool:
        """Whether a photo or a consent's signed form (kept as an original) is ``sha256``."""
        with self.session() as s:
            form = s.scalar(select(Consent.id).where(Consent.form_sha256 == sha256).limit(1))
        return form is not None or self.has_photo_sha(sha256)

    # -- pictures ------------------------------------------------------------------------

    def derived(self, kind: CacheKind, sha256: str) -> bytes:
        """A photo's thumbnail or preview (JPEG bytes), made from its original when the cache
        does not hold it: a JPEG's preview is first made here, on first view (off the GUI
        thread), and anything the cache lost is rebuilt. Raises NotFoundError when the photo's
        original is missing too."""
        data = self.store.read_cache(kind, sha256)
        if data is not None:
            return data
        # start-up time: commands that only read records never load the image decoders
        from tracker.core.imaging import decode as imaging

        decoded = imaging.decode(
            self._original_bytes(sha256), preview=kind == "previews", stored=True
        )
        if self.read_only is None:
            try:
                self.store.write_cache("thumbs", sha256, decoded.thumbnail)
                if decoded.preview is not None:
                    self.store.write_cache("previews", sha256, decoded.preview)
            except LibraryError:  # a full disk costs the cache, not the picture asked for
                log.warning("Could not write the cache for a photo; it is made again when needed")
        if kind == "thumbs":
            return decoded.thumbnail
        assert decoded.preview is not None  # asked for
        return decoded.preview

    def cached(self, kind: CacheKind, shas: Iterable[str]) -> dict[str, bytes]:
        """The thumbnails or previews of ``shas`` the store holds, read in one go (one round
        trip to a server); ``derived`` makes any left out."""
        return self.store.read_caches(kind, shas)

    def make_previews(self, shas: Iterable[str], cancel: Callable[[], bool] | None = None) -> int:
        """Make the previews that are not made yet (a JPEG's is left out at import), ahead of
        their first view; for idle time after an import. Returns how many were made. A photo
        that cannot be read is skipped: its first view will say why."""
        if self.read_only is not None:
            return 0  # a reader could make them, but not keep them
        made = 0
        for sha256 in shas:
            if cancel and cancel():
                break
            if self.store.has_cache("previews", sha256):
                continue
            try:
                self.derived("previews", sha256)
            except TrackerError:
                continue
            made += 1
        return made

    def original_image(self, sha256: str, max_side: int | None = None) -> Image.Image:
        """A photo's original, decoded upright (for zooming past its preview)."""
        # start-up time: commands that only read records never load the image decoders
        from tracker.core.imaging import decode as imaging

        return imaging.load_upright(self._original_bytes(sha256), max_side)

    def _original_bytes(self, sha256: str) -> bytes:
        with self.session() as s:
            ext = s.scalar(select(Photo.ext).where(Photo.sha256 == sha256))
        if ext is None or not self.store.has_original(sha256, ext):
            raise NotFoundError("The photo's original file is missing; run a check of the library.")
        return self.store.read_original(sha256, ext)


def damaged(root: Path, problem: str, head: str | None = None) -> DatabaseDamaged:
    """The error for a database that fails SQLite's checks (or, said by ``head``, is gone
    from a folder that holds a library), naming the newest snapshot to restore it from; one
    sentence."""
    snapshot = snapshots.newest_snapshot(root / "backups")
    offer = (
        f"restore its newest snapshot, {snapshot.name} (made "
        f"{dt.datetime.fromtimestamp(snapshot.stat().st_mtime):%Y-%m-%d %H:%M}), with "
        "'tracker repair restore-snapshot' (the damaged file is kept)"
        if snapshot is not None
        else "there is no snapshot of it in backups/, so restore the library from a backup "
        "archive ('tracker restore')"
    )
    head = head or f"The library database in {root} is damaged or is not a database ({problem})"
    return DatabaseDamaged(
        f"{head}; {offer}.",
        problem,
        snapshot,
        root,
    )


# The library's own files and folders that it writes through, each of which must be its own,
# never a link: a link planted there (``lock`` to a file elsewhere) would make the library
# write through it, truncating the file it points to. (``originals/`` as a link is reported by
# ``check`` and refused by ``backup``, which read nothing through it.)
_OWN_ENTRIES = (
    DB_NAME,
    f"{DB_NAME}-wal",
    f"{DB_NAME}-shm",
    "lock",
    "cache",
    "tmp",
    "backups",
    KEY_FILE,
)


def _cipher(keys: Keys) -> FileCipher:
    # start-up time: cryptography is loaded for an encrypted library only
    from tracker.core.crypto.cipher import FileCipher

    return FileCipher(keys)


def _database_key(root: Path, keys: Keys | None) -> bytes | None:
    """The database key of the library at ``root``: None for a plain library; refuses an
    encrypted one opened without its keys, or with another library's."""
    if not is_encrypted(root):
        if keys is not None:
            raise LibraryError(f"The library in {root} is not encrypted; open it without a key.")
        if lost_its_key(root, DB_NAME):
            raise KeyFileDamaged(
                f"The library in {root} is encrypted but its key file {KEY_FILE} is missing; "
                "put it back from a backup of the library (nothing else opens it)."
            )
        return None
    if keys is None:
        raise PassphraseNeeded(
            f"The library in {root} is encrypted; it opens with its passphrase or recovery key."
        )
    # start-up time: cryptography is loaded for an encrypted library only
    from tracker.core.crypto.keys import read

    if str(read(root)["library_id"]) != keys.library_id:
        raise LibraryError(f"The key given is another library's, not that of {root}.")
    return keys.database_key()


def _refuse_links(root: Path) -> None:
    for name in _OWN_ENTRIES:
        if (root / name).is_symlink():
            raise StorageError(
                f"{root / name} is a link; a library's own files are never links, so the library "
                "is not opened (remove the link, or restore the library from a backup)."
            )


def _library_signs(root: Path) -> str | None:
    """What in ``root`` shows that a library lived there ("photos", "database snapshots",
    …), or None for a folder a creation cut short may have left (empty folders, the lock, an
    empty database file). Links are not followed."""
    found = {
        "originals": "photos",
        "quarantine": "quarantined files",
        "backups": "database snapshots",
        "cache": "thumbnails",
    }
    for name, what in found.items():
        for _dirpath, _dirs, files in os.walk(root / name):
            if files:
                return what
    wal = root / f"{DB_NAME}-wal"
    if wal.is_file() and wal.stat().st_size > 0:
        return "the database's write-ahead log"
    return None


def _remove_stale_copies(root: Path) -> None:
    """Half-written database copies a killed process left (a snapshot being put back, a
    rolling snapshot): only the writer makes them, and the writer is this program now. They
    hold health data: removed, not left lying about."""
    for folder in (root, root / "backups"):
        for part in snapshots.stale_copies(folder):
            with contextlib.suppress(OSError):
                part.unlink()
                log.info("Removed a half-written copy of the database: %s", part.name)


def _writable(root: Path, db_path: Path) -> bool:
    return os.access(root, os.W_OK | os.X_OK) and (
        not db_path.exists() or os.access(db_path, os.W_OK)
    )
