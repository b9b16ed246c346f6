"""The main window: composes the sidebar, the timeline and the visit panel, and its actions.

State is three ids (client, area, visit). Every edit goes through the undo stack as a command
that calls the core; whenever the stack changes, the views are refreshed from the core.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME, __version__
from tracker.core import workspace as ws
from tracker.core.errors import TrackerError
from tracker.core.library import Library
from tracker.core.models import RaterRole, VisitKind
from tracker.core.progress import progress
from tracker.ui import commands as cmd
from tracker.ui.dialogs import (
    AreaAnswer,
    AreaDialog,
    ClientAnswer,
    ClientDialog,
    NewVisitDialog,
    PreferencesDialog,
    confirm,
)
from tracker.ui.icons import icon
from tracker.ui.import_flow import IMAGE_FILTER, ImportController, ImportRequest
from tracker.ui.library_care import LibraryCare
from tracker.ui.models import (
    AreaListModel,
    ClientListModel,
    IdRole,
    PhotoGridModel,
    ThumbnailCache,
    TimelineModel,
)
from tracker.ui.progress_view import ProgressView
from tracker.ui.settings import Mode, Preferences
from tracker.ui.sidebar import Sidebar
from tracker.ui.visit_panel import VisitPanel
from tracker.ui.welcome import WelcomePage
from tracker.ui.workers import TaskRunner

if TYPE_CHECKING:
    from tracker.ui.compare import CompareWindow

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    library_requested = Signal(Path)  # open another library
    sample_requested = Signal()
    report_written = Signal(str)

    def __init__(self, prefs: Preferences, runner: TaskRunner) -> None:
        super().__init__()
        self.prefs = prefs
        self.runner = runner
        self.lib: Library | None = None
        self.client_id: int | None = None
        self.area_id: int | None = None
        self.visit_id: int | None = None
        self.undo_stack = QUndoStack(self)
        self.compare_windows: list[CompareWindow] = []
        self.thumbs = ThumbnailCache(runner, self)
        self.clients = ClientListModel(self)
        self.areas = AreaListModel(self)
        self.timeline = TimelineModel(self.thumbs, self)
        self.photos = PhotoGridModel(self.thumbs, self)
        self.importer = ImportController(self, runner, self.show_error)
        self.care = LibraryCare(self, runner, self.show_error, self.show_info)
        self.read_only_label = QLabel()
        self.read_only_label.setStyleSheet("color: #b9770e; font-weight: 600")

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self.stack = QStackedWidget(self)
        self.welcome = WelcomePage(self.stack)
        self.sidebar = Sidebar(self.clients, self.areas)
        self.timeline_view = QListView()
        self.timeline_view.setModel(self.timeline)
        self.timeline_view.setIconSize(QSize(240, 56))
        self.timeline_view.setSpacing(3)
        self.timeline_view.setAlternatingRowColors(True)
        self.timeline_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline_view.setAccessibleName("Timeline of visits")
        self.timeline_view.setWordWrap(True)
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
        self._make_actions()
        self._connect_signals()
        self.setTabOrder(self.sidebar.search, self.sidebar.client_list)
        self.setTabOrder(self.sidebar.client_list, self.sidebar.area_list)
        self.setTabOrder(self.sidebar.area_list, self.timeline_view)
        self.setTabOrder(self.timeline_view, self.panel.date)
        self._restore_layout()
        self._apply_mode()

    # -- building ----------------------------------------------------------------------------

    def _action(
        self, text: str, slot: Callable[[], Any], shortcut: Any = None, icon_name: str = ""
    ) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QAction().icon(), text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.open_action = self._action("&Open library…", self._on_open_library, K.Open, "open")
        self.sample_action = self._action(
            "Open &sample library…", self.sample_requested.emit, None, "sample"
        )
        self.import_action = self._action(
            "&Import photos…", self._on_import_action, "Ctrl+I", "import"
        )
        self.prefs_action = self._action(
            "&Preferences…", self._on_preferences, K.Preferences, "settings"
        )
        self.quit_action = self._action("&Quit", self.close, K.Quit)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(K.Undo)
        self.undo_action.setIcon(icon("undo"))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(K.Redo)])
        self.redo_action.setIcon(icon("redo"))
        self.new_visit_action = self._action("&New visit…", self._on_new_visit, K.New, "new-visit")
        self.prev_action = self._action(
            "&Previous visit", lambda: self._step_visit(-1), "Alt+Up", "previous"
        )
        self.next_action = self._action(
            "Ne&xt visit", lambda: self._step_visit(1), "Alt+Down", "next"
        )
        self.compare_baseline_action = self._action(
            "Compare with &baseline", self._on_compare_baseline, "Ctrl+B", "compare"
        )
        self.compare_action = self._action("&Compare photos…", self._on_compare_photos, "Ctrl+K")
        self.remove_visit_action = self._action(
            "&Remove visit…", self._on_remove_visit, None, "remove"
        )
        self.find_action = self._action("&Find client", self._on_find_client, K.Find)
        self.add_client_action = self._action(
            "&Add client…", self._on_add_client, None, "client-add"
        )
        self.edit_client_action = self._action("Client &details…", self._on_edit_client)
        self.add_area_action = self._action("&New area…", self._on_add_area, None, "area-add")
        self.edit_area_action = self._action("Area &details…", self._on_edit_area)
        self.about_action = self._action("&About", self._on_about)
        self.check_action = self._action("&Check the library…", self.care.check)
        self.backup_action = self._action("&Back up…", self.care.backup)
        self.restore_action = self._action("&Restore from a backup…", self.care.restore)
        bar = self.menuBar()
        for title, actions in (
            (
                "&File",
                [
                    self.open_action,
                    self.sample_action,
                    None,
                    self.import_action,
                    None,
                    self.prefs_action,
                    None,
                    self.quit_action,
                ],
            ),
            ("&Edit", [self.undo_action, self.redo_action]),
            ("C&ompare", [self.compare_baseline_action, self.compare_action]),
            (
                "&Visit",
                [
                    self.new_visit_action,
                    self.prev_action,
                    self.next_action,
                    None,
                    self.remove_visit_action,
                ],
            ),
            ("&Client", [self.find_action, self.add_client_action, self.edit_client_action]),
            ("&Area", [self.add_area_action, self.edit_area_action]),
            ("&Library", [self.check_action, None, self.backup_action, self.restore_action]),
            ("&Help", [self.about_action]),
        ):
            menu = bar.addMenu(title)
            for action in actions:
                menu.addSeparator() if action is None else menu.addAction(action)
        self.client_menu_action = bar.actions()[4]
        tools = QToolBar("Main", self)
        tools.setObjectName("main-toolbar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setIconSize(QSize(20, 20))
        for action in (
            self.import_action,
            self.new_visit_action,
            None,
            self.prev_action,
            self.next_action,
            None,
            self.compare_baseline_action,
            None,
            self.undo_action,
            self.redo_action,
        ):
            tools.addSeparator() if action is None else tools.addAction(action)
        self.addToolBar(tools)
        self.library_actions = [
            self.import_action,
            self.new_visit_action,
            self.prev_action,
            self.next_action,
            self.remove_visit_action,
            self.add_area_action,
            self.edit_area_action,
            self.add_client_action,
            self.edit_client_action,
            self.find_action,
            self.compare_baseline_action,
            self.compare_action,
            self.check_action,
            self.backup_action,
        ]

    def _connect_signals(self) -> None:
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)
        self.thumbs.ready.connect(self._on_thumbs_ready)
        self.welcome.start_requested.connect(self._on_start_tracking)
        self.welcome.sample_requested.connect(self.sample_requested)
        self.welcome.open_requested.connect(self._on_open_library)
        self.sidebar.client_chosen.connect(self._on_sidebar_client_chosen)
        self.sidebar.area_chosen.connect(self._on_sidebar_area_chosen)
        self.sidebar.search_changed.connect(self._on_sidebar_search_changed)
        self.sidebar.add_client_requested.connect(self._on_add_client)
        self.sidebar.edit_client_requested.connect(self._on_edit_client)
        self.sidebar.add_area_requested.connect(self._on_add_area)
        self.sidebar.edit_area_requested.connect(self._on_edit_area)
        self.timeline_view.selectionModel().currentChanged.connect(
            self._on_timeline_current_changed
        )
        self.panel.visit_edited.connect(self._on_panel_visit_edited)
        self.panel.treatment_edited.connect(self._on_panel_treatment_edited)
        self.panel.rating_edited.connect(self._on_panel_rating_edited)
        self.panel.files_dropped.connect(self._on_panel_files_dropped)
        self.panel.grid.open_requested.connect(self._on_grid_open_requested)
        self.panel.grid.remove_requested.connect(self._on_grid_remove_requested)
        self.panel.grid.compare_action.triggered.connect(self._on_compare_baseline)
        self.panel.grid.compare_selected_action.triggered.connect(self._on_compare_photos)
        self.photos.view_edit_requested.connect(self._on_photos_view_edit_requested)
        self.importer.finished.connect(self._on_importer_finished)
        self.care.restored.connect(lambda folder: self.library_requested.emit(Path(folder)))
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.progress_view.interval_changed.connect(self._on_progress_interval_changed)
        self.progress_view.export_csv_requested.connect(self._on_export_csv)
        self.progress_view.export_report_requested.connect(self._on_export_report)
        self.importer.busy_changed.connect(self._on_importer_busy_changed)

    # -- the library -------------------------------------------------------------------------

    def set_library(self, lib: Library | None) -> None:
        """Show ``lib`` (the caller owns opening and closing it)."""
        for window in self.compare_windows:
            window.close()
        self.compare_windows = []
        self.undo_stack.clear()
        self.lib = lib
        self.thumbs.set_library(lib)
        self.care.lib = lib
        self.client_id = self.area_id = self.visit_id = None
        read_only = lib.read_only if lib is not None else None
        title = f"{APP_NAME} — {lib.root}" if lib else APP_NAME
        self.setWindowTitle(title + (" (read-only)" if read_only else ""))
        self.read_only_label.setText("Read-only: nothing can be changed" if read_only else "")
        self.read_only_label.setToolTip(read_only or "")
        if read_only:
            self.statusBar().addPermanentWidget(self.read_only_label)
            self.read_only_label.show()
        else:
            self.read_only_label.hide()
        for action in self.library_actions:
            action.setEnabled(lib is not None)
        self.refresh()

    def refresh(self) -> None:
        """Re-read everything shown from the library, keeping the current choices."""
        lib = self.lib
        if lib is None:
            self.stack.setCurrentWidget(self.welcome)
            return
        practitioner = self.prefs.mode is Mode.PRACTITIONER
        all_clients = ws.clients(lib)
        needle = self.sidebar.search.text().strip().casefold() if practitioner else ""
        shown = [c for c in all_clients if needle in c.name.casefold()] if needle else all_clients
        self.clients.set_rows(shown)
        if self.client_id not in {c.id for c in all_clients}:
            self.client_id = all_clients[0].id if all_clients else None
        if practitioner:
            self.sidebar.select_client(self.client_id)
        areas = ws.areas(lib, self.client_id) if self.client_id is not None else []
        empty_library = (
            len(all_clients) <= 1
            and not areas
            and not (self.client_id and ws.timeline(lib, self.client_id))
        )
        self.stack.setCurrentWidget(
            self.welcome if empty_library and not practitioner else self.splitter
        )
        self.areas.set_rows(areas)
        if self.area_id not in {a.id for a in areas}:
            self.area_id = areas[0].id if areas else None
        self.sidebar.select_area(self.area_id)
        client_name = next((c.name for c in all_clients if c.id == self.client_id), "")
        self.sidebar.areas_title.setText(
            f"<b>Treated areas{' of ' + client_name if practitioner and client_name else ''}</b>"
        )
        self._refresh_timeline()

    def _refresh_timeline(self) -> None:
        lib = self.lib
        rows = (
            ws.timeline(lib, self.client_id, self.area_id)
            if lib and self.client_id is not None
            else []
        )
        self.timeline.set_rows(rows)
        if self.visit_id not in {r.id for r in rows}:
            self.visit_id = rows[-1].id if rows else None
        row = self.timeline.row_of_id(self.visit_id) if self.visit_id is not None else -1
        if row >= 0:
            self.timeline_view.setCurrentIndex(self.timeline.index(row))
        self._refresh_panel()

    def _refresh_progress(self) -> None:
        if self.tabs.currentWidget() is not self.progress_view:
            return  # computed when the tab is shown
        data = progress(self.lib, self.area_id) if self.lib and self.area_id is not None else None
        self.progress_view.show_progress(data)

    def _on_tabs_current_changed(self, _index: int) -> None:
        self._refresh_progress()

    def _on_progress_interval_changed(self, days: int) -> None:
        if self.lib is not None and self.area_id is not None:
            self.run(cmd.EditArea(self.lib, self.area_id, {"interval_days": days}))

    def _on_export_csv(self) -> None:
        if self.lib is None or self.client_id is None:
            return
        start = self.prefs.last_import_folder or Path.home()
        name, _ = QFileDialog.getSaveFileName(
            self, "Export ratings", str(start / "ratings.csv"), "CSV (*.csv)"
        )
        if not name:
            return
        from tracker.core import export_csv

        lib, client = self.lib, ws.client_fields(self.lib, self.client_id)["name"]
        self.runner.start(
            lambda _t: export_csv.export(lib, Path(name), client),
            finished=lambda r: self.statusBar().showMessage(
                f"Wrote {r['rows']} ratings to {r['file']}.", 8000
            ),
            failed=self.show_error,
        )

    def _on_export_report(self) -> None:
        if self.lib is None or self.client_id is None:
            return
        start = self.prefs.last_import_folder or Path.home()
        name, chosen = QFileDialog.getSaveFileName(
            self,
            "Export report",
            str(start / "progress-report.pdf"),
            "PDF, A4 (*.pdf);;PDF, Letter (*.pdf)",
        )
        if name:
            self.export_report(Path(name), "letter" if "Letter" in chosen else "a4")

    def export_report(self, out: Path, page: str = "a4") -> None:
        """Write the client's report; charts are drawn here, the rest in a worker."""
        from tracker.rendering import report

        assert self.lib is not None and self.client_id is not None
        lib, client = self.lib, ws.client_fields(self.lib, self.client_id)["name"]
        try:
            charts = report.chart_images(lib, report.area_ids(lib, client, None))
        except TrackerError as exc:
            self.show_error(str(exc))
            return
        dialog = QProgressDialog("Writing the report…", "", 0, 0, self)
        dialog.setWindowTitle(APP_NAME)
        dialog.setCancelButton(None)
        dialog.setMinimumDuration(400)

        def done(result: dict[str, object]) -> None:
            dialog.close()
            self.statusBar().showMessage(f"Wrote {result['file']}.", 8000)
            self.report_written.emit(str(result["file"]))

        def failed(message: str) -> None:
            dialog.close()
            self.show_error(message)

        self.runner.start(
            lambda task: report.export_report(
                lib, out, client=client, page=page, charts=charts, progress_cb=task.report
            ),
            finished=done,
            failed=failed,
            progress=lambda d, t, _w: _set_progress(dialog, d, t),
        )

    def _refresh_panel(self) -> None:
        detail = (
            ws.visit_detail(self.lib, self.visit_id)
            if self.lib and self.visit_id is not None
            else None
        )
        area = (
            next((a for a in detail.areas if a.area.id == self.area_id), None) if detail else None
        )
        self.photos.set_rows(area.photos if area else [])
        self.panel.show_visit(detail, self.area_id)
        self._refresh_progress()
        has_visit = detail is not None
        self.remove_visit_action.setEnabled(has_visit)
        row = self.timeline.row_of_id(self.visit_id) if self.visit_id is not None else -1
        self.prev_action.setEnabled(row > 0)
        self.next_action.setEnabled(0 <= row < self.timeline.rowCount() - 1)
        # Comparing needs photos: offered only where there is something to compare.
        area_photos = next((a.photos for a in self.areas.rows() if a.id == self.area_id), 0)
        self.compare_baseline_action.setEnabled(self.photos.rowCount() > 0 and area_photos > 1)
        self.compare_action.setEnabled(area_photos > 1)

    # -- running edits -----------------------------------------------------------------------

    def run(self, command: cmd.Command) -> bool:
        """Apply an edit and make it undoable; a refusal is shown and changes nothing."""
        try:
            cmd.push(self.undo_stack, command)
        except TrackerError as exc:
            self.show_error(str(exc))
            self.refresh()  # put back what the widgets showed before the refused edit
            return False
        return True

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, APP_NAME, message)

    def show_info(self, message: str) -> None:
        QMessageBox.information(self, APP_NAME, message)

    def _on_undo_stack_index_changed(self, _index: int) -> None:
        self.refresh()

    # -- slots: selection --------------------------------------------------------------------

    def _on_sidebar_client_chosen(self, client_id: int) -> None:
        if client_id != self.client_id:
            self.client_id, self.area_id, self.visit_id = client_id, None, None
            self.refresh()

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

    def _step_visit(self, step: int) -> None:
        row = self.timeline.row_of_id(self.visit_id) if self.visit_id is not None else -1
        target = row + step
        if 0 <= target < self.timeline.rowCount():
            self.timeline_view.setCurrentIndex(self.timeline.index(target))

    def _on_thumbs_ready(self, _sha: str) -> None:
        self.timeline_view.viewport().update()

    # -- slots: edits ------------------------------------------------------------------------

    def _on_new_visit(self) -> None:
        if self.lib is None or self.client_id is None:
            return
        taken = {r.date for r in ws.timeline(self.lib, self.client_id)}
        kind = VisitKind.TREATMENT if taken else VisitKind.BASELINE
        answer = NewVisitDialog.ask(self, dt.date.today(), kind, taken)
        if answer is None:
            return
        command = cmd.AddVisit(self.lib, self.client_id, answer.day, answer.kind, answer.notes)
        if self.run(command):
            self.visit_id = command.visit_id
            self.refresh()

    def _on_remove_visit(self) -> None:
        if self.lib is None or self.visit_id is None:
            return
        detail = ws.visit_detail(self.lib, self.visit_id)
        if not confirm(
            self,
            "Remove visit",
            f"Remove the visit on {detail.date:%d %B %Y} with its treatment records and ratings? You can undo this.",
            "Remove visit",
        ):
            return
        self.run(cmd.RemoveVisit(self.lib, self.visit_id))

    def _on_panel_visit_edited(self, fields: dict[str, Any]) -> None:
        if self.lib is not None and self.visit_id is not None:
            self.run(cmd.EditVisit(self.lib, self.visit_id, fields))

    def _on_panel_treatment_edited(self, fields: dict[str, Any]) -> None:
        if self.lib is not None and self.visit_id is not None and self.area_id is not None:
            self.run(cmd.SetTreatment(self.lib, self.visit_id, self.area_id, fields))

    def _on_panel_rating_edited(self, role: RaterRole, values: dict[str, float]) -> None:
        area = self.panel.area
        if self.lib is not None and self.visit_id is not None and area is not None:
            self.run(
                cmd.SetRating(
                    self.lib, self.visit_id, area.area.id, role, area.area.default_scale, values
                )
            )

    def _on_photos_view_edit_requested(self, photo_id: int, view: str) -> None:
        if self.lib is not None:
            self.run(cmd.SetPhotoView(self.lib, photo_id, view))

    def _on_grid_remove_requested(self, ids: list[int]) -> None:
        if self.lib is None:
            return
        n = len(ids)
        what = "this photo" if n == 1 else f"these {n} photos"
        if confirm(
            self,
            "Remove photos",
            f"Remove {what} from the visit? The original files stay in the library, and you can undo this.",
            "Remove",
        ):
            self.run(cmd.RemovePhotos(self.lib, ids))

    def _on_grid_open_requested(self, photo_id: int) -> None:
        if self.lib is None:
            return
        from tracker.ui.viewer import PhotoViewer

        lib = self.lib
        row = ws.photo(lib, photo_id)
        viewer = PhotoViewer(
            lambda: lib.derived("previews", row.sha256),
            f"{row.view} — {row.taken_at[:10]}",
            self.runner,
            self,
        )
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()

    # -- compare -------------------------------------------------------------------------------

    def open_compare(self, photo_ids: list[int]) -> CompareWindow | None:
        from tracker.ui.compare import CompareWindow  # loaded when first used, not at start-up

        if self.lib is None:
            return None
        if not 2 <= len(photo_ids) <= 4:
            self.show_error(f"Compare 2 to 4 photos; {len(photo_ids)} were chosen.")
            return None
        window = CompareWindow(
            self.lib, photo_ids, self.runner, self.undo_stack, self, self.client_id
        )
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        self.compare_windows = [w for w in self.compare_windows if w.isVisible()] + [window]
        return window

    def _on_compare_baseline(self) -> None:
        """This visit's selected (or first) photo beside the same area and view at baseline."""
        if self.lib is None:
            return
        ids = self.panel.grid.selected_ids() or [p.id for p in self.photos.rows()[:1]]
        if not ids:
            self.show_error(
                "This visit has no photos of this area to compare; choose a visit with photos."
            )
            return
        partner = ws.baseline_partner(self.lib, ids[0])
        if partner is None:
            self.show_error("There is no other photo of this area at the baseline to compare with.")
            return
        self.open_compare([partner, ids[0]])

    def _on_compare_photos(self) -> None:
        """Photos selected in the grid, or a choice among all of the area's photos."""
        if self.lib is None or self.area_id is None:
            return
        selected = self.panel.grid.selected_ids()
        if 2 <= len(selected) <= 4:
            self.open_compare(selected)
            return
        from tracker.ui.compare import PhotoPicker, photo_choices

        choices, every, default = photo_choices(self.lib, self.area_id, self.client_id)
        if len(choices) < 2:
            self.show_error("This area has fewer than two photos; import more to compare them.")
            return
        chosen = PhotoPicker.ask(self, choices, default, every)
        if chosen:
            self.open_compare(chosen)

    def _on_add_client(self) -> None:
        if self.lib is None:
            return
        answer = ClientDialog.ask(self, title="Add client", ok_text="Add client")
        if not answer:
            return
        command = cmd.AddClient(self.lib, answer.name)
        if not self.run(command):
            return
        details = {
            "date_of_birth": answer.date_of_birth,
            "fitzpatrick": answer.fitzpatrick,
            "notes": answer.notes,
        }
        if any(details.values()):
            assert command.client_id is not None
            self.run(cmd.EditClient(self.lib, command.client_id, details))
        self.client_id, self.area_id, self.visit_id = command.client_id, None, None
        self.sidebar.search.clear()
        self.refresh()

    def _on_edit_client(self) -> None:
        if self.lib is None or self.client_id is None:
            return
        current = ClientAnswer(**ws.client_fields(self.lib, self.client_id))
        answer = ClientDialog.ask(self, title="Client details", ok_text="Save", current=current)
        if answer is None:
            return
        changed = {k: v for k, v in vars(answer).items() if getattr(current, k) != v}
        if changed:
            self.run(cmd.EditClient(self.lib, self.client_id, changed))

    def _on_add_area(self) -> None:
        if self.lib is None or self.client_id is None:
            return
        answer = AreaDialog.ask(self)
        if answer:
            self._add_area(answer)

    def _add_area(self, answer: Any) -> bool:
        assert self.lib is not None and self.client_id is not None
        command = cmd.AddArea(
            self.lib, self.client_id, answer.name, answer.body_site, answer.stage, answer.scale
        )
        if self.run(command):
            self.area_id = command.area_id
            self.refresh()
            return True
        return False

    def _on_edit_area(self) -> None:
        if self.lib is None or self.area_id is None:
            return
        row = next(a for a in self.areas.rows() if a.id == self.area_id)
        current = AreaAnswer(row.name, row.body_site, row.stage, row.default_scale)
        answer = AreaDialog.ask(self, title="Area details", ok_text="Save", current=current)
        if answer is None:
            return
        names = {
            "name": "name",
            "body_site": "body_site",
            "stage": "stage",
            "scale": "default_scale",
        }
        changed = {names[k]: v for k, v in vars(answer).items() if getattr(current, k) != v}
        if changed:
            self.run(cmd.EditArea(self.lib, self.area_id, changed))

    def _on_start_tracking(self) -> None:
        if self.lib is None:
            return
        answer = AreaDialog.ask(
            self,
            title="Start tracking",
            ok_text="Start",
            intro="Which area are you treating? You can add more areas later.",
        )
        if answer and self._add_area(answer):
            self.stack.setCurrentWidget(self.splitter)
            self._on_import_action()

    # -- import ------------------------------------------------------------------------------

    def _import(self, paths: list[Path], date: dt.date | None = None) -> None:
        if self.lib is None or self.client_id is None:
            return
        if self.area_id is None:
            answer = AreaDialog.ask(
                self,
                title="Which area?",
                ok_text="Add area",
                intro="Photos belong to a treated area. Name the area these photos show.",
            )
            if not answer or not self._add_area(answer):
                return
        area = next(a for a in self.areas.rows() if a.id == self.area_id)
        client = ws.client_fields(self.lib, self.client_id)["name"]
        self.importer.start(self.lib, ImportRequest(paths, client, area.name, date))

    def _on_import_action(self) -> None:
        start = str(self.prefs.last_import_folder or Path.home())
        files, _ = QFileDialog.getOpenFileNames(self, "Import photos", start, IMAGE_FILTER)
        if files:
            self.prefs.last_import_folder = Path(files[0]).parent
            self._import([Path(f) for f in files])

    def _on_panel_files_dropped(self, paths: list[Path]) -> None:
        detail = self.panel.detail
        self._import(paths, detail.date if detail else None)

    def _on_importer_finished(self, report: Any) -> None:
        if report is not None and report.imported:
            self.visit_id = report.imported[-1].visit_id  # show where the photos went
        self.refresh()

    def _on_importer_busy_changed(self, busy: bool) -> None:
        self.import_action.setEnabled(not busy and self.lib is not None)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.lib is not None and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._import(paths)

    # -- other actions -----------------------------------------------------------------------

    def _on_open_library(self) -> None:
        start = str(self.lib.root.parent if self.lib else Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a library folder", start)
        if folder:
            self.library_requested.emit(Path(folder))

    def _on_find_client(self) -> None:
        if self.prefs.mode is not Mode.PRACTITIONER:
            self.show_error(
                "Finding clients is for practitioner mode; switch it on in File ▸ Preferences."
            )
            return
        self.sidebar.focus_search()

    def _on_preferences(self) -> None:
        mode = PreferencesDialog.ask(self, self.prefs.mode)
        if mode is not None and mode is not self.prefs.mode:
            self.prefs.mode = mode
            self._apply_mode()
            self.refresh()

    def _apply_mode(self) -> None:
        practitioner = self.prefs.mode is Mode.PRACTITIONER
        self.sidebar.set_practitioner_mode(practitioner)
        self.client_menu_action.setVisible(practitioner)

    def _on_about(self) -> None:
        where = f"<p>This library: {self.lib.root}</p>" if self.lib else ""
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3><p>Tracks a course of microneedling for stretch marks with dated photos and ratings. Everything stays on this computer.</p>{where}",
        )

    # -- layout memory -----------------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self.prefs.geometry("window")
        if geometry is not None:
            self.restoreGeometry(geometry)
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
        self.prefs.set_geometry("window", self.saveGeometry())
        self.prefs.set_geometry("splitter", self.splitter.saveState())
        self.prefs.sync()
        super().closeEvent(event)


def _set_progress(dialog: QProgressDialog, done: int, total: int) -> None:
    dialog.setMaximum(total)
    dialog.setValue(done)
