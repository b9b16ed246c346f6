"""Opening the library database: connection settings, migrations, and refusing newer databases.

Order on open matters for the promise that a database written by a newer version is never
altered: the schema revision is read through a read-only connection *before* anything may
write to the file (even switching to WAL writes to its header).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.db import schema
from tracker.core.errors import (
    DatabaseBusy,
    DatabaseDamaged,
    DiskFull,
    FolderReadOnly,
    LibraryError,
    NewerLibraryError,
    ReadOnlyLibrary,
    StorageError,
)

log = logging.getLogger(__name__)

DB_NAME = "library.sqlite3"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 10_000

# SQLite's primary result codes (https://www.sqlite.org/rescode.html). Python's sqlite3 gives
# the extended code of every error it raises as ``sqlite_errorcode``; the low byte is the
# primary code. Errors are told apart by these codes, never by the text of the message.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


if TYPE_CHECKING:
    from alembic.config import Config


def sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code behind ``exc`` (a sqlite3 error, or SQLAlchemy's wrapper of
    one), or None when it did not come from SQLite."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def translate(exc: BaseException, read_only: str | None = None) -> LibraryError | None:
    """The library error a person is shown for a database error, by its SQLite result code;
    None for errors that are not about the library as a whole (a constraint, a bug).

    ``read_only`` is the reason the library was opened for reading, if it was.
    """
    code = sqlite_code(exc)
    if code is None:
        return None
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseBusy(
            "The library is busy (something else is writing to it: another program, or this "
            "one's import); try again in a moment."
        )
    if code == SQLITE_READONLY:
        if read_only is not None:
            return ReadOnlyLibrary(f"Nothing can be changed: {read_only}")
        return FolderReadOnly(
            "The library database cannot be written to (no permission, or a read-only disk); "
            "the change was not saved."
        )
    if code == SQLITE_FULL:
        return DiskFull("The disk holding the library is full; the change was not saved.")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return DatabaseDamaged(
            "The library database is damaged; the change was not saved. "
            "Check the library (Library ▸ Check, or 'tracker check').",
            str(getattr(exc, "orig", exc)),
        )
    if code in (SQLITE_IOERR, SQLITE_CANTOPEN):
        return StorageError(
            f"The library database could not be read or written ({getattr(exc, 'orig', exc)}); "
            "the change was not saved."
        )
    return None


# The newest migration's revision, so that opening an up-to-date library does not need to load
# Alembic at all (a test checks it against the migrations folder). Alembic is imported inside
# the functions that migrate: loading it costs about 0.35 s, at every start otherwise.
SCHEMA_HEAD = "0011"


def connect_file(db_path: Path, mode: str | None, key: bytes | None) -> Any:
    """A DB-API connection to the database file, opened with SQLite's URI ``mode``
    ("mode=ro", "immutable=1", None to write): Python's sqlite3 for a plain library, SQLCipher
    keyed with ``key`` (``keyed``) for an encrypted one."""
    target = db_path.resolve().as_uri() + (f"?{mode}" if mode else "")
    if key is None:
        return sqlite3.connect(target, uri=True)
    # start-up time: SQLCipher is loaded for an encrypted library only
    from tracker.core.db import keyed

    return keyed.connect(target, key, uri=True)


def db_errors() -> tuple[type[Exception], ...]:
    """The DB-API errors a raw connection can raise: sqlite3's, and SQLCipher's once it is
    loaded (none of its errors can happen before)."""
    cipher = sys.modules.get("sqlcipher3")
    return (sqlite3.Error,) if cipher is None else (sqlite3.Error, cipher.Error)


def copy_database(db_path: Path, dest: Path, key: bytes | None = None) -> Path:
    """Copy the database with SQLite's backup API: consistent even with a WAL beside it.
    An encrypted database's copy is encrypted with the same ``key``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = connect_file(db_path, "mode=ro", key)
    try:
        out = connect_file(dest, None, key)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    return dest


def alembic_config() -> Config:
    from alembic.config import Config  # only when migrating: see SCHEMA_HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    return SCHEMA_HEAD


def migrations_head() -> str:
    """The head revision as the migrations folder says (loads Alembic)."""
    from alembic.script import ScriptDirectory  # only when migrating: see SCHEMA_HEAD

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def make_engine(
    db_path: Path,
    *,
    foreign_keys: bool = True,
    read_only: str | None = None,
    key: bytes | None = None,
) -> Engine:
    """An engine whose every connection has the settings the library relies on.

    synchronous=FULL makes a committed import survive a power cut; foreign keys are off
    only for migrations, where SQLite's table rebuilds would otherwise cascade deletes.
    ``read_only`` is None, "ro" (another program writes: read through its WAL) or "immutable"
    (nobody can write: the folder is read-only, so SQLite must not try to create files in it).
    ``key`` is an encrypted library's database key: SQLCipher, keyed on every connection.
    """
    if read_only is None:
        url = f"sqlite:///{db_path}"
    else:
        mode = "mode=ro" if read_only == "ro" else "immutable=1"
        url = f"sqlite:///file:{db_path.resolve()}?{mode}&uri=true"
    # hide_parameters: an error's message (and so a log's traceback) never holds the values
    # bound to a statement, which can be a client's name or a visit's notes.
    extra: dict[str, Any] = {}
    if key is not None:
        # start-up time: SQLCipher is loaded for an encrypted library only
        from tracker.core.db import keyed

        extra["module"] = keyed.dbapi
    engine = create_engine(url, future=True, hide_parameters=True, **extra)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        if key is not None:
            keyed.apply_key(dbapi_conn, key)  # before anything else reads the file
        # Let SQLAlchemy's "begin" event below issue BEGIN, so DDL is transactional too.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if read_only is None:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            # What is deleted is overwritten, not left in free pages: an erased client's
            # notes must not be readable in the file afterwards.
            cur.execute("PRAGMA secure_delete=ON")
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def read_revision(db_path: Path, key: bytes | None = None) -> str | None:
    """The schema revision stored in an existing database, read without writing to it.

    Without a WAL beside it, the file is opened as immutable so that SQLite does not even
    create its -wal and -shm companions; with one, the WAL must be read to see the truth.
    """
    wal = db_path.with_name(db_path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    try:
        conn = connect_file(db_path, mode, key)
    except db_errors() as exc:
        raise LibraryError(f"The library database {db_path} cannot be opened: {exc}.") from exc
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "alembic_version" not in tables:
            if tables:
                raise LibraryError(f"{db_path} is a database, but not a photo tracker library.")
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    except db_errors() as exc:
        if sqlite_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB):
            raise DatabaseDamaged(
                f"The library database {db_path} is damaged or is not a database ({exc}).",
                str(exc),
            ) from exc
        # Busy, locked, an I/O error: the file may be fine; it could not be read just now.
        raise translate(exc) or StorageError(
            f"The library database {db_path} could not be read ({exc})."
        ) from exc
    finally:
        conn.close()


def open_read_only(db_path: Path, mode: str, key: bytes | None = None) -> Engine:
    """An engine that can only read; refuses a database that would need upgrading first."""
    current = read_revision(db_path, key)
    if current != head_revision():
        raise LibraryError(
            f"The library at {db_path.parent} needs upgrading to this version of the app, which "
            "needs permission to write to it; it has not been changed."
        )
    # ForeignSchema: a trigger, view, table or index our migrations do not make.
    _verify_schema(db_path, key)
    return make_engine(db_path, read_only=mode, key=key)


def _verify_schema(db_path: Path, key: bytes | None) -> None:
    if key is None:
        schema.verify_schema(db_path, migrations=MIGRATIONS_DIR)
        return
    wal = db_path.with_name(db_path.name + "-wal")
    conn = connect_file(db_path, "mode=ro" if wal.exists() else "immutable=1", key)
    try:
        schema.verify_schema(conn, migrations=MIGRATIONS_DIR)
    finally:
        conn.close()


def quick_check(engine: Engine) -> str | None:
    """None if SQLite's quick check finds nothing wrong, else its first complaint. A database
    that is busy or cannot be read just now raises the library error for that instead: only
    what SQLite calls corrupt is damage."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("PRAGMA quick_check").fetchall()
    except DBAPIError as exc:
        if sqlite_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return str(exc.orig)
        raise translate(exc) or StorageError(
            f"The library database could not be checked ({exc.orig})."
        ) from exc
    first = rows[0][0] if rows else "no answer"
    return None if first == "ok" else str(first)


def open_database(db_path: Path, backups_dir: Path, key: bytes | None = None) -> Engine:
    """Create or upgrade the database at ``db_path`` and return an engine for it.

    Raises NewerLibraryError, without touching the file, when the database comes from a
    newer version of the app; copies the database to ``backups_dir`` before any migration.
    """
    head = head_revision()
    current = read_revision(db_path, key) if db_path.exists() else None
    if current is not None and current != head:
        from alembic.script import ScriptDirectory  # only when migrating: see SCHEMA_HEAD

        script = ScriptDirectory.from_config(alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
        if current not in known:
            raise NewerLibraryError(
                f"This library was written by a newer version of the app (schema {current}). "
                "Update the app to open it; the library has not been changed."
            )
    if current is not None:
        # Before anything can run in it (a migration, the switch to WAL): a database holding a
        # trigger, view, table or index our migrations do not make is refused (ForeignSchema).
        _verify_schema(db_path, key)
    if current != head:
        if current is not None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            dest = backups_dir / f"library-{stamp}-before-{head}.sqlite3"
            copy_database(db_path, dest, key)
            log.info("Backed up the database to %s before migrating", dest.name)
        _upgrade(db_path, key)
    return make_engine(db_path, key=key)


def _upgrade(db_path: Path, key: bytes | None = None) -> None:
    engine = make_engine(db_path, foreign_keys=False, key=key)
    try:
        with engine.begin() as conn:
            from alembic import command  # only when migrating: see SCHEMA_HEAD

            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, head_revision())
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise LibraryError(
                    "Upgrading the library would break links between its records; "
                    "it has been left as it was."
                )
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        from alembic.runtime.migration import MigrationContext  # see SCHEMA_HEAD

        return MigrationContext.configure(conn).get_current_revision()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One user action: commit if it completes, roll back everything if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
