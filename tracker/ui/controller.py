"""The base of the main window's controllers: each holds the window, whose state (library,
current client, area and visit) it reads and whose ``run`` it edits through, and connects the
actions and signals it answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from tracker.ui.main_window import MainWindow


class WindowController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._connect_signals()

    def _connect_signals(self) -> None:
        raise NotImplementedError
