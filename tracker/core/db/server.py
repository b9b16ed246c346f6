"""A library's database in a PostgreSQL server (clinic mode, issue 21): the engine, migrations,
and ``open_server``, which checks (``server_schema``) and migrates it under an advisory lock.

The same models and Alembic migrations as a folder library's SQLite file; the migrations branch
on the dialect where SQLite's SQL is not PostgreSQL's (0003's JSON test, 0004's rebuilt area
table, 0005's triggers). The driver is psycopg 3 (the ``clinic`` extra); SQLAlchemy loads it
when the first engine is made, so the desktop app never imports it.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from tracker.core.db import engine as db
from tracker.core.db import notify, roles, schema, server_schema
from tracker.core.db.server_errors import server_name, translated
from tracker.core.errors import LibraryError, NewerLibraryError, NoLibrary

# The advisory lock held while a library's database is checked and migrated, so that two
# workstations starting at once do not both migrate it: one waits for the other's commit and
# then finds it up to date. Advisory locks are per database; the key is b"trackMIG".
MIGRATION_LOCK = int.from_bytes(b"trackMIG", "big")
# How long to wait for another workstation's migration before giving up with a sentence.
LOCK_WAIT_S = 120.0


CONNECT_TIMEOUT_S = 10
TCP_USER_TIMEOUT_MS = 20_000
# A pooled connection unused this long is checked before it is used again (``_ping_after_idle``).
IDLE_PING_S = 20.0


def make_pg_engine(url: str) -> Engine:
    """An engine for a ``postgresql://`` (or ``postgresql+psycopg://``) URL, driven by psycopg.

    ``hide_parameters``: an error's message never holds the values bound to a statement, which
    can be a client's name or a visit's notes (as for the SQLite engine).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise LibraryError(f"{parsed.render_as_string()} is not a postgresql:// address.")
    if "+" in parsed.drivername and parsed.get_driver_name() != "psycopg":
        raise LibraryError(f"{parsed.render_as_string()}: only the psycopg driver is supported.")
    # A bare postgresql:// means psycopg2 to SQLAlchemy: the app uses psycopg 3.
    parsed = parsed.set(drivername="postgresql+psycopg")
    # A link that dies without a word must not hold the window for minutes (TCP's own
    # timeouts): a connection is given up after CONNECT_TIMEOUT_S, one whose server stopped
    # answering after about 20 s (keepalives, and data unacknowledged for TCP_USER_TIMEOUT_MS).
    # What the address says itself is kept.
    link = {"connect_timeout": CONNECT_TIMEOUT_S, "tcp_user_timeout": TCP_USER_TIMEOUT_MS}
    link |= notify.KEEPALIVES
    given = {k: v for k, v in link.items() if k not in parsed.query}
    engine = create_engine(parsed, future=True, hide_parameters=True, connect_args=given)
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Before a pooled connection is used again after ``IDLE_PING_S`` unused (long enough for
    a VPN or the server to have dropped it), ask the server whether it is still there, as
    ``pool_pre_ping`` would at every use: over a slow link that was a round trip per read.
    A connection found broken is replaced by a new one (the pool's ``DisconnectionError``).
    One broken while in use is put out of the pool by SQLAlchemy and said as a lost link
    (``server_errors``); the next use makes a new one."""

    @event.listens_for(engine, "checkin")
    def _put_back(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc


def upgrade(engine: Engine, revision: str | None = None) -> None:
    """Migrate the server's database to ``revision`` (the head by default) in one transaction:
    PostgreSQL's DDL is transactional, so a failed migration leaves it as it was."""
    with engine.begin() as conn:
        # start-up time: Alembic is loaded only when migrating (see engine.SCHEMA_HEAD)
        from alembic import command

        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision or db.head_revision())


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the server's database down to ``revision`` ("base": no tables at all)."""
    with engine.begin() as conn:
        # start-up time: Alembic is loaded only when migrating (see engine.SCHEMA_HEAD)
        from alembic import command

        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def open_server(url: str, *, create: bool = False) -> Engine:
    """The engine of the library in a server's database, once it is known to hold exactly what
    this version's migrations make; migrated first when it is older.

    Refuses (with a typed error of one sentence): a server or login it cannot use
    (``server_errors``), a database written by a newer version (``NewerLibraryError``), an
    empty database unless ``create`` (``clinic create`` makes a library so), and one holding
    anything our migrations do not make (``ForeignSchema``). Nothing is changed when it
    refuses: the check and the migration are one transaction.

    An up-to-date library costs one transaction of four statements and takes no lock; the
    rest is done under ``MIGRATION_LOCK`` (a session's advisory lock), in a transaction begun
    once it is held, which reads everything again.
    """
    engine = make_pg_engine(url)
    try:
        with translated(engine.url, "open or migrate the library"), engine.connect() as conn:
            with conn.begin():
                revision = _revision(conn)
                if revision == db.head_revision() and not server_schema.foreign_objects(
                    conn, revision
                ):
                    return engine
            # The session's lock, taken in a transaction of its own: the work must start a new
            # transaction once the lock is held, or this backend's catalog caches may still
            # hold what it looked up before another workstation's migration committed (a
            # table not there), which only a new transaction is sure to refresh.
            with conn.begin():
                conn.execute(
                    text("SELECT set_config('lock_timeout', :ms, true)"),
                    {"ms": f"{int(LOCK_WAIT_S * 1000)}ms"},
                )
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                with conn.begin():
                    _check_and_migrate(conn, engine.url, create)
            finally:
                _unlock(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _unlock(conn: Connection) -> None:
    """Let the next workstation in; a broken connection has let go of the lock already."""
    if conn.invalidated:
        return
    with conn.begin():
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def _check_and_migrate(conn: Connection, url: URL, create: bool) -> None:
    """Under the lock: the database is ours at its revision, then migrated to the newest."""
    revision = _revision(conn)
    head = db.head_revision()
    if revision is not None and revision != head and revision not in schema.known_revisions():
        raise NewerLibraryError(
            f"This library was written by a newer version of the app (schema {revision}). "
            "Update the app to open it; the library has not been changed."
        )
    if revision is not None and revision != head:
        # Before the check, which builds the older schema to compare (a schema of its own).
        _refuse_unless_owner(conn, url, revision, head)
    subject = f"The library database {url.database!r} on {server_name(url)}"
    server_schema.verify(conn, revision, subject=subject)
    if revision is None and not create:
        raise NoLibrary(
            f"The database {url.database!r} on {server_name(url)} holds no library (it was not made by "
            "'tracker clinic create'); nothing was changed."
        )
    if revision == head:
        return
    # start-up time: Alembic is loaded only when migrating (see engine.SCHEMA_HEAD)
    from alembic import command

    cfg = db.alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, head)
    server_schema.verify(conn, head, subject=subject, outcome="it was not migrated")
    if revision is not None:
        # The staff's rights again, in the same transaction: a table a migration made has
        # none until granted, and the people working would be refused it.
        roles.grant_rights(conn)


def _refuse_unless_owner(conn: Connection, url: URL, revision: str, head: str) -> None:
    """Only the library's owner (the login that ran ``clinic create``: it owns the tables) or
    the server's superuser migrates it; anyone else is told whom to ask, before anything is
    tried (the server would refuse the first statement with a sentence that names no one)."""
    owner = conn.scalar(
        text(
            "SELECT tableowner FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename = 'alembic_version'"
        )
    )
    if owner is None or conn.scalar(text("SELECT pg_has_role(:o, 'USAGE')"), {"o": owner}):
        return
    raise LibraryError(
        f"The clinic library in the database {url.database!r} on {server_name(url)} was made "
        f"by an older version of the app (schema {revision}; this one needs {head}), and only "
        f"its owner, the login {owner}, or the server's superuser may bring it up to date: ask "
        f"them to open it once with this version (for example 'tracker --library "
        f"postgresql://{owner}@HOST/{url.database} check'); nothing was changed."
    )


def _revision(conn: Connection) -> str | None:
    """The database's revision, None when Alembic's table is not there (or is empty)."""
    if conn.scalar(text("SELECT to_regclass('alembic_version')")) is None:
        return None
    version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    return None if version is None else str(version)
