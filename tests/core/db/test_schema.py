"""A database is trusted only when its schema is exactly the one our migrations make (issue 15):
a trigger, view, table or index we do not make, or a table defined otherwise, is refused
when a library opens, for writing or for reading, before anything can run in it."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from tests.conftest import REPO
from tracker.core.db import engine as db
from tracker.core.db import schema
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import DatabaseDamaged, NewerLibraryError
from tracker.core.store.library import Library

PLANTED = [
    (
        "CREATE TRIGGER wipe AFTER INSERT ON rating_item BEGIN "
        "DELETE FROM rating_item WHERE id <> new.id; END",
        "holds a trigger named 'wipe' on the table rating_item that this app does not make",
    ),
    ("CREATE VIEW everyone AS SELECT * FROM client", "holds a view named 'everyone'"),
    ("CREATE TABLE notes (x)", "holds a table named 'notes' that this app does not make"),
    ("CREATE INDEX ix_sneaky ON client (notes)", "holds an index named 'ix_sneaky'"),
    (
        "ALTER TABLE visit ADD COLUMN extra TEXT",
        "holds a table named 'visit' defined differently from the one this app makes",
    ),
    ("DROP INDEX ix_photo_area_id", "lacks the index named 'ix_photo_area_id' that this app makes"),
]


def _new_library(root: Path) -> Path:
    Library.open(root, create=True).close()
    return root / DB_NAME


def _execute(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shipped_lines(expected: schema.Expected) -> str:
    """``expected`` as it is written in ``schema.SHIPPED``."""
    lines = "".join(
        f'            ("{k}", "{n}"): "{v}",\n' for (k, n), v in sorted(expected.objects.items())
    )
    return f'        exact="{expected.exact}",\n        objects={{\n{lines}        }},\n'


def test_the_shipped_schema_is_what_the_migrations_make() -> None:
    head = db.migrations_head()
    built = schema.build(head)
    assert set(schema.SHIPPED) == {db.head_revision()} == {head}
    assert schema.SHIPPED[head] == built, (
        "The migrations changed the schema: put this in SHIPPED in tracker/core/db/schema.py, "
        f"as Expected(...) under {head!r} in place of the older revision:\n{_shipped_lines(built)}"
    )
    source = (REPO / "tracker" / "core" / "db" / "schema.py").read_text(encoding="utf-8")
    assert _shipped_lines(built) in source


def test_a_new_library_is_exactly_ours_and_is_seen_to_be_at_a_glance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _new_library(tmp_path / "lib")
    assert schema.foreign_objects(path) == [] and schema.unexpected_schema(path) == []

    # An up-to-date library is matched by one digest: no object is looked at one by one.
    def slow(*_args: object) -> list[schema.Foreign]:
        raise AssertionError("compared object by object")

    monkeypatch.setattr(schema, "compare", slow)
    with Library.open(tmp_path / "lib") as lib:
        assert lib.read_only is None


def test_opening_an_up_to_date_library_runs_no_migration(tmp_path: Path) -> None:
    """The check costs no start-up time: Alembic (and the migrations) are never loaded."""
    _new_library(tmp_path / "lib")
    code = (
        "import sys; from pathlib import Path; from tracker.core.store.library import Library; "
        f"Library.open(Path({str(tmp_path / 'lib')!r})).close(); "
        "print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("sql", "said"), PLANTED)
def test_a_library_whose_database_is_not_ours_is_refused_on_opening(
    tmp_path: Path, sql: str, said: str
) -> None:
    path = _new_library(tmp_path / "lib")
    _execute(path, sql)
    before = _sha(path)
    for read_only in (False, True):
        with pytest.raises(DatabaseDamaged) as caught:
            Library.open(tmp_path / "lib", read_only=read_only, allow_read_only=True)
        assert said in str(caught.value) and str(tmp_path / "lib") in str(caught.value)
    assert _sha(path) == before  # refused before anything wrote to it
    found = schema.foreign_objects(path)
    assert len(found) == 1 and found[0].sentence.startswith("The database ")
    assert said in found[0].sentence
    assert schema.unexpected_schema(path) == [found[0].sentence]


def test_a_planted_trigger_never_runs(tmp_path: Path) -> None:
    path = _new_library(tmp_path / "lib")
    _execute(path, "CREATE TRIGGER forge AFTER UPDATE ON client BEGIN DELETE FROM client; END")
    with pytest.raises(DatabaseDamaged, match="trigger named 'forge'"):
        Library.open(tmp_path / "lib")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM client").fetchall() == [("Me",)]
    conn.close()


def test_several_foreign_objects_are_named_first_the_code(tmp_path: Path) -> None:
    path = _new_library(tmp_path / "lib")
    _execute(path, "CREATE TABLE aaa (x)", "CREATE VIEW zzz AS SELECT 1")
    found = schema.foreign_objects(path)
    assert [(f.type, f.name, f.problem) for f in found] == [
        ("view", "zzz", "unknown"),
        ("table", "aaa", "unknown"),
    ]
    with pytest.raises(DatabaseDamaged) as caught:
        schema.verify_schema(path)
    assert str(caught.value) == (
        "The library database holds a view named 'zzz' that this app does not make (and 1 other "
        "object not as this app makes it); it was not opened."
    )


def test_what_sqlite_adds_by_itself_is_expected(tmp_path: Path) -> None:
    path = _new_library(tmp_path / "lib")
    _execute(path, "ANALYZE")
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "sqlite_stat1" in names and any(n.startswith("sqlite_autoindex_") for n in names)
    assert schema.foreign_objects(path) == []
    Library.open(tmp_path / "lib").close()


def test_a_table_named_like_sqlites_own_but_defined_otherwise_is_refused() -> None:
    rows: list[schema.Row] = [
        ("table", "sqlite_stat1", "sqlite_stat1", "CREATE TABLE sqlite_stat1(tbl,idx,evil)")
    ]
    found = schema.compare(rows, {})
    assert [f.problem for f in found] == ["unknown"]
    rows = [("index", "sqlite_autoindex_notes_1", "notes", None)]  # of a table we do not make
    assert [f.name for f in schema.compare(rows, {})] == ["sqlite_autoindex_notes_1"]


def test_whitespace_case_quoting_and_the_order_of_constraints_do_not_count() -> None:
    ours = (
        'CREATE TABLE t (\n\tid INTEGER NOT NULL, \n\t"view" VARCHAR(100), \n\t'
        "CONSTRAINT pk_t PRIMARY KEY (id), \n\tCONSTRAINT ck_t CHECK (\"view\" IN ('a', 'b')))"
    )
    same = (
        "create table T (ID integer not null, [view] varchar ( 100 ),"
        "constraint ck_t check (view in ('a','b')),constraint pk_t primary key(id))"
    )
    assert schema.normalise(ours) == schema.normalise(same)
    for other in (
        ours.replace("'a'", "'A'"),  # a literal's case counts
        ours.replace("NOT NULL", ""),
        ours.replace(
            'id INTEGER NOT NULL, \n\t"view" VARCHAR(100)',
            '"view" VARCHAR(100), id INTEGER NOT NULL',
        ),
        ours + " -- note",
        ours.replace("PRIMARY KEY (id)", "UNIQUE (id)"),
    ):
        assert schema.normalise(other) != schema.normalise(ours), other
    assert schema.normalise("a - -1") != schema.normalise("a --1")
    assert schema.normalise("café") != schema.normalise("caf é")


def test_a_library_of_an_older_revision_is_checked_before_it_is_migrated(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    path = _new_library(root)
    engine = db.make_engine(path, foreign_keys=False)
    with engine.begin() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    engine.dispose()
    assert schema.foreign_objects(path) == []  # the 0001 schema, built from the migrations
    _execute(
        path,
        "CREATE TRIGGER on_upgrade AFTER UPDATE ON alembic_version BEGIN DELETE FROM client; END",
    )
    with pytest.raises(DatabaseDamaged, match="trigger named 'on_upgrade'"):
        Library.open(root)
    assert db.read_revision(path) == "0001"  # not migrated, and no copy made for a migration
    assert not list((root / "backups").glob("*-before-*"))


def test_a_revision_this_version_does_not_know_is_not_guessed(tmp_path: Path) -> None:
    path = _new_library(tmp_path / "lib")
    _execute(path, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(NewerLibraryError, match="newer version"):
        schema.foreign_objects(path)


def test_names_from_the_file_are_shown_on_one_line(tmp_path: Path) -> None:
    path = _new_library(tmp_path / "lib")
    _execute(path, 'CREATE VIEW "evil\n\u202eview" AS SELECT 1')
    (sentence,) = schema.unexpected_schema(path)
    assert "\n" not in sentence and "\u202e" not in sentence and "\\u202e" in sentence


def test_a_check_can_ask_through_an_open_connection(tmp_path: Path) -> None:
    path = _new_library(tmp_path / "lib")
    with Library.open(tmp_path / "lib") as lib, lib.engine.connect() as conn:
        assert schema.unexpected_schema(conn) == []
    _execute(path, "CREATE TABLE notes (x)")
    engine = db.make_engine(path)
    with engine.connect() as conn:
        assert schema.unexpected_schema(conn) == [
            "The database holds a table named 'notes' that this app does not make."
        ]
    engine.dispose()
    raw = sqlite3.connect(path)
    assert len(schema.foreign_objects(raw)) == 1
    raw.close()
