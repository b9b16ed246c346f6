"""Many writers, nothing lost, for photos (issue 21): two handles on one library (two Library
objects on one folder, or two engines on one PostgreSQL database) move, relabel and remove
the same photos. An edit made from an old reading of a photo is refused with a sentence
before anything is written; an undo or a redo after another workstation's change is refused
too; every change of a photo's row counts in its version."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from tests.core.clinic.writer import tiny_jpeg
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.db.models import Photo, ReferencePhoto, row_dict
from tracker.core.errors import StaleEdit
from tracker.core.imaging.geometry import Alignment
from tracker.core.queries import browse
from tracker.core.services import clients, import_report, imports, move, photos, versions, visits
from tracker.core.store.library import Library

FRESH = "was changed by someone else after it was shown here, so this change was not stored; "
FRESH += "its fresh values are shown."
SHIFT = Alignment((1.0, 0.0, 4.0, 0.0, 1.0, -2.0, 0.0, 0.0, 1.0), "landmarks", "similarity", 3, 0.5)


class Setup:
    """Two handles on one library, with a client's two areas, two visits, and two photos of
    the first area at the first visit (``x`` its reference, ``y`` aligned to it)."""

    def __init__(self, a: Library, b: Library, folder: Path) -> None:
        self.a, self.b = a, b
        client = clients.add_client(a, "Ann")
        self.belly, self.hips = (clients.add_area(a, client, n) for n in ("Belly", "Hips"))
        self.first, self.second = (
            visits.add_visit(a, client, dt.date(2026, 3, d)) for d in (1, 15)
        )
        items = []
        for n in range(2):
            path = folder / f"p{n}.jpg"
            path.write_bytes(tiny_jpeg(21, n))
            items.append(import_report.ImportItem(path, self.belly, visit_id=self.first))
        self.x, self.y = (i.photo_id for i in imports.import_items(a, items, workers=1).imported)
        photos.set_alignments(a, {self.y: SHIFT}, [(self.belly, "front", self.x)])

    def row(self, lib: Library, photo_id: int) -> dict[str, Any]:
        with lib.session() as s:
            return row_dict(s.get(Photo, photo_id))

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(self.a, p) for p in (self.x, self.y)]


@pytest.fixture
def folder_setup(tmp_path: Path) -> Iterator[Setup]:
    """The folder library, and a second Library on its database (another workstation's
    handle, made past the writer lock as a test can)."""
    root = tmp_path / "lib"
    with Library.open(root, create=True) as first:
        second = Library(root, db.make_engine(root / "library.sqlite3"))
        try:
            yield Setup(first, second, tmp_path)
        finally:
            second.engine.dispose()


@pytest.fixture
def server_setup(pg_url: str, tmp_path: Path) -> Iterator[Setup]:
    """Two workstations' engines on one PostgreSQL database."""
    engines = [server.make_pg_engine(pg_url), server.make_pg_engine(pg_url)]
    server.upgrade(engines[0])
    first, second = (Library(tmp_path / n, e) for n, e in zip("ab", engines, strict=True))
    try:
        yield Setup(first, second, tmp_path)
    finally:
        for engine in engines:
            engine.dispose()


# The folder's pair opens its database file by itself: skipped in the PostgreSQL pass, whose
# new libraries are clinic libraries (the server's pair runs in every pass).
@pytest.fixture(
    params=[pytest.param("folder", marks=pytest.mark.folder_only(reason="file")), "server"]
)
def setup(request: pytest.FixtureRequest) -> Setup:
    return request.getfixturevalue(f"{request.param}_setup")


def _seen(lib: Library, *ids: int) -> dict[int, int]:
    """The versions as the grid shows the photos."""
    return {pid: browse.photo(lib, pid).version for pid in ids}


def test_the_second_move_from_an_old_reading_is_refused_and_moves_nothing(setup: Setup) -> None:
    a, b, x, y = setup.a, setup.b, setup.x, setup.y
    seen_a, seen_b = _seen(a, x, y), _seen(b, x, y)
    assert seen_a == seen_b
    move.move_photos(a, [x], visit_id=setup.second, seen=seen_a)
    before = setup.rows()
    with pytest.raises(StaleEdit) as refused:
        move.move_photos(b, [y, x], area_id=setup.hips, seen=seen_b)
    assert str(refused.value) == f"Photo {x} (p0.jpg) {FRESH}"
    assert refused.value.version == seen_b[x] + 1
    assert setup.rows() == before  # nor y moved, nor any version counted
    assert browse.reference_photo(b, setup.belly, "front") == x
    # Looking again, b's move goes through from where a put x.
    done = move.move_photos(b, [y, x], area_id=setup.hips, day=None, seen=_seen(b, x, y))
    assert done.versions == {x: seen_a[x] + 2, y: seen_a[y] + 1}
    assert [(r["visit_id"], r["area_id"]) for r in setup.rows()] == [
        (setup.second, setup.hips),
        (setup.first, setup.hips),
    ]


def test_an_undo_of_a_move_after_another_workstation_moved_the_photo_is_refused(
    setup: Setup,
) -> None:
    a, b, x = setup.a, setup.b, setup.x
    undo = move.move_photos(a, [x], visit_id=setup.second, seen=_seen(a, x))
    move.move_photos(b, [x], view="left", seen=_seen(b, x))  # the other desk, from fresh
    before = setup.rows()
    with pytest.raises(StaleEdit, match=f"^Photo {x} \\(p0.jpg\\) was changed"):
        move.unmove(a, undo, expect=versions.Expect(undo.left))
    assert setup.rows() == before  # b's view kept, x still at the second visit
    assert before[0]["view"] == "left" and before[0]["visit_id"] == setup.second


def test_an_undo_after_a_change_to_a_photo_the_move_realigned_is_refused(setup: Setup) -> None:
    """x is the reference: moved away, y takes over (its alignment cleared); another desk
    aligns y again meanwhile, and the undo, which would put y's old alignment back, is
    refused."""
    a, b, x, y = setup.a, setup.b, setup.x, setup.y
    y_before = setup.row(a, y)["version"]
    undo = move.move_photos(a, [x], area_id=setup.hips, seen=_seen(a, x))
    assert setup.row(b, y)["version"] == y_before + 1  # re-expressed: a change of y
    assert browse.reference_photo(b, setup.belly, "front") == y
    photos.set_alignments(b, {y: SHIFT})
    with pytest.raises(StaleEdit, match=f"^Photo {y} "):
        move.unmove(a, undo, expect=versions.Expect(undo.left))
    assert setup.row(a, x)["area_id"] == setup.hips
    assert setup.row(a, y)["alignment"] == list(SHIFT.matrix)


def test_the_windows_own_undo_and_redo_go_through_and_a_redo_after_another_is_refused(
    setup: Setup,
) -> None:
    a, b, x = setup.a, setup.b, setup.x
    start = setup.row(a, x)
    undo = move.move_photos(a, [x], visit_id=setup.second, seen=_seen(a, x))
    move.unmove(a, undo, expect=versions.Expect(undo.left))
    back = setup.row(a, x)
    assert {**back, "version": 0} == {**start, "version": 0}
    assert back["version"] == start["version"] + 2  # the move and its undo: two changes
    redo = move.move_photos(a, [x], visit_id=setup.second, expect=versions.Expect(undo.found()))
    move.unmove(a, redo, expect=versions.Expect(redo.left))
    photos.set_photo_view(b, x, "close-up")  # the other desk, no check (the command line)
    with pytest.raises(StaleEdit):
        move.move_photos(a, [x], visit_id=setup.second, expect=versions.Expect(redo.found()))
    assert setup.row(b, x)["visit_id"] == setup.first and setup.row(b, x)["view"] == "close-up"


def test_a_label_and_a_removal_from_an_old_reading_are_refused(setup: Setup) -> None:
    a, b, x, y = setup.a, setup.b, setup.x, setup.y
    seen_b = _seen(b, x, y)
    photos.set_photo_view(a, x, "left", seen=_seen(a, x)[x])
    with pytest.raises(StaleEdit, match=f"^Photo {x} \\(p0.jpg\\) was changed"):
        photos.set_photo_view(b, x, "right", seen=seen_b[x])
    with pytest.raises(StaleEdit):
        photos.remove_photos(b, [y, x], seen=seen_b)
    assert [(r["view"], r["deleted_at"]) for r in setup.rows()] == [("left", None), ("front", None)]
    # An undo of the label is refused once the other desk relabelled it; a removal's undo,
    # once the other brought the photos back.
    photos.set_photo_view(b, x, "right", seen=_seen(b, x)[x])
    with pytest.raises(StaleEdit):
        photos.set_photo_view(a, x, "front", expect=versions.Expect("left"))
    photos.remove_photos(a, [x, y], seen=_seen(a, x, y))
    photos.restore_photos(b, [y])
    with pytest.raises(StaleEdit, match=f"^Photo {y} "):
        photos.restore_photos(a, [x, y], expect=versions.Expect({x: True, y: True}))
    assert setup.row(a, x)["deleted_at"] is not None  # nothing of the refused undo stored
    assert setup.row(a, x)["view"] == "right"


def test_every_change_of_a_photo_counts(setup: Setup) -> None:
    a, x = setup.a, setup.x
    version = setup.row(a, x)["version"]
    steps = [
        lambda: photos.set_photo_view(a, x, "left"),
        lambda: photos.set_alignments(a, {x: SHIFT}),
        lambda: photos.remove_photos(a, [x]),
        lambda: photos.restore_photos(a, [x]),
        lambda: move.move_photos(a, [x], visit_id=setup.second),
        lambda: photos.set_colour_gains(a, {x: (1.0, 1.1, 0.9)}),
    ]
    for step in steps:
        step()
        assert setup.row(setup.b, x)["version"] == version + 1
        version += 1


def test_on_a_server_a_move_at_the_same_moment_waits_then_is_refused(
    server_setup: Setup,
) -> None:
    """b moves x from the same reading while a's move holds x's row: b waits for a's commit,
    then finds the version moved on and is refused; x is where a put it, all of it."""
    a, b, x = server_setup.a, server_setup.b, server_setup.x
    seen = _seen(a, x)
    outcome: list[BaseException | None] = []

    def other() -> None:
        try:
            move.move_photos(b, [x], visit_id=server_setup.second, seen=seen)
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=other)
    waited: list[bool] = []  # b still running, waiting on x's lock, while a's move held it

    @event.listens_for(a.engine, "after_cursor_execute")
    def _meanwhile(*args: Any) -> None:
        if not thread.is_alive() and not outcome and str(args[2]).startswith("SELECT photo."):
            thread.start()
            deadline = time.monotonic() + 30
            while thread.is_alive() and not _waiting_on_a_lock(b):
                assert time.monotonic() < deadline, "b's move neither finished nor waited"
            waited.append(thread.is_alive())

    move.move_photos(a, [x], area_id=server_setup.hips, seen=seen)
    event.remove(a.engine, "after_cursor_execute", _meanwhile)
    thread.join(timeout=30)
    assert waited == [True] and not thread.is_alive() and len(outcome) == 1
    assert isinstance(outcome[0], StaleEdit), outcome
    row = server_setup.row(b, x)
    assert (row["visit_id"], row["area_id"]) == (server_setup.first, server_setup.hips)
    assert row["version"] == seen[x] + 1
    with b.session() as s:
        assert (
            s.scalar(
                select(ReferencePhoto.photo_id).where(ReferencePhoto.area_id == server_setup.hips)
            )
            == x
        )


def _waiting_on_a_lock(lib: Library) -> bool:
    with lib.engine.connect() as conn:
        return bool(conn.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")))
