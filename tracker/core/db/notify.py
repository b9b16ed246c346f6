"""Changes made on another workstation, told to every window of a server library (clinic mode,
issue 21), by PostgreSQL's LISTEN/NOTIFY.

Sending: ``notify_on_commit(factory)`` makes every session of a server library's session factory
note what its flushes wrote, and send one ``pg_notify`` on ``CHANNEL`` just before it commits,
inside the same transaction: PostgreSQL delivers a notification only when its transaction
commits, and never one whose transaction rolled back. A unit of work that wrote nothing sends
nothing (no round trip). The payload is JSON naming tables and primary-key ids only, never a
value from a row (no names, no notes): every role that may connect can LISTEN. For example::

    {"v": 1, "origin": "5f0c…", "tables": {"rating": [41], "rating_item": [87, 88], "visit": null}}

``null`` ids mean "some rows, which is not known": an insert, update or delete statement run
through the session (``s.execute(delete(Visit).where(...))``), or more ids than fit in a
payload (PostgreSQL takes under 8000 bytes). The id of a table with a composite key is its
first key column's (the area of a ``region``, the photo of a ``measure``). What the session
does not see is not told: rows removed by ``ON DELETE CASCADE`` (a deleted client's areas and
visits; a reader treats a deleted parent's children as gone) and SQL run on a bare connection.
A change inside a savepoint that rolled back may still be told: a reader re-reads what it is
told of, so telling too much costs a query, never a wrong screen.

Receiving: ``ChangeListener`` holds its own psycopg connection in a thread, LISTENs, and hands
each notification as a ``Change`` to a callback (the window will post it to the GUI thread) or
to its ``changes`` queue. When its connection is lost (the server restarted, a VPN dropped) it
reconnects, with waits growing to ``RETRY_MAX_S``, and then hands a ``Change`` with ``resync``
set: notifications sent while it was away are lost, so anything may have changed.

The sending side needs nothing but SQLAlchemy; psycopg is imported only when a listener
starts, so the folder library's desktop app never loads it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    sessionmaker,
)

from tracker.core.errors import LibraryError

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

CHANNEL = "tracker_changes"
PAYLOAD_VERSION = 1
# PostgreSQL refuses a payload of 8000 bytes or more.
MAX_PAYLOAD = 7900
_KEY = "tracker.notify.changes"
# How often the listener looks up from its connection to see whether it is asked to stop.
POLL_S = 0.2
RETRY_MIN_S = 0.1
RETRY_MAX_S = 5.0
CONNECT_TIMEOUT_S = 5
# A link that dies without a word (a VPN gone) is found by TCP keepalives within about 20 s
# (ignored on a unix socket, where the server's end is seen at once).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5}
KEEPALIVES |= {"keepalives_count": 2}

# table -> ids written, or None when which rows is not known.
Changes = dict[str, set[int] | None]


# -- sending ------------------------------------------------------------------------------


def notify_on_commit(
    factory: sessionmaker[Session], *, origin: str | None = None, channel: str = CHANNEL
) -> str:
    """Make every session ``factory`` makes tell ``channel`` what it wrote, when it commits.

    Returns the origin written into each payload (a random token unless given), so that a
    window can tell its own changes from another workstation's. Only a PostgreSQL library
    can: a folder library has one writer and no server to tell.
    """
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        raise LibraryError(
            "Changes can only be told to other workstations by a PostgreSQL library."
        )
    origin = origin or uuid.uuid4().hex

    @event.listens_for(factory, "after_flush")
    def _noted_flush(session: Session, _flush: UOWTransaction) -> None:
        _note(session, _flushed_rows(session))

    @event.listens_for(factory, "do_orm_execute")
    def _noted_statement(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            _note(state.session, [_statement_rows(state)])

    @event.listens_for(factory, "before_commit")
    def _tell(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint's release: the transaction goes on
        # Commit flushes after this event; flush first, so that this flush is told too.
        session.flush()
        changes: Changes | None = session.info.pop(_KEY, None)
        if changes:
            session.connection().execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": channel, "payload": encode(changes, origin)},
            )

    @event.listens_for(factory, "after_transaction_end")
    def _forget(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # committed (and told), rolled back or closed
            session.info.pop(_KEY, None)

    return origin


def _note(session: Session, rows: Iterable[tuple[str, int | None]]) -> None:
    changes: Changes = session.info.setdefault(_KEY, {})
    for table, key in rows:
        ids = changes.get(table, set())
        if key is None or ids is None:
            changes[table] = None
        else:
            ids.add(key)
            changes[table] = ids


def _flushed_rows(session: Session) -> Iterable[tuple[str, int | None]]:
    """The rows a flush inserted, updated or deleted (in ``after_flush`` the session still
    holds them as new, dirty and deleted, with their keys assigned)."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        mapper = inspect(obj).mapper
        key = mapper.primary_key_from_instance(obj)[0]
        yield mapper.local_table.name, key if isinstance(key, int) else None


def _statement_rows(state: ORMExecuteState) -> tuple[str, int | None]:
    """An insert, update or delete statement's table; its ids are not known (a statement's
    WHERE clause names rows, it does not list them)."""
    table = state.statement.table  # type: ignore[attr-defined]
    return table.name, None


def encode(changes: Mapping[str, set[int] | None], origin: str) -> str:
    """The payload: tables with their ids, sorted; the longest id lists become ``null``
    (which rows is not known) until it fits in a notification."""
    tables: dict[str, list[int] | None] = {
        name: None if ids is None else sorted(ids) for name, ids in sorted(changes.items())
    }
    while True:
        payload = json.dumps(
            {"v": PAYLOAD_VERSION, "origin": origin, "tables": tables}, separators=(",", ":")
        )
        if len(payload.encode()) < MAX_PAYLOAD:
            return payload
        longest = max((t for t, ids in tables.items() if ids), key=lambda t: len(tables[t] or []))
        tables[longest] = None


# -- receiving ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What one notification said was written: table -> ids (None: which rows is not known).

    ``resync``: the listener was cut off and is back; notifications sent meanwhile are lost,
    so anything may have changed (``tables`` is empty). ``received_at`` is ``time.monotonic()``.
    """

    tables: Mapping[str, frozenset[int] | None]
    origin: str = ""
    resync: bool = False
    received_at: float = field(default_factory=time.monotonic)


def decode(payload: str) -> Change | None:
    """A notification's ``Change``; None for one that is not ours (another program may send on
    the channel too)."""
    try:
        data = json.loads(payload)
        if data.get("v") != PAYLOAD_VERSION:
            return None
        tables = {
            str(name): None if ids is None else frozenset(int(i) for i in ids)
            for name, ids in data["tables"].items()
        }
        return Change(tables=tables, origin=str(data.get("origin", "")))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def connect_args(engine: Engine) -> dict[str, Any]:
    """psycopg.connect's keywords for ``engine``'s server and database (its URL's host, port,
    user, password and database, as SQLAlchemy passes them)."""
    _args, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs.pop("context", None)  # SQLAlchemy's own type adapters
    return dict(kwargs)


class ChangeListener:
    """Receives the changes other sessions commit to a server library (see the module's text).

    ``start()`` returns at once; ``wait_listening()`` waits until it LISTENs (a window loads
    what it shows after that, so that nothing committed in between is missed). ``stop()``
    closes its connection and joins its thread. A callback runs in the listener's thread.
    """

    def __init__(
        self,
        engine: Engine,
        on_change: Callable[[Change], None] | None = None,
        *,
        channel: str = CHANNEL,
        ignore_origin: str | None = None,
    ) -> None:
        self._connect = {**connect_args(engine), **KEEPALIVES}
        self._connect["connect_timeout"] = CONNECT_TIMEOUT_S
        self._on_change = on_change
        self._channel = channel
        self._ignore_origin = ignore_origin
        # Where changes go when there is no callback.
        self.changes: queue.SimpleQueue[Change] = queue.SimpleQueue()
        self.reconnects = 0
        self.backend_pid: int | None = None
        self._listening = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-listener", daemon=True)

    def start(self) -> ChangeListener:
        self._thread.start()
        return self

    def wait_listening(self, timeout: float | None = None) -> bool:
        """True once the listener LISTENs on its (current) connection; False on timeout."""
        return self._listening.wait(timeout)

    def stop(self, timeout: float = CONNECT_TIMEOUT_S + 5) -> None:
        """Stop listening, close the connection and join the thread (within about ``POLL_S``,
        or a connection attempt's timeout while the server cannot be reached)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise LibraryError("The change listener did not stop in time.")

    def __enter__(self) -> ChangeListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        # start-up time: psycopg (and its libpq) is loaded only by a server library's window
        import psycopg

        wait = RETRY_MIN_S
        connected_before = False
        while not self._stopping.is_set():
            try:
                conn = psycopg.connect(**self._connect, autocommit=True)
            except psycopg.Error as exc:
                log.info(
                    "The change listener cannot reach the server (%s); trying again in %.1f s.",
                    type(exc).__name__,
                    wait,
                )
                self._stopping.wait(wait)
                wait = min(wait * 2, RETRY_MAX_S)
                continue
            try:
                with conn:
                    self._listen(conn, resync=connected_before)
                    connected_before = True
                    wait = RETRY_MIN_S
                    self._receive(conn)
            except psycopg.OperationalError as exc:
                log.info("The change listener lost its connection (%s).", type(exc).__name__)
            finally:
                self._listening.clear()
                self.backend_pid = None

    def _listen(self, conn: psycopg.Connection[Any], *, resync: bool) -> None:
        # start-up time: see _run
        from psycopg import sql

        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        self.backend_pid = conn.info.backend_pid
        if resync:
            self.reconnects += 1
            # Listening again first: a change committed from now on is told as well.
            self._hand(Change(tables={}, resync=True))
        self._listening.set()

    def _receive(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stopping.is_set():
            for note in conn.notifies(timeout=POLL_S):
                change = decode(note.payload)
                if change is None:
                    log.warning(
                        "A notification on %s that is not the tracker's was ignored.", note.channel
                    )
                elif change.origin != self._ignore_origin or not change.origin:
                    self._hand(change)
                if self._stopping.is_set():
                    return

    def _hand(self, change: Change) -> None:
        if self._on_change is None:
            self.changes.put(change)
            return
        try:
            self._on_change(change)
        except Exception:
            log.exception("Handling a change told by the server failed.")
