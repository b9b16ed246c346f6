"""Several reads sent together (issue 21: works over a slow link).

A clinic's workstation may reach its server through a VPN, where every round trip costs tens
of milliseconds: the window's switch to another client was 54 of them (a session each for
the client list, the areas, the timeline, the visit and its measures, each with its ping,
BEGIN and COMMIT). ``read`` answers a list of SELECTs in one round trip on PostgreSQL: their
SQL, with the values written in by SQLAlchemy's literal rendering (each type's own), joined
into one simple-protocol query that the server runs as one implicit transaction, so every
answer comes from the same snapshot. On a connection in autocommit there is no BEGIN or
COMMIT either. Each answer's values are then turned into Python as SQLAlchemy would (an
enum column's words into its enum), column by column.

Elsewhere (SQLite, a folder library: no round trips) the statements are run one after the
other in the connection's transaction.

Only what the statements select is answered: plain columns and expressions, not ORM
entities (``select(*Photo.__table__.c)``, not ``select(Photo)``). Their values must be ones
SQLAlchemy can write as literals (numbers, strings, dates, enums; not bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.exc import DBAPIError

Row = tuple[Any, ...]


def read(conn: Connection, statements: Sequence[Select[Any]]) -> list[list[Row]]:
    """The rows of each of ``statements``, in their order, as tuples."""
    if not statements:
        return []
    if conn.dialect.name != "postgresql":
        return [[tuple(r) for r in conn.execute(q)] for q in statements]
    return _read_pg(conn, statements)


def sql_of(conn: Connection, statement: Select[Any]) -> str:
    """``statement`` as one SQL text with its values written in (for the psycopg driver, whose
    paramstyle made SQLAlchemy double every percent sign: undone, as no parameter follows)."""
    compiled = statement.compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}
    )
    return str(compiled).replace("%%", "%")


def _read_pg(conn: Connection, statements: Sequence[Select[Any]]) -> list[list[Row]]:
    # start-up time: psycopg is imported only by a library on a server
    import psycopg

    query = ";\n".join(sql_of(conn, q) for q in statements)
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    out: list[list[Row]] = []
    try:
        # A client-side cursor: the simple query protocol, which takes several statements.
        with psycopg.ClientCursor(dbapi) as cur:
            cur.execute(query.encode())
            for statement in statements:
                rows = cur.fetchall()
                codes = [c.type_code for c in cur.description or ()]
                convert = _converters(conn, statement, codes)
                out.append(
                    [tuple(f(v) if f else v for f, v in zip(convert, r, strict=True)) for r in rows]
                )
                cur.nextset()
    except psycopg.Error as exc:
        # As SQLAlchemy wraps a driver's error (without the statement, which holds values),
        # and as it does on a disconnect (``Connection._handle_dbapi_exception``): the pool's
        # connections made before it are all stale (the server or the link went away), so the
        # next use of any makes a new one.
        lost = conn.dialect.is_disconnect(exc, dbapi, None)
        if lost:
            conn.engine.pool._invalidate(conn.connection, exc)
            conn.invalidate(exc)
        raise DBAPIError.instance(
            None, None, exc, psycopg.Error, hide_parameters=True, connection_invalidated=lost
        ) from exc
    return out


def _converters(
    conn: Connection, statement: Select[Any], codes: Sequence[int]
) -> list[Callable[[Any], Any] | None]:
    """For each column ``statement`` selects, what SQLAlchemy does to its driver's value (of
    the type the server said, ``codes``: its OIDs)."""
    dialect = conn.dialect
    return [
        col.type.dialect_impl(dialect).result_processor(dialect, code)
        for col, code in zip(statement.selected_columns, codes, strict=True)
    ]
