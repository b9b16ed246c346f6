"""Where imports start in the main window: the menu, files dropped on it or on a visit."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from tracker.core.queries import workspace as ws
from tracker.ui.controller import WindowController
from tracker.ui.import_flow import IMAGE_FILTER, ImportRequest
from tracker.ui.workers import Task

if TYPE_CHECKING:
    from tracker.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class ImportActions(WindowController):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._background: list[Task] = []

    def _connect_signals(self) -> None:
        w = self.window
        w.menus.import_photos.triggered.connect(self.choose_files)
        w.panel.files_dropped.connect(self._on_panel_files_dropped)
        w.importer.finished.connect(self._on_importer_finished)
        w.importer.busy_changed.connect(self._on_importer_busy_changed)

    def choose_files(self) -> None:
        w = self.window
        start = str(w.prefs.last_import_folder or Path.home())
        files, _ = QFileDialog.getOpenFileNames(w, "Import photos", start, IMAGE_FILTER)
        if files:
            w.prefs.last_import_folder = Path(files[0]).parent
            self.import_paths([Path(f) for f in files])

    def import_paths(self, paths: list[Path], date: dt.date | None = None) -> None:
        """Import into the current client's area (asking for one if it has none yet), on
        ``date`` when the files were dropped on a visit."""
        w = self.window
        if w.lib is None or w.client_id is None:
            return
        intro = "Photos belong to a treated area. Name the area these photos show."
        if w.area_id is None and not w.client_edits.ask_for_area("Which area?", "Add area", intro):
            return
        area = next(a for a in w.areas.rows() if a.id == w.area_id)
        client = ws.client_fields(w.lib, w.client_id)["name"]
        w.importer.start(w.lib, ImportRequest(paths, client, area.name, date))

    def _on_panel_files_dropped(self, paths: list[Path]) -> None:
        detail = self.window.panel.detail
        self.import_paths(paths, detail.date if detail else None)

    def _on_importer_finished(self, report: Any) -> None:
        w = self.window
        if report is not None and report.imported:
            w.visit_id = report.imported[-1].visit_id  # show where the photos went
            self._make_previews(report.imported)
        w.refresh()

    def _make_previews(self, imported: list[Any]) -> None:
        """The import leaves a JPEG's preview to its first view; make them now, in the
        background, one photo at a time, so that the first look is usually instant."""
        lib = self.window.lib
        if lib is None or lib.read_only is not None:
            return
        shas = [i.sha256 for i in imported]
        task = self.window.runner.start(
            lambda task: lib.make_previews(shas, cancel=lambda: task.cancelled),
            failed=lambda message: log.info("Previews not made ahead: %s", message),
        )
        self._background.append(task)
        task.signals.finished.connect(lambda _r, t=task: self._background.remove(t))
        task.signals.failed.connect(lambda _m, t=task: self._background.remove(t))

    def stop_background(self) -> None:
        """Stop making previews (the library is being closed); each stops after its photo."""
        for task in self._background:
            task.cancel()

    def _on_importer_busy_changed(self, busy: bool) -> None:
        self.window.menus.import_photos.setEnabled(not busy and self.window.lib is not None)
