"""The database: settings, migrations matching the models, and refusing newer databases."""

from __future__ import annotations

import hashlib
import sqlite3
import textwrap
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from PIL import Image

from tracker.core.db import engine as db
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import Base
from tracker.core.errors import LibraryError, NewerLibraryError
from tracker.core.queries import listing
from tracker.core.store.library import Library


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connections_have_the_settings_the_library_relies_on(library: Library) -> None:
    with library.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS


def test_migrated_schema_matches_the_models(library: Library) -> None:
    with library.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert db.current_revision(library.engine) == db.head_revision() == db.migrations_head()


def test_a_new_library_has_one_client_me(library: Library) -> None:
    assert [c["name"] for c in listing.clients(library)] == ["Me"]


def test_newer_database_is_refused_and_left_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    Library.open(root, create=True).close()
    path = root / DB_NAME
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.close()
    before = _sha(path)
    files_before = sorted(p.name for p in root.iterdir())
    with pytest.raises(NewerLibraryError, match="newer version"):
        Library.open(root)
    assert _sha(path) == before
    assert sorted(p.name for p in root.iterdir()) == files_before


def test_a_database_of_another_program_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    with sqlite3.connect(root / DB_NAME) as conn:
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    with pytest.raises(LibraryError, match="not a photo tracker library"):
        Library.open(root)


def test_garbage_database_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    (root / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LibraryError, match="damaged or is not a database"):
        Library.open(root)


def test_a_folder_holding_other_files_is_not_turned_into_a_library(tmp_path: Path) -> None:
    (tmp_path / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(LibraryError, match="already holds other files"):
        Library.open(tmp_path, create=True)
    assert not (tmp_path / DB_NAME).exists()


def test_opening_without_create_does_not_make_a_library(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no library"):
        Library.open(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def _write_migrations(folder: Path, second_upgrade: str) -> None:
    versions = folder / "versions"
    versions.mkdir(parents=True)
    (folder / "env.py").write_text((db.MIGRATIONS_DIR / "env.py").read_text())
    (folder / "script.py.mako").write_text((db.MIGRATIONS_DIR / "script.py.mako").read_text())
    header = "from alembic import op\nimport sqlalchemy as sa\n"
    (versions / "a1.py").write_text(
        header
        + textwrap.dedent("""
        revision = "a1"
        down_revision = None
        def upgrade():
            op.create_table("thing", sa.Column("id", sa.Integer, primary_key=True))
            op.execute("INSERT INTO thing (id) VALUES (1)")
        """)
    )
    (versions / "a2.py").write_text(
        header
        + textwrap.dedent(f"""
        revision = "a2"
        down_revision = "a1"
        def upgrade():
            with op.batch_alter_table("thing") as batch:
                batch.add_column(sa.Column("label", sa.String, nullable=True))
            {second_upgrade}
        """)
    )


def _open_at(monkeypatch: pytest.MonkeyPatch, migrations: Path, path: Path, target: str) -> None:
    monkeypatch.setattr(db, "MIGRATIONS_DIR", migrations)
    monkeypatch.setattr(db, "head_revision", lambda: target)
    engine = db.make_engine(path, foreign_keys=False)
    with engine.begin() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        from alembic import command

        command.upgrade(cfg, target)
    engine.dispose()


def test_database_is_backed_up_before_a_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "migrations"
    _write_migrations(migrations, "pass")
    path = tmp_path / "x.sqlite3"
    _open_at(monkeypatch, migrations, path, "a1")
    monkeypatch.setattr(db, "head_revision", lambda: "a2")
    engine = db.open_database(path, tmp_path / "backups")
    with engine.connect() as conn:
        cols = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(thing)")]
        assert conn.exec_driver_sql("SELECT count(*) FROM thing").scalar() == 1
    engine.dispose()
    assert cols == ["id", "label"]
    backups = list((tmp_path / "backups").iterdir())
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == ("a1",)
        assert [r[1] for r in raw.execute("PRAGMA table_info(thing)")] == ["id"]
    raw.close()


def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "migrations"
    _write_migrations(migrations, "raise RuntimeError('migration bug')")
    path = tmp_path / "x.sqlite3"
    _open_at(monkeypatch, migrations, path, "a1")
    monkeypatch.setattr(db, "head_revision", lambda: "a2")
    with pytest.raises(RuntimeError, match="migration bug"):
        db.open_database(path, tmp_path / "backups")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("a1",)
        assert [r[1] for r in conn.execute("PRAGMA table_info(thing)")] == ["id"]
        assert conn.execute("SELECT count(*) FROM thing").fetchone() == (1,)
    conn.close()


def test_a_library_of_the_first_schema_is_upgraded_with_its_photos(tmp_path: Path) -> None:
    """0001 → 0002 (the bytes of a name that is not UTF-8): a real library of the old schema
    opens, keeps every photo, and is copied to backups/ first."""
    from alembic import command

    from tests import helpers as h

    root = tmp_path / "lib"
    photo = tmp_path / "p.jpg"
    Image.effect_noise((64, 48), 30).convert("RGB").save(photo)
    with Library.open(root, create=True) as lib:
        h.import_files(lib, [photo], area="Hips")
    engine = db.make_engine(root / "library.sqlite3", foreign_keys=False)
    with engine.begin() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    engine.dispose()
    assert db.read_revision(root / "library.sqlite3") == "0001"
    with Library.open(root) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()
        assert [p["original_name"] for p in h.list_photos(lib)] == ["p.jpg"]
        assert h.check(lib).ok
    assert list((root / "backups").glob(f"library-*-before-{db.head_revision()}.sqlite3"))
