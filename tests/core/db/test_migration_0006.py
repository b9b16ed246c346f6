"""0005 → 0006 (issue 21): the blob tables come and go, on SQLite and on PostgreSQL; nothing
else changes (the photos stay, and 0005's consent and audit tables with them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from tests import helpers as h
from tests.core.db.migrating import migrate, schema_objects
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.store.library import Library

BLOB_TABLES = {"blob", "blob_chunk"}


def test_the_blob_tables_come_and_go_and_the_photos_stay(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    path = tmp_path / "p.jpg"
    Image.effect_noise((64, 48), 30).convert("RGB").save(path)
    with Library.open(root, create=True) as lib:
        (done,) = h.import_files(lib, [path], area="Hips").imported
    assert schema_objects(root) >= BLOB_TABLES
    migrate(root, "0005")
    assert not BLOB_TABLES & schema_objects(root)
    assert {"consent", "audit", "photo"} <= schema_objects(root)
    with Library.open(root) as lib:  # opening migrates it up again
        assert db.current_revision(lib.engine) == db.head_revision()
        assert schema_objects(root) >= BLOB_TABLES
        with lib.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO blob (sha256, kind, size, chunks, created_at) "
                    "VALUES (:s, 'original', 3, 1, '2026-12-02 00:00:00')"
                ),
                {"s": "a" * 64},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO blob_chunk (sha256, kind, seq, data) VALUES (:s, 'original', 0, :d)"
                ),
                {"s": "a" * 64, "d": b"abc"},
            )
        assert h.check(lib).ok
        assert [p["id"] for p in h.list_photos(lib)] == [done.photo_id]
    migrate(root, "0005")  # with a blob in it: its chunks and it go with the tables
    assert not BLOB_TABLES & schema_objects(root)
    migrate(root, "0006", up=True)
    with Library.open(root) as lib, lib.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM blob")) == 0
        assert [p["id"] for p in h.list_photos(lib)] == [done.photo_id]


def test_a_chunk_needs_its_blob_and_goes_with_it(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib", create=True) as lib, lib.engine.begin() as conn:
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(
                sa.text("INSERT INTO blob_chunk VALUES (:s, 'original', 0, :d)"),
                {"s": "b" * 64, "d": b"x"},
            )
        # not a kind of blob
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(
                sa.text("INSERT INTO blob VALUES (:s, 'notes', 1, 1, NULL, '2026-12-02')"),
                {"s": "b" * 64},
            )
        conn.execute(
            sa.text("INSERT INTO blob VALUES (:s, 'thumbs', 1, 1, NULL, '2026-12-02')"),
            {"s": "b" * 64},
        )
        conn.execute(
            sa.text("INSERT INTO blob_chunk VALUES (:s, 'thumbs', 0, :d)"),
            {"s": "b" * 64, "d": b"x"},
        )
        conn.execute(sa.text("DELETE FROM blob"))
        assert conn.scalar(sa.text("SELECT count(*) FROM blob_chunk")) == 0


def test_on_postgresql_the_blob_tables_come_and_go_and_chunks_are_not_compressed(
    pg_url: str,
) -> None:
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine)
        tables = set(sa.inspect(engine).get_table_names())
        assert tables >= BLOB_TABLES
        with engine.connect() as conn:
            storage = conn.scalar(
                sa.text(
                    "SELECT attstorage FROM pg_attribute "
                    "WHERE attrelid = 'blob_chunk'::regclass AND attname = 'data'"
                )
            )
        assert storage == "e"  # EXTERNAL: out of line, never compressed
        server.downgrade(engine, "0005")
        assert db.current_revision(engine) == "0005"
        # 0010's table of a clinic library's keys goes with the later revisions too.
        assert set(sa.inspect(engine).get_table_names()) == tables - BLOB_TABLES - {"library_key"}
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        assert set(sa.inspect(engine).get_table_names()) >= BLOB_TABLES
    finally:
        engine.dispose()
