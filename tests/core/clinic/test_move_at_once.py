"""Two workstations moving photos into one area and view that has no reference photo, at the
same moment (issue 21): each would make its photo the group's reference; the second is
refused with a sentence (``EditConflict``, trying again works) and nothing of it is stored.
Found by the many-writers test, where the unique key's raw IntegrityError crashed a writer."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests import postgres
from tests.core.clinic import writer as w
from tracker.core.db.models import Photo
from tracker.core.errors import EditConflict
from tracker.core.queries import browse
from tracker.core.services import clients, import_report, imports, move, visits
from tracker.core.store.server_library import ServerLibrary


@pytest.fixture
def two(pg_server: postgres.Server) -> Iterator[tuple[ServerLibrary, ServerLibrary]]:
    with pg_server.clinic() as url:
        a, b = ServerLibrary.open_server(url), ServerLibrary.open_server(url)
        try:
            yield a, b
        finally:
            a.close()
            b.close()


def test_the_second_photo_moved_into_an_empty_group_at_once_is_refused(
    two: tuple[ServerLibrary, ServerLibrary], tmp_path: Path
) -> None:
    a, b = two
    client = clients.add_client(a, "Ann")
    belly, hips = clients.add_area(a, client, "Belly"), clients.add_area(a, client, "Hips")
    visit = visits.add_visit(a, client, dt.date(2026, 3, 1))
    items = []
    for n in range(2):
        path = tmp_path / f"p{n}.jpg"
        path.write_bytes(w.tiny_jpeg(7, n))
        items.append(import_report.ImportItem(path, belly, visit_id=visit))
    x, y = (i.photo_id for i in imports.import_items(a, items, workers=1).imported)

    ran: list[bool] = []

    @event.listens_for(a.engine, "before_cursor_execute")
    def _meanwhile(*args: Any) -> None:
        if not ran and str(args[2]).startswith("INSERT INTO reference_photo"):
            ran.append(True)  # b's photo arrives first, and b commits
            move.move_photos(b, [y], area_id=hips)

    with pytest.raises(EditConflict) as refused:
        move.move_photos(a, [x], area_id=hips)
    assert ran and str(refused.value) == (
        "Another workstation moved a photo into Hips (front) at the same moment, so nothing "
        "was moved; try again."
    )
    assert browse.photo(a, x).area_id == belly  # nothing of a's move stored
    assert browse.photo(a, y).area_id == hips
    assert browse.reference_photo(a, hips, "front") == y
    # Trying again works: the group has its reference now, x just joins it.
    move.move_photos(a, [x], area_id=hips)
    assert browse.photo(b, x).area_id == hips and browse.reference_photo(b, hips, "front") == y


def _waiting_on_a_lock(lib: ServerLibrary) -> bool:
    with lib.engine.connect() as conn:
        return bool(conn.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def test_two_moves_of_one_photo_at_once_the_later_is_where_it_is(
    two: tuple[ServerLibrary, ServerLibrary], tmp_path: Path
) -> None:
    """Each move names a visit and an area. Without the photo's row locked, each wrote only
    the column it changed over the row as it had read it: the photo ended at b's visit in
    a's area, where neither had put it."""
    a, b = two
    client = clients.add_client(a, "Ann")
    belly, hips = clients.add_area(a, client, "Belly"), clients.add_area(a, client, "Hips")
    first, second = (visits.add_visit(a, client, dt.date(2026, 3, d)) for d in (1, 15))
    path = tmp_path / "p.jpg"
    path.write_bytes(w.tiny_jpeg(8, 0))
    item = import_report.ImportItem(path, belly, visit_id=first)
    (x,) = (i.photo_id for i in imports.import_items(a, [item], workers=1).imported)

    other: list[threading.Thread] = []

    @event.listens_for(a.engine, "after_cursor_execute")
    def _meanwhile(*args: Any) -> None:
        if not other and str(args[2]).startswith("SELECT photo."):
            # b moves it to the other visit, in its own area, while a's move has read it.
            other.append(threading.Thread(target=move.move_photos, args=(b, [x]),
                                          kwargs={"visit_id": second, "area_id": belly}))  # fmt: skip
            other[0].start()
            deadline = time.monotonic() + 30
            while other[0].is_alive() and not _waiting_on_a_lock(b):
                assert time.monotonic() < deadline, "b's move neither finished nor waited"

    move.move_photos(a, [x], visit_id=first, area_id=hips)
    other[0].join(timeout=30)
    assert not other[0].is_alive()
    with a.session() as s:
        where = s.execute(sa.select(Photo.visit_id, Photo.area_id).where(Photo.id == x)).one()
    assert tuple(where) == (second, belly)  # b's move came last: all of it, none of a's
