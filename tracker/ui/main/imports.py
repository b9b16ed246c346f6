"""Where imports start in the main window (the menu, files dropped on it or on a visit), and
what follows one: it becomes one undoable step, the previews it left are made, and, when the
preview's option is on, its new photos are aligned automatically (a step of their own)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from tracker.core.services.import_report import ImportReport
from tracker.core.store.library import Library
from tracker.core.text import display_path
from tracker.ui import commands as cmd
from tracker.ui.main.controller import Window, WindowController
from tracker.ui.main.import_align import PAUSED, ImportAlignment
from tracker.ui.main.import_dialogs import IMAGE_FILTER, ImportRequest
from tracker.ui.workers import Task

log = logging.getLogger(__name__)


class ImportActions(WindowController):
    def __init__(self, window: Window, ask_for_area: Callable[[str, str, str], bool]) -> None:
        super().__init__(window)
        self._ask_for_area = ask_for_area
        self._background: list[Task] = []
        self.aligning = ImportAlignment(window)

    def _connect_signals(self) -> None:
        w = self.window
        w.menus.import_photos.triggered.connect(self.choose_files)
        w.panel.files_dropped.connect(self._on_panel_files_dropped)
        w.importer.finished.connect(self._on_importer_finished)
        w.importer.busy_changed.connect(self._on_importer_busy_changed)

    def choose_files(self) -> None:
        w = self.window
        start = str(w.prefs.last_import_folder or Path.home())
        files, _ = QFileDialog.getOpenFileNames(w.as_widget(), "Import photos", start, IMAGE_FILTER)
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
        if w.area_id is None and not self._ask_for_area("Which area?", "Add area", intro):
            return
        assert w.area_id is not None
        area = next(a for a in w.areas.rows() if a.id == w.area_id)
        request = ImportRequest(
            paths, w.client_id, area.id, area.name, date, w.prefs.align_after_import
        )
        w.importer.start(w.lib, request)

    def _on_panel_files_dropped(self, paths: list[Path]) -> None:
        detail = self.window.panel.detail
        self.import_paths(paths, detail.date if detail else None)

    def _on_importer_finished(self, lib: Library | None, report: ImportReport | None) -> None:
        w = self.window
        if lib is None or report is None or lib is not w.lib:
            w.refresh()  # a failed import kept the photos before the failure
            return
        align = w.importer.align_new
        w.prefs.align_after_import = align  # the preview offers the same next time
        if report.imported or report.brought_back:
            w.visit_id = (
                report.imported[-1].visit_id if report.imported else w.visit_id
            )  # show where the photos went
            w.history.push_done(cmd.ImportPhotos(lib, report))
            self._make_previews(lib, [i.sha256 for i in report.imported])
        w.refresh()
        if align and report.imported:
            names = [(i.photo_id, display_path(Path(i.file).name)) for i in report.imported]
            self.aligning.start(lib, names)

    def _make_previews(self, lib: Library, shas: list[str]) -> None:
        """The import leaves a JPEG's preview to its first view; make them now, in the
        background, one photo at a time, so that the first look is usually instant."""
        if lib.read_only is not None or not shas:
            return
        task = self.window.runner.start(
            lambda task: lib.make_previews(shas, cancel=lambda: task.cancelled),
            failed=lambda message: log.info("Previews not made ahead: %s", message),
        )
        self._background.append(task)
        task.signals.finished.connect(lambda _r, t=task: self._background.remove(t))
        task.signals.failed.connect(lambda _m, t=task: self._background.remove(t))

    def stop_background(self) -> None:
        """Stop making previews and aligning (the library is being closed); each stops after
        its photo."""
        for task in self._background:
            task.cancel()
        self.aligning.cancel()

    def _on_importer_busy_changed(self, busy: bool) -> None:
        self.window.menus.import_photos.setEnabled(not busy and self.window.lib is not None)
        self.window.history.pause(
            "An import is running; undo and redo wait until it has finished."
            if busy
            else PAUSED
            if self.aligning.busy
            else ""
        )
