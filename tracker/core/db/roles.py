"""Staff and their rights in a clinic library (issue 21): the server enforces them, not the window.

Each person logs in as their own PostgreSQL role (``add_user``), a member of one of four group
roles (``GROUPS``: ``tracker_admin``, ``tracker_practitioner``, ``tracker_assistant``,
``tracker_front_desk``, prefixed so that they do not clash with a server's own roles). What a
group may do to each table is stated as data in ``RIGHTS`` and granted by ``apply_rights``,
which the library's owner runs after every migration: it revokes the groups' rights on every
table and grants ``RIGHTS`` again, so a new table gets its rights and a right taken out of
``RIGHTS`` goes. A table that ``RIGHTS`` does not name yet (a migration newer than this list)
gets ``UNLISTED``: the clinical staff's rights, nothing for the front desk.

- **Admin and practitioner**: everything on every record, erasing included (admins also add
  staff: ``CREATEROLE`` and the groups' ADMIN OPTION). Only on PostgreSQL 16 and newer, where
  CREATEROLE reaches only the roles one holds ADMIN OPTION on: before 16 it is a right over
  every role of the server that is not a superuser (grant oneself ``pg_execute_server_program``
  and run programs as the server, take the library owner's role and with it the tables and the
  audit trail's triggers, change any login's password). There, admins get the groups' ADMIN
  OPTION but no CREATEROLE (the owner adds staff), and ``grant_rights`` takes CREATEROLE back
  from an admin login that has it.
- **Assistant**: reads, imports and records (INSERT, UPDATE), but deletes nothing that erasing
  takes away (no DELETE on clients, areas, visits, photos, ratings, treatment records, consents
  or stored files); only what an edit replaces (a rating's items, a region, a stale measure, a
  reference photo). Stored files are never changed, only added (no UPDATE either: overwriting
  an original's bytes would erase it).
- **Front desk**: column GRANTs, not views (a view is schema, which only the migrations make):
  the ids, client names, area names, and visits' dates and kinds; it may add a client and book
  or move a visit (INSERT covers every column of a new row, as the ORM writes them all: the
  front desk can write a new client's date of birth or notes, but never read them back). No notes, no dates of birth, no photo rows, no stored files, no ratings.
  Reading a whole row (``SELECT *``, an ORM entity) is refused: the front desk's screens must
  ask for those columns by name.
- **The audit trail** is append-only for everyone: INSERT and SELECT, never UPDATE or DELETE
  (the 0005 triggers refuse those even to the owner). Row-level security on it makes every
  entry name who wrote it: an entry is accepted only when its ``actor`` is the login
  (``session_user``; ``services.audit`` writes that on a server library), and an assistant or
  the front desk cannot enter an export, a print, a backup, a restore or an erasure
  (``LIMITED_ACTIONS``), so an export that records itself is refused by the server. The
  policies are schema objects, made by migration 0008 (which the server's schema check
  compares against), not here; ``AUDIT_POLICIES`` names them. The
  front desk reads only the entries' ids and hashes (to chain its own entries).

The group roles are the server's, not the database's (PostgreSQL's roles are cluster-wide):
two clinic libraries on one server would share their groups' rights. So CONNECT to the
library's database is taken from PUBLIC and granted to each person by ``add_user``; still,
an admin of one is an admin of the other's tables if they can connect: one server per clinic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tracker.core.db import engine as db
from tracker.core.errors import LibraryError, UsageError

log = logging.getLogger(__name__)

ADMIN, PRACTITIONER, ASSISTANT, FRONT_DESK = "admin", "practitioner", "assistant", "front-desk"
GROUPS: Mapping[str, str] = {
    ADMIN: "tracker_admin",
    PRACTITIONER: "tracker_practitioner",
    ASSISTANT: "tracker_assistant",
    FRONT_DESK: "tracker_front_desk",
}

SELECT, INSERT, UPDATE, DELETE = "SELECT", "INSERT", "UPDATE", "DELETE"


@dataclass(frozen=True)
class Grant:
    """A group's rights on one table: ``whole`` privileges on the whole table, ``columns``
    privileges on the columns named (``((privilege, (column, ...)), ...)``)."""

    whole: tuple[str, ...] = ()
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()


ALL = Grant((SELECT, INSERT, UPDATE, DELETE))
WORK = Grant((SELECT, INSERT, UPDATE))  # no DELETE: an assistant does not erase
EDIT = ALL  # what an edit replaces (the rows it deletes are made again by the same edit)
APPEND = Grant((SELECT, INSERT))
READ = Grant((SELECT,))

_CLINICAL = {ADMIN: ALL, PRACTITIONER: ALL, ASSISTANT: WORK}

# group -> rights, per table. A role not named has no rights on the table.
RIGHTS: Mapping[str, Mapping[str, Grant]] = {
    "client": {
        **_CLINICAL,
        # INSERT names every column a new row has (the ORM writes them all, NULL or not);
        # the front desk reads back only the id and name.
        FRONT_DESK: Grant(
            columns=(
                (SELECT, ("id", "name")),
                (
                    INSERT,
                    ("name", "date_of_birth", "fitzpatrick", "notes", "created_at", "version"),
                ),
            )
        ),
    },
    "area": {**_CLINICAL, FRONT_DESK: Grant(columns=((SELECT, ("id", "client_id", "name")),))},
    "visit": {
        **_CLINICAL,
        FRONT_DESK: Grant(
            columns=(
                # version: an edit's check reads it and counts it on (``services.versions``)
                (SELECT, ("id", "client_id", "date", "kind", "version")),
                (INSERT, ("client_id", "date", "kind", "notes", "created_at", "version")),
                (UPDATE, ("date", "kind", "version")),
            )
        ),
    },
    "treatment_record": _CLINICAL,
    "photo": _CLINICAL,
    "reference_photo": {**_CLINICAL, ASSISTANT: EDIT},
    "region": {**_CLINICAL, ASSISTANT: EDIT},
    "measure": {**_CLINICAL, ASSISTANT: EDIT},
    "rating": _CLINICAL,
    "rating_item": {**_CLINICAL, ASSISTANT: EDIT},
    "consent": _CLINICAL,
    "consent_photo": _CLINICAL,
    # Stored files are written once and never changed (``blobs_db`` inserts and deletes
    # them): no UPDATE for an assistant, who would otherwise erase an original's bytes by
    # overwriting them.
    "blob": {**_CLINICAL, ASSISTANT: APPEND},
    "blob_chunk": {**_CLINICAL, ASSISTANT: APPEND},
    "audit": {
        ADMIN: APPEND,
        PRACTITIONER: APPEND,
        ASSISTANT: APPEND,
        FRONT_DESK: Grant((INSERT,), ((SELECT, ("id", "hash")),)),
    },
    "alembic_version": {role: READ for role in GROUPS},
    # The wrapped master key of an encrypted clinic library (``store.server_keys``): read by
    # those who open its photos; written only by the library's owner (``clinic create
    # --encrypt``). The front desk, who sees no photos, does not read it.
    "library_key": {ADMIN: READ, PRACTITIONER: READ, ASSISTANT: READ},
}
UNLISTED: Mapping[str, Grant] = _CLINICAL

# Audit actions (``domain.consent.Action`` values) only admins and practitioners may enter.
LIMITED_ACTIONS = ("exported", "printed", "backed-up", "restored", "erased")

# Each role's limit, as a refusal's sentence says it (``server_errors``): "Your login x may
# not do this in …: it is <ROLE_NAMES[role]> login, and <LIMITS[role]>; nothing was changed."
ROLE_NAMES: Mapping[str, str] = {
    ADMIN: "an admin",
    PRACTITIONER: "a practitioner",
    ASSISTANT: "an assistant",
    FRONT_DESK: "a front-desk",
}
_TRAIL = "nobody changes or deletes the audit trail or enters an entry in another login's name"
LIMITS: Mapping[str, str] = {
    ADMIN: _TRAIL,
    PRACTITIONER: f"a practitioner adds no staff, and {_TRAIL}",
    ASSISTANT: (
        "an assistant reads, imports and records but erases nothing (no photo, visit, area, "
        "client, rating, treatment record, consent or stored file) and enters no export, "
        "print, backup, restore or erasure"
    ),
    FRONT_DESK: (
        "the front desk sees only clients' and areas' names and visits' dates and kinds (it "
        "may add a client and book or move a visit), never photos, stored files, notes, dates "
        "of birth, ratings, consents or the audit trail"
    ),
}
AUDIT_POLICIES = ("tracker_audit_read", "tracker_audit_append")

# A login we quote safely: a letter, then letters, digits, '_', '.' or '-' (at most 63 bytes,
# PostgreSQL's limit); not pg_ (the server's), not tracker_ (ours), not a word SQL reserves.
_USER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")
_RESERVED_NAMES = frozenset({"public", "none", "current_user", "current_role", "session_user"})
# The first PostgreSQL whose CREATEROLE reaches only the roles one holds ADMIN OPTION on.
CREATEROLE_CONFINED = (16,)
# SQLSTATEs read from the server's refusals (decided on the code, never on the wording).
_INSUFFICIENT_PRIVILEGE, _DUPLICATE_OBJECT = "42501", "42710"
# The advisory lock ``server`` migrates a library under (b"trackMIG"): made here again, as
# ``server`` may call ``grant_rights`` after its migrations and cannot be imported from here.
_MIGRATION_LOCK = int.from_bytes(b"trackMIG", "big")


def group_of(role: str) -> str:
    """The group role of ``role`` (admin, practitioner, assistant, front-desk)."""
    try:
        return GROUPS[role]
    except KeyError:
        raise UsageError(
            f"There is no staff role '{role}'; the roles are {', '.join(GROUPS)}."
        ) from None


def check_user_name(name: str) -> str:
    """``name`` when it can be a person's login role, else a UsageError saying why."""
    if not _USER_NAME.fullmatch(name):
        raise UsageError(
            f"'{name}' cannot be a login name: it must start with a letter and hold only "
            "letters, digits, '_', '.' and '-', at most 63 of them."
        )
    lowered = name.lower()
    if lowered.startswith(("pg_", "tracker_")) or lowered in _RESERVED_NAMES:
        raise UsageError(
            f"'{name}' cannot be a login name: names starting with pg_ or tracker_, and "
            "public, none, current_user, current_role and session_user, are reserved."
        )
    return name


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def ensure_groups(conn: Connection) -> None:
    """Make the group roles that are not there yet (NOLOGIN); refuse a login role of that name."""
    found: dict[str, bool] = {
        name: can_login
        for name, can_login in conn.execute(
            sa.text("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN :names").bindparams(
                sa.bindparam("names", expanding=True)
            ),
            {"names": list(GROUPS.values())},
        )
    }
    for group in GROUPS.values():
        if found.get(group):
            raise LibraryError(
                f"The server already has a login role named {group}; it cannot be a staff "
                "group of a clinic library (rename that role first)."
            )
        if group not in found:
            conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, group)} NOLOGIN")


def _grant_sql(
    conn: Connection, table: str, group: str, grant: Grant, present: set[str]
) -> Iterable[str]:
    """``present``: the table's columns; one a later migration adds (``version``, 0009) is
    granted when the rights are granted again after it."""
    target = f"TABLE {_quote(conn, table)} TO {_quote(conn, group)}"
    if grant.whole:
        yield f"GRANT {', '.join(grant.whole)} ON {target}"
    for privilege, columns in grant.columns:
        names = ", ".join(_quote(conn, c) for c in columns if c in present)
        yield f"GRANT {privilege} ({names}) ON {target}"


def rights_of(table: str) -> Mapping[str, Grant]:
    """What each group may do to ``table`` (``UNLISTED`` for a table ``RIGHTS`` lacks)."""
    return RIGHTS.get(table, UNLISTED)


def grant_rights(conn: Connection) -> None:
    """Grant every group its rights on every table of the library, as the module's notes
    say, inside the caller's transaction (``server`` after a migration, ``create_clinic``)."""
    ensure_groups(conn)
    groups = ", ".join(_quote(conn, g) for g in GROUPS.values())
    database = _quote(conn, str(conn.scalar(sa.text("SELECT current_database()"))))
    schema = _quote(conn, str(conn.scalar(sa.text("SELECT current_schema()"))))
    statements = [
        f"REVOKE CONNECT, TEMPORARY ON DATABASE {database} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {groups}",
        # A sequence only hands out ids; the table's own grants decide what is written.
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {groups}",
    ]
    inspector = sa.inspect(conn)
    tables = inspector.get_table_names()
    for table in sorted(tables):
        statements.append(f"REVOKE ALL ON TABLE {_quote(conn, table)} FROM {groups}")
        present = {c["name"] for c in inspector.get_columns(table)}
        for role, grant in rights_of(table).items():
            statements.extend(_grant_sql(conn, table, GROUPS[role], grant, present))
    statements.extend(_unconfined_admins(conn))
    for statement in statements:
        conn.exec_driver_sql(statement)
    log.info("Rights granted on %d tables", len(tables))


def createrole_confined(conn: Connection) -> bool:
    """Whether the server's CREATEROLE is confined (see ``CREATEROLE_CONFINED``)."""
    version = conn.dialect.server_version_info
    return version is not None and tuple(version[:1]) >= CREATEROLE_CONFINED


def _unconfined_admins(conn: Connection) -> list[str]:
    """Before PostgreSQL 16: the statements taking CREATEROLE back from the admin logins that
    have it (made by an older version of this module), when whoever grants may do so."""
    if createrole_confined(conn):
        return []
    may = conn.scalar(
        sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = session_user")
    )
    names = list(
        conn.scalars(
            sa.text(
                "SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid "
                "JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = :group "
                "AND r.rolcreaterole AND NOT r.rolsuper AND r.rolname <> session_user"
            ),
            {"group": GROUPS[ADMIN]},
        )
    )
    if names and not may:
        log.warning("%d admin logins keep CREATEROLE: the owner may not take it back", len(names))
        return []
    return [f"ALTER ROLE {_quote(conn, name)} NOCREATEROLE" for name in names]


def apply_rights(engine: Engine) -> None:
    """``grant_rights`` in a transaction of its own: run by the tables' owner after every
    migration (idempotent: what ``RIGHTS`` no longer gives is taken back)."""
    with engine.begin() as conn:
        grant_rights(conn)


def _tables_there(conn: Connection) -> list[str]:
    """The first few tables and views of the database, outside the server's own schemas."""
    return list(
        conn.scalars(
            sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'information_schema' "
                "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY c.relname LIMIT 4"
            )
        )
    )


def create_clinic(engine: Engine) -> str:
    """Make a clinic library in the empty database ``engine`` reaches, in one transaction
    (PostgreSQL's DDL is transactional: a failure leaves the database empty): the schema by
    the migrations, then the rights; the revision it is at. A database holding any table or
    view is refused (a LibraryError), so that nothing of another application's is touched."""
    with engine.begin() as conn:
        # Two 'clinic create' at once: the second waits, then finds the tables.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        found = _tables_there(conn)
        if found:
            database = conn.scalar(sa.text("SELECT current_database()"))
            shown = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
            raise LibraryError(
                f"The database {database} already holds tables ({shown}): a clinic library is "
                "made only in an empty database (create one with 'createdb NAME')."
            )
        # start-up time: Alembic is loaded only when migrating (see engine.SCHEMA_HEAD)
        from alembic import command

        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, db.head_revision())
        grant_rights(conn)
        return str(conn.scalar(sa.text("SELECT version_num FROM alembic_version")))


def add_user(engine: Engine, name: str, role: str, password: str) -> None:
    """Make ``name`` a login role in ``role``'s group, able to connect to this library.

    The password goes to the server only as a SCRAM-SHA-256 verifier computed here (libpq's
    ``PQencryptPasswordConn``, as psql's ``\\password``), so neither the statement nor the
    server's log or activity view ever holds it; nothing here logs or prints it. An admin also
    gets the groups' ADMIN OPTION and, on PostgreSQL 16 and newer, CREATEROLE, so that admins
    add staff without the owner (not before 16: see the module's notes). Whoever runs it must
    be an admin (16 and newer) or a login that may create roles (the server's superuser, an
    owner with CREATEROLE); else a LibraryError naming who they are."""
    check_user_name(name)
    group = group_of(role)
    if not password:
        raise UsageError("The password is empty; give the new login a password.")
    with engine.begin() as conn:
        who = str(conn.scalar(sa.text("SELECT session_user")))
        database = _quote(conn, str(conn.scalar(sa.text("SELECT current_database()"))))
        raw = conn.connection.driver_connection
        verifier = raw.pgconn.encrypt_password(  # type: ignore[union-attr]
            password.encode("utf-8"), name.encode("utf-8"), b"scram-sha-256"
        ).decode("ascii")
        user = _quote(conn, name)
        admin = role == ADMIN
        confined = createrole_confined(conn)
        statements = [
            f"CREATE ROLE {user} LOGIN {'CREATEROLE ' if admin and confined else ''}"
            f"PASSWORD '{verifier}' IN ROLE {_quote(conn, group)}",
            f"GRANT CONNECT ON DATABASE {database} TO {user}"
            + (" WITH GRANT OPTION" if admin else ""),
        ]
        if admin:
            groups = ", ".join(_quote(conn, g) for g in GROUPS.values())
            statements.append(f"GRANT {groups} TO {user} WITH ADMIN OPTION")
        try:
            for statement in statements:
                conn.exec_driver_sql(statement)
        except DBAPIError as exc:
            # Not chained: the failed statement's text holds the verifier.
            raise _add_user_refused(exc, name, who, confined) from None
    log.info("Added a %s login", role)


def _add_user_refused(exc: DBAPIError, name: str, who: str, confined: bool) -> Exception:
    state = _sqlstate(exc)
    if state == _DUPLICATE_OBJECT:
        return UsageError(f"The server already has a role named {name}; choose another name.")
    if state == _INSUFFICIENT_PRIVILEGE and not confined:
        return LibraryError(
            f"{who} may not add staff to this clinic library: on PostgreSQL 15 and older only "
            "the library's owner or the server's superuser can (the right to make logins there "
            "is a right over every login of the server, so admins do not get it)."
        )
    if state == _INSUFFICIENT_PRIVILEGE:
        return LibraryError(
            f"{who} may not add staff to this clinic library: only an admin can (or a login "
            "that may create roles, such as the server's superuser)."
        )
    return LibraryError(f"The server refused to add {name} (error {state}).")
