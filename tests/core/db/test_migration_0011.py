"""0010 → 0011 (issue 21): a photo's version counter comes and goes, on SQLite and on
PostgreSQL; the photos stay, and those that were there start at version 1."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.core.clinic.writer import tiny_jpeg
from tests.core.db.migrating import migrate
from tracker.core.db import engine as db
from tracker.core.db import schema, server
from tracker.core.services import clients, import_report, imports, photos
from tracker.core.store.library import Library


def _photos(root: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return conn.execute("SELECT * FROM photo ORDER BY id").fetchall()
    finally:
        conn.close()


def _has_version(root: Path) -> bool:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return "version" in {r[1] for r in conn.execute("PRAGMA table_info(photo)")}
    finally:
        conn.close()


@pytest.mark.folder_only(reason="migrations")
def test_the_photos_version_comes_and_goes_and_the_photos_stay(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        client = clients.add_client(lib, "Ann")
        area = clients.add_area(lib, client, "Hips")
        items = []
        for n in range(2):
            path = tmp_path / f"p{n}.jpg"
            path.write_bytes(tiny_jpeg(11, n))
            items.append(import_report.ImportItem(path, area, day=dt.date(2026, 3, 1)))
        ids = [i.photo_id for i in imports.import_items(lib, items, workers=1).imported]
        photos.set_photo_view(lib, ids[0], "left")  # at version 2 now
    assert _has_version(root) and [r[-1] for r in _photos(root)] == [2, 1]
    migrate(root, "0010")
    assert not _has_version(root)
    schema.verify_schema(root / "library.sqlite3")  # exactly 0010's schema again
    before = _photos(root)
    assert len(before) == 2
    migrate(root, "0011", up=True)
    schema.verify_schema(root / "library.sqlite3")
    assert _photos(root) == [(*row, 1) for row in before]  # every photo kept, at version 1
    with Library.open(root) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()


def test_on_postgresql_the_photos_version_comes_and_goes(pg_url: str) -> None:
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine)
        (column,) = [c for c in sa.inspect(engine).get_columns("photo") if c["name"] == "version"]
        assert not column["nullable"] and str(column["default"]) == "1"
        server.downgrade(engine, "0010")
        assert db.current_revision(engine) == "0010"
        assert "version" not in {c["name"] for c in sa.inspect(engine).get_columns("photo")}
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
