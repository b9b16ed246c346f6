"""A library the window may only read: one bar that says why, every edit switched off, the
other copy's changes shown as they are made (or on Refresh), and an offer to open it for
changes once the copy that held it has let it go."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from tracker.core.db.engine import DB_NAME
from tracker.core.errors import TrackerError
from tracker.core.store.library import Library
from tracker.core.store.lock import in_use
from tracker.ui.main.controller import Window, WindowController
from tracker.ui.panels.visit_panel import PHOTO_HINT, PHOTO_HINT_READ_ONLY

POLL_MS = 2000  # how often the files are looked at: a stat and a lock probe, nothing read
# The menu commands that change the library (reading ones, backup and check, stay).
EDITS = (
    "import_photos",
    "new_visit",
    "remove_visit",
    "erase_visit",
    "add_client",
    "edit_client",
    "remove_client",
    "erase_client",
    "add_area",
    "edit_area",
    "remove_area",
    "erase_area",
)
BAR_STYLE = (
    "#read-only-bar { background: #fbeec1; border-bottom: 1px solid #d9b44a; }"
    "#read-only-bar QLabel { color: #4a3600; }"
)


def _signature(root: Path) -> tuple[int, ...]:
    """What changes when another program commits to the library: its database files' sizes
    and times (a stat each, no reading)."""
    out: list[int] = []
    for name in (DB_NAME, f"{DB_NAME}-wal"):
        try:
            st = os.stat(root / name)
            out += [st.st_size, st.st_mtime_ns]
        except OSError:
            out += [-1, -1]
    return tuple(out)


def can_write(root: Path) -> bool:
    """Whether the library at ``root`` could be opened for changes now: nobody holds it and
    its folder and database may be written."""
    db = root / DB_NAME
    return (
        not in_use(root)
        and os.access(root, os.W_OK | os.X_OK)
        and (not db.exists() or os.access(db, os.W_OK))
    )


class ReadOnlyBar(QToolBar):
    """The bar under the toolbar: the reason, Refresh, and Open for changes when possible."""

    refresh_requested = Signal()
    writable_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Read-only", parent)
        self.setObjectName("read-only-toolbar")
        self.setMovable(False)
        self.setFloatable(False)
        box = QWidget(self)
        box.setObjectName("read-only-bar")
        box.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        box.setStyleSheet(BAR_STYLE)
        row = QHBoxLayout(box)
        row.setContentsMargins(10, 4, 10, 4)
        self.text = QLabel(box)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # it names folders
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Why nothing can be changed")
        self.refresh = QPushButton("Refresh", box)
        self.refresh.setToolTip("Show what the other copy has changed (F5)")
        self.writable = QPushButton("Open for changes", box)
        self.writable.setToolTip("The other copy has let the library go: edit it here")
        row.addWidget(self.text, 1)
        row.addWidget(self.refresh)
        row.addWidget(self.writable)
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(box)
        self.refresh.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))  # while shown
        self.refresh.clicked.connect(self.refresh_requested)
        self.writable.clicked.connect(self.writable_requested)


class ReadOnlyController(WindowController):
    """Keeps the window read-only while its library is, and watches for the way out."""

    open_requested = Signal(Path)  # the library, to be opened again for changes

    def __init__(self, window: Window) -> None:
        super().__init__(window)
        main = window.as_widget()
        assert isinstance(main, QMainWindow)
        self.bar = ReadOnlyBar(main)
        main.addToolBarBreak()
        main.addToolBar(self.bar)
        self.bar.hide()
        self.lib: Library | None = None
        self.free = False
        self._applied = False
        self._seen: tuple[int, ...] = ()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.bar.refresh_requested.connect(self._on_bar_refresh_requested)
        self.bar.writable_requested.connect(self._on_bar_writable_requested)

    def _connect_signals(self) -> None:
        pass  # the bar is made after the base's __init__, and connected there

    @property
    def active(self) -> bool:
        return self.lib is not None and self.lib.read_only is not None

    def set_library(self, lib: Library | None) -> None:
        self.lib = lib
        self.free = False
        if self.active and lib is not None and lib.server is None:
            self._seen = _signature(lib.root)
            self._timer.start()  # a server library's changes come from ``live`` instead
        else:
            self._timer.stop()
        self._say()
        self.bar.setVisible(self.active)
        self.apply()

    def apply(self) -> None:
        """Switch every edit off (read-only) or leave them to the window (not): after each
        reload, since the window enables its commands by what is shown."""
        w, editable = self.window, not self.active
        if editable:
            if self._applied:
                self._set_widgets(True)
                self._applied = False
            return
        for name in EDITS:
            getattr(w.menus, name).setEnabled(False)
        self._set_widgets(False)
        self._applied = True

    def _set_widgets(self, editable: bool) -> None:
        w = self.window
        panel = w.panel
        for widget in (panel.date, panel.kind, panel.treatment, panel.ratings):
            widget.setEnabled(editable)
        panel.notes.setReadOnly(not editable)  # still selectable and scrolled
        w.progress_view.interval.setEnabled(editable)
        grid = panel.grid
        for action in (grid.rename_action, grid.move_action, grid.remove_action, grid.erase_action):
            action.setEnabled(editable)
        grid.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
            if editable
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )
        # The hint under the grid offers only what can be done here.
        panel.photo_hint.setText(PHOTO_HINT if editable else PHOTO_HINT_READ_ONLY)
        grid.setDragEnabled(editable)
        grid.viewport().setAcceptDrops(editable)

    def _say(self) -> None:
        lib = self.lib
        if lib is None or lib.read_only is None:
            return
        if self.free:
            self.bar.text.setText(
                f"Read-only, but no other copy holds {lib.root} any more: open it for changes "
                "to edit it here."
            )
        else:
            self.bar.text.setText(
                f"Read-only: nothing here can be changed. {lib.read_only} What it changes "
                "shows here as it is saved."
            )
        self.bar.writable.setVisible(self.free)

    def check(self) -> None:
        """Look at the files once: reload what another copy saved, notice a freed lock."""
        lib = self.lib
        if not self.active or lib is None or lib.server is not None:
            return
        seen = _signature(lib.root)
        if seen != self._seen:
            self._seen = seen
            self._reload("Showing the changes the other copy saved.")
        free = can_write(lib.root)
        if free != self.free:
            self.free = free
            self._say()

    def _reload(self, note: str) -> None:
        with contextlib.suppress(TrackerError):  # busy for a moment: the next look has it
            self.window.refresh()
        self.window.statusBar().showMessage(note, 8000)

    def _on_timer_timeout(self) -> None:
        self.check()

    def _on_bar_refresh_requested(self) -> None:
        if self.lib is not None and self.lib.server is None:
            self._seen = _signature(self.lib.root)
        self._reload("Refreshed from the library.")
        self.check()

    def _on_bar_writable_requested(self) -> None:
        if self.lib is not None and self.lib.server is None:
            self.open_requested.emit(self.lib.root)
