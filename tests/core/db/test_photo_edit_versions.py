"""Many writers, nothing lost, for a photo's alignment and colour balance (issue 21): two
handles on one library (two Library objects on one folder, or two engines on one PostgreSQL
database). An alignment or a colour balance from an old reading of the photo is refused with
the conflict's sentence before anything is written; its undo or redo after another
workstation's change is refused too; the command line's, which names no version, counts the
change, so a window that showed the old values is refused afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.db.test_photo_conflicts import FRESH, SHIFT, Setup
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.errors import StaleEdit
from tracker.core.imaging.geometry import Alignment
from tracker.core.queries import browse
from tracker.core.services import move, photos, versions
from tracker.core.store.library import Library

TURN = Alignment((0.99, -0.1, 6.0, 0.1, 0.99, 3.0, 0.0, 0.0, 1.0), "auto", "similarity", 40, 1.2)
WARM = (1.1, 1.0, 0.8)
COOL = (0.9, 1.0, 1.2)


@pytest.fixture
def folder_pair(tmp_path: Path) -> Iterator[Setup]:
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
def server_pair(pg_url: str, tmp_path: Path) -> Iterator[Setup]:
    """Two workstations' engines on one PostgreSQL database."""
    engines = [server.make_pg_engine(pg_url), server.make_pg_engine(pg_url)]
    server.upgrade(engines[0])
    first, second = (Library(tmp_path / n, e) for n, e in zip("ab", engines, strict=True))
    try:
        yield Setup(first, second, tmp_path)
    finally:
        for engine in engines:
            engine.dispose()


@pytest.fixture(
    params=[pytest.param("folder", marks=pytest.mark.folder_only(reason="file")), "server"]
)
def setup(request: pytest.FixtureRequest) -> Setup:
    return request.getfixturevalue(f"{request.param}_pair")


def _shown(lib: Library, *ids: int) -> dict[int, int]:
    """The versions as the compare window shows the photos."""
    return {p.id: p.version for p in browse.compare_photos(lib, list(ids))}


def test_an_alignment_from_an_old_reading_is_refused_and_stores_nothing(setup: Setup) -> None:
    a, b, x, y = setup.a, setup.b, setup.x, setup.y
    seen_a, seen_b = _shown(a, x, y), _shown(b, x, y)
    photos.set_alignments(a, {y: TURN}, seen=seen_a)
    before = setup.rows()
    with pytest.raises(StaleEdit) as refused:
        photos.set_alignments(b, {y: None}, seen=seen_b)  # b resets what it showed
    assert str(refused.value) == f"Photo {y} (p1.jpg) {FRESH}"
    assert refused.value.version == seen_b[y] + 1
    assert setup.rows() == before  # a's alignment kept, no version counted
    assert browse.compare_photos(b, [y])[0].alignment == TURN
    # From the fresh reading, b's reset goes through.
    photos.set_alignments(b, {y: None}, seen=_shown(b, y))
    assert setup.row(a, y)["alignment"] is None and setup.row(a, y)["version"] == seen_a[y] + 2


def test_a_new_reference_is_not_set_when_the_alignment_is_refused(setup: Setup) -> None:
    a, b, x, y = setup.a, setup.b, setup.x, setup.y
    seen = _shown(b, x, y)
    photos.set_alignments(a, {x: TURN})  # the command line: no version, counted
    assert setup.row(b, x)["version"] == seen[x] + 1
    with pytest.raises(StaleEdit, match=f"^Photo {x} \\(p0.jpg\\) was changed"):
        photos.set_alignments(b, {x: SHIFT, y: None}, [(setup.belly, "front", y)], seen=seen)
    assert browse.reference_photo(a, setup.belly, "front") == x
    assert setup.row(a, y)["alignment"] == list(SHIFT.matrix)


def test_an_undo_of_an_alignment_after_another_workstation_aligned_it_is_refused(
    setup: Setup,
) -> None:
    a, b, y = setup.a, setup.b, setup.y
    old, old_refs = photos.set_alignments(a, {y: TURN}, seen=_shown(a, y))
    assert old == {y: SHIFT} and old_refs == []
    # The window's own undo and redo go through, each expecting what the step before left.
    photos.set_alignments(a, old, expect=versions.Expect({y: TURN}))
    photos.set_alignments(a, {y: TURN}, expect=versions.Expect(old))
    photos.set_alignments(b, {y: SHIFT})  # the other desk, by the command line
    version = setup.row(a, y)["version"]
    with pytest.raises(StaleEdit, match=f"^Photo {y} "):  # the undo would put SHIFT back
        photos.set_alignments(a, old, expect=versions.Expect({y: TURN}))
    photos.set_alignments(b, {y: None})
    with pytest.raises(StaleEdit, match=f"^Photo {y} "):  # the redo, after another change
        photos.set_alignments(a, {y: TURN}, expect=versions.Expect(old))
    assert setup.row(a, y)["alignment"] is None and setup.row(a, y)["version"] == version + 1


def test_a_colour_balance_from_an_old_reading_is_refused_and_its_undo_checked(
    setup: Setup,
) -> None:
    a, b, x, y = setup.a, setup.b, setup.x, setup.y
    seen_a, seen_b = _shown(a, x, y), _shown(b, x, y)
    assert photos.set_colour_gains(a, {x: WARM}, seen=seen_a) == {x: None}
    assert setup.row(b, x)["version"] == seen_a[x] + 1
    before = setup.rows()
    with pytest.raises(StaleEdit) as refused:
        photos.set_colour_gains(b, {y: COOL, x: COOL}, seen=seen_b)
    assert str(refused.value) == f"Photo {x} (p0.jpg) {FRESH}"
    assert setup.rows() == before  # y not balanced either
    # The undo after the other desk balanced x again is refused, and the other's kept.
    photos.set_colour_gains(b, {x: COOL}, seen=_shown(b, x))
    with pytest.raises(StaleEdit, match=f"^Photo {x} "):
        photos.set_colour_gains(a, {x: None}, expect=versions.Expect({x: WARM}))
    assert browse.compare_photos(a, [x])[0].colour_gains == COOL
    photos.set_colour_gains(a, {x: None}, expect=versions.Expect({x: COOL}))  # as it is now
    assert setup.row(a, x)["colour_gains"] is None


def test_a_move_from_before_a_colour_balance_is_refused(setup: Setup) -> None:
    """A colour balance counts: the grid that showed the photo before it must read it again
    before it moves it (the main window reloads its photos after one)."""
    a, b, x = setup.a, setup.b, setup.x
    grid = {x: browse.photo(b, x).version}
    photos.set_colour_gains(a, {x: WARM})  # the command line's, naming no version
    with pytest.raises(StaleEdit, match=f"^Photo {x} "):
        move.move_photos(b, [x], visit_id=setup.second, seen=grid)
    move.move_photos(b, [x], visit_id=setup.second, seen={x: browse.photo(b, x).version})
    assert setup.row(a, x)["visit_id"] == setup.second
    assert setup.row(a, x)["colour_gains"] == list(WARM)
