"""0003 → 0004 (issue 18): the regions, the control area and the sensitivity, the measures;
the areas keep everything they had, and going back drops only what 0004 added."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.exc import IntegrityError

from tests import helpers as h
from tests.core.db.migrating import migrate
from tracker.core.db import engine as db
from tracker.core.db.models import Area, Measure, Region
from tracker.core.store.library import Library


def _columns(root: Path, table: str) -> list[str]:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_areas_keep_their_fields_up_and_down_and_the_new_tables_come_and_go(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lib"
    path = tmp_path / "p.jpg"
    Image.effect_noise((64, 48), 30).convert("RGB").save(path)
    with Library.open(root, create=True) as lib:
        (done,) = h.import_files(lib, [path], area="Hips").imported
    migrate(root, "0003")
    assert "is_control" not in _columns(root, "area")
    conn = sqlite3.connect(root / "library.sqlite3")
    conn.execute("UPDATE area SET body_site = 'left hip', interval_days = 30, notes = 'n'")
    conn.commit()
    conn.close()

    with Library.open(root) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()
        with lib.session() as s:
            (area,) = s.query(Area).all()
            assert (area.body_site, area.interval_days, area.notes) == ("left hip", 30, "n")
            assert area.is_control is False and area.control_area_id is None
            assert area.mark_sensitivity is None
            s.add(
                Region(area_id=area.id, view="front", kind="marks", points=[[1, 1], [9, 1], [9, 9]])
            )
            s.add(Measure(photo_id=done.photo_id, values={"x": 1}, inputs={}, inputs_key="k"))
        with pytest.raises(IntegrityError), lib.session() as s:
            s.get(Area, area.id).mark_sensitivity = 9.0  # type: ignore[union-attr]
        with pytest.raises(IntegrityError), lib.session() as s:
            s.get(Area, area.id).control_area_id = area.id  # type: ignore[union-attr]
        with pytest.raises(IntegrityError), lib.session() as s:  # a value or an error, not none
            s.get(Measure, done.photo_id).values = None  # type: ignore[union-attr]
        assert h.check(lib).ok

    migrate(root, "0003")
    assert _columns(root, "area")[-1] == "created_at"
    conn = sqlite3.connect(root / "library.sqlite3")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert conn.execute("SELECT body_site, interval_days FROM area").fetchall() == [
        ("left hip", 30)
    ]
    conn.close()
    assert "region" not in tables and "measure" not in tables
    migrate(root, "0004", up=True)
    with Library.open(root) as lib:
        assert h.check(lib).ok
        with lib.session() as s:
            assert s.query(Region).count() == 0


def test_an_area_erased_takes_its_regions_and_frees_the_areas_it_was_control_of(
    tmp_path: Path,
) -> None:
    with Library.open(tmp_path / "lib", create=True) as lib:
        with lib.session() as s:
            client_id = s.query(Area.client_id).scalar() or 1
            treated, control = (
                Area(client_id=client_id, name="T"),
                Area(client_id=client_id, name="C"),
            )
            s.add_all([treated, control])
            s.flush()
            treated.control_area_id, control.is_control = control.id, True
            s.add(
                Region(
                    area_id=control.id, view="front", kind="skin", points=[[0, 0], [5, 0], [5, 5]]
                )
            )
            ids = treated.id, control.id
        with lib.session() as s:
            s.delete(s.get(Area, ids[1]))
        with lib.session() as s:
            assert s.get(Area, ids[0]).control_area_id is None  # type: ignore[union-attr]
            assert s.query(Region).count() == 0
