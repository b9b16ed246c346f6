"""The compare window's automatic alignment (a background job, applied as one undoable step,
cancellable, refusals in words) and its scale bar and ruler."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from tests import helpers as h
from tests.core.imaging import synthetic as syn
from tests.ui.compare.skin_series import series, write_series
from tracker.core.db.models import Photo
from tracker.core.queries import browse
from tracker.core.store.library import Library
from tracker.ui.compare.window import CompareWindow
from tracker.ui.history import History
from tracker.ui.workers import TaskRunner

FIRST = dt.date(2025, 1, 10)


def _import(library: Library, tmp_path: Path, photos: list[object], name: str) -> list[int]:
    paths = write_series(tmp_path / name, photos, FIRST)  # type: ignore[arg-type]
    return [i.photo_id for i in h.import_files(library, paths, area="Belly").imported]


@pytest.fixture
def skin(library: Library, tmp_path: Path) -> list[int]:
    """Three photos of one skin, the first the oldest (the view's reference, once aligned)."""
    return _import(library, tmp_path, series(3, 3), "skin")  # type: ignore[arg-type]


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(CompareWindow, "_show_error", lambda self, message: shown.append(message))
    return shown


def _open(qtbot: QtBot, library: Library, ids: list[int], runner: TaskRunner) -> CompareWindow:
    w = CompareWindow(library, ids, runner, History())
    qtbot.addWidget(w)
    w.resize(1000, 640)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    return w


def test_align_automatically_stores_each_photo_and_one_undo_takes_it_back(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, errors: list[str]
) -> None:
    window = _open(qtbot, library, skin[:2], runner)
    with qtbot.waitSignal(window.auto.applied, timeout=30000):
        window.auto_align.trigger()
        assert window.auto.job.busy and not window.auto_align.isEnabled()
    assert errors == []
    first, second = browse.compare_photos(library, skin[:2])
    assert first.is_reference and first.alignment is None
    assert second.alignment is not None and second.alignment.method == "auto"
    assert second.alignment.points is not None and second.alignment.points >= 25
    text = window.status.text()
    assert text.startswith("Aligned automatically: ") and "skin features agree within" in text
    assert window.auto_align.isEnabled() and window.aligned.isChecked()
    window.undo.trigger()
    assert browse.compare_photos(library, skin[:2])[1].alignment is None
    assert browse.reference_photo(library, first.area_id, first.view) is None


def test_align_all_photos_of_the_view_aligns_those_not_shown_too(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, errors: list[str]
) -> None:
    window = _open(qtbot, library, [skin[0], skin[1]], runner)
    with qtbot.waitSignal(window.auto.applied, timeout=30000):
        window.align_view.trigger()
    assert errors == []
    rows = browse.compare_photos(library, skin)
    assert [r.alignment is not None for r in rows] == [False, True, True]
    assert window.status.text().startswith("Aligned 2 photos automatically: in each, ")


def test_a_cancelled_alignment_stores_nothing(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, errors: list[str]
) -> None:
    window = _open(qtbot, library, skin, runner)
    with qtbot.waitSignal(window.auto.applied, timeout=30000):
        window.auto_align.trigger()
        window.auto.cancel()  # before the result can arrive: it comes through the event loop
    assert errors == []
    assert all(r.alignment is None for r in browse.compare_photos(library, skin))
    assert not window.history.stack.canUndo()
    assert "cancelled" in window.status.text() and "nothing was changed" in window.status.text()


def test_a_refused_pair_says_why_and_that_landmarks_remain(
    qtbot: QtBot, library: Library, tmp_path: Path, runner: TaskRunner, errors: list[str]
) -> None:
    pair = syn.unrelated_pair(1, (480, 360))
    ids = _import(library, tmp_path, [pair.reference, pair.photo], "unrelated")
    window = _open(qtbot, library, ids, runner)
    with qtbot.waitSignal(window.auto.applied, timeout=30000):
        window.auto_align.trigger()
    assert all(r.alignment is None for r in browse.compare_photos(library, ids))
    assert len(errors) == 1
    assert errors[0].startswith("This photo was not aligned automatically:")
    assert f"{FIRST + dt.timedelta(days=30):%d %b %Y}: " in errors[0]
    assert "Mark landmarks" in errors[0]
    assert window.status.text() == "No photo could be aligned automatically."


def _drag(qtbot: QtBot, window: CompareWindow, a: QPoint, b: QPoint) -> None:
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=b)


def test_the_ruler_measures_in_mm_when_the_scale_is_known_and_in_pixels_when_not(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, errors: list[str]
) -> None:
    with library.session() as s:
        s.execute(update(Photo).where(Photo.id == skin[0]).values(px_per_mm=8.0))
    window = _open(qtbot, library, skin[:2], runner)
    canvas = window.canvas
    assert window.photos[0].px_per_mm == 8.0 and window.photos[1].px_per_mm is None
    window.ruler.setChecked(True)
    rects = canvas.pane_rects()
    centre = rects[0].center().toPoint()
    _drag(qtbot, window, centre, centre + QPoint(120, 0))
    # The first photo is placed as it is: 120 screen px are 120 / zoom of its pixels.
    length_px = 120 / canvas.zoom
    assert canvas.ruler.length_px() == pytest.approx(length_px, rel=1e-3)
    assert window.status.text() == f"{length_px / 8:.1f} mm"
    centre = rects[1].center().toPoint()
    _drag(qtbot, window, centre, centre + QPoint(0, 90))
    assert canvas.ruler.index == 1
    assert window.status.text().startswith(f"{90 / canvas.zoom:.0f} px of the photo (no scale")
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.ruler.length_px() is None and window.status.text() == ""
    # While measuring, a drag does not pan.
    centre_before = canvas.centre
    _drag(qtbot, window, centre, centre + QPoint(50, 50))
    assert canvas.centre == centre_before
    window.ruler.setChecked(False)
    assert canvas.ruler.length_px() is None and not canvas.ruler.active


def test_the_shortcuts_of_the_compare_window_are_unique(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner
) -> None:
    window = _open(qtbot, library, skin[:2], runner)
    keys = [
        k.toString() for action in window.actions() for k in action.shortcuts() if not k.isEmpty()
    ]
    assert len(keys) == len(set(keys)), sorted(keys)
    assert {window.auto_align.shortcut().toString(), window.ruler.shortcut().toString()} == {
        "A",
        "R",
    }
