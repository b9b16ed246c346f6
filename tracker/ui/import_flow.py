"""Importing photos from the window: where they will land, progress with cancel, and a summary
that lists every refused file with its reason.

Reading dates and the import itself run on the thread pool; the window keeps painting and
answering while they run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressDialog,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracker.core.services.imports import ImportReport, PlannedFile, plan_import
from tracker.core.store.library import Library
from tracker.ui.workers import Task, TaskRunner

IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.JPG *.JPEG *.PNG *.HEIC *.HEIF *.WEBP *.TIF *.TIFF);;All files (*)"


@dataclass(frozen=True)
class ImportRequest:
    paths: list[Path]
    client: str
    area: str
    date: dt.date | None  # every photo to this visit date, or None to go by capture date


def reason_only(file: str, sentence: str) -> str:
    """ "<file> was not imported: the reason." → "The reason." (the table already names the file)."""
    prefix = " was not imported: "
    if prefix in sentence:
        reason = sentence.split(prefix, 1)[1]
        return reason[:1].upper() + reason[1:]
    return sentence


class _Table(QTableWidget):
    """Rows grow to fit wrapped reasons once the table knows its real width."""

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.resizeRowsToContents()


def _table(parent: QWidget, headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = _Table(len(rows), len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.setWordWrap(True)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    for c in range(len(headers) - 1):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    table.resizeRowsToContents()
    return table


class ImportPreviewDialog(QDialog):
    """Before anything is stored: which visit each photo lands in, and which will be refused."""

    def __init__(
        self, parent: QWidget | None, request: ImportRequest, plan: list[PlannedFile]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import photos")
        self.resize(820, 480)
        layout = QVBoxLayout(self)
        good = [p for p in plan if not p.problem and not p.duplicate]
        stored = [p for p in plan if p.duplicate == "already in the library"]
        twice = [p for p in plan if p.duplicate.startswith("the same photo as")]
        back = [p for p in plan if p.duplicate == "brought back"]
        new_visits = sorted(
            {p.visit_date for p in good if p.visit.startswith("new") and p.visit_date}
        )
        where = (
            f"all to the visit on {request.date:%d %b %Y}"
            if request.date
            else "each to the visit on the day it was taken"
        )
        text = f"<b>{len(good)} of {len(plan)} files</b> will be added to <b>{request.area}</b>, {where}."
        if new_visits:
            text += f" {len(new_visits)} new visit{'s' if len(new_visits) != 1 else ''} will be created."
        if stored:
            text += f" {len(stored)} {'is' if len(stored) == 1 else 'are'} already in the library and will not be added again."
        if twice:
            text += f" {len(twice)} {'is a copy' if len(twice) == 1 else 'are copies'} of another file given here and will be added once."
        if back:
            text += f" {len(back)} removed earlier will be brought back to {'its visit' if len(back) == 1 else 'their visits'}."
        refused = len(plan) - len(good) - len(stored) - len(twice) - len(back)
        if refused:
            text += f" {refused} file{'s' if refused != 1 else ''} cannot be imported (see below)."
        summary = QLabel(text, self)
        summary.setWordWrap(True)
        layout.addWidget(summary)
        rows = []
        for p in plan:
            name = Path(p.file).name
            if p.problem:
                rows.append([name, "", "Will not be imported", reason_only(p.file, p.problem)])
            elif p.duplicate == "brought back":
                rows.append([name, "", "Brought back", "Removed earlier; it returns to its visit"])
            elif p.duplicate:
                reason = p.duplicate[:1].upper() + p.duplicate[1:]
                rows.append([name, "", "Not added again", reason])
            else:
                source = (
                    {"exif": "camera date", "file": "file date", "given": "date given"}[
                        p.date_source.value
                    ]
                    if p.date_source
                    else ""
                )
                visit = {
                    "existing": "existing visit",
                    "new baseline": "new visit (baseline)",
                    "new check-in": "new visit",
                }[p.visit]
                rows.append(
                    [name, f"{p.visit_date:%d %b %Y}" if p.visit_date else "", visit, source]
                )
        self.table = _table(self, ["File", "Visit date", "Lands in", "Date from / reason"], rows)
        self.table.setAccessibleName("Where each photo will go")
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(f"Import {len(good)} photo{'s' if len(good) != 1 else ''}")
        if back and not good:
            ok.setText(f"Bring back {len(back)} photo{'s' if len(back) != 1 else ''}")
        ok.setEnabled(bool(good or back))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None, request: ImportRequest, plan: list[PlannedFile]) -> bool:
        return cls(parent, request, plan).exec() == QDialog.DialogCode.Accepted


class ImportSummaryDialog(QDialog):
    """After the import: what was added, what was already there, and every refusal's reason."""

    def __init__(self, parent: QWidget | None, report: ImportReport) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import finished" if not report.cancelled else "Import stopped")
        self.resize(820, 440)
        layout = QVBoxLayout(self)
        parts = [f"{len(report.imported)} photo{'s' if len(report.imported) != 1 else ''} added"]
        if report.duplicates:
            restored = sum(d.restored for d in report.duplicates)
            parts.append(f"{len(report.duplicates)} already in the library")
            if restored:
                parts.append(f"{restored} removed earlier and now restored")
        if report.rejected:
            parts.append(f"{len(report.rejected)} could not be imported")
        text = ", ".join(parts) + "."
        if report.cancelled:
            text = (
                "The import was stopped. "
                + text
                + " The rest were not imported; nothing is half-done."
            )
        warnings = [w for i in report.imported for w in i.warnings]
        self.summary = QLabel(f"<b>{text}</b>", self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        rows = [[Path(r.file).name, reason_only(r.file, r.error)] for r in report.rejected]
        rows += [
            [Path(d.file).name, "Already in the library" + (" (restored)" if d.restored else "")]
            for d in report.duplicates
        ]
        rows += [["", w] for w in warnings]
        self.table = _table(self, ["File", "What happened"], rows)
        self.table.setAccessibleName("Files that were not added, with the reason")
        self.table.setVisible(bool(rows))
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.accept)
        layout.addWidget(buttons)
        if not rows:  # a sentence and a button: no room kept for an empty table
            self.resize(460, self.sizeHint().height())

    @classmethod
    def show_report(cls, parent: QWidget | None, report: ImportReport) -> None:
        cls(parent, report).exec()


class ImportController(QObject):
    """Runs one import at a time: plan → preview → import with progress → summary."""

    finished = Signal(object)  # ImportReport, or None when the import failed
    busy_changed = Signal(bool)
    progress_changed = Signal(int, int, str)  # done, total, file

    # Replaceable in tests.
    ask_preview: Callable[[QWidget | None, ImportRequest, list[PlannedFile]], bool] = (
        ImportPreviewDialog.ask
    )
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
                client=request.client,
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
        if not type(self).ask_preview(self.window, request, plan):
            return
        self._begin("Importing photos…", len(plan))

        def work(task: Task) -> ImportReport:
            return lib.import_files(
                request.paths,
                area=request.area,
                client=request.client,
                date=request.date,
                progress=task.report,
                cancel=lambda: task.cancelled,
            )

        self.task = self.runner.start(
            work,
            finished=self._on_import_finished,
            failed=self._on_task_failed,
            progress=self._on_task_progress,
        )

    def _on_task_progress(self, done: int, total: int, file: str) -> None:
        self.progress_changed.emit(done, total, file)
        progress = self.progress
        if progress is None:
            return
        if not (self.task and self.task.cancelled):
            progress.setLabelText(f"Importing photos… {done} of {total}\n{Path(file).name}")
        progress.setMaximum(total)
        progress.setValue(done)

    def _on_import_finished(self, report: ImportReport) -> None:
        self._end()
        self.finished.emit(report)
        type(self).show_summary(self.window, report)

    def _on_task_failed(self, message: str) -> None:
        self._end()
        self.finished.emit(None)
        self.show_error(message)
