"""A server database is trusted only when it holds exactly what our migrations make (issue 21):
a trigger, rule, function, view, policy, publication, table, column or index we do not make,
or one of ours defined otherwise, is named in a sentence and refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.conftest import REPO
from tracker.core.db import engine as db
from tracker.core.db import server, server_schema
from tracker.core.errors import ForeignSchema

WIPE = (
    "CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN DELETE FROM rating_item WHERE id <> new.id; RETURN NULL; END $$"
)

PLANTED = [
    (
        [
            WIPE,
            "CREATE TRIGGER wipe AFTER INSERT ON rating_item FOR EACH ROW EXECUTE FUNCTION wipe()",
        ],
        "holds a trigger named 'wipe' on the table rating_item that this app does not make "
        "(and 1 other object not as this app makes it)",
    ),
    (
        ["CREATE FUNCTION lower(text) RETURNS text LANGUAGE sql AS $$ SELECT '' $$"],
        "holds a function named 'lower(text)' that this app does not make",
    ),
    (
        ["CREATE TABLE notes (x text, y integer NOT NULL CHECK (y > 0))"],
        "holds a table named 'notes' that this app does not make",
    ),
    (["CREATE VIEW everyone AS SELECT * FROM client"], "holds a view named 'everyone'"),
    (
        ["CREATE INDEX ix_sneaky ON client (notes)"],
        "holds an index named 'ix_sneaky' on the table client that this app does not make",
    ),
    (
        ["ALTER TABLE visit ADD COLUMN extra text"],
        "holds a column named 'extra' on the table visit that this app does not make",
    ),
    (
        ["ALTER TABLE client ALTER COLUMN notes DROP NOT NULL"],
        "holds a column named 'notes' on the table client defined differently",
    ),
    (
        ["ALTER TABLE visit ALTER COLUMN notes SET DEFAULT 'x'"],
        "holds a column named 'notes' on the table visit defined differently",
    ),
    (
        ["ALTER TABLE audit DISABLE TRIGGER audit_no_delete"],
        "holds a trigger named 'audit_no_delete' on the table audit defined differently",
    ),
    (
        [
            "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN new; END $$"
        ],
        "holds a function named 'audit_append_only()' defined differently",
    ),
    (
        ["ALTER TABLE photo ENABLE ROW LEVEL SECURITY", "CREATE POLICY peek ON photo USING (true)"],
        "holds a policy named 'peek' on the table photo that this app does not make "
        "(and 1 other object",
    ),
    (
        ["CREATE RULE keep AS ON DELETE TO client DO INSTEAD NOTHING"],
        "holds a rule named 'keep' on the table client that this app does not make",
    ),
    (
        ["ALTER TABLE client DROP CONSTRAINT ck_client_name_not_blank"],
        "lacks the constraint named 'ck_client_name_not_blank' on the table client",
    ),
    (
        ["DROP INDEX ix_photo_area_id"],
        "lacks the index named 'ix_photo_area_id' on the table photo that this app makes",
    ),
    (["CREATE PUBLICATION leak FOR TABLE photo"], "holds a publication named 'leak'"),
    (["CREATE TYPE mood AS ENUM ('calm')"], "holds an enum type named 'mood'"),
    (
        [
            "CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$",
            "CREATE EVENT TRIGGER watch ON ddl_command_end EXECUTE FUNCTION on_ddl()",
        ],
        "holds an event trigger named 'watch'",
    ),
]


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = server.make_pg_engine(pg_url)
    server.upgrade(engine)
    yield engine
    engine.dispose()


def _run(engine: Engine, *sql: str) -> None:
    with engine.begin() as conn:
        for statement in sql:
            conn.execute(sa.text(statement))


def test_the_shipped_schema_is_what_the_migrations_make(pg: Engine) -> None:
    head = db.migrations_head()
    with pg.begin() as conn:
        found = server_schema.digests(server_schema.read(conn))
        built = server_schema.digests(server_schema.build(conn, head))
    # The same migrations in a schema of their own read the same as in public.
    assert built == found
    entry = server_schema.shipped_entry(head, found)
    shipped = server_schema.shipped(head)
    differences = (
        "\n".join(f.sentence for f in server_schema.compare(found, shipped)) if shipped else ""
    )
    if shipped != found or set(server_schema.SHIPPED) != {head}:
        # Without pytest's "E" margin, so that the entry can be copied as it is.
        pytest.fail(
            f"The migrations (now at {head}) make another schema on PostgreSQL than the one "
            f"shipped{':' if differences else '.'}\n{differences}\n"
            "Replace SHIPPED in tracker/core/db/server_schema.py with this (it keeps only the "
            "newest revision), then run this test again:\n\n"
            f"{entry}",
            pytrace=False,
        )
    source = (REPO / "tracker" / "core" / "db" / "server_schema.py").read_text(encoding="utf-8")
    assert entry in source


def test_a_migrated_database_is_exactly_ours(pg: Engine) -> None:
    with pg.begin() as conn:
        assert server_schema.foreign_objects(conn, db.head_revision()) == []
        server_schema.verify(conn, db.head_revision())


@pytest.mark.parametrize(("sql", "said"), PLANTED)
def test_an_object_we_do_not_make_is_named_and_refused(
    pg: Engine, sql: list[str], said: str
) -> None:
    _run(pg, *sql)
    with pg.begin() as conn, pytest.raises(ForeignSchema) as caught:
        server_schema.verify(conn, db.head_revision(), subject="The library database 'x'")
    message = str(caught.value)
    assert message.startswith(f"The library database 'x' {said}"), message
    assert message.endswith("; it was not opened."), message
    assert caught.value.problem.startswith(f"it {said}")


def test_what_an_extension_owns_is_expected(pg: Engine) -> None:
    _run(pg, "CREATE EXTENSION citext", "CREATE EXTENSION pg_trgm")
    with pg.begin() as conn:
        assert server_schema.foreign_objects(conn, db.head_revision()) == []


def test_the_library_in_another_schema_reads_the_same(pg_url: str) -> None:
    _run(engine := server.make_pg_engine(pg_url), "CREATE SCHEMA clinic")
    engine.dispose()
    in_clinic = server.make_pg_engine(f"{pg_url}&options=-csearch_path%3Dclinic")
    try:
        server.upgrade(in_clinic)
        with in_clinic.begin() as conn:
            assert conn.scalar(sa.text("SELECT current_schema()")) == "clinic"
            assert server_schema.foreign_objects(conn, db.head_revision()) == []
    finally:
        in_clinic.dispose()


def test_an_older_revision_is_checked_against_its_own_migrations(pg_url: str) -> None:
    """Built on the server in a schema of its own, which is rolled back."""
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine, "0004")
        with engine.begin() as conn:
            assert server_schema.foreign_objects(conn, "0004") == []
            # At 0004 the audit trail and its function are not there yet.
            assert server_schema.foreign_objects(conn, "0005")[0].sentence == (
                "The database lacks the function named 'audit_append_only()' that this app makes."
            )
        _run(engine, "CREATE INDEX ix_sneaky ON client (notes)")
        with engine.begin() as conn:
            (found,) = server_schema.foreign_objects(conn, "0004")
            assert (found.kind, found.name, found.problem) == ("index", "ix_sneaky", "unknown")
            left = conn.scalar(
                sa.text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tracker_expected%'")
            )
        assert left == 0
    finally:
        engine.dispose()
