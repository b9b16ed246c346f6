"""The models and every migration on PostgreSQL (issue 21): the same tables as in SQLite.

A server is started for the session (tests/postgres.py); each test has its own database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests import postgres
from tracker.core.db import engine as db
from tracker.core.db import models as m
from tracker.core.db import server
from tracker.core.errors import LibraryError

# The tables only a clinic library has: a library folder keeps their data in files.
SERVER_ONLY = {"library_key"}


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = server.make_pg_engine(pg_url)
    server.upgrade(engine)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_to_head_then_down_to_base_and_up_again(pg_url: str) -> None:
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        assert _tables(engine) == set(m.Base.metadata.tables) | {"alembic_version", *SERVER_ONLY}
        server.downgrade(engine, "base")
        assert _tables(engine) == {"alembic_version"}
        with engine.connect() as conn:
            # The audit's trigger function went with its table.
            assert conn.scalar(sa.text("SELECT to_regproc('audit_append_only')")) is None
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_the_models_write_and_read_a_client_area_visit_photo_and_rating(pg: Engine) -> None:
    with Session(pg) as s:
        client = m.Client(name="Ana Ortiz", date_of_birth=dt.date(1990, 3, 1), fitzpatrick=3)
        area = m.Area(client=client, name="Hips", body_site="hips", stage=m.Stage.RUBRA)
        control = m.Area(client=client, name="Thigh", is_control=True)
        visit = m.Visit(client=client, date=dt.date(2026, 11, 2), kind=m.VisitKind.BASELINE)
        s.add_all([client, area, control, visit])
        s.flush()
        area.control_area_id = control.id
        area.mark_sensitivity = 3.5
        photo = m.Photo(
            visit_id=visit.id,
            area_id=area.id,
            taken_at=dt.datetime(2026, 11, 2, 10, 30),
            date_source=m.DateSource.EXIF,
            width=64,
            height=48,
            sha256="a" * 64,
            ext=".jpg",
            format="JPEG",
            file_size=1234,
            original_name="IMG_0001.JPG",
            original_name_bytes=b"IMG_\xe9.JPG",
            alignment=[1.0, 0.0, 2.5, 0.0, 1.0, -1.5, 0.0, 0.0, 1.0],
            quality={"sharp": True},
        )
        rating = m.Rating(
            visit_id=visit.id,
            area_id=area.id,
            rater_role=m.RaterRole.PRACTITIONER,
            scale_key="ctd",
            scale_version=1,
            items=[m.RatingItem(item_key="colour", value=2.0)],
        )
        s.add_all([photo, rating])
        s.commit()
    with Session(pg) as s:
        got = s.scalars(sa.select(m.Photo)).one()
        assert got.alignment == [1.0, 0.0, 2.5, 0.0, 1.0, -1.5, 0.0, 0.0, 1.0]
        assert got.original_name_bytes == b"IMG_\xe9.JPG"
        assert got.quality == {"sharp": True} and got.colour_gains is None
        assert got.taken_at == dt.datetime(2026, 11, 2, 10, 30)
        hips = s.scalars(sa.select(m.Area).where(m.Area.name == "Hips")).one()
        assert hips.stage is m.Stage.RUBRA and hips.is_control is False
        assert hips.mark_sensitivity == 3.5 and hips.client.name == "Ana Ortiz"
        assert [a.name for a in hips.client.areas] == ["Hips", "Thigh"]
        (item,) = s.scalars(sa.select(m.Rating)).one().items
        assert (item.item_key, item.value) == ("colour", 2.0)


def test_the_constraints_hold_on_postgresql(pg: Engine) -> None:
    with Session(pg) as s:
        s.add(m.Client(name="   "))
        with pytest.raises(IntegrityError, match="ck_client_name_not_blank"):
            s.commit()
    with Session(pg) as s:
        area = m.Area(client=m.Client(name="B"), name="Hips")
        s.add(area)
        s.flush()
        area.control_area_id = area.id
        with pytest.raises(IntegrityError, match="ck_area_control_not_self"):
            s.commit()


def _audit_row(n: int) -> m.Audit:
    return m.Audit(
        at=dt.datetime(2026, 12, 1, 12, 0),
        actor="me",
        action="opened",
        subject="library",
        detail="",
        prev_hash="0" * 64,
        hash=f"{n:064d}",
    )


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit SET actor = 'someone else'", "DELETE FROM audit", "TRUNCATE audit"],
)
def test_the_audit_trail_refuses_update_delete_and_truncate(pg: Engine, statement: str) -> None:
    with Session(pg) as s:
        s.add_all([_audit_row(1), _audit_row(2)])
        s.commit()
    with pg.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(sa.text(statement))
    with pg.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM audit WHERE actor = 'me'")) == 2


def _sqlite_engine(tmp_path: Path) -> Engine:
    return db.open_database(tmp_path / "library.sqlite3", tmp_path / "backups")


def _type(t: Any) -> str:
    """A column's type as both engines can say it: the generic type and its length.
    SQLAlchemy's Float is FLOAT in SQLite and double precision in PostgreSQL."""
    generic = t.as_generic()
    name = "Float" if isinstance(generic, sa.Float) else type(generic).__name__
    length = getattr(generic, "length", None)
    return f"{name}({length})" if length else name


def _shape(engine: Engine) -> dict[str, Any]:
    insp = sa.inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        fks = insp.get_foreign_keys(table)
        out[table] = {
            "columns": [
                (c["name"], _type(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ],
            "primary": insp.get_pk_constraint(table)["constrained_columns"],
            "foreign": sorted(
                (
                    f["name"],
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    (f.get("options") or {}).get("ondelete", "").upper(),
                )
                for f in fks
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "checks": sorted(c["name"] for c in insp.get_check_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
                # PostgreSQL lists a unique constraint's own index too.
                if not i.get("duplicates_constraint")
            ),
        }
    return out


def test_postgresql_holds_the_same_tables_columns_and_constraints_as_sqlite(
    pg: Engine, tmp_path: Path
) -> None:
    lite = _sqlite_engine(tmp_path)
    try:
        want = _shape(lite)
    finally:
        lite.dispose()
    got = _shape(pg)
    for table in SERVER_ONLY:  # a folder keeps these in files (a key file)
        del got[table]
    assert got.keys() == want.keys()
    for table in want:
        assert got[table] == want[table], table


def test_only_a_postgresql_address_makes_a_server_engine() -> None:
    with pytest.raises(LibraryError, match="not a postgresql"):
        server.make_pg_engine("sqlite:///library.sqlite3")
    with pytest.raises(LibraryError, match="only the psycopg driver"):
        server.make_pg_engine("postgresql+pg8000://u@h/db")
    engine = server.make_pg_engine("postgresql://u@localhost/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_without_a_server_ci_fails_where_a_developer_skips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run on CI"), postgres.running_server():
        pass
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="skipped"), postgres.running_server():
        pass


def test_the_data_migrations_run_on_postgresql(pg_url: str) -> None:
    """0003 rewrites a stored 2×3 alignment as 3×3 and a JSON 'null' as SQL NULL, and back."""
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine, "0002")
        with engine.begin() as conn:
            for sql in (
                "INSERT INTO client (id, name, notes, created_at) VALUES (1, 'A', '', now())",
                "INSERT INTO area (id, client_id, name, body_site, stage, default_scale, "
                "interval_days, notes, created_at) "
                "VALUES (1, 1, 'Hips', '', 'alba', 'ctd', 28, '', now())",
                "INSERT INTO visit (id, client_id, date, kind, notes, created_at) "
                "VALUES (1, 1, '2026-11-02', 'baseline', '', now())",
                "INSERT INTO photo (id, visit_id, area_id, view, taken_at, date_source, width, "
                "height, sha256, ext, format, file_size, original_name, imported_at, alignment, "
                "colour_gains) VALUES (1, 1, 1, 'front', now(), 'exif', 4, 3, repeat('a', 64), "
                "'.jpg', 'JPEG', 10, 'a.jpg', now(), '[2, 0, 5, 0, 2, 7]', 'null')",
            ):
                conn.execute(sa.text(sql))
        server.upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT alignment, alignment_model, colour_gains IS NULL FROM photo")
            ).one()
        assert row == ([2, 0, 5, 0, 2, 7, 0.0, 0.0, 1.0], "similarity", True)
        server.downgrade(engine, "0002")
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT alignment FROM photo")) == [2, 0, 5, 0, 2, 7]
            assert conn.scalar(sa.text("SELECT count(*) FROM area")) == 1
    finally:
        engine.dispose()
