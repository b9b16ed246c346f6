"""The compare window's alignments and colour balances name the versions it showed (issue
21): one made, undone or redone after another workstation changed the same photo is refused
with the conflict's sentence, the window then shows the fresh values, the undo history stays
true, and nothing of the other's change is lost. A colour balance counts, and the main
window's grid reads its photos again after one, so its next move goes through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from tracker.core.db import engine as db
from tracker.core.imaging.geometry import Alignment
from tracker.core.queries import browse
from tracker.core.services import photos
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui.compare.window import CompareWindow
from tracker.ui.main.window import MainWindow
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
