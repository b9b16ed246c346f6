"""Running an import from the window: plan → preview → import with progress → summary.

Reading dates and the import itself run on the thread pool; the window keeps painting and
answering while they run. The finished import is handed on (``finished``) for the window to
make it one undoable step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from tracker.core.errors import LibraryError
from tracker.core.services.import_plan import PlannedFile, plan_import
from tracker.core.services.imports import ImportReport, import_files
from tracker.core.store.library import Library
from tracker.core.text import display_path
from tracker.ui.main.import_dialogs import ImportPreviewDialog, ImportRequest, ImportSummaryDialog
from tracker.ui.workers import Task, TaskRunner


class ImportController(QObject):
    """Runs one import at a time: plan → preview → import with progress → summary."""

    finished = Signal(object, object)  # the Library and its ImportReport (None: it failed)
    busy_changed = Signal(bool)
    progress_changed = Signal(int, int, str)  # done, total, file

    # Replaceable in tests.
    ask_preview: Callable[
        [QWidget | None, ImportRequest, Sequence[PlannedFile]], ImportRequest | None
    ] = ImportPreviewDialog.ask
    show_summary: Callable[[QWidget | None, ImportReport], None] = ImportSummaryDialog.show_report

    def __init__(
        self, window: QWidget, runner: TaskRunner, show_error: Callable[[str], None]
    ) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.show_error = show_error
        self.task: Task | None = None
        self.progress: QProgressDialog | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(self, lib: Library, request: ImportRequest) -> None:
        if self.busy:
            self.show_error("An import is already running; wait for it to finish or cancel it.")
            return
        self._begin("Reading the photos' dates…", len(request.paths))
        self.task = self.runner.start(
            lambda task: plan_import(
                lib,
                request.paths,
                client_id=request.client_id,
                date=request.date,
                cancel=lambda: task.cancelled,
            ),
            finished=lambda plan: self._on_plan_finished(lib, request, plan),
            failed=self._on_task_failed,
        )

    def _begin(self, label: str, total: int) -> None:
        self.busy_changed.emit(True)
        progress = QProgressDialog(label, "Cancel", 0, max(total, 1), self.window)
        progress.setWindowTitle("Import photos")
        # Not modal: a modal QProgressDialog runs the event loop inside setValue(), which would
        # let the end of the task arrive in the middle of a progress update. The window stays
        # usable during an import; a second import is refused while this one runs.
        progress.setWindowModality(Qt.WindowModality.NonModal)
        progress.setMinimumDuration(300)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
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
                self.progress.setLabelText("Stopping after the photo being saved…")

    def _on_plan_finished(
        self, lib: Library, request: ImportRequest, plan: list[PlannedFile]
    ) -> None:
        cancelled = self.task is not None and self.task.cancelled
        self._end()
        if cancelled or not plan:
            if not plan and not cancelled:
                self.show_error("There were no files to import in what you chose.")
            return
        chosen = type(self).ask_preview(self.window, request, plan)
        if chosen is None:
            return
        self._begin("Importing photos…", len(plan))

        def work(task: Task) -> ImportReport:
            report = ImportReport()
            try:
                return import_files(
                    lib,
                    chosen.paths,
                    chosen.area_id,
                    date=chosen.date,
                    kind=chosen.kind,
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
        self.progress_changed.emit(done, total, file)
        progress = self.progress
        if progress is None:
            return
        if not (self.task and self.task.cancelled):
            progress.setLabelText(
                f"Importing photos… {done} of {total}\n{display_path(Path(file).name)}"
            )
        progress.setMaximum(total)
        progress.setValue(done)

    def _on_import_finished(self, lib: Library, report: ImportReport) -> None:
        self._end()
        self.finished.emit(lib, report)
        if report.stopped:
            self.show_error(report.stopped)
        else:
            type(self).show_summary(self.window, report)

    def _on_task_failed(self, message: str) -> None:
        self._end()
        self.finished.emit(None, None)
        self.show_error(message)
