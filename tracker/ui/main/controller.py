"""The base of the main window's controllers, and the face of the window they see.

A controller holds the window as a ``Window``: the state it reads (library, current client,
area and visit), the panels and actions it connects, and ``run`` to make an edit undoable.
``Window`` is a Protocol, so the controllers do not import the window that composes them
(the module graph stays free of cycles), and mypy checks that ``MainWindow`` is one.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStatusBar, QWidget

from tracker.core.store.library import Library
from tracker.ui.history import Command, History
from tracker.ui.main.import_flow import ImportController
from tracker.ui.main.menus import MenuActions
from tracker.ui.models import (
    AreaListModel,
    ClientListModel,
    PhotoGridModel,
    ThumbnailCache,
    TimelineModel,
)
from tracker.ui.panels.progress_view import ProgressView
from tracker.ui.panels.sidebar import Sidebar
from tracker.ui.panels.timeline import TimelineView
from tracker.ui.panels.visit_panel import VisitPanel
from tracker.ui.panels.welcome import WelcomePage
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner


class Window(Protocol):
    lib: Library | None
    client_id: int | None
    area_id: int | None
    visit_id: int | None
    prefs: Preferences
    runner: TaskRunner
    history: History
    menus: MenuActions
    sidebar: Sidebar
    panel: VisitPanel
    progress_view: ProgressView
    timeline: TimelineModel
    timeline_view: TimelineView
    areas: AreaListModel
    clients: ClientListModel
    photos: PhotoGridModel
    thumbs: ThumbnailCache
    importer: ImportController
    welcome: WelcomePage

    def run(self, command: Command) -> bool: ...

    def refresh(self) -> bool: ...

    def show_error(self, message: str) -> None: ...

    def show_info(self, message: str) -> None: ...

    def statusBar(self) -> QStatusBar: ...

    def as_widget(self) -> QWidget:
        """The window itself, as the parent of dialogs."""
        ...


class WindowController(QObject):
    def __init__(self, window: Window) -> None:
        super().__init__(window.as_widget())
        self.window = window
        self._connect_signals()

    def _connect_signals(self) -> None:
        raise NotImplementedError
