"""The main window's actions, menus and toolbar (layout only: each controller connects the
actions it answers)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QToolBar

from tracker.ui.history import History
from tracker.ui.icons import icon

K = QKeySequence.StandardKey


class MenuActions(QObject):
    """Every command of the main window, once, for its menus, toolbar and shortcuts."""

    def __init__(self, window: QMainWindow, history: History) -> None:
        super().__init__(window)
        self.open = self._make("&Open library…", K.Open, "open")
        self.sample = self._make("Open &sample library…", None, "sample")
        self.connect_clinic = self._make("Connect to a c&linic library…")
        self.import_photos = self._make("&Import photos…", "Ctrl+I", "import")
        self.preferences = self._make("&Preferences…", K.Preferences, "settings")
        self.quit = self._make("&Quit", K.Quit)
        self.undo, self.redo = history.actions(self)
        self.undo.setIcon(icon("undo"))
        self.redo.setIcon(icon("redo"))
        self.new_visit = self._make("&New visit…", K.New, "new-visit")
        self.previous_visit = self._make("&Previous visit", "Alt+Up", "previous")
        self.next_visit = self._make("Ne&xt visit", "Alt+Down", "next")
        self.remove_visit = self._make("&Remove visit…", None, "remove")
        self.erase_visit = self._make("&Erase visit for good…")
        self.compare_baseline = self._make("Compare with &baseline", "Ctrl+B", "compare")
        self.compare = self._make("&Compare photos…", "Ctrl+K")
        self.find_client = self._make("&Find client", K.Find)
        self.add_client = self._make("&Add client…", None, "client-add")
        self.edit_client = self._make("Client &details…")
        self.remove_client = self._make("&Remove client")
        self.erase_client = self._make("&Erase client for good…")
        self.add_area = self._make("&New area…", None, "area-add")
        self.edit_area = self._make("Area &details…")
        self.remove_area = self._make("&Remove area")
        self.erase_area = self._make("&Erase area for good…")
        self.check = self._make("&Check the library…")
        self.backup = self._make("&Back up…")
        self.restore = self._make("&Restore from a backup…")
        # On for a plain library that can be changed (``encrypting.offer`` says why not).
        self.encrypt = self._make("&Encrypt this library…")
        self.encrypt.setEnabled(False)
        self.consent = self._make("C&onsent of the client…")
        self.audit = self._make("&Audit trail…")
        self.lock = self._make("&Lock", "Ctrl+L")  # hides everything until the passphrase
        self.print_card = self._make("&Print a calibration card…")
        self.help = self._make("&Help topics", K.HelpContents)
        self.photo_help = self._make("How to take photos that compare &well")
        self.about = self._make("&About")
        # Offered only while a library is open.
        self.need_library = [
            self.import_photos,
            self.new_visit,
            self.previous_visit,
            self.next_visit,
            self.remove_visit,
            self.erase_visit,
            self.add_area,
            self.remove_area,
            self.erase_area,
            self.remove_client,
            self.erase_client,
            self.edit_area,
            self.add_client,
            self.edit_client,
            self.find_client,
            self.compare_baseline,
            self.compare,
            self.check,
            self.backup,
            self.consent,
            self.audit,
            self.lock,
        ]
        for action in self.need_library:  # none yet: a passphrase may be asked first
            action.setEnabled(False)
        self.client_menu = self._build_menus(window)
        self._build_toolbar(window)

    def _make(self, text: str, shortcut: object = None, icon_name: str = "") -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))  # type: ignore[call-overload]
        return action

    def _build_menus(self, window: QMainWindow) -> QAction:
        """The menu bar; returns the Client menu's action (hidden in patient mode)."""
        bar = window.menuBar()
        client_menu = None
        for title, actions in (
            (
                "&File",
                [
                    *(self.open, self.connect_clinic, self.sample, None, self.import_photos),
                    *(None, self.preferences, None, self.quit),
                ],
            ),
            ("&Edit", [self.undo, self.redo]),
            ("Co&mpare", [self.compare_baseline, self.compare]),
            (
                "V&isit",
                [
                    *(self.new_visit, self.previous_visit, self.next_visit, None),
                    *(self.remove_visit, self.erase_visit),
                ],
            ),
            (
                "&Client",
                [
                    *(self.find_client, self.add_client, self.edit_client, None),
                    *(self.remove_client, self.erase_client),
                ],
            ),
            ("A&rea", [self.add_area, self.edit_area, None, self.remove_area, self.erase_area]),
            (
                "&Library",
                [
                    *(self.check, None, self.backup, self.restore, None, self.encrypt),
                    *(None, self.consent, self.audit, None, self.lock),
                ],
            ),
            ("&Help", [self.help, self.photo_help, None, self.print_card, None, self.about]),
        ):
            menu = bar.addMenu(title)
            menu.setToolTipsVisible(True)  # a command switched off says why
            for action in actions:
                menu.addSeparator() if action is None else menu.addAction(action)
            if title == "&Client":
                client_menu = menu.menuAction()
        assert client_menu is not None
        return client_menu

    def _build_toolbar(self, window: QMainWindow) -> None:
        tools = QToolBar("Main", window)
        tools.setObjectName("main-toolbar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setIconSize(QSize(20, 20))
        for action in (
            self.import_photos,
            self.new_visit,
            None,
            self.previous_visit,
            self.next_visit,
            None,
            self.compare_baseline,
            None,
            self.undo,
            self.redo,
        ):
            tools.addSeparator() if action is None else tools.addAction(action)
        window.addToolBar(tools)
