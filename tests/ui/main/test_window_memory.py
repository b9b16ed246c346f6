"""What the windows remember between runs: their place inside the screen, and the ways of
looking the person chose."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_window
from tracker.core.queries import browse
from tracker.core.store.library import Library
from tracker.ui.compare.window import CompareWindow
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import FRAME_ROOM, Preferences, fit_on_screen
from tracker.ui.workers import TaskRunner


def _inside(window: QWidget) -> tuple[QRect, QRect]:
    """The window's frame (or, before it is shown, its geometry with room for one) and the
    screen's available area."""
    frame = window.frameGeometry()
    if frame == window.geometry():
        frame = frame.adjusted(0, 0, FRAME_ROOM.width(), FRAME_ROOM.height())
    return frame, window.screen().availableGeometry()


def test_a_window_larger_than_the_screen_is_brought_inside_it(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    area = window.screen().availableGeometry()
    window.setGeometry(area.left() + 300, area.top() + 200, area.width() + 500, area.height() + 400)
    fit_on_screen(window)
    frame, area = _inside(window)
    assert area.contains(frame), (frame, area)
    assert frame.height() >= area.height() - 2  # as tall as it can be, not shrunk further


def test_the_main_window_reopens_inside_the_screen(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library, errors: list[str]
) -> None:
    first = open_window(qtbot, prefs, runner, sample)
    area = first.screen().availableGeometry()
    first.setGeometry(area.left(), area.top() + 150, area.width(), area.height() + 600)
    first.close()  # saves its geometry
    again = MainWindow(prefs, runner)
    qtbot.addWidget(again)
    frame, area = _inside(again)
    assert frame.top() >= area.top() and frame.bottom() <= area.bottom(), (frame, area)
    again.set_library(sample)
    again.show()
    status = again.statusBar()
    bottom = status.mapToGlobal(status.rect().bottomLeft()).y()
    assert bottom <= area.bottom(), "the status bar, where results are said, is on screen"


def _compare(qtbot: QtBot, window: MainWindow) -> CompareWindow:
    assert window.lib is not None
    photo = window.photos.rows()[0].id
    partner = browse.baseline_partner(window.lib, photo)
    assert partner is not None
    compare = window.compare.open([partner, photo])
    assert compare is not None
    qtbot.waitUntil(lambda: bool(compare.canvas.photos), timeout=60000)
    return compare


def test_the_compare_window_opens_inside_the_screen(qtbot: QtBot, window: MainWindow) -> None:
    compare = _compare(qtbot, window)
    frame, area = _inside(compare)
    assert frame.top() >= area.top() and frame.bottom() <= area.bottom(), (frame, area)


def test_by_session_and_the_tab_are_remembered(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library, errors: list[str]
) -> None:
    first = open_window(qtbot, prefs, runner, sample)
    axis = first.progress_view.axis
    axis.setCurrentIndex(axis.findText("By session"))
    first.tabs.setCurrentWidget(first.progress_view)
    first.close()
    again = open_window(qtbot, prefs, runner, sample)
    assert again.progress_view.axis.currentText() == "By session"
    assert again.tabs.currentWidget() is again.progress_view
    assert again.progress_view.charts, "the progress is drawn by session, not left empty"
    again.progress_view.axis.setCurrentIndex(again.progress_view.axis.findText("By date"))
    third = open_window(qtbot, prefs, runner, sample)
    assert third.progress_view.axis.currentText() == "By date"


def test_the_compare_windows_ways_of_looking_are_remembered(
    qtbot: QtBot, window: MainWindow
) -> None:
    compare = _compare(qtbot, window)
    compare.mode.setCurrentIndex(compare.mode.findData("wipe"))
    compare.vertical.setChecked(False)
    compare.labels.setChecked(False)
    compare.ratings.setChecked(True)
    compare.close()
    again = _compare(qtbot, window)
    assert again.mode.currentData() == "wipe" and again.canvas.mode == "wipe"
    assert not again.vertical.isChecked() and not again.canvas.wipe_vertical
    assert not again.labels.isChecked()
    assert again.ratings.isChecked()


def test_a_kept_choice_no_longer_offered_is_left(prefs: Preferences, qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QComboBox

    prefs.set_choice("compare/mode", "a mode of an older version")
    combo = QComboBox()
    qtbot.addWidget(combo)
    combo.addItem("Side by side", "side")
    combo.addItem("Wipe", "wipe")
    prefs.remember("compare/mode", combo)
    assert combo.currentData() == "side"
    combo.setCurrentIndex(1)
    assert prefs.choice("compare/mode") == "wipe"
