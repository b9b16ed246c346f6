"""Many writers, nothing lost, for a photo's alignment and colour balance (issue 21): two
handles on one library (two Library objects on one folder, or two engines on one PostgreSQL
database). An alignment or a colour balance from an old reading of the photo is refused with
the conflict's sentence before anything is written; its undo or redo after another
workstation's change is refused too; the command line's, which names no version, counts the
change, so a window that showed the old values is refused afterwards. So for what the marks
are measured from: a region (its own version), an area's sensitivity and its control (the
area's version)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.core.db.test_photo_conflicts import FRESH, SHIFT, Setup, _waiting_on_a_lock
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.db.models import Area
from tracker.core.errors import StaleEdit
from tracker.core.imaging.geometry import Alignment
from tracker.core.queries import browse
from tracker.core.queries.editors import area_fields
from tracker.core.services import clients, move, photos, versions
from tracker.core.services import measure as measuring
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


def _control(lib: Library, area_id: int) -> int | None:
    with lib.session() as s:
        return s.scalar(select(Area.control_area_id).where(Area.id == area_id))


BOX = [(2.0, 2.0), (40.0, 2.0), (40.0, 30.0), (2.0, 30.0)]
SMALLER = [(4.0, 4.0), (36.0, 4.0), (36.0, 28.0), (4.0, 28.0)]


def test_a_region_drawn_from_an_old_reading_is_refused_and_its_undo_checked(
    setup: Setup,
) -> None:
    a, b, belly = setup.a, setup.b, setup.belly
    seen_b = measuring.regions(b, belly, "front").marks_version
    assert seen_b == 0  # none drawn yet, as b shows it
    before = measuring.set_region(a, belly, "front", "marks", BOX, seen=0)
    assert before.marks is None
    with pytest.raises(StaleEdit) as refused:
        measuring.set_region(b, belly, "front", "marks", SMALLER, seen=seen_b)
    assert str(refused.value) == (f"The marks' region of front of the area 'Belly' of Ann {FRESH}")
    assert measuring.regions(a, belly, "front").marks == BOX  # a's kept
    # b, from the fresh reading, draws; a's undo (which expects BOX) is refused then.
    fresh = measuring.regions(b, belly, "front").marks_version
    measuring.set_region(b, belly, "front", "marks", SMALLER, seen=fresh)
    with pytest.raises(StaleEdit, match=r"^The marks' region of front "):
        measuring.set_region(a, belly, "front", "marks", None, expect=versions.Expect(BOX))
    assert measuring.regions(a, belly, "front").marks == SMALLER
    # An undo that finds what its step left goes through (b's own undo: back to BOX).
    measuring.set_region(b, belly, "front", "marks", BOX, expect=versions.Expect(SMALLER))
    # A clear from an old reading says the region was removed... and the one after, changed.
    shown = measuring.regions(a, belly, "front").marks_version
    measuring.set_region(b, belly, "front", "marks", None, seen=shown)
    with pytest.raises(StaleEdit, match="was removed by someone else"):
        measuring.set_region(a, belly, "front", "marks", SMALLER, seen=shown)
    assert measuring.regions(a, belly, "front").marks is None


def test_a_sensitivity_counts_in_the_areas_version_and_its_undo_is_checked(
    setup: Setup,
) -> None:
    a, b, belly = setup.a, setup.b, setup.belly
    dialog = area_fields(b, belly).version  # the area dialog open on b
    assert measuring.set_sensitivity(a, belly, 3.0, seen=area_fields(a, belly).version) is None
    assert area_fields(b, belly).version == dialog + 1
    with pytest.raises(StaleEdit, match=r"^The area 'Belly' of Ann was changed"):
        clients.edit_area(b, belly, {"body_site": "flank"}, seen=dialog)
    with pytest.raises(StaleEdit, match=r"^The area 'Belly' of Ann was changed"):
        measuring.set_sensitivity(b, belly, 6.0, seen=dialog)
    measuring.set_sensitivity(b, belly, 5.0)  # the command line's: no version, counted
    with pytest.raises(StaleEdit, match=r"^The area 'Belly' of Ann "):  # the undo expects 3
        measuring.set_sensitivity(a, belly, None, expect=versions.Expect(3.0))
    assert measuring.sensitivity(a, belly) == 5.0
    assert area_fields(a, belly).version == dialog + 2


def test_an_undo_of_the_choice_of_a_control_after_another_change_is_refused(
    setup: Setup,
) -> None:
    a, b, belly, hips = setup.a, setup.b, setup.belly, setup.hips
    versions_before = [area_fields(b, n).version for n in (belly, hips)]
    assert measuring.set_control(a, belly, hips) is None
    # Both counted: the area compared, and the one marked as its control.
    assert [area_fields(b, n).version for n in (belly, hips)] == [v + 1 for v in versions_before]
    measuring.set_control(b, belly, None)  # the other desk takes the control away
    with pytest.raises(StaleEdit, match=r"^The area 'Belly' of Ann "):
        measuring.set_control(a, belly, None, expect=versions.Expect(hips))
    with pytest.raises(StaleEdit, match=r"^The area 'Belly' of Ann "):
        measuring.set_control(a, belly, hips, seen=versions_before[0] + 1)
    assert _control(a, belly) is None
    # No longer a control: every area compared with it stops being, each change counted.
    measuring.set_control(a, belly, hips)
    v = area_fields(a, belly).version
    assert measuring.set_is_control(b, hips, False) is True
    assert area_fields(a, belly).version == v + 1 and _control(a, belly) is None


def test_on_a_server_an_alignment_at_the_same_moment_waits_then_is_refused(
    server_pair: Setup,
) -> None:
    """b aligns y from the same reading while a's alignment holds y's row: b waits for a's
    commit, then finds the version moved on and is refused; y keeps a's alignment."""
    a, b, y = server_pair.a, server_pair.b, server_pair.y
    seen = _shown(a, y)
    outcome: list[BaseException | None] = []

    def other() -> None:
        try:
            photos.set_alignments(b, {y: None}, seen=seen)
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=other)
    waited: list[bool] = []

    @event.listens_for(a.engine, "after_cursor_execute")
    def _meanwhile(*args: Any) -> None:
        if not thread.is_alive() and not outcome and str(args[2]).startswith("SELECT photo."):
            thread.start()
            deadline = time.monotonic() + 30
            while thread.is_alive() and not _waiting_on_a_lock(b):
                assert time.monotonic() < deadline, "b's alignment neither finished nor waited"
            waited.append(thread.is_alive())

    photos.set_alignments(a, {y: TURN}, seen=seen)
    event.remove(a.engine, "after_cursor_execute", _meanwhile)
    thread.join(timeout=30)
    assert waited == [True] and not thread.is_alive() and len(outcome) == 1
    assert isinstance(outcome[0], StaleEdit), outcome
    assert server_pair.row(b, y)["alignment"] == list(TURN.matrix)
    assert server_pair.row(b, y)["version"] == seen[y] + 1
