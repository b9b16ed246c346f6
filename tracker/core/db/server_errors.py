"""What went wrong with a library's PostgreSQL server, as one sentence of a typed error.

Errors are told apart by the SQLSTATE the server sent (``exc.orig.sqlstate``), by SQLAlchemy's
``connection_invalidated`` (psycopg found the connection broken), and, for a connection that
could not be made, by asking libpq and the server structured questions afterwards: libpq gives
no SQLSTATE for a refused connection, only a message in the server's language. So
``PQping`` says whether a server answers at all, libpq whether it asked for a password, and a
second connection to the server's ``postgres`` database whether the library's database exists.
A refused right (42501) is told as the login's role's limit (``roles.LIMITS``), the role asked
of the server on a connection of its own. Never by the wording of a message.

No sentence holds a password (only the login's name) or a value bound to a statement (the
engine is made with ``hide_parameters``, and no sentence quotes the statement). This module
never imports psycopg at load: SQLAlchemy has loaded it by the time an error is translated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from tracker.core.db import roles
from tracker.core.errors import (
    DatabaseBusy,
    DiskFull,
    LibraryError,
    NoLibrary,
    ReadOnlyLibrary,
)
from tracker.core.errors import EditConflict as EditConflict  # where it was first


class ServerUnreachable(LibraryError):
    """The server does not answer (not running, a wrong address, no route to it)."""


class LoginFailed(LibraryError):
    """The server refused the login: a wrong or missing password, no such login, or a login
    not allowed to connect from this computer."""


class NoSuchDatabase(NoLibrary):
    """The server holds no database of the name given."""


class PermissionRefused(LibraryError):
    """The login may not do what was asked (SQLSTATE 42501, or no right to connect)."""


class ConnectionLost(LibraryError):
    """The connection to the server broke during the work: what was not committed is not
    stored; reconnecting may work."""


# SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html)
INSUFFICIENT_PRIVILEGE = "42501"
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
READ_ONLY_SQL_TRANSACTION = "25006"
DISK_FULL = "53100"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
ADMIN_SHUTDOWN = "57P01"
CRASH_SHUTDOWN = "57P02"
CANNOT_CONNECT_NOW = "57P03"
INVALID_AUTHORIZATION = ("28000", "28P01")


def server_name(url: URL) -> str:
    """The server's host (or socket folder) and port, as the address names it."""
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = ",".join(host)
    return f"{host}:{url.port}" if url.port else str(host)


def where(url: URL) -> str:
    """The library's database for a sentence: the database 'clinic' on db.example.org."""
    return f"the database {url.database or url.username or '?'!r} on {server_name(url)}"


def translate(exc: BaseException, url: URL, doing: str = "do this") -> LibraryError | None:
    """The library error a person is shown for ``exc``; None for an error that is not about
    the server or the login (a constraint, a bug), which the caller handles or lets through.

    ``doing`` completes "Your login x may not …" when the server refuses a right.
    """
    if not isinstance(exc, DBAPIError):
        return None
    orig: Any = exc.orig
    state = getattr(orig, "sqlstate", None)
    there = where(url)
    user = url.username or "(the operating system's user)"
    if state is None and exc.statement is None and not exc.connection_invalidated:
        return _not_connected(orig, url)
    if (
        exc.connection_invalidated
        or (state or "").startswith("08")
        or state
        in (
            ADMIN_SHUTDOWN,
            CRASH_SHUTDOWN,
        )
    ):
        return ConnectionLost(
            f"The connection to {there} was lost; what was being changed was not stored "
            "unless it had been confirmed (reconnect and look before trying again)."
        )
    if state == CANNOT_CONNECT_NOW:
        return ServerUnreachable(
            f"The server of {there} is starting up or shutting down; try again in a moment."
        )
    if state == INSUFFICIENT_PRIVILEGE:
        role = staff_role(url)
        if role is not None:
            return PermissionRefused(
                f"Your login {user} may not {doing} in {there}: it is {roles.ROLE_NAMES[role]} "
                f"login, and {roles.LIMITS[role]}; nothing was changed."
            )
        said = getattr(getattr(orig, "diag", None), "message_primary", None)
        return PermissionRefused(
            f"Your login {user} may not {doing} in {there}"
            + (f" (the server said: {said})" if said else "")
            + "; nothing was changed."
        )
    if state in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED):
        return EditConflict(
            "Another workstation changed the same records at the same moment, so the edit was "
            "not stored; try again."
        )
    if state == READ_ONLY_SQL_TRANSACTION:
        return ReadOnlyLibrary(
            f"The server of {there} accepts no changes now (a read-only server or "
            "transaction); the change was not stored."
        )
    if state == DISK_FULL:
        return DiskFull(
            f"The disk of the server holding {there} is full; the change was not stored."
        )
    if state in (LOCK_NOT_AVAILABLE, QUERY_CANCELED):
        return DatabaseBusy(
            f"{there[0].upper()}{there[1:]} is busy (another workstation holds what this "
            "needs, or the server took too long); try again in a moment."
        )
    if state in INVALID_AUTHORIZATION:
        return LoginFailed(f"The server of {there} refused the login {user}.")
    return None


@contextlib.contextmanager
def translated(url: URL, doing: str = "do this") -> Iterator[None]:
    """Raise the typed error of ``translate`` for a server error in the block."""
    try:
        yield
    except DBAPIError as exc:
        error = translate(exc, url, doing)
        if error is None:
            raise
        raise error from exc


def _not_connected(orig: Any, url: URL) -> LibraryError:
    """Why a connection could not be made, found by asking (see the module's note)."""
    # start-up time: psycopg is loaded already (the engine just tried to connect with it)
    import psycopg
    from psycopg import pq

    there = where(url)
    user = url.username or "(the operating system's user)"
    params = _params(url)
    ping = pq.PGconn.ping(psycopg.conninfo.make_conninfo("", **params).encode())
    if ping == pq.Ping.NO_ATTEMPT:
        return LibraryError(f"The address of {there} is not one the server's driver accepts.")
    if ping == pq.Ping.REJECT:
        return ServerUnreachable(
            f"The server of {there} is not accepting connections (starting up, shutting "
            "down, or full); try again in a moment."
        )
    if ping != pq.Ping.OK:
        return ServerUnreachable(
            f"The server of {there} cannot be reached (it is not running, or the address or "
            "the network is wrong); nothing was changed."
        )
    pgconn = getattr(orig, "pgconn", None)
    if pgconn is not None and pgconn.needs_password:
        return LoginFailed(
            f"The server of {there} asks a password for the login {user}, and none was given."
        )
    # The questions come after the refusal: a server starting up (or shutting down) meanwhile
    # answers them as it would not have then, so an answer that would blame the login is
    # asked again of the library's own database first.
    momentary = ServerUnreachable(
        f"The server of {there} was not accepting connections a moment ago (starting up or "
        "shutting down); try again in a moment."
    )
    try:
        with psycopg.connect(**{**params, "dbname": "postgres"}) as probe:
            exists = probe.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [url.database]
            ).fetchone()
    except psycopg.Error:
        if pq.PGconn.ping(psycopg.conninfo.make_conninfo("", **params).encode()) != pq.Ping.OK:
            return momentary
        return LoginFailed(
            f"The server of {there} refused the login {user} (a wrong password, no such "
            "login, or a login not allowed to connect from this computer)."
        )
    if exists is None:
        return NoSuchDatabase(
            f"The server {server_name(url)} holds no database named {url.database!r}; "
            "nothing was changed."
        )
    try:
        with psycopg.connect(**params):
            return momentary  # it takes the login now: the refusal was the server's state
    except psycopg.Error:
        pass
    return PermissionRefused(f"Your login {user} may not connect to {there}; nothing was changed.")


def staff_role(url: URL) -> str | None:
    """The staff role (``roles.GROUPS``) of the login ``url`` names, asked of the server on a
    connection of its own (the refused one's transaction is aborted); None for a login in no
    staff group (the library's owner, the server's superuser) or when the server cannot say.
    An admin is a member of every group (it grants them): the first group in ``GROUPS``'
    order is the login's."""
    # start-up time: psycopg is loaded already (the engine's statement was just refused)
    import psycopg

    try:
        with psycopg.connect(**_params(url)) as probe:
            found = probe.execute(
                "SELECT g.name FROM unnest(%s::text[]) WITH ORDINALITY AS g(name, n) "
                "JOIN pg_roles r ON r.rolname = g.name "
                "WHERE pg_has_role(session_user, r.oid, 'MEMBER') AND NOT "
                "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user) ORDER BY g.n LIMIT 1",
                [list(roles.GROUPS.values())],
            ).fetchone()
    except psycopg.Error:
        return None
    if found is None:
        return None
    return next(role for role, group in roles.GROUPS.items() if group == found[0])


def _params(url: URL) -> dict[str, Any]:
    """libpq's connection parameters for ``url``, with a short timeout for asking why."""
    params: dict[str, Any] = {"connect_timeout": 5}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else ",".join(value)
    given: dict[str, object] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    params.update({key: value for key, value in given.items() if value is not None})
    return params
