"""Two workstations moving photos into one area and view that has no reference photo, at the
same moment (issue 21): each would make its photo the group's reference; the second is
refused with a sentence (``EditConflict``, trying again works) and nothing of it is stored.
Found by the many-writers test, where the unique key's raw IntegrityError crashed a writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests import postgres
from tests.core.clinic import writer as w
from tracker.core.db import roles, server
from tracker.core.db.server_errors import EditConflict
from tracker.core.queries import browse
from tracker.core.services import clients, import_report, imports, move, visits
from tracker.core.store.server_library import ServerLibrary


@pytest.fixture
def two(pg_server: postgres.Server) -> Iterator[tuple[ServerLibrary, ServerLibrary]]:
    with pg_server.database() as url:
        engine = server.make_pg_engine(url)
        try:
            roles.create_clinic(engine)
        finally:
            engine.dispose()
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
