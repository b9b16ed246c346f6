"""Help and About: one help window a main window (F1, the Help menu, the welcome page, the
import summary), its keys topic made from the actual commands of the main and the compare
window, and the About dialog with the library open now."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from tracker.core.queries.rows import ComparePhoto
from tracker.core.store.library import Library
from tracker.ui.about import AboutDialog
from tracker.ui.compare.layout import CompareLayout
from tracker.ui.compare.marks_overlay import MeasureTools
from tracker.ui.help_window import PHOTO_HELP_ACTION, HelpWindow, KeySection, command_name
from tracker.ui.history import History
from tracker.ui.main.controller import Window, WindowController
from tracker.ui.settings import fit_on_screen
from tracker.ui.workers import TaskRunner


def menu_commands(window: QMainWindow) -> list[tuple[str, QAction]]:
    """Every command of the window's menus, named by where it is ("File ▸ Open library"),
    then those with keys that are on no menu (the compare window has none)."""
    found: list[tuple[str, QAction]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path}{command_name(action)} ▸ ")
            elif not action.isSeparator():
                found.append((f"{path}{command_name(action)}", action))

    hidden: list[tuple[str, QAction]] = []
    for top in window.menuBar().actions():
        sub = top.menu()
        if isinstance(sub, QMenu):
            shown = len(found)
            walk(sub, f"{command_name(top)} ▸ ")
            if not top.isVisible():  # the Client menu in patient mode: not in use
                hidden += found[shown:]
                del found[shown:]
    listed = {id(action) for _name, action in found + hidden}
    found += [
        (command_name(a), a)
        for a in window.findChildren(QAction)
        if id(a) not in listed and not a.shortcut().isEmpty()
    ]
    return found


def key_sections(window: QMainWindow, lib: Library | None, runner: TaskRunner) -> list[KeySection]:
    """The main window's keys and the compare window's, read from their actions. The compare
    window's are read from its layout made for the purpose, with its measures' tools, and
    thrown away, so that they are listed even when none is open (without a library, from the
    layout alone: the measures' tools need one)."""
    compare = CompareLayout(History()) if lib is None else _CompareKeys(lib, runner)
    try:
        sections: list[KeySection] = [
            ("Main window", menu_commands(window)),
            ("Compare window", menu_commands(compare)),
        ]
    finally:
        compare.deleteLater()
    return sections


class _CompareKeys(CompareLayout):
    """A compare window's layout and measures' tools, with no photos and nothing loading."""

    loaded = Signal()

    def __init__(self, lib: Library, runner: TaskRunner) -> None:
        super().__init__(History())
        self.lib, self.runner = lib, runner
        self.photos: list[ComparePhoto] = []
        MeasureTools(self, self)  # its actions are children of this window, and stay


class HelpController(WindowController):
    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.help_window: HelpWindow | None = None

    def _connect_signals(self) -> None:
        m = self.window.menus
        m.help.triggered.connect(lambda: self.show())
        # The import summary finds this action by its name (it cannot import this module).
        m.photo_help.setObjectName(PHOTO_HELP_ACTION)
        m.photo_help.triggered.connect(lambda: self.show("photos"))
        m.about.triggered.connect(self._on_about)
        self.window.welcome.help_requested.connect(self.show)

    def show(self, topic: str | None = None) -> HelpWindow:
        """Show the help window (made on first use, kept while the main window lives) at
        ``topic``, or where it was."""
        w = self.window
        library = w.lib.root if w.lib is not None and w.lib.server is None else None
        main = w.as_widget()
        if self.help_window is None:
            assert isinstance(main, QMainWindow)
            self.help_window = HelpWindow(key_sections(main, w.lib, w.runner), library, main)
            fit_on_screen(self.help_window)  # at 1024×700 its 620 rows went below the screen
        else:
            self.help_window.set_library(library)
        if topic is not None:
            self.help_window.show_topic(topic)
        self.help_window.show()
        self.help_window.raise_()
        self.help_window.activateWindow()
        return self.help_window

    def _on_about(self) -> None:
        w = self.window
        lib = w.lib
        AboutDialog.ask(lib.root if lib is not None and lib.server is None else None, w.as_widget())
