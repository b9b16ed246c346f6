"""Locking the window: Library ▸ Lock (Ctrl+L), or after some minutes without mouse or key
input (Preferences; 5 by default, for an encrypted library).

Locked, the window's content gives way to a calm page with no name, photo or thumbnail on it;
every other window of the app (the compare windows, help) is hidden, and a dialog that was
open is closed as if cancelled; the menus, the toolbar and every shortcut do nothing. What such
a dialog said is kept and said after unlocking: a message (an error a background job ended
with, say) again as it was, a question or a file dialog as a sentence saying it was closed.
A window that opens while locked is blank, under a title naming nothing, from the moment it is
shown (before the window system maps it) until it is hidden or closed at the next turn of the
event loop. The page
asks for the library's passphrase (or its recovery key), checked on the thread pool against
the open library's key file; a wrong one says so and the window stays locked. Unlocked, the
page and the windows come back as they were. Nothing decrypted is written anywhere for this:
the library stays open, and background jobs keep running.

A plain library can be locked too, but that only covers the screen: its files are readable by
anyone who can open the folder, so it unlocks with a button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.core.store.library import Library
from tracker.ui.main.kept import Kept, kept_from
from tracker.ui.secret import EMPTY, SecretField
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys

# What counts as the person being there: any of these events restarts the idle clock.
INPUT = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.KeyPress,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
MINUTE_MS = 60_000


class LockedPage(QWidget):
    """What the window shows while locked: a sentence, and the way back in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<h2>The library is locked</h2>", self)
        self.intro = QLabel("", self)
        self.intro.setWordWrap(True)
        self.field = SecretField(self)  # the same as the prompt that opens a library
        self.secret, self.use_recovery = self.field.line, self.field.use_recovery
        self.problem = QLabel("", self)
        self.problem.setAccessibleName("Why the library stays locked")
        self.unlock = QPushButton("&Unlock", self)
        self.unlock.setDefault(True)
        box = QWidget(self)
        box.setMaximumWidth(460)
        inner = QVBoxLayout(box)
        for widget in (self.title, self.intro, self.field, self.problem, self.unlock):
            inner.addWidget(widget)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignCenter)
        outer.addStretch(2)

    def ready(self, encrypted: bool) -> None:
        """Cleared, and asking what ``encrypted`` library needs to unlock."""
        self.field.reset()
        self.field.setVisible(encrypted)
        self.intro.setText(
            "Type the library's passphrase to show it again."
            if encrypted
            else "This library is not encrypted: locking only covers the screen; its files "
            "can be read by anyone who can open its folder."
        )
        self.say("")
        self.busy(False)
        (self.field if encrypted else self.unlock).setFocus()

    def busy(self, busy: bool) -> None:
        for widget in (self.field, self.unlock):
            widget.setEnabled(not busy)
        if busy:
            self.say("Unlocking…")

    def say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))


class LockController(QObject):
    """Locks ``window`` on ``action`` or when idle, and unlocks it with the passphrase."""

    def __init__(
        self,
        window: QMainWindow,
        stack: QStackedWidget,
        action: QAction,
        prefs: Preferences,
        runner: TaskRunner,
        library: Callable[[], Library | None],
    ) -> None:
        super().__init__(window)
        self.window, self.stack, self.prefs, self.runner = window, stack, prefs, runner
        self._library = library
        self.locked = False
        self._back_to: QWidget | None = None  # the page shown before locking
        self._title = ""
        self._hidden: list[QWidget] = []  # the other windows, shown again on unlocking
        self.kept: list[Kept] = []  # what the dialogs closed by locking said, to say again
        self._bars: list[QToolBar] = []  # the toolbars hidden while locked
        self.page = LockedPage(stack)
        stack.addWidget(self.page)
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.timeout.connect(self._on_idle)
        action.triggered.connect(self.lock)
        self.page.unlock.clicked.connect(self._on_unlock_clicked)
        self.page.secret.returnPressed.connect(self._on_unlock_clicked)
        stack.currentChanged.connect(self._on_stack_current_changed)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        self.restart()

    # -- when ------------------------------------------------------------------------------

    def restart(self) -> None:
        """Start the idle clock again, from the preference (0 minutes: never)."""
        minutes = self.prefs.lock_minutes
        if minutes and not self.locked:
            self.idle.start(self.prefs.lock_interval_ms or minutes * MINUTE_MS)
        else:
            self.idle.stop()

    def _on_idle(self) -> None:
        lib = self._library()
        if lib is not None and (lib.keys is not None or self.prefs.lock_plain):
            self.lock()
        else:
            self.restart()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in INPUT and self.idle.isActive():
            self.idle.start()  # same interval: the person is there
        if not self.locked:
            return False
        if kind in (QEvent.Type.Shortcut, QEvent.Type.ShortcutOverride):
            # No key acts on the hidden content, however the actions stand.
            return not (isinstance(watched, QWidget) and self.page.isAncestorOf(watched))
        if kind == QEvent.Type.Show and isinstance(watched, QWidget) and self._other(watched):
            if watched.windowType() not in _TRANSIENT:
                _cover(watched)  # blank for the moment it is on the screen
            QTimer.singleShot(0, self._hide_others)  # a window opened by a job, meanwhile
        return False

    # -- locking ---------------------------------------------------------------------------

    def lock(self) -> None:
        if self.locked or self._library() is None:
            return
        self.locked = True
        self.idle.stop()
        self._back_to = self.stack.currentWidget()
        self._title = self.window.windowTitle()
        self.page.ready(encrypted=self._keys_needed())
        self.stack.setCurrentWidget(self.page)
        self.window.setWindowTitle(f"{APP_NAME} — locked")
        self.window.statusBar().clearMessage()
        self._set_chrome_enabled(False)
        self._hide_others()

    def _keys_needed(self) -> bool:
        lib = self._library()
        return lib is not None and lib.keys is not None

    def _other(self, widget: QWidget) -> bool:
        return widget.isWindow() and widget is not self.window and widget.isVisible()

    def _hide_others(self) -> None:
        if not self.locked:
            return
        for widget in QApplication.topLevelWidgets():
            if not self._other(widget) or widget.windowType() in _TRANSIENT:
                continue
            if isinstance(widget, QDialog) and widget.isModal():
                said = kept_from(widget, widget.property(_TITLE))
                if said not in self.kept:
                    self.kept.append(said)
                widget.reject()  # a question left open: as if cancelled
            else:
                widget.hide()
                self._hidden.append(widget)
            _uncover(widget)

    def _set_chrome_enabled(self, on: bool) -> None:
        """The menus off, and the toolbars hidden: Undo's text names what it undoes."""
        self.window.menuBar().setEnabled(on)
        if not on:
            self._bars = [b for b in self.window.findChildren(QToolBar) if b.isVisible()]
        for bar in self._bars:
            bar.setVisible(on)

    def _on_stack_current_changed(self, _index: int) -> None:
        # A refresh after a background job picks its page: kept for later, the lock stays.
        if self.locked and self.stack.currentWidget() is not self.page:
            self._back_to = self.stack.currentWidget()
            self.stack.setCurrentWidget(self.page)

    # -- unlocking -------------------------------------------------------------------------

    def _on_unlock_clicked(self) -> None:
        lib = self._library()
        if not self.locked:
            return
        if lib is None or lib.keys is None:
            self.unlock()
            return
        how = self.page.field.how()
        if how is None:
            self.page.say(EMPTY)
            return
        self.page.busy(True)
        library_id = lib.keys.library_id
        if lib.server is not None:  # a clinic library: its key document is in the database
            # start-up time: cryptography is loaded for an encrypted library only
            from tracker.core.services import clinic_keys

            engine, where = lib.engine, lib.server

            def keys(_task: object) -> Keys:  # an unlock, or a wrong one, in the audit trail
                return clinic_keys.unlock_again(
                    engine,
                    where,
                    passphrase=how.get("passphrase"),
                    recovery_key=how.get("recovery_key"),
                )
        else:
            # start-up time: as above
            from tracker.core.store import encrypted

            root = lib.root

            def keys(_task: object) -> Keys:
                return encrypted.unlock(root, **how)

        self.runner.start(
            lambda task: keys(task).library_id == library_id,
            finished=self._on_checked,
            failed=self._on_check_failed,
        )

    def _on_checked(self, same: bool) -> None:
        if same:
            self.unlock()
        else:
            self._on_check_failed("That key belongs to another library; it stays locked.")

    def _on_check_failed(self, message: str) -> None:
        self.page.busy(False)
        self.page.field.retry()
        self.page.say(message)

    def unlock(self) -> None:
        if not self.locked:
            return
        self.locked = False
        self.page.secret.clear()
        self._set_chrome_enabled(True)
        back = self._back_to
        if back is not None and shiboken6.isValid(back):
            self.stack.setCurrentWidget(back)
        self.window.setWindowTitle(self._title)
        for widget in self._hidden:
            if shiboken6.isValid(widget):
                widget.show()
        self._hidden = []
        self.restart()
        self._say_kept()

    def _say_kept(self) -> None:
        """The next message kept while locked, in a box of its own; the rest after it."""
        if self.locked or not self.kept:
            return
        box = self.kept.pop(0).box(self.window)
        box.finished.connect(self._say_kept)
        box.open()


_COVER, _TITLE = "lock-cover", "lock_title"


def _cover(widget: QWidget) -> None:
    """Nothing of ``widget`` (a window opened while locked) shows for the moment it is on the
    screen before it is hidden or closed: a blank child over all of it, and a title that
    names nothing. (Not ``WA_DontShowOnScreen``: a modal dialog shown so leaves the
    application's list of modal windows holding a window that is gone.)"""
    if widget.findChild(QWidget, _COVER, Qt.FindChildOption.FindDirectChildrenOnly) is not None:
        return
    cover = QWidget(widget)
    cover.setObjectName(_COVER)
    cover.setAutoFillBackground(True)
    cover.setGeometry(0, 0, 16384, 16384)  # whatever size the window takes
    cover.show()
    cover.raise_()
    widget.setProperty(_TITLE, widget.windowTitle())
    widget.setWindowTitle(f"{APP_NAME} — locked")


def _uncover(widget: QWidget) -> None:
    cover = widget.findChild(QWidget, _COVER, Qt.FindChildOption.FindDirectChildrenOnly)
    if cover is None:
        return
    cover.setObjectName("")
    cover.hide()
    cover.deleteLater()
    widget.setWindowTitle(str(widget.property(_TITLE)))
    widget.setProperty(_TITLE, None)


_TRANSIENT = frozenset(
    {
        Qt.WindowType.Popup,
        Qt.WindowType.ToolTip,
        Qt.WindowType.SplashScreen,
    }
)
