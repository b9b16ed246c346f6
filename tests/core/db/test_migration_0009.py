"""0008 → 0009 (issue 21): the version counters of the rows people edit come and go, on SQLite
and on PostgreSQL; the rows stay, and those that were there start at version 1."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from tests import helpers as h
from tests.core.db.migrating import migrate
from tracker.core.db import engine as db
from tracker.core.db import schema, server
from tracker.core.db.models import RaterRole
from tracker.core.services import clients, ratings, visits
from tracker.core.store.library import Library

TABLES = ("client", "area", "visit", "treatment_record", "rating")


def _rows(root: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            for t in (*TABLES, "rating_item")
        }
    finally:
        conn.close()


def _has_version(root: Path) -> dict[str, bool]:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return {
            t: "version" in {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in TABLES
        }
    finally:
        conn.close()


def _library_with_edits(root: Path) -> None:
    with Library.open(root, create=True) as lib:
        client = h.only_client(lib)
        area = clients.add_area(lib, client, "Hips")
        visit = visits.add_visit(lib, client, dt.date(2026, 3, 1))
        visits.set_treatment(lib, visit, area, {"device": "pen", "passes": 2})
        visits.set_treatment(lib, visit, area, {"passes": 3})
        ratings.rate(lib, visit, area, RaterRole.PATIENT, {"colour": 6, "texture": 5})
        ratings.rate(lib, visit, area, RaterRole.PATIENT, {"depth": 4})


def test_the_versions_come_and_go_and_the_rows_stay(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    _library_with_edits(root)
    assert all(_has_version(root).values())
    migrate(root, "0008")
    assert not any(_has_version(root).values())
    schema.verify_schema(root / "library.sqlite3")  # exactly 0008's schema again
    before = _rows(root)
    assert len(before["rating_item"]) == 3 and len(before["treatment_record"]) == 1
    migrate(root, "0009", up=True)
    schema.verify_schema(root / "library.sqlite3")
    after = _rows(root)
    for table in TABLES:  # every row kept, version 1 appended
        assert after[table] == [(*row, 1) for row in before[table]], table
    assert after["rating_item"] == before["rating_item"]
    with Library.open(root) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()
        assert h.check(lib).ok


def test_a_new_row_starts_at_version_1_even_when_written_without_it(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Library.open(root, create=True), sqlite3.connect(root / "library.sqlite3") as conn:
        conn.execute("INSERT INTO client (name, notes, created_at) VALUES ('Ann', '', '2026')")
        assert conn.execute("SELECT version FROM client WHERE name = 'Ann'").fetchone() == (1,)


def test_on_postgresql_the_versions_come_and_go(pg_url: str) -> None:
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO client (name, notes, created_at) VALUES ('Ann', '', now())"
            )
        server.upgrade(engine)
        inspector = sa.inspect(engine)
        for table in TABLES:
            (column,) = [c for c in inspector.get_columns(table) if c["name"] == "version"]
            assert not column["nullable"] and str(column["default"]) == "1", table
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name, version FROM client").all() == [("Ann", 1)]
        server.downgrade(engine, "0008")
        assert db.current_revision(engine) == "0008"
        inspector = sa.inspect(engine)
        for table in TABLES:
            assert "version" not in {c["name"] for c in inspector.get_columns(table)}, table
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
