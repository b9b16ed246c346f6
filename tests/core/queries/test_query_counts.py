"""The hot paths cost a fixed number of statements whatever the library holds: the visit
panel, the timeline, the compare window's photos and the progress tab load with the same
count for 2 areas × 3 visits as for 6 areas × 12 visits with several ratings each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Connection, event

from tests import helpers as h
from tracker.core.db.models import RaterRole
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.queries import browse
from tracker.core.queries.progress import progress
from tracker.core.store.library import Library


@contextmanager
def counting(lib: Library) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(
        _conn: Connection,
        _cursor: object,
        statement: str,
        _params: object,
        _context: object,
        _many: bool,
    ) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(lib.engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(lib.engine, "before_cursor_execute", seen)


def _fill(lib: Library, folder: Path, areas: int, visits: int) -> None:
    folder.mkdir()
    day0 = dt.date(2025, 1, 6)
    for a in range(areas):
        paths = []
        for v in range(visits):
            exif = Image.Exif()
            exif.get_ifd(0x8769)[0x9003] = f"{day0 + dt.timedelta(days=14 * v):%Y:%m:%d} 10:00:00"
            path = folder / f"a{a}v{v}.jpg"
            Image.effect_noise((32, 24), 10 + a * 50 + v).convert("RGB").save(path, exif=exif)
            paths.append(path)
        h.import_files(lib, paths, area=f"Area {a}")
        for v in range(visits):
            day = day0 + dt.timedelta(days=14 * v)
            h.add_visit(lib, day=day, area=f"Area {a}", treatment=TreatmentInput(device="pen"))
            for role, name in (
                (RaterRole.PATIENT, ""),
                (RaterRole.PRACTITIONER, "Dr A"),
                (RaterRole.PRACTITIONER, "Dr B"),
            ):
                h.rate(
                    lib,
                    area=f"Area {a}",
                    day=day,
                    role=role,
                    values={"colour": 5, "texture": 4},
                    rater_name=name,
                )


def _cost(lib: Library, call: Callable[[], object]) -> int:
    with counting(lib) as statements:
        call()
    return len(statements)


def _costs(lib: Library) -> dict[str, int]:
    me = h.only_client(lib)
    area = browse.areas(lib, me)[0].id
    timeline = browse.timeline(lib, me, area)
    photos = [p.id for row in timeline for p in row.photos][:4]
    return {
        "clients": _cost(lib, lambda: browse.clients(lib)),
        "areas": _cost(lib, lambda: browse.areas(lib, me)),
        "timeline": _cost(lib, lambda: browse.timeline(lib, me, area)),
        "visit panel": _cost(lib, lambda: browse.visit_detail(lib, timeline[-1].id)),
        "compare photos": _cost(lib, lambda: browse.compare_photos(lib, photos)),
        "picker": _cost(lib, lambda: browse.client_photos(lib, me)),
        "progress": _cost(lib, lambda: progress(lib, area)),
    }


@pytest.fixture(scope="module")
def small_and_large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, Library]]:
    small = Library.open(tmp_path_factory.mktemp("small") / "lib", create=True)
    large = Library.open(tmp_path_factory.mktemp("large") / "lib", create=True)
    _fill(small, small.root.parent / "in", areas=2, visits=3)
    _fill(large, large.root.parent / "in", areas=6, visits=12)
    yield small, large
    small.close()
    large.close()


@pytest.mark.folder_only(reason="root")
def test_each_hot_path_costs_the_same_statements_whatever_the_size(
    small_and_large: tuple[Library, Library],
) -> None:
    small, large = small_and_large
    few, many = _costs(small), _costs(large)
    assert few == many, f"statements for a small library {few}, for a large one {many}"
    assert max(many.values()) <= 10, many
