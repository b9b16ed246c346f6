"""Locking the window (tracker.ui.main.locking): Library ▸ Lock or idle minutes hide every
name and photo until the passphrase is typed; a wrong one says so and stays locked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QKeySequence, QShortcutEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_window
from tracker import APP_NAME
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.queries import browse
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui.main.window import MainWindow
from tracker.ui.preferences_dialog import PreferencesDialog
from tracker.ui.settings import Mode, Preferences
from tracker.ui.workers import TaskRunner

PASS = "a passphrase for locking"
NAME = "Ada Lovelace"


def _shown_widgets() -> list[QWidget]:
    return [w for w in QApplication.allWidgets() if w.isVisible()]


def _nothing_private_shows(name: str) -> None:
    """No visible widget says ``name`` or shows a picture or a list of anything."""
    for widget in _shown_widgets():
        assert name not in widget.windowTitle()
        if isinstance(widget, QLabel | QLineEdit | QAbstractButton):
            assert name not in widget.text(), widget
        if isinstance(widget, QLabel):
            assert widget.pixmap().isNull(), widget
        if isinstance(widget, QAbstractItemView):
            model = widget.model()
            assert model is None or model.rowCount() == 0, widget


def _encrypted_window(
    qtbot: QtBot, tmp_path: Path, prefs: Preferences, runner: TaskRunner
) -> tuple[MainWindow, Library, str]:
    lib, recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    prefs.mode = Mode.PRACTITIONER
    window = open_window(qtbot, prefs, runner, lib)
    assert window.run(cmd.AddClient(lib, NAME))
    return window, lib, recovery


def _try(qtbot: QtBot, window: MainWindow, typed: str) -> None:
    page = window.locking.page
    page.secret.setText(typed)
    page.unlock.click()
    qtbot.waitUntil(lambda: page.unlock.isEnabled() or not window.locking.locked, timeout=20000)


def test_lock_hides_names_and_only_the_passphrase_unlocks(
    qtbot: QtBot, tmp_path: Path, prefs: Preferences, runner: TaskRunner
) -> None:
    window, lib, recovery = _encrypted_window(qtbot, tmp_path, prefs, runner)
    try:
        with pytest.raises(AssertionError):
            _nothing_private_shows(NAME)  # the client list shows it, before locking
        shown_before = window.stack.currentWidget()
        title_before = window.windowTitle()
        window.menus.lock.trigger()
        assert window.locking.locked
        assert window.stack.currentWidget() is window.locking.page
        assert window.windowTitle() == f"{APP_NAME} — locked"
        assert not window.menuBar().isEnabled()
        _nothing_private_shows(NAME)

        _try(qtbot, window, "not the passphrase")
        assert window.locking.locked
        assert "wrong" in window.locking.page.problem.text()
        _nothing_private_shows(NAME)

        _try(qtbot, window, PASS)
        assert not window.locking.locked
        assert window.stack.currentWidget() is shown_before
        assert window.windowTitle() == title_before
        assert window.menuBar().isEnabled()
        assert window.locking.page.secret.text() == ""

        window.menus.lock.trigger()  # the recovery key opens it too
        window.locking.page.use_recovery.setChecked(True)
        _try(qtbot, window, recovery)
        assert not window.locking.locked
    finally:
        window.close()
        runner.wait(10000)
        lib.close()


def test_idle_minutes_lock_an_encrypted_library(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    settings = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    settings.setValue("lock/interval_ms", 80)  # instead of the minutes
    prefs = Preferences(settings)
    assert prefs.lock_minutes == 5  # the default
    window, lib, _ = _encrypted_window(qtbot, tmp_path, prefs, runner)
    try:
        window.locking.restart()
        qtbot.waitUntil(lambda: window.locking.locked, timeout=5000)
        _nothing_private_shows(NAME)
        _try(qtbot, window, PASS)
        assert not window.locking.locked and window.locking.idle.isActive()
        prefs.lock_minutes = 0  # never
        window.locking.restart()
        assert not window.locking.idle.isActive()
    finally:
        window.close()
        runner.wait(10000)
        lib.close()


def test_a_plain_library_locks_the_screen_and_hides_compare_windows(
    qtbot: QtBot, window: MainWindow, sample: Library
) -> None:
    name = browse.clients(sample)[0].name
    compare = window.compare.open([1, 6])
    assert compare is not None
    compare.show()
    window.menus.lock.trigger()
    assert window.locking.locked and not compare.isVisible()
    page = window.locking.page
    assert not page.secret.isVisible() and "not encrypted" in page.intro.text()
    _nothing_private_shows(name)
    window.stack.setCurrentWidget(window.splitter)  # a refresh after a background job
    assert window.stack.currentWidget() is page
    page.unlock.click()
    assert not window.locking.locked and compare.isVisible()
    assert window.stack.currentWidget() is window.splitter
    # Idle, a plain library locks only when asked to in the preferences.
    assert not window.prefs.lock_plain
    window.locking.idle.timeout.emit()
    assert not window.locking.locked


def test_locked_no_shortcut_acts_and_an_open_dialog_is_cancelled(
    qtbot: QtBot, window: MainWindow
) -> None:
    asked = QDialog(window)
    asked.setModal(True)
    asked.open()
    assert asked.isVisible()
    window.menus.lock.trigger()
    assert not asked.isVisible() and asked.result() == QDialog.DialogCode.Rejected
    fired: list[bool] = []
    window.menus.previous_visit.triggered.connect(lambda: fired.append(True))
    window.menus.previous_visit.setEnabled(True)  # as a background job's refresh might
    event = QShortcutEvent(QKeySequence("Alt+Up"), None, False)
    QApplication.sendEvent(window.menus.previous_visit, event)
    assert fired == []
    window.locking.page.unlock.click()
    QApplication.sendEvent(
        window.menus.previous_visit, QShortcutEvent(QKeySequence("Alt+Up"), None)
    )
    assert fired == [True]


def test_the_preferences_keep_the_idle_minutes(qtbot: QtBot, prefs: Preferences) -> None:
    assert (prefs.lock_minutes, prefs.lock_plain) == (5, False)
    dialog = PreferencesDialog(None, Mode.PATIENT, "", 12, True)
    qtbot.addWidget(dialog)
    assert dialog.lock_minutes.value() == 12 and dialog.lock_plain.isChecked()
    dialog.lock_minutes.setValue(0)
    assert dialog.lock_minutes.text() == "never"
    prefs.lock_minutes = 90  # out of range: kept within it
    assert prefs.lock_minutes == 60
    prefs.lock_minutes = 0
    assert prefs.lock_minutes == 0


def _boxes() -> list[QMessageBox]:
    return [w for w in _shown_widgets() if isinstance(w, QMessageBox)]


def test_what_a_dialog_said_is_kept_through_the_lock_and_never_shown_while_locked(
    qtbot: QtBot, window: MainWindow
) -> None:
    # An error box open when the window locks: closed (its caller goes on), its words kept.
    QTimer.singleShot(0, window.menus.lock.trigger)
    QMessageBox.warning(window, APP_NAME, "The backup failed: the disk holding it is full.")
    assert window.locking.locked and _boxes() == []
    # A result a background job shows while locked never reaches the screen.
    result = QMessageBox(
        QMessageBox.Icon.Information,
        APP_NAME,
        "Ada Lovelace's check found 2 problems.",
        QMessageBox.StandardButton.Ok,
        window,
    )
    result.open()
    cover = result.findChild(QWidget, "lock-cover")
    assert cover is not None and cover.isVisible() and cover.geometry().contains(result.rect())
    assert result.windowTitle() == f"{APP_NAME} — locked"
    qtbot.waitUntil(lambda: not result.isVisible())
    # A save dialog (a file dialog's title, without its file system threads): cancelled, and
    # said to be.
    saving = QDialog(window)
    saving.setWindowTitle("Back up the library")
    saving.setModal(True)
    saving.open()
    qtbot.waitUntil(lambda: not saving.isVisible())
    assert saving.result() == QDialog.DialogCode.Rejected
    window.locking.page.unlock.click()
    said: list[str] = []
    for _ in range(3):
        qtbot.waitUntil(lambda: len(_boxes()) == 1)
        box = _boxes()[0]
        said.append(box.text())
        box.accept()
    assert said == [
        "The backup failed: the disk holding it is full.",
        "Ada Lovelace's check found 2 problems.",
        "“Back up the library” was closed when the window locked, so nothing was done; "
        "choose it again if it is still needed.",
    ]
    qtbot.waitUntil(lambda: _boxes() == [])
    for dialog in (result, saving):
        dialog.deleteLater()
