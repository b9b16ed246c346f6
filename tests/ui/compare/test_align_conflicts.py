"""The compare window's alignments and colour balances name the versions it showed (issue
21): one made, undone or redone after another workstation changed the same photo is refused
with the conflict's sentence, the window then shows the fresh values, the undo history stays
true, and nothing of the other's change is lost. A colour balance counts, and the main
window's grid reads its photos again after one, so its next move goes through. So for the
measure tools' regions and sensitivity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.compare.skin_series import series, write_series
from tests.ui.test_photo_client_conflicts import Dialog
from tracker.core.db import engine as db
from tracker.core.imaging.geometry import Alignment
from tracker.core.queries import browse
from tracker.core.services import align, clients, photos
from tracker.core.services import measure as measuring
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui import dialogs
from tracker.ui.compare.window import CompareWindow
from tracker.ui.history import History
from tracker.ui.main.measuring import current_control
from tracker.ui.main.window import MainWindow
from tracker.ui.measure_commands import SetSensitivity
from tracker.ui.workers import TaskRunner

FRESH = "its fresh values are shown."
TURN = Alignment((0.99, -0.1, 6.0, 0.1, 0.99, 3.0, 0.0, 0.0, 1.0), "auto", "similarity", 40, 1.2)
SHIFT = Alignment((1.0, 0.0, 4.0, 0.0, 1.0, -2.0, 0.0, 0.0, 1.0), "landmarks", "similarity", 3, 0.5)
WARM, COOL = (1.1, 1.0, 0.8), (0.9, 1.0, 1.2)


@pytest.fixture
def other(window: MainWindow) -> Iterator[Library]:
    """Another workstation's handle on the window's library (past the writer lock)."""
    assert window.lib is not None
    lib = Library(window.lib.root, db.make_engine(window.lib.root / "library.sqlite3"))
    yield lib
    lib.engine.dispose()


@pytest.fixture
def compare_errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(CompareWindow, "_show_error", lambda self, message: shown.append(message))
    return shown


@pytest.fixture
def compare(
    qtbot: QtBot, window: MainWindow, runner: TaskRunner, compare_errors: list[str]
) -> CompareWindow:
    """A compare window on the first two photos of the main window's visit, sharing its
    history (as the main window opens one)."""
    assert window.lib is not None
    ids = [p.id for p in window.photos.rows()[:2]]
    assert len(ids) == 2
    w = CompareWindow(window.lib, ids, runner, window.history)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    return w


def _refused(message: str, photo_id: int) -> bool:
    return message.startswith(f"Photo {photo_id} (") and message.endswith(FRESH)


def test_an_alignment_reset_after_another_workstation_aligned_the_photo_is_refused(
    compare: CompareWindow, other: Library, compare_errors: list[str]
) -> None:
    y = compare.photo_ids[1]
    assert compare._run(cmd.SetAlignment(compare.lib, {y: SHIFT}, seen=compare._seen()))
    assert compare.photos[1].alignment == SHIFT  # the window's own step, shown
    history = compare.history
    photos.set_alignments(other, {y: TURN})  # the other desk, while this window shows SHIFT
    compare.reset_align.trigger()
    assert len(compare_errors) == 1 and _refused(compare_errors[0], y)
    assert browse.compare_photos(other, [y])[0].alignment == TURN  # the other's kept
    assert compare.photos[1].alignment == TURN  # the fresh values shown
    assert compare.photos[1].version == browse.compare_photos(other, [y])[0].version
    assert history.stack.count() == 1  # the refused reset left no step
    # The undo of the window's own alignment would put back what it found: refused too.
    failed: list[str] = []
    history.failed.connect(failed.append)
    assert not history.undo()
    assert len(failed) == 1 and "could not be undone" in failed[0] and FRESH in failed[0]
    assert browse.compare_photos(other, [y])[0].alignment == TURN
    assert history.stack.count() == 0
    # From the fresh values shown, the reset goes through, and undoes and redoes.
    compare.reset_align.trigger()
    assert len(compare_errors) == 1 and compare.photos[1].alignment is None
    assert history.undo() and browse.compare_photos(other, [y])[0].alignment == TURN
    assert history.redo() and browse.compare_photos(other, [y])[0].alignment is None
    assert history.undo()
    photos.set_alignments(other, {y: SHIFT})
    assert not history.redo()  # it expects TURN, the other desk left SHIFT
    assert "could not be redone" in failed[-1] and FRESH in failed[-1]
    assert browse.compare_photos(other, [y])[0].alignment == SHIFT


def test_a_colour_balance_counts_and_the_grid_reads_its_photos_again(
    qtbot: QtBot,
    window: MainWindow,
    compare: CompareWindow,
    other: Library,
    compare_errors: list[str],
    errors: list[str],
) -> None:
    assert window.lib is not None
    x = compare.photo_ids[0]
    assert compare._run(cmd.SetGains(compare.lib, {x: WARM}, compare._seen()))
    fresh = browse.photo(other, x).version
    grid = next(p for p in window.photos.rows() if p.id == x)
    assert grid.version == fresh  # the grid read the photo again after the balance
    # The other desk balances x again; the window's reset is refused and shows the fresh one.
    photos.set_colour_gains(other, {x: COOL})
    compare.reset_colour.trigger()
    assert len(compare_errors) == 1 and _refused(compare_errors[0], x)
    assert compare.photos[0].colour_gains == COOL
    assert browse.compare_photos(other, [x])[0].colour_gains == COOL
    assert window.history.stack.count() == 1
    # The grid's move names the version the grid shows: refused until the grid reads again.
    target = next(r.id for r in window.timeline.rows() if r.id != window.visit_id)
    stale = next(p for p in window.photos.rows() if p.id == x).version
    assert not window.run(cmd.MovePhotos(window.lib, [x], visit_id=target, seen={x: stale}))
    assert len(errors) == 1 and errors[0].startswith(f"Photo {x} ")
    shown = next(p for p in window.photos.rows() if p.id == x).version  # refreshed on refusal
    assert window.run(cmd.MovePhotos(window.lib, [x], visit_id=target, seen={x: shown}))
    assert browse.compare_photos(other, [x])[0].colour_gains == COOL


def _shrunk(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The outline drawn again a little smaller about its centre (another person's)."""
    cx = sum(x for x, _ in points) / len(points)
    cy = sum(y for _, y in points) / len(points)
    return [(cx + (x - cx) * 0.9, cy + (y - cy) * 0.9) for x, y in points]


def test_a_region_cleared_after_another_workstation_redrew_it_is_refused(
    compare: CompareWindow, other: Library
) -> None:
    editor = compare.measure_tools.editor
    said: list[str] = []
    editor.said.connect(said.append)
    area, view = compare.photos[0].area_id, compare.photos[0].view
    stored = measuring.regions(other, area, view)
    assert stored.marks is not None and editor.stored["marks"] == stored.marks
    theirs = _shrunk(stored.marks)
    measuring.set_region(other, area, view, "marks", theirs, seen=stored.marks_version)
    count = compare.history.stack.count()
    assert not editor.clear("marks")  # this window still shows the outline from before
    assert said[-1].startswith("The marks' region of ") and said[-1].endswith(FRESH)
    assert measuring.regions(other, area, view).marks == theirs  # the other's kept
    assert editor.stored["marks"] == theirs  # and shown here now
    assert compare.history.stack.count() == count
    # From what is shown now, the clear goes through; the undo after the other desk draws
    # again is refused, and the history cleared.
    assert editor.clear("marks") and measuring.regions(other, area, view).marks is None
    measuring.set_region(other, area, view, "marks", stored.marks, seen=0)
    assert not compare.history.undo()
    assert compare.history.stack.count() == 0
    assert measuring.regions(other, area, view).marks == stored.marks


def test_a_sensitivity_undo_after_another_workstation_is_refused_and_the_area_reread(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.lib is not None and window.area_id is not None
    area = window.area_id
    window.history.push(SetSensitivity(window.lib, area, 3.0))
    # The step counts in the area's version, and the main window read its areas again:
    # the session interval, which names the area's version shown, is stored.
    window._on_progress_interval_changed(21)
    assert errors == [] and window.history.stack.count() == 2
    measuring.set_sensitivity(other, area, 5.0)  # the other desk
    failed: list[str] = []
    window.history.failed.connect(failed.append)
    assert window.history.undo()  # the interval's undo: nothing of it was changed elsewhere
    assert not window.history.undo()  # the sensitivity's expects 3.0, and finds 5.0
    assert "could not be undone" in failed[0] and FRESH in failed[0]
    assert measuring.sensitivity(other, area) == 5.0
    assert window.history.stack.count() == 0


def test_an_automatic_alignment_stored_after_another_workstation_aligned_is_refused(
    qtbot: QtBot,
    library: Library,
    tmp_path: Path,
    runner: TaskRunner,
    compare_errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run reads the photos when it begins; the other desk aligns one by hand while it
    registers, and what the run found is not stored over it."""
    paths = write_series(tmp_path / "skin", series(2, 3), dt.date(2025, 1, 10))
    ids = [i.photo_id for i in h.import_files(library, paths, area="Belly").imported]
    desk = Library(library.root, db.make_engine(library.root / "library.sqlite3"))
    real = align.align_photos

    def meanwhile(*args: Any, **kwargs: Any) -> align.AlignOutcome:
        outcome = real(*args, **kwargs)
        photos.set_alignments(desk, {ids[1]: TURN})  # stored while the run registered
        return outcome

    monkeypatch.setattr(align, "align_photos", meanwhile)
    history = History()
    w = CompareWindow(library, ids, runner, history)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    try:
        with qtbot.waitSignal(w.auto.applied, timeout=30000):
            w.auto_align.trigger()
        assert len(compare_errors) == 1 and _refused(compare_errors[0], ids[1])
        assert browse.compare_photos(desk, ids)[1].alignment == TURN
        assert browse.reference_photo(desk, w.photos[0].area_id, w.photos[0].view) is None
        assert history.stack.count() == 0
        qtbot.waitUntil(lambda: w.photos[1].alignment == TURN)  # the fresh values shown
    finally:
        desk.engine.dispose()


def test_the_area_dialogs_choice_of_a_control_alone_names_the_version_shown(
    window: MainWindow, other: Library, errors: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.lib is not None and window.area_id is not None
    area = window.area_id
    start = current_control(other, area)
    choice = next(
        a.id
        for a in window.areas.rows()
        if a.id not in (area, start) and current_control(other, a.id) != area
    )
    dialog = Dialog(
        [{"control": choice}, None], lambda: clients.update_area(other, area, body_site="belly")
    )
    monkeypatch.setattr(dialogs.AreaDialog, "ask", dialog.ask)
    window.menus.edit_area.trigger()
    assert len(errors) == 1 and errors[0].startswith("The area '") and FRESH in errors[0]
    assert [a.body_site for a in dialog.opened][1] == "belly"  # opened again, fresh
    assert current_control(other, area) == start
    assert window.history.stack.count() == 0
    # From the fresh values the choice is stored, and undone.
    monkeypatch.setattr(dialogs.AreaDialog, "ask", Dialog([{"control": choice}], list).ask)
    window.menus.edit_area.trigger()
    assert len(errors) == 1 and current_control(other, area) == choice
    assert window.history.undo() and current_control(other, area) == start
