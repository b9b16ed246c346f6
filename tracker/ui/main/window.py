"""The main window: composes the sidebar, the timeline and the visit panel, and its actions.

State is three ids (client, area, visit). Every edit goes through the history (``commands``)
as a command that calls the core's services; after each step the views that show what it
changed are reloaded from the core's queries, and nothing else.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.core.db.models import RaterRole
from tracker.core.domain.consent import Action
from tracker.core.domain.instruments import Rater
from tracker.core.errors import LibraryError, TrackerError
from tracker.core.queries import browse, client_data, search
from tracker.core.queries.progress import progress
from tracker.core.services import audit
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui.history import Change, Command, History
from tracker.ui.main.card import CardController
from tracker.ui.main.care import LibraryCare
from tracker.ui.main.clients import ClientController
from tracker.ui.main.comparing import CompareController
from tracker.ui.main.connect import title_of
from tracker.ui.main.erasing import EraseController
from tracker.ui.main.exports import ExportController
from tracker.ui.main.help import HelpController
from tracker.ui.main.import_flow import ImportController
from tracker.ui.main.imports import ImportActions
from tracker.ui.main.live import LiveChanges, typing_in
from tracker.ui.main.locking import LockController
from tracker.ui.main.measuring import MeasureController
from tracker.ui.main.menus import MenuActions
from tracker.ui.main.privacy import PrivacyController
from tracker.ui.main.read_only import ReadOnlyController
from tracker.ui.main.visits import VisitController
from tracker.ui.models import (
    AreaListModel,
    ClientListModel,
    IdRole,
    PhotoGridModel,
    ThumbnailCache,
    TimelineModel,
)
from tracker.ui.panels.progress_view import ProgressView
from tracker.ui.panels.sidebar import Sidebar
from tracker.ui.panels.timeline import TimelineView
from tracker.ui.panels.visit_panel import VisitPanel
from tracker.ui.panels.welcome import WelcomePage
from tracker.ui.preferences_dialog import PreferencesDialog
from tracker.ui.settings import Mode, Preferences, fit_on_screen
from tracker.ui.workers import TaskRunner

log = logging.getLogger(__name__)
IDLE_MS = 3000  # after this long without a change, the write-ahead log goes into the database


class MainWindow(QMainWindow):
    library_requested = Signal(Path)  # open another library
    sample_requested = Signal()

    def __init__(self, prefs: Preferences, runner: TaskRunner) -> None:
        super().__init__()
        self.prefs = prefs
        self.runner = runner
        self.lib: Library | None = None
        self.client_id: int | None = None
        self.area_id: int | None = None
        self.visit_id: int | None = None
        self.history = History(self)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(self._on_idle)
        self.thumbs = ThumbnailCache(runner, self)
        self.clients = ClientListModel(self)
        self.areas = AreaListModel(self)
        self.timeline = TimelineModel(self.thumbs, self)
        self.photos = PhotoGridModel(self.thumbs, self)
        self.importer = ImportController(self, runner, self.show_error)
        self.care = LibraryCare(self, runner, self.show_error, self.show_info, prefs)

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        # The first size, kept inside the screen with room for the window's frame, so that the
        # status bar (where results are said) shows on a 1280×800 or a 1024×700 screen too;
        # never narrower than 1024, below which the panes do not fit side by side anyway.
        screen = self.screen().availableGeometry()
        self.resize(max(1024, min(1280, screen.width())), min(800, screen.height() - 60))
        self.stack = QStackedWidget(self)
        self.welcome = WelcomePage(self.stack)
        self.sidebar = Sidebar(self.clients, self.areas)
        self.timeline_view = TimelineView(self.timeline)
        timeline_box = QWidget()
        tl = QVBoxLayout(timeline_box)
        tl.setContentsMargins(6, 6, 6, 6)
        tl.addWidget(QLabel("<b>Visits</b>"))
        tl.addWidget(self.timeline_view)
        self.panel = VisitPanel(self.photos)
        self.progress_view = ProgressView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.panel, "&Visit")
        self.tabs.addTab(self.progress_view, "&Progress")
        self.tabs.setAccessibleName("Visit or progress")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(timeline_box)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([210, 330, 740])
        self.splitter.setChildrenCollapsible(False)
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.splitter)
        self.setCentralWidget(self.stack)
        self.menus = MenuActions(self, self.history)
        # The behaviour behind the menus and panels, each part in its own controller.
        self.visits = VisitController(self)
        self.client_edits = ClientController(self)
        self.compare = CompareController(self)
        self.exports = ExportController(self)
        self.privacy = PrivacyController(self)  # Library ▸ Consent… and Audit trail…
        self.card = CardController(self)
        self.imports = ImportActions(self, self.client_edits.ask_for_area)
        self.erasing = EraseController(self)
        self.read_only = ReadOnlyController(self)
        self.measuring = MeasureController(self)  # measures in the background, and shown
        self.help = HelpController(self)  # F1, Help menu, About, welcome page, import summary
        self.locking = LockController(self, self.stack, self.menus.lock, prefs, runner, self._lib)
        # A library in a database: what other workstations save, shown within a second.
        self.live = LiveChanges(self.refresh, lambda: typing_in(self.panel), self._status, self)
        self._connect_signals()
        self.setTabOrder(self.sidebar.search, self.sidebar.client_list)
        self.setTabOrder(self.sidebar.client_list, self.sidebar.area_list)
        self.setTabOrder(self.sidebar.area_list, self.timeline_view)
        self.setTabOrder(self.timeline_view, self.panel.date)
        self._restore_layout()
        self.prefs.remember("progress/axis", self.progress_view.axis)  # by date or by session
        self.prefs.remember("main/tab", self.tabs)
        self._apply_mode()

    # -- building ----------------------------------------------------------------------------

    def _connect_signals(self) -> None:
        m = self.menus
        m.open.triggered.connect(self._on_open_library)
        m.sample.triggered.connect(self.sample_requested)
        m.preferences.triggered.connect(self._on_preferences)
        m.quit.triggered.connect(self.close)
        m.check.triggered.connect(self.care.check)
        m.backup.triggered.connect(self.care.backup)
        m.restore.triggered.connect(self.care.restore)
        self.history.changed.connect(self._on_history_changed)
        self.history.changed.connect(self._on_any_change)
        self.history.noted.connect(self._on_history_noted)
        self.history.failed.connect(self.show_error)
        self.thumbs.ready.connect(self._on_thumbs_ready)
        self.welcome.start_requested.connect(self._on_start_tracking)
        self.welcome.sample_requested.connect(self.sample_requested)
        self.welcome.open_requested.connect(self._on_open_library)
        self.sidebar.client_chosen.connect(self._on_sidebar_client_chosen)
        self.sidebar.area_chosen.connect(self._on_sidebar_area_chosen)
        self.sidebar.search_changed.connect(self._on_sidebar_search_changed)
        self.timeline_view.selectionModel().currentChanged.connect(
            self._on_timeline_current_changed
        )
        self.care.restored.connect(lambda folder: self.library_requested.emit(Path(folder)))
        self.read_only.open_requested.connect(self.library_requested)
        self.care.repaired.connect(self._on_care_repaired)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.progress_view.interval_changed.connect(self._on_progress_interval_changed)

    # -- the library -------------------------------------------------------------------------

    def set_library(self, lib: Library | None) -> None:
        """Show ``lib`` (the caller owns opening and closing it)."""
        self.privacy.settle()  # the audit's entries of the library shown, written
        self.compare.close_all()
        self.imports.stop_background()
        self.history.clear()
        self.lib = lib
        self.thumbs.set_library(lib)
        self.care.lib = lib
        self.measuring.set_library(lib)
        self.client_id = self.area_id = self.visit_id = None
        self.live.set_library(lib)
        where = lib and (title_of(lib.server) if lib.server else lib.root)
        title = f"{APP_NAME} — {where}" if lib else APP_NAME
        self.setWindowTitle(title + (" (read-only)" if lib and lib.read_only else ""))
        for action in self.menus.need_library:
            action.setEnabled(lib is not None)
        self.read_only.set_library(lib)  # one bar saying why, and every edit off
        if lib is not None:
            audit.record(lib, Action.OPENED)
        self.refresh()

    def refresh(self) -> bool:
        """Re-read everything shown, keeping the choices. A lost link to a library's server is
        said in the status bar, and what was shown stays until the next reload (False)."""
        try:
            self._reload()
        except LibraryError as exc:
            if self.lib is None or self.lib.server is None:
                raise
            self.statusBar().showMessage(str(exc), 15000)
            return False
        return True

    def _reload(self) -> None:
        lib = self.lib
        if lib is None:
            self.stack.setCurrentWidget(self.welcome)
            return
        practitioner = self.prefs.mode is Mode.PRACTITIONER
        # All of it read together: one round trip to a clinic's server (``client_data``).
        view = client_data.shown(lib, self.client_id, self.area_id, self.visit_id)
        all_clients = view.clients
        needle = self.sidebar.search.text() if practitioner else ""
        shown = search.matching(all_clients, needle)  # by name (any case, accents) or birth
        self.clients.set_rows(shown)
        self.client_id = view.client_id
        if practitioner:
            self.sidebar.select_client(self.client_id)
        current = next((c for c in all_clients if c.id == self.client_id), None)
        empty_library = len(all_clients) <= 1 and (
            current is None or not (current.areas or current.visits)
        )
        self.stack.setCurrentWidget(
            self.welcome if empty_library and not practitioner else self.splitter
        )
        name = current.name if current is not None and practitioner else ""
        self.sidebar.areas_title.setText(f"<b>Treated areas{' of ' + name if name else ''}</b>")
        self._refresh_areas(view)

    def _view(self) -> client_data.Shown:
        """What the window shows for its choices, read in one go (``client_data.shown``)."""
        if self.lib is None or self.client_id is None:
            return client_data.Shown([])
        return client_data.shown(self.lib, self.client_id, self.area_id, self.visit_id)

    def _refresh_areas(self, view: client_data.Shown | None = None) -> None:
        view = view or self._view()
        areas = view.areas
        self.areas.set_rows(areas)
        if self.area_id not in {a.id for a in areas}:
            self.area_id = areas[0].id if areas else None
        self.sidebar.select_area(self.area_id)
        self._refresh_timeline(view)

    def _refresh_timeline(self, view: client_data.Shown | None = None) -> None:
        view = view or self._view()
        rows = view.timeline
        self.timeline.set_rows(rows)
        if self.visit_id not in {r.id for r in rows}:
            self.visit_id = rows[-1].id if rows else None
        row = self.timeline.row_of_id(self.visit_id) if self.visit_id is not None else -1
        if row >= 0:
            self.timeline_view.setCurrentIndex(self.timeline.index(row))
        self._refresh_panel(view)

    def _refresh_progress(self) -> None:
        if self.tabs.currentWidget() is not self.progress_view:
            return  # computed when the tab is shown
        data = progress(self.lib, self.area_id) if self.lib and self.area_id is not None else None
        self.progress_view.show_progress(data)
        self.measuring.refresh_tab()

    def _on_tabs_current_changed(self, _index: int) -> None:
        self._refresh_progress()

    def _on_progress_interval_changed(self, days: int) -> None:
        if self.lib is not None and self.area_id is not None:
            seen = next((a.version for a in self.areas.rows() if a.id == self.area_id), None)
            self.run(cmd.EditArea(self.lib, self.area_id, {"interval_days": days}, seen))

    def _refresh_panel(self, view: client_data.Shown | None = None) -> None:
        detail = (
            view.detail
            if view is not None
            else browse.visit_detail(self.lib, self.visit_id)
            if self.lib and self.visit_id is not None
            else None
        )
        area = (
            next((a for a in detail.areas if a.area.id == self.area_id), None) if detail else None
        )
        self.photos.set_rows(area.photos if area else [])
        self.panel.show_visit(detail, self.area_id)
        self.measuring.refresh_panel(area.photos if area else [])
        self._refresh_progress()
        has_visit = detail is not None
        self.menus.remove_visit.setEnabled(has_visit)
        row = self.timeline.row_of_id(self.visit_id) if self.visit_id is not None else -1
        self.menus.previous_visit.setEnabled(row > 0)
        self.menus.next_visit.setEnabled(0 <= row < self.timeline.rowCount() - 1)
        # Comparing needs photos: offered only where there is something to compare.
        area_photos = next((a.photos for a in self.areas.rows() if a.id == self.area_id), 0)
        self.menus.compare_baseline.setEnabled(self.photos.rowCount() > 0 and area_photos > 1)
        self.menus.compare.setEnabled(area_photos > 1)
        self.read_only.apply()  # what the lines above offered, if the library can be changed

    # -- running edits -----------------------------------------------------------------------

    def run(self, command: Command) -> bool:
        """Apply an edit and make it undoable; a refusal is shown and changes nothing."""
        try:
            self.history.push(command)
        except TrackerError as exc:
            self.show_error(str(exc))
            self.refresh()  # put back what the widgets showed before the refused edit
            return False
        return True

    def as_widget(self) -> QWidget:
        return self

    def _lib(self) -> Library | None:
        return self.lib

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, APP_NAME, message)

    def _status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def show_info(self, message: str) -> None:
        QMessageBox.information(self, APP_NAME, message)

    def _on_history_changed(self, changes: Change, photo_ids: frozenset[int]) -> None:
        """Reload what shows the data a step changed: the client list for clients and their
        counts, the areas for areas and photo counts, the timeline and the visit for the
        rest; an alignment or a colour balance, the visit's photos (the framing check follows
        the alignment, and the grid's versions both: its next move names them)."""
        if changes & (Change.CLIENTS | Change.AREAS | Change.VISITS):
            self.refresh()
        elif changes & Change.PHOTOS:
            self._refresh_areas()
        elif changes & (Change.TREATMENT | Change.RATINGS):
            self._refresh_timeline()
        elif changes & (Change.ALIGNMENT | Change.COLOUR):
            self._refresh_panel()
        # The compare windows listen to the same history, and reload what they show.

    def _on_any_change(self, *_args: object) -> None:
        # Once the person has stopped changing things for a few seconds, the write-ahead log
        # goes into the database file (``Library.checkpoint``): a copy of the folder taken
        # then is complete.
        self._idle.start()

    def _on_idle(self) -> None:
        if self.lib is not None and self.lib.read_only is None:
            with contextlib.suppress(TrackerError):  # busy: at the next pause
                self.lib.checkpoint()

    def _on_history_noted(self, note: str) -> None:
        self.statusBar().showMessage(note, 15000)

    # -- slots: selection --------------------------------------------------------------------

    def _on_sidebar_client_chosen(self, client_id: int) -> None:
        if client_id != self.client_id:
            before = self.client_id, self.area_id, self.visit_id
            self.client_id, self.area_id, self.visit_id = client_id, None, None
            if self.refresh():
                self.privacy.viewed(client_id)
            else:  # not shown (a lost link): the choices stay those of what is shown
                self.client_id, self.area_id, self.visit_id = before
                self.sidebar.select_client(self.client_id)

    def _on_sidebar_area_chosen(self, area_id: int) -> None:
        if area_id != self.area_id:
            self.area_id = area_id
            self._refresh_timeline()

    def _on_sidebar_search_changed(self, _text: str) -> None:
        self.refresh()

    def _on_timeline_current_changed(self, current: Any, _previous: Any) -> None:
        visit_id = current.data(IdRole)
        if visit_id is not None and visit_id != self.visit_id:
            self.visit_id = visit_id
            self._refresh_panel()

    def _on_care_repaired(self) -> None:
        """Originals may have been put back: forget the pictures made from the old files. A
        repair cannot be undone, and the steps before it may no longer apply: the history is
        cleared, with a note saying so."""
        self.history.clear("A repair cannot be undone, so the undo history was cleared.")
        self.thumbs.set_library(self.lib)
        for window in self.compare.windows:
            window.reload()
        self.refresh()

    def _on_thumbs_ready(self, _sha: str) -> None:
        self.timeline_view.viewport().update()

    def _on_start_tracking(self) -> None:
        if self.lib is None:
            return
        intro = "Which area are you treating? You can add more areas later."
        if self.client_edits.ask_for_area("Start tracking", "Start", intro):
            self.stack.setCurrentWidget(self.splitter)
            self.imports.choose_files()

    # -- files dropped on the window --------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self.read_only.active and self.lib is not None and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.imports.import_paths(paths)

    # -- other actions -----------------------------------------------------------------------

    def _on_open_library(self) -> None:
        start = str(self.lib.root.parent if self.lib and not self.lib.server else Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a library folder", start)
        if folder:
            self.library_requested.emit(Path(folder))

    def _on_preferences(self) -> None:
        p = self.prefs
        answer = PreferencesDialog.ask(self, p.mode, p.rater_name, p.lock_minutes, p.lock_plain)
        if answer is None:
            return
        p.lock_minutes, p.lock_plain = answer.lock_minutes, answer.lock_plain
        self.locking.restart()
        if (answer.mode, answer.rater_name) != (self.prefs.mode, self.prefs.rater_name):
            self.prefs.mode, self.prefs.rater_name = answer.mode, answer.rater_name
            self._apply_mode()
            self.refresh()

    def _apply_mode(self) -> None:
        practitioner = self.prefs.mode is Mode.PRACTITIONER
        self.sidebar.set_practitioner_mode(practitioner)
        self.menus.client_menu.setVisible(practitioner)
        # New ratings are the user's: the patient's in patient mode, else the named
        # practitioner's.
        self.panel.me = (
            Rater(RaterRole.PRACTITIONER, self.prefs.rater_name)
            if practitioner
            else Rater(RaterRole.PATIENT, "")
        )

    # -- layout memory -----------------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self.prefs.geometry("window")
        if geometry is not None:
            self.restoreGeometry(geometry)
            fit_on_screen(self)  # saved on a larger screen, perhaps
        self._splitter_restored = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The columns are restored once the window has its real width: restored earlier, they
        # would be squeezed by the panes' minimum widths and come back out of proportion.
        if not self._splitter_restored:
            self._splitter_restored = True
            state = self.prefs.geometry("splitter")
            layout = self.layout()
            if state is not None and layout is not None:
                layout.activate()
                self.splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.importer.busy:
            self.show_error("An import is running; cancel it or let it finish before closing.")
            event.ignore()
            return
        self.live.stop()
        self.prefs.set_geometry("window", self.saveGeometry())
        self.prefs.set_geometry("splitter", self.splitter.saveState())
        self.prefs.sync()
        super().closeEvent(event)
