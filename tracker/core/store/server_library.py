"""A library in a PostgreSQL database (clinic mode, issue 21), opened as a ``Library``.

``ServerLibrary.open_server(url)`` gives the services what a folder's ``Library`` gives them:
``session()``, ``engine``, ``read_only``, ``derived`` and ``store``. The engine is
``server.open_server``'s (checked, migrated under its lock); every session tells other
workstations what it wrote (``notify.notify_on_commit``) and comes out of a server error as
``server_errors``' typed sentence. There is no writer lock: many workstations write at once
and the database keeps them apart.

The photos are in the database (``blobs_db.DatabaseBlobStore``), and ``store`` is
``ServerPhotoStore``, which answers the calls the services make of a folder's ``PhotoStore``
from it. An original staged by an import (``stage_original``), and the thumbnail and preview
made with it, are held in memory until a session records the photo's (or a consent form's)
row: that session stores them before it commits, in its own transaction, so a rolled-back
import leaves no blob and a killed process leaves nothing at all. An erasure's originals
(``hold_original``) go the same way: the erasing session deletes the blobs no row names any
more, with the rows. Operations on a folder's files (a backup archive of the folder,
snapshots, repair of files, the audit trail's anchor file) cannot work here: they raise
``FolderOnly`` with a sentence, and nothing here ever writes a folder.

Read-only: when the caller asks, or when the login may write nothing. That is decided from the
server, in one statement when opening: a standby (``pg_is_in_recovery``), transactions read
only by default (``default_transaction_read_only``), or a login that may neither record a
photo nor add or change a client or a visit. A login that may write some of it (the front
desk books visits but records no photo) is writable for what it may do: the server refuses
the rest with ``server_errors``' sentence naming the login's role and its limit, and leaves
everything as it was. The same statement says whether the login reads whole rows of clients,
areas, visits and photos; when not (the front desk's column grants), ``withheld`` is the
sentence saying what is not shown to it, and the queries ask only for the columns it reads
(``queries.listing``).

Encrypted (``server_keys``): the key document is in the database, and opening needs the
clinic's passphrase; every blob is then encrypted and decrypted here, on the workstation.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Connection, Engine, select, text, union
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.crypto.cipher import FileCipher
from tracker.core.db import engine as db
from tracker.core.db import notify, server
from tracker.core.db.models import Consent, Photo
from tracker.core.db.server_errors import translated, where
from tracker.core.errors import LibraryError, NotFoundError, ReadOnlyLibrary, StorageError
from tracker.core.store import server_keys
from tracker.core.store.blobs import BlobDamaged, BlobKind
from tracker.core.store.blobs_db import DatabaseBlobStore
from tracker.core.store.library import Library
from tracker.core.store.local_thumbs import LocalThumbs
from tracker.core.store.photos import CacheKind, PhotoStore, RecoveryReport, StoredOriginal

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys
    from tracker.core.store.blobs import BlobStore

log = logging.getLogger(__name__)


class FolderOnly(LibraryError):
    """Asked of a library in a database, an operation that works on a library folder only."""


def shown(url: str) -> str:
    """The address as a message may show it: the password, if any, hidden."""
    return make_url(url).render_as_string(hide_password=True)


class ServerLibrary(Library):
    """A library in a PostgreSQL database. Use ``ServerLibrary.open_server`` and ``close``."""

    def __init__(
        self,
        url: str,
        engine: Engine,
        *,
        read_only: str | None = None,
        keys: Keys | None = None,
        withheld: str | None = None,
    ) -> None:
        # Not Library.__init__: there is no folder, no lock and no PhotoStore.
        self.server = shown(url)
        self.engine = engine
        # An encrypted library's keys: its blobs are encrypted here, on the workstation.
        self.keys = keys
        self._sessions: sessionmaker[Session] = db.session_factory(engine)
        # The token in each payload sent on commit: this workstation's changes, told apart.
        self.origin = notify.notify_on_commit(self._sessions)
        self._lock = None
        self.read_only = read_only
        # What this login may not read (see the module), as a sentence; None: it reads all.
        self.withheld = withheld
        self.blobs: BlobStore = DatabaseBlobStore(None if keys is None else FileCipher(keys))
        self.store: PhotoStore = ServerPhotoStore(self)

    @classmethod
    def open_server(
        cls,
        url: str,
        *,
        read_only: bool = False,
        allow_read_only: bool = False,
        passphrase: str | None = None,
        recovery_key: str | None = None,
    ) -> ServerLibrary:
        """Open the library in the database ``url`` names (made by ``tracker clinic
        create``), migrated when it is older. When the login may not write (see the module),
        this raises ``ReadOnlyLibrary`` unless ``allow_read_only``, which opens it for
        reading instead; ``read_only`` opens it for reading whatever the login may do.
        An encrypted one (``server_keys``) needs its ``passphrase`` (or ``recovery_key``):
        without, ``PassphraseNeeded``; a wrong one, ``WrongPassphrase``."""
        engine = server.open_server(url)
        try:
            with translated(engine.url, "open the library"), engine.connect() as conn:
                standby, read_only_default, may_write, whole_rows, may_key = conn.execute(
                    text(
                        "SELECT pg_is_in_recovery(), "
                        "current_setting('default_transaction_read_only') = 'on', "
                        "has_table_privilege('photo', 'INSERT') "
                        "OR has_any_column_privilege('client', 'INSERT, UPDATE') "
                        "OR has_any_column_privilege('visit', 'INSERT, UPDATE'), "
                        "has_table_privilege('client', 'SELECT') "
                        "AND has_table_privilege('area', 'SELECT') "
                        "AND has_table_privilege('visit', 'SELECT') "
                        "AND has_table_privilege('photo', 'SELECT'), "
                        f"has_table_privilege('{server_keys.TABLE}', 'SELECT')"
                    )
                ).one()
                # The front desk may not read the keys: it opens no photo either.
                doc = server_keys.document(conn, where(engine.url)) if may_key else None
            keys = None
            if doc is not None:
                if passphrase is None and recovery_key is None:
                    raise server_keys.PassphraseNeeded(
                        f"The clinic library in {where(engine.url)} is encrypted: its photos "
                        "open with the clinic's passphrase (or its recovery key)."
                    )
                keys = server_keys.unlock(doc, passphrase=passphrase, recovery_key=recovery_key)
        except BaseException:
            engine.dispose()
            raise
        there = where(engine.url)
        user = engine.url.username or "(the operating system's user)"
        reason = None
        if standby or read_only_default:
            reason = f"The server of {there} accepts no changes (a standby or a read-only server)."
        elif not may_write:
            reason = f"Your login {user} may not change anything in {there}."
        if reason is not None and not read_only and not allow_read_only:
            engine.dispose()
            raise ReadOnlyLibrary(f"{reason[:-1]}, so nothing can be changed there.")
        if read_only and reason is None:
            reason = "It was opened for reading only."
        elif reason is not None:
            reason = f"{reason[:-1]}, so it is open for reading only."
        withheld = None
        if not whole_rows:
            withheld = (
                f"Notes, dates of birth, photos and ratings are not shown to your login {user}."
            )
        lib = cls(url, engine, read_only=reason, keys=keys, withheld=withheld)
        lib.sweep_local()
        return lib

    def sweep_local(self) -> int:
        """Remove this workstation's kept thumbnails of photos erased since (``local_thumbs``):
        one query, and only when some are kept."""
        local = self.store.local if isinstance(self.store, ServerPhotoStore) else None
        if local is None or not local.folder.is_dir():
            return 0
        with self.session() as s:
            owned = set(s.scalars(select(Photo.sha256)))
        return local.sweep(owned)

    @property
    def root(self) -> Path:
        """A folder library's folder: there is none, so whatever asks for it is refused."""
        raise FolderOnly(
            f"The library {self.server} is in a database, not a folder: this works on a "
            "library folder only for now."
        )

    @root.setter
    def root(self, _value: Path) -> None:
        raise AttributeError("a server library has no folder")

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work, as a folder library's: committed when the block ends (with the
        blobs of the rows it recorded or erased), rolled back if it raises; a server error
        comes out as ``server_errors``' sentence."""
        store = self.store
        assert isinstance(store, ServerPhotoStore)
        depth = store.depth
        depth.n = getattr(depth, "n", 0) + 1
        try:
            with translated(self.engine.url, "do this"), db.session_scope(self._sessions) as s:
                yield s
                # A session opened inside another (a store call in an erasure) leaves the
                # erasure's held originals to the outer one, which deletes their rows.
                store.settle(s, outermost=depth.n == 1)
        finally:
            depth.n -= 1

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in autocommit: no BEGIN or COMMIT round trip, and ``db.together``'s
        reads sent in one query are one transaction of the server's own."""
        with translated(self.engine.url, "read this"), self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def checkpoint(self) -> None:
        """Nothing: the server writes its own log."""


@dataclass
class _Staged:
    data: bytes
    ext: str
    derived: dict[str, bytes] = field(default_factory=dict)
    put: bool = False  # stored by the session that recorded its row


class ServerPhotoStore(PhotoStore):
    """What the services ask of a ``PhotoStore``, answered from the database's blobs (see the
    module). Each call outside a session opens one of its own."""

    def __init__(self, lib: ServerLibrary) -> None:
        # Not PhotoStore.__init__: there is no folder.
        self.cipher = None
        self._lib = lib
        # An encrypted library's thumbnails, kept on this workstation too (encrypted).
        self.local = LocalThumbs(lib.keys) if lib.keys is not None else None
        self._blobs = lib.blobs
        self._guard = threading.Lock()
        self._staged: dict[str, _Staged] = {}
        # Per thread (a session never crosses threads): originals an erasure lets go of,
        # and how many of the library's sessions are open in it (``n``).
        self._holds: dict[int, set[str]] = {}
        self.depth = threading.local()

    # -- in the session of the rows --------------------------------------------------------

    def settle(self, s: Session, *, outermost: bool = True) -> None:
        """Before ``s`` commits: store the staged originals (and their thumbnails and
        previews) that a row now names, and, in the thread's ``outermost`` session, delete
        the held ones no row names any more."""
        with self._guard:
            waiting = [sha for sha, st in self._staged.items() if not st.put]
            holds = self._holds.pop(threading.get_ident(), set()) if outermost else set()
        if not waiting and not holds:
            return
        s.flush()
        named = _named(s, [*waiting, *holds])
        for sha in waiting:
            if sha not in named:
                continue
            with self._guard:
                staged = self._staged.get(sha)
            if staged is None:
                continue
            self._blobs.put(s, "original", sha, staged.data)
            for kind, data in staged.derived.items():
                self._blobs.put(s, _kind(kind), sha, data)
            staged.put = True
        for sha in holds - named:
            for kind in ("original", "thumbs", "previews"):
                self._blobs.delete(s, _kind(kind), sha)

    # -- originals ---------------------------------------------------------------------------

    def ensure_folders(self) -> None:
        """Nothing: there are no folders."""

    def stage_original(self, data: bytes, sha256: str, ext: str) -> Path:
        with self._guard:
            self._staged[sha256] = _Staged(data, ext)
        return Path(f"{sha256}.{ext}")  # a name for the staged bytes, never a file

    def original_size(self, staged: Path) -> int:
        with self._guard:
            return len(self._staged[staged.stem].data)

    def commit_staged(self, staged: Path) -> StoredOriginal:
        with self._guard:
            found = self._staged.pop(staged.stem, None)
        if found is None or not found.put:
            raise StorageError(
                f"The original {staged.stem[:12]} was not stored with its record; nothing "
                "names it in the library."
            )
        return StoredOriginal(staged.stem, found.ext, len(found.data), "")

    def discard_staged(self, staged: Path) -> None:
        with self._guard:
            self._staged.pop(staged.stem, None)

    def has_original(self, sha256: str, ext: str) -> bool:
        with self._lib.session() as s:
            return self._blobs.has(s, "original", sha256)

    def read_original(self, sha256: str, ext: str) -> bytes:
        with self._lib.session() as s:
            return self._blobs.read(s, "original", sha256)

    @contextlib.contextmanager
    def open_original(self, sha256: str, ext: str) -> Iterator[BinaryIO]:
        with self._lib.session() as s, self._blobs.open(s, "original", sha256) as fh:
            yield fh

    def original_intact(self, sha256: str, ext: str) -> bool:
        with self._lib.session() as s:
            return self._blobs.verify(s, "original", sha256) is None

    def plain_reader(self, fh: BinaryIO, sha256: str, ext: str, what: str) -> BinaryIO:
        raise self._lib_folder_only()

    def hold_original(self, sha256: str, ext: str) -> None:
        with self._guard:
            self._holds.setdefault(threading.get_ident(), set()).add(sha256)

    def has_held(self, sha256: str, ext: str) -> bool:
        return False  # an erased original goes with its rows: nothing is held for a redo

    def release_held(self, sha256: str, ext: str) -> None:
        with self._guard:
            self._holds.get(threading.get_ident(), set()).discard(sha256)

    def discard_held(self, sha256: str, ext: str) -> None:
        """Nothing: the blob went with the rows' transaction."""

    def temp_files(self) -> list[str]:
        return []

    def recover(self, is_committed: Callable[[str], bool]) -> RecoveryReport:
        return RecoveryReport()  # what was staged was in memory only

    # -- thumbnails and previews ---------------------------------------------------------------

    def _cache_path(self, kind: CacheKind, sha256: str) -> Path:
        raise self._lib_folder_only()

    def write_cache(self, kind: CacheKind, sha256: str, data: bytes) -> None:
        with self._guard:
            staged = self._staged.get(sha256)
            if staged is not None and not staged.put:
                staged.derived[kind] = data  # stored with its original, in its row's session
                return
        try:
            with self._lib.session() as s:
                self._blobs.put(s, _kind(kind), sha256, data)
        except DBAPIError:  # another workstation made it at the same moment: theirs is kept
            log.info("A thumbnail or preview was made elsewhere at the same time")
            return
        if kind == "thumbs" and self.local is not None:
            self.local.put(sha256, data)

    def read_cache(self, kind: CacheKind, sha256: str) -> bytes | None:
        local = self.local if kind == "thumbs" else None
        kept = local.get(sha256) if local is not None else None
        if kept is not None:
            return kept  # no round trip to the server
        try:
            # Read only, in autocommit: no BEGIN or COMMIT round trip (a slow link's).
            with self._lib.reading() as conn, Session(bind=conn) as s:
                data = self._blobs.read(s, _kind(kind), sha256)
        except NotFoundError:
            return None
        except BlobDamaged:
            log.warning("A stored thumbnail or preview is damaged; it is made again")
            return None
        if local is not None:
            local.put(sha256, data)
        return data

    def read_caches(self, kind: CacheKind, shas: Iterable[str]) -> dict[str, bytes]:
        """``read_cache`` of each of ``shas``: those kept on this workstation, then the rest
        in one round trip (a timeline's thumbnails; one not found is left out)."""
        local = self.local if kind == "thumbs" else None
        out: dict[str, bytes] = {}
        rest = []
        for sha in dict.fromkeys(shas):
            kept = local.get(sha) if local is not None else None
            if kept is not None:
                out[sha] = kept
            else:
                rest.append(sha)
        if rest:
            with self._lib.reading() as conn, Session(bind=conn) as s:
                fetched = self._blobs.read_small(s, _kind(kind), rest)
            for sha, data in fetched.items():
                if local is not None:
                    local.put(sha, data)
                out[sha] = data
        return out

    def has_cache(self, kind: CacheKind, sha256: str) -> bool:
        with self._lib.session() as s:
            return self._blobs.has(s, _kind(kind), sha256)

    def drop_cache(self, sha256: str) -> None:
        if self.local is not None:
            self.local.drop(sha256)
        with self._guard:
            staged = self._staged.get(sha256)
            if staged is not None:
                staged.derived.clear()
        if self._lib.read_only is not None:
            return
        with self._lib.session() as s:
            for kind in ("thumbs", "previews"):
                self._blobs.delete(s, _kind(kind), sha256)

    def sweep_cache(self, owned: Container[str]) -> int:
        return 0  # a blob is only ever stored with its row

    def _lib_folder_only(self) -> FolderOnly:
        return FolderOnly(
            f"The library {self._lib.server} keeps its photos in its database: this reads "
            "files of a library folder and works on a folder only for now."
        )


def _kind(kind: str) -> BlobKind:
    if kind == "original":
        return "original"
    if kind == "thumbs":
        return "thumbs"
    if kind == "previews":
        return "previews"
    raise ValueError(f"not a kind of blob: {kind!r}")


def _named(s: Session, shas: Iterable[str]) -> set[str]:
    """Which of ``shas`` a photo or a consent's signed form names (as ``s`` sees it)."""
    wanted = sorted(set(shas))
    if not wanted:
        return set()
    query: Any = union(
        select(Photo.sha256).where(Photo.sha256.in_(wanted)),
        select(Consent.form_sha256).where(Consent.form_sha256.in_(wanted)),
    )
    return {str(sha) for sha in s.scalars(query) if sha is not None}
