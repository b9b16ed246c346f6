"""The staff's rights granted again on an existing clinic library (``tracker clinic rights``,
issue 21).

The rights are data (``db.roles.RIGHTS``), granted by ``roles.grant_rights`` when a library is
made and after each migration. A right that changes without a migration (a column the front
desk may now read, a table an assistant may now write) reaches the libraries made before it
only when they are granted again: this does that, with the very function ``clinic create``
runs, in one transaction, under the lock migrations take (so it never interleaves with one).
Only the tables' owner (the login that ran ``clinic create``) or the server's superuser may
grant on them: anyone else is refused before anything is tried, naming the owner (PostgreSQL
would only warn, "no privileges were granted", and change nothing).

The audit trail's row-level policies are schema objects made by migration 0008, not grants:
opening the library (``server.open_server``) compares them with what the migrations make
and refuses a library that lacks them, so they are checked there, not granted here. What
changed is told as the privileges the groups gained and lost, each a (group, table, column,
privilege), read from the server's catalog before and after.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text

from tracker.core.db import roles, server
from tracker.core.errors import LibraryError

_PRIVILEGES = """
SELECT g.rolname, c.relname, '' AS col, a.privilege_type
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S') AND g.rolname IN :groups
UNION ALL
SELECT g.rolname, c.relname, t.attname, a.privilege_type
FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(t.attacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND g.rolname IN :groups
"""

Privilege = tuple[str, str, str, str]  # group, table, column ('' for the whole table), privilege


def privileges(conn: Connection) -> set[Privilege]:
    """What the staff groups hold on this library's tables, sequences and columns."""
    query = text(_PRIVILEGES).bindparams(bindparam("groups", expanding=True))
    found = conn.execute(query, {"groups": list(roles.GROUPS.values())})
    return {(str(g), str(t), str(c), str(p)) for g, t, c, p in found}


def refuse_unless_owner(conn: Connection, where: str) -> None:
    """A LibraryError unless this login owns the library's tables (or is the superuser)."""
    owner = conn.scalar(
        text(
            "SELECT tableowner FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename = 'alembic_version'"
        )
    )
    if owner is None or conn.scalar(text("SELECT pg_has_role(:o, 'USAGE')"), {"o": owner}):
        return
    who = conn.scalar(text("SELECT session_user"))
    raise LibraryError(
        f"{who} may not grant the staff's rights in {where}: only the library's owner (the "
        f"login {owner}, who ran 'tracker clinic create') or the server's superuser grants on "
        "its tables; nothing was changed."
    )


def regrant(engine: Engine, where: str) -> dict[str, Any]:
    """Grant every group its rights again (see the module): {"tables", "granted", "revoked"},
    the last two lists of [group, table, column, privilege] that changed."""
    with engine.begin() as conn:
        refuse_unless_owner(conn, where)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": server.MIGRATION_LOCK})
        before = privileges(conn)
        roles.grant_rights(conn)
        after = privileges(conn)
        tables = conn.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
        )
    return {
        "tables": int(tables or 0),
        "granted": [list(p) for p in sorted(after - before)],
        "revoked": [list(p) for p in sorted(before - after)],
    }
