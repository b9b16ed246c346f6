"""A library of generated photos of marks, for the tests of measuring (issue 18): each photo
imported on its day with its scale and colour gains stored as a card would give them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update

from tests import helpers as h
from tests.core.imaging.marks_synthetic import MarksPhoto
from tracker.cli import resolve
from tracker.core.db.models import Photo, Stage
from tracker.core.services import clients
from tracker.core.store.library import Library

DAY = dt.date(2026, 3, 2)


def add_photo(
    lib: Library,
    tmp: Path,
    shot: MarksPhoto,
    *,
    area: str = "Hips",
    day: dt.date = DAY,
    view: str = "front",
    name: str | None = None,
    stage: Stage = Stage.RUBRA,
) -> int:
    """Import ``shot`` into ``area`` (made with ``stage`` when new) on ``day``; returns its id."""
    path = tmp / (name or f"{area}-{day:%Y%m%d}-{view}-{len(list(tmp.glob('*.jpg')))}.jpg")
    shot.image.save(path, quality=95)
    report = h.import_files(lib, [path], area=area, date=day, view=view)
    (done,) = report.imported
    area_id = resolve.area(lib, resolve.client(lib, None), area)
    clients.update_area(lib, area_id, stage=stage)
    with lib.session() as s:
        s.execute(
            update(Photo)
            .where(Photo.id == done.photo_id)
            .values(px_per_mm=shot.px_per_mm, colour_gains=list(shot.gains))
        )
    return done.photo_id
