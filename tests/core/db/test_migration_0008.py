"""Migration 0008: the audit trail's row-level security on PostgreSQL, made and taken away by
the migration (a schema object the server's schema check compares), nothing on SQLite."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tracker.core.db import engine as db
from tracker.core.db import roles, schema, server
from tracker.core.store.library import Library

POLICIES = [("tracker_audit_append", "INSERT"), ("tracker_audit_read", "SELECT")]


def _policies(engine: sa.Engine) -> tuple[bool, list[tuple[str, str]]]:
    with engine.connect() as conn:
        secured = conn.scalar(
            sa.text("SELECT relrowsecurity FROM pg_class WHERE relname = 'audit'")
        )
        rows = conn.execute(
            sa.text("SELECT policyname, cmd FROM pg_policies WHERE tablename = 'audit' ORDER BY 1")
        )
        return bool(secured), [(r[0], r[1]) for r in rows]


def test_on_postgresql_the_audit_policies_come_and_go(pg_url: str) -> None:
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine, "0007")
        assert _policies(engine) == (False, [])
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        assert _policies(engine) == (True, POLICIES)
        with engine.connect() as conn:
            check = conn.scalar(
                sa.text(
                    "SELECT with_check FROM pg_policies WHERE policyname = 'tracker_audit_append'"
                )
            )
        assert "SESSION_USER" in str(check)
        # The migration's literal list is the one db.roles states (a migration never imports it).
        assert all(f"'{action}'" in str(check) for action in roles.LIMITED_ACTIONS)
        assert {name for name, _cmd in POLICIES} == set(roles.AUDIT_POLICIES)
        server.downgrade(engine, "0007")
        assert _policies(engine) == (False, [])
        server.upgrade(engine)
        assert _policies(engine) == (True, POLICIES)
    finally:
        engine.dispose()


def test_on_sqlite_nothing_changes(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib", create=True) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()
    # The schema at 0008 is exactly 0007's.
    assert schema.build("0008").objects == schema.build("0007").objects
