"""Regions and the marks found in the compare window (issue 18): an outline drawn on any aligned
photo lands on the reference photo's pixels, each stored change is one undo step, refusals are
sentences in the status line, and the marks found are painted from a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tracker.core.imaging.geometry import Alignment, affine_matrix
from tracker.core.queries import browse
from tracker.core.services import measure
from tracker.core.services.photos import set_alignments
from tracker.core.store.library import Library
from tracker.ui.compare.marks_overlay import STEPS, next_step, tinted
from tracker.ui.compare.window import CompareWindow
from tracker.ui.history import History
from tracker.ui.workers import TaskRunner

SHIFT = (30.0, -20.0)  # the second photo's skin, moved by this in its pixels
SQUARE = [(100.0, 100.0), (420.0, 110.0), (430.0, 330.0), (110.0, 320.0)]


def _skin(path: Path, taken: str, shift: tuple[float, float] = (0.0, 0.0)) -> Path:
    im = Image.new("RGB", (800, 600), (214, 170, 150))
    draw = ImageDraw.Draw(im)
    for k in range(4):  # red marks, as stria rubra
        y = 160 + 40 * k
        draw.line(
            [(140 + shift[0], y + shift[1]), (520 + shift[0], y - 60 + shift[1])],
            fill=(196, 96, 104),
            width=9,
        )
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    im.save(path, "JPEG", exif=exif, quality=95)
    return path


@pytest.fixture
def pair(library: Library, tmp_path: Path) -> list[int]:
    a = _skin(tmp_path / "a.jpg", "2025:01:10 10:00:00")
    b = _skin(tmp_path / "b.jpg", "2025:03:10 10:00:00", SHIFT)
    ids = [i.photo_id for i in h.import_files(library, [a, b], area="Belly").imported]
    first = browse.compare_photos(library, ids)[0]
    # The second photo's pixels → the first's (the reference): back by the shift.
    move = affine_matrix(1, 0, -SHIFT[0], 0, 1, -SHIFT[1])
    set_alignments(
        library,
        {ids[1]: Alignment(move, "landmarks", "similarity", 3, 0.2)},
        [(first.area_id, first.view, ids[0])],
    )
    return ids


@pytest.fixture
def window(qtbot: QtBot, library: Library, pair: list[int], runner: TaskRunner) -> CompareWindow:
    w = CompareWindow(library, pair, runner, History())
    qtbot.addWidget(w)
    w.resize(1200, 700)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    return w


def _screen(window: CompareWindow, index: int, x: float, y: float) -> QPoint:
    return window.canvas.photo_to_screen(index).map(QPointF(x, y)).toPoint()


def _stored(window: CompareWindow) -> list[tuple[float, float]] | None:
    photo = window.photos[0]
    return measure.regions(window.lib, photo.area_id, photo.view).marks


def _near(a: list[tuple[float, float]] | None, b: list[tuple[float, float]], tol: float) -> bool:
    return (
        a is not None
        and len(a) == len(b)
        and all(
            abs(p[0] - q[0]) <= tol and abs(p[1] - q[1]) <= tol for p, q in zip(a, b, strict=True)
        )
    )


def test_an_outline_drawn_on_the_aligned_photo_lands_on_the_reference(
    qtbot: QtBot, window: CompareWindow
) -> None:
    tools = window.measure_tools
    tools.draw_marks.setChecked(True)
    canvas = window.canvas
    # On the second photo, the same skin is SHIFT further on.
    for x, y in SQUARE:
        qtbot.mouseClick(
            canvas, Qt.MouseButton.LeftButton, pos=_screen(window, 1, x + SHIFT[0], y + SHIFT[1])
        )
    assert _stored(window) is None  # drawn, not stored yet
    assert "4 points" in window.status.text()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    # A screen pixel is 1 / zoom photo pixels: the clicks are within that of the corners.
    tol = 1.0 / canvas.zoom
    assert _near(_stored(window), SQUARE, tol), _stored(window)
    assert "Undo takes it back" in window.status.text()
    assert window.history.stack.count() == 1
    window.history.undo()
    assert _stored(window) is None
    assert tools.editor.stored["marks"] is None  # the window follows the undo
    window.history.redo()
    assert _near(tools.editor.stored["marks"], SQUARE, tol)


def test_a_point_dragged_is_one_step_and_delete_removes_the_selected_one(
    qtbot: QtBot, window: CompareWindow
) -> None:
    photo = window.photos[0]
    measure.set_region(window.lib, photo.area_id, photo.view, "marks", [*SQUARE, (100.0, 220.0)])
    tools = window.measure_tools
    tools.draw_marks.setChecked(True)
    canvas = window.canvas
    start = _screen(window, 0, *SQUARE[1])
    end = _screen(window, 0, 500.0, 90.0)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, pos=end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    stored = _stored(window)
    assert stored is not None and abs(stored[1][0] - 500) <= 2 / canvas.zoom
    assert window.history.stack.count() == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)  # the point dragged stays selected
    stored = _stored(window)
    assert stored is not None and len(stored) == 4
    assert window.history.stack.count() == 2
    window.history.undo()
    window.history.undo()
    assert _near(_stored(window), [*SQUARE, (100.0, 220.0)], 1e-6)


def test_refusals_are_sentences_and_store_nothing(qtbot: QtBot, window: CompareWindow) -> None:
    tools = window.measure_tools
    tools.draw_marks.setChecked(True)
    canvas = window.canvas
    for x, y in SQUARE[:2]:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(window, 0, x, y))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert "at least 3 points" in window.status.text()
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)  # the last point goes
    assert tools.editor.draft is not None and len(tools.editor.draft) == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)  # the outline being drawn goes
    assert tools.editor.draft is None
    assert "cancelled" in window.status.text()
    # A tiny outline: the core refuses it, the window says why, and keeps it to fix.
    for x, y in [(10, 10), (90, 10), (40, 14)]:  # apart on screen, 160 px² in all
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(window, 0, x, y))
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert "at least" in window.status.text() and "pixels" in window.status.text()
    assert tools.editor.draft is not None
    assert window.history.stack.count() == 0
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)  # with nothing drawn, Esc puts the tool away
    assert not tools.draw_marks.isChecked() and tools.editor.kind is None


def test_putting_the_tool_away_drops_an_open_outline_and_says_so(
    qtbot: QtBot, window: CompareWindow
) -> None:
    tools = window.measure_tools
    tools.draw_marks.setChecked(True)
    for x, y in SQUARE[:3]:
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_screen(window, 0, x, y))
    window.ruler.setChecked(True)  # another tool takes over
    assert not tools.draw_marks.isChecked() and tools.editor.draft is None
    assert "not stored" in window.status.text()
    assert _stored(window) is None


def test_a_photo_not_aligned_takes_no_points(
    qtbot: QtBot, window: CompareWindow, library: Library
) -> None:
    set_alignments(library, {window.photo_ids[1]: None})
    window.reload(images=False)
    window.measure_tools.draw_marks.setChecked(True)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_screen(window, 1, 200, 200))
    assert "not aligned" in window.status.text()
    assert window.measure_tools.editor.draft is None


def test_the_marks_found_are_painted_and_the_nudge_is_one_step(
    qtbot: QtBot, window: CompareWindow
) -> None:
    tools = window.measure_tools
    assert not tools.fewer.isEnabled()
    tools.show_marks.setChecked(True)
    qtbot.waitUntil(lambda: len(tools.overlay.masks) == 2, timeout=90000)
    mask = tools.overlay.masks[window.photo_ids[0]]
    # The marks are tinted where they are: on the first mark's line, not far from it.
    sx, sy = mask.width() / 800, mask.height() / 600
    assert mask.pixelColor(int(330 * sx), int(130 * sy)).alpha() == 255
    assert mask.pixelColor(int(700 * sx), int(500 * sy)).alpha() == 0
    area_id = window.photos[0].area_id
    assert tools.nudge(fewer=True)
    assert measure.set_sensitivity(window.lib, area_id, 5.0) == 5.0  # one step above 4
    assert window.history.stack.count() == 1
    qtbot.waitUntil(lambda: len(tools.overlay.masks) == 2, timeout=90000)
    measure.set_sensitivity(window.lib, area_id, 8.0)
    assert not tools.nudge(fewer=True)
    assert "highest" in window.status.text()


@pytest.mark.parametrize(
    ("current", "fewer", "expected"),
    [
        (4.0, True, 5.0),
        (4.0, False, 3.5),
        (8.0, True, None),
        (1.5, False, None),
        (4.4, True, 5.0),
        (4.4, False, 4.0),
    ],
)
def test_the_nudge_steps(current: float, fewer: bool, expected: float | None) -> None:
    assert next_step(current, fewer) == expected
    assert expected is None or expected in STEPS


def test_a_mask_is_tinted_where_it_is_white(qtbot: QtBot) -> None:
    im = Image.new("1", (20, 10), 0)
    ImageDraw.Draw(im).rectangle((5, 2, 9, 6), fill=1)
    import io

    data = io.BytesIO()
    im.save(data, "PNG")
    image = tinted(data.getvalue())
    assert (image.width(), image.height()) == (20, 10)
    assert image.pixelColor(7, 4).alpha() == 255 and image.pixelColor(7, 4).blue() == 255
    assert image.pixelColor(1, 1).alpha() == 0


def test_a_late_refusal_of_the_marks_found_leaves_a_newer_sentence_alone(
    qtbot: QtBot, window: CompareWindow, library: Library
) -> None:
    first = window.photos[0]
    measure.set_region(library, first.area_id, first.view, "marks", SQUARE)
    set_alignments(library, {window.photo_ids[1]: None})  # its region cannot follow it
    window.reload(images=False)
    tools = window.measure_tools
    tools.show_marks.setChecked(True)
    qtbot.waitUntil(lambda: not tools.overlay.pending, timeout=90000)
    assert window.status.text().startswith("No marks shown on the photo of")
    assert "not aligned" in window.status.text()
    tools.show_marks.setChecked(False)
    tools.show_marks.setChecked(True)  # asked again; before the answers come, the person acts
    tools.draw_marks.setChecked(True)  # the outline's own sentence
    said = window.status.text()
    assert said.startswith("Editing the marks' region")
    qtbot.waitUntil(lambda: not tools.overlay.pending, timeout=90000)
    assert window.status.text() == said  # the newest action's sentence stays
    assert len(tools.overlay.refused) == 1 and "not aligned" in tools.overlay.refused[0]
