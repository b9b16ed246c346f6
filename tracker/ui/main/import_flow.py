"""Running an import from the window: check → preview → import with progress → summary.

The check decodes every file as the import will (so damage shows in the preview, each file
with a thumbnail); it and the import itself run on the thread pool; the window keeps painting and
answering while they run. The finished import is handed on (``finished``) for the window to
make it one undoable step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from tracker.core.errors import LibraryError
from tracker.core.queries import browse
from tracker.core.services.import_plan import plan_import
from tracker.core.services.import_report import ImportReport
from tracker.core.services.imports import import_items
from tracker.core.store.library import Library
from tracker.core.text import display_path
from tracker.ui.main.import_dialogs import ImportRequest, ImportSummaryDialog, retest_advice
from tracker.ui.main.import_preview import ImportPreviewDialog, Prepared
from tracker.ui.main.plan_model import Choices, VisitChoice
from tracker.ui.workers import Task, TaskRunner, progress_dialog


class ImportController(QObject):
    """Runs one import at a time: plan → preview → import with progress → summary."""

    finished = Signal(object, object)  # the Library and its ImportReport (None: it failed)
    busy_changed = Signal(bool)
    # The stage ("check" before the preview, then "import"), done, total, file.
    progress_changed = Signal(str, int, int, str)

    # Replaceable in tests.
    ask_preview: Callable[[QWidget | None, ImportRequest, Prepared], Choices | None] = (
        ImportPreviewDialog.ask
    )
    show_summary: Callable[[QWidget | None, ImportReport, str], None] = (
        ImportSummaryDialog.show_report
    )

    def __init__(
        self, window: QWidget, runner: TaskRunner, show_error: Callable[[str], None]
    ) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.show_error = show_error
        self.task: Task | None = None
        # Whether the person asked, in the preview, for the new photos to be aligned.
        self.align_new = False
        self._doing = ""
        self.progress: QProgressDialog | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(self, lib: Library, request: ImportRequest) -> None:
        if self.busy:
            self.show_error("An import is already running; wait for it to finish or cancel it.")
            return
        self._begin("Checking the photos…", len(request.paths))

        def prepare(task: Task) -> Prepared:
            plan = plan_import(
                lib,
                request.paths,
                client_id=request.client_id,
                date=request.date,
                check=True,
                progress=task.report,
                cancel=lambda: task.cancelled,
            )
            visits = [
                VisitChoice(v.id, v.date, v.kind) for v in browse.timeline(lib, request.client_id)
            ]
            areas = {a.id: a.name for a in browse.areas(lib, request.client_id)}
            with lib.session() as s:
                baseline = browse.has_baseline(s, request.client_id)
            return Prepared(plan, areas, visits, baseline)

        self.task = self.runner.start(
            prepare,
            finished=lambda prepared: self._on_plan_finished(lib, request, prepared),
            failed=self._on_task_failed,
            progress=self._on_task_progress,
        )

    def _begin(self, label: str, total: int) -> None:
        self._doing = label
        self.busy_changed.emit(True)
        # A second import is refused while this one runs.
        progress = progress_dialog(self.window, "Import photos", label, max(total, 1))
        progress.canceled.connect(self._on_progress_canceled)
        self.progress = progress

    def _end(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect(self._on_progress_canceled)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.task = None
        self.busy_changed.emit(False)

    def cancel(self) -> None:
        self._on_progress_canceled()

    def _on_progress_canceled(self) -> None:
        if self.task is not None:
            self.task.cancel()
            if self.progress is not None:
                self.progress.setLabelText(
                    "Stopping after the photo being saved…"
                    if self._doing.startswith("Importing")
                    else "Stopping the check…"
                )

    def _on_plan_finished(self, lib: Library, request: ImportRequest, prepared: Prepared) -> None:
        cancelled = self.task is not None and self.task.cancelled
        self._end()
        if cancelled or not prepared.plan:
            if not prepared.plan and not cancelled:
                self.show_error("There were no files to import in what you chose.")
            return
        chosen = type(self).ask_preview(self.window, request, prepared)
        if chosen is None or not chosen.items:
            return
        self.align_new = chosen.align
        self._begin("Importing photos…", len(chosen.items))

        def work(task: Task) -> ImportReport:
            report = ImportReport()
            try:
                return import_items(
                    lib,
                    chosen.items,
                    kinds=chosen.kinds,
                    progress=task.report,
                    cancel=lambda: task.cancelled,
                    report=report,
                )
            except LibraryError as exc:
                # Stopped by the library (a full disk): what it recorded before is kept, and
                # must be undoable like any import.
                report.stopped = str(exc)
                return report

        self.task = self.runner.start(
            work,
            finished=lambda report: self._on_import_finished(lib, report),
            failed=self._on_task_failed,
            progress=self._on_task_progress,
        )

    def _on_task_progress(self, done: int, total: int, file: str) -> None:
        stage = "import" if self._doing.startswith("Importing") else "check"
        self.progress_changed.emit(stage, done, total, file)
        progress = self.progress
        if progress is None:
            return
        if not (self.task and self.task.cancelled):
            progress.setLabelText(
                f"{self._doing} {done} of {total}\n{display_path(Path(file).name)}"
            )
        progress.setMaximum(total)
        progress.setValue(done)

    def _on_import_finished(self, lib: Library, report: ImportReport) -> None:
        self._end()
        self.finished.emit(lib, report)
        if report.stopped:
            self.show_error(report.stopped)
        else:
            type(self).show_summary(self.window, report, retest_advice(lib, report))

    def _on_task_failed(self, message: str) -> None:
        self._end()
        self.finished.emit(None, None)
        self.show_error(message)
