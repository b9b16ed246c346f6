"""The compare window on a small screen and in words (issue 19): the caption's own line, the
guide above the photos, the difference legend, the zoom control, the shortcuts that the
caption field lets through, the caption kept until the window closes, the ratings in the
export and the picker's thumbnails."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import (
    QFileDialog,
    QLineEdit,
    QMainWindow,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.compare import test_compare_window as base
from tracker.core.db.models import RaterRole
from tracker.core.queries import browse
from tracker.core.store.library import Library
from tracker.ui.compare import picker as picker_module
from tracker.ui.compare.controls import GUIDES, CaptionEdit, difference_colour
from tracker.ui.compare.picker import Choice, PhotoPicker, photo_choices
from tracker.ui.compare.window import CompareWindow
from tracker.ui.history import History
from tracker.ui.models import ThumbnailCache
from tracker.ui.settings import FRAME_ROOM
from tracker.ui.workers import TaskRunner

pair = base.pair  # the fixtures of the compare window's tests: two photos and the errors shown
compare_errors = base.compare_errors


@pytest.fixture
def small(
    qtbot: QtBot, library: Library, pair: list[int], runner: TaskRunner, compare_errors: list[str]
) -> CompareWindow:
    """The compare window at the size a 1024×700 screen leaves it."""
    w = CompareWindow(library, pair, runner, History())
    qtbot.addWidget(w)
    w.resize(1024, 660)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    return w


OWN_TOOLBARS = {"compare-view", "compare-tools", "compare-caption"}


def _hidden_behind_more(bar: QToolBar) -> bool:
    """Whether the toolbar shows its » button: something did not fit."""
    return any(
        b.isVisible()
        for b in bar.findChildren(QToolButton)
        if b.objectName() == "qt_toolbar_ext_button"
    )


def test_at_1024_nothing_hides_behind_more_and_the_caption_has_room(small: CompareWindow) -> None:
    for mode in ("side", "overlay", "difference"):
        small.mode.setCurrentIndex(small.mode.findData(mode))
        # The window's own toolbars; the measures' (issue 18) has a test of its own to make.
        bars = [b for b in small.findChildren(QToolBar) if b.objectName() in OWN_TOOLBARS]
        assert len(bars) == len(OWN_TOOLBARS)
        assert not [b.objectName() for b in bars if _hidden_behind_more(b)], mode
    assert small.caption.isVisible() and small.caption.width() > 500


def test_on_a_1024_screen_the_measures_tools_are_not_behind_more_either(
    qtbot: QtBot, small: CompareWindow
) -> None:
    # What a 1024-pixel screen leaves inside the window's frame (fit_on_screen).
    small.resize(1024 - FRAME_ROOM.width(), 660)
    qtbot.waitUntil(lambda: small.width() == 1024 - FRAME_ROOM.width())
    bars = [b for b in small.findChildren(QToolBar) if b.isVisible()]
    assert "compare-measures" in {b.objectName() for b in bars}
    assert not [b.objectName() for b in bars if _hidden_behind_more(b)]


def test_the_landmark_instructions_are_shown_whole_above_the_photos(
    qtbot: QtBot, small: CompareWindow
) -> None:
    assert not small.guide.isVisible()
    small.align.setChecked(True)
    assert small.guide.isVisible()
    label = small.guide.text
    assert label.text() == GUIDES["landmarks"]
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    canvas_height = small.canvas.height()
    small.canvas.point_clicked.emit(0, QPointF(100, 100))
    assert small.canvas.height() == canvas_height, "a click must not move the photos"
    assert small.status.text().startswith("Points marked on each photo: 1 · 0.")
    shown = [b.defaultAction() for b in small.guide.buttons["landmarks"] if b.isVisible()]
    assert shown == [small.apply_align, small.clear_marks]  # beside the instructions
    small.align.setChecked(False)
    assert not small.guide.isVisible()
    small.neutral.setChecked(True)
    assert small.guide.text.text() == GUIDES["neutral"]
    small.ruler.setChecked(True)
    assert small.guide.text.text() == GUIDES["ruler"]


def test_a_status_too_long_for_its_line_is_whole_in_its_tooltip(small: CompareWindow) -> None:
    long = "Aligned automatically: 822 skin features agree within 1 pixel. " * 6
    small.status.setText(long)
    assert small.status.toolTip() == long
    small.status.setText("Saved.")
    assert small.status.toolTip() == ""


def test_difference_mode_explains_its_colours(small: CompareWindow) -> None:
    small.mode.setCurrentIndex(small.mode.findData("difference"))
    assert small.guide.isVisible() and small.guide.legend.isVisible()
    assert "black is unchanged" in small.guide.text.text()
    same, redness, lightness = (s.colour for s in small.guide.swatches)
    assert (same.red(), same.green(), same.blue()) == (0, 0, 0)
    assert redness.green() > max(redness.red(), redness.blue())  # a redness change is green
    assert lightness.value() > 0
    small.amplify.setValue(8)
    assert "×8" in small.guide.text.text()
    assert small.guide.swatches[1].colour.green() > redness.green()
    small.mode.setCurrentIndex(small.mode.findData("side"))
    assert not small.guide.isVisible()


def test_the_legend_is_worked_out_as_the_difference_is() -> None:
    """The difference mode multiplies each channel's difference (render.py): so does the legend."""
    colour = difference_colour((10, 20, 30), (15, 10, 30), 4)
    assert (colour.red(), colour.green(), colour.blue()) == (20, 40, 0)
    assert difference_colour((0, 0, 0), (200, 0, 0), 4).red() == 255


def test_the_zoom_readout_is_the_100_percent_button(qtbot: QtBot, small: CompareWindow) -> None:
    button = small.zoom_button
    assert button.text() == f"{round(small.canvas.zoom * 100)} %"
    button.click()
    assert small.canvas.zoom == pytest.approx(1.0)
    assert button.text() == "100 %"
    menu = button.menu()
    (two_hundred,) = [a for a in menu.actions() if a.text() == "200 %"]
    two_hundred.trigger()
    assert small.canvas.zoom == pytest.approx(2.0) and button.text() == "200 %"
    small.fit.trigger()
    assert button.text() == f"{round(small.canvas.zoom * 100)} %" != "200 %"


def test_ctrl_e_exports_while_the_caption_field_has_the_focus(
    qtbot: QtBot, small: CompareWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def save_as(*_args: object) -> tuple[str, str]:
        asked.append("export")
        return "", ""  # the person cancels

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    chose: list[str] = []
    monkeypatch.setattr(PhotoPicker, "ask", classmethod(lambda *a: chose.append("k")))
    small.activateWindow()
    small.caption.setFocus()
    qtbot.waitUntil(small.caption.hasFocus)
    qtbot.keyClicks(small.caption, "Six months")
    qtbot.keyClick(small.caption, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["export"]
    qtbot.keyClick(small.caption, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert chose == ["k"]
    assert small.caption.text() == "Six months"  # nor did the field act on them
    qtbot.keyClick(small.caption, Qt.Key.Key_A)  # a plain letter is typed, not Align
    assert small.caption.text() == "Six monthsa"


def test_the_caption_field_gives_its_passed_keys_to_the_window(qtbot: QtBot) -> None:
    """A line edit takes Ctrl+E and Ctrl+K on X11 only (the offscreen platform binds them to
    nothing), so the mechanism is shown with Ctrl+A, which every platform's line edit takes."""
    window = QMainWindow()
    qtbot.addWidget(window)
    fired: list[str] = []
    action = QAction("Select every photo", window)
    action.setShortcut("Ctrl+A")
    action.triggered.connect(lambda: fired.append("action"))
    window.addAction(action)
    host = QWidget()
    column = QVBoxLayout(host)
    plain, caption = QLineEdit("plain", host), CaptionEdit(host)
    caption.setText("caption")
    caption.passed = [action]
    column.addWidget(plain)
    column.addWidget(caption)
    window.setCentralWidget(host)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    selected = []
    for field in (plain, caption):
        field.setFocus()
        qtbot.waitUntil(field.hasFocus)
        qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        selected.append(field.selectedText())
    assert fired == ["action"]  # once: the plain field selected its text instead
    assert selected == ["plain", ""]


def test_the_caption_passes_export_and_choose(small: CompareWindow) -> None:
    keys = {s.toString() for a in small.caption.passed for s in a.shortcuts()}
    assert {"Ctrl+E", "Ctrl+K"} <= keys


def test_the_caption_stays_until_the_window_closes(
    qtbot: QtBot, small: CompareWindow, pair: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    small.caption.setText("Six months of treatment")
    monkeypatch.setattr(PhotoPicker, "ask", classmethod(lambda *a: list(reversed(pair))))
    with qtbot.waitSignal(small.loaded, timeout=20000):
        small.choose.trigger()
    for mode in ("wipe", "difference", "side"):
        small.mode.setCurrentIndex(small.mode.findData(mode))
    small.align.setChecked(True)
    small.align.setChecked(False)
    assert small.photo_ids == list(reversed(pair))
    assert small.export_options().caption == "Six months of treatment"


def test_the_export_carries_the_ratings_when_they_are_shown(
    qtbot: QtBot, small: CompareWindow, library: Library, tmp_path: Path
) -> None:
    day = small.photos[1].visit_date
    h.rate(library, area="Belly", day=day, role=RaterRole.PATIENT, values={"colour": 3})
    small.reload(images=False)
    (line,) = small.photos[1].ratings
    heights = {}
    for shown in (False, True):
        small.ratings.setChecked(shown)
        assert small.export_options().ratings is shown
        out = tmp_path / f"ratings-{shown}.png"
        with qtbot.waitSignal(small.exported, timeout=20000):
            small.export_to(out)
        with Image.open(out) as image:
            heights[shown] = image.height
    assert heights[True] > heights[False], f"no room made for {line!r}"
    small.labels.setChecked(False)  # no labels, no ratings either: the window shows none
    assert small.export_options().ratings is False


def test_the_picker_shows_thumbnails_loaded_off_the_gui_thread(
    qtbot: QtBot, library: Library, pair: list[int], runner: TaskRunner
) -> None:
    area = browse.photo(library, pair[0]).area_id
    choices, _every, default = photo_choices(library, area, None)
    assert all(isinstance(c, Choice) and c.sha256 for c in choices)
    thumbs = ThumbnailCache(runner)
    thumbs.set_library(library)
    dialog = PhotoPicker(None, choices, default, (), thumbs)
    qtbot.addWidget(dialog)
    blank = dialog.list.item(0).icon().pixmap(picker_module.THUMB).toImage()
    qtbot.waitUntil(thumbs.is_idle, timeout=10000)
    for i in range(dialog.list.count()):
        shown = dialog.list.item(i).icon().pixmap(picker_module.THUMB).toImage()
        assert shown != blank and not _transparent(shown)


def _transparent(image: QImage) -> bool:
    return image.pixelColor(image.width() // 2, image.height() // 2).alpha() == 0


def test_without_a_cache_the_rows_keep_a_thumbnail_sized_place(qtbot: QtBot) -> None:
    dialog = PhotoPicker(None, [Choice("one", 1), Choice("two", 2)], [1], ())
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2 and dialog.chosen() == [1]
    assert dialog.list.item(1).icon().actualSize(picker_module.THUMB) == picker_module.THUMB
