"""The import's dialogs: where the photos will land (and the kind of the visits it makes)
before anything is stored, and a summary that lists every refused file with its reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracker.core.db.models import DateSource, VisitKind
from tracker.core.domain import rules
from tracker.core.imaging.decode import Note, NoteKind
from tracker.core.services.import_plan import DuplicateKind, PlannedFile
from tracker.core.services.imports import Duplicate, ImportReport
from tracker.core.text import display_path
from tracker.ui.models import KIND_LABELS

IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.JPG *.JPEG *.PNG *.HEIC *.HEIF *.WEBP *.TIF *.TIFF);;All files (*)"
NEW_VISITS_AS = {
    VisitKind.BASELINE: "Every new visit a baseline",
    VisitKind.TREATMENT: "Every new visit a treatment session",
    VisitKind.CHECK_IN: "Every new visit a check-in (no treatment)",
    VisitKind.FOLLOW_UP: "Every new visit a follow-up",
}
DATE_SOURCES = {
    DateSource.EXIF: "camera date",
    DateSource.FILE: "file date",
    DateSource.GIVEN: "date given",
}


@dataclass(frozen=True)
class ImportRequest:
    paths: list[Path]
    client_id: int
    area_id: int
    area_name: str  # for the dialogs' sentences
    date: dt.date | None  # every photo to this visit date, or None to go by capture date
    kind: VisitKind | None = None  # of the visits the import creates; None: rules.new_visit_kind


class _Table(QTableWidget):
    """Rows grow to fit wrapped reasons once the table knows its real width."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
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


def _name(file: str) -> str:
    """A file's name as people read it, whatever bytes the system gave (see ``readable``)."""
    return display_path(Path(file).name)


def _capital(text: str) -> str:
    """A reason as a sentence of its own: capital first, full stop last."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def landing_kind(entry: PlannedFile, chosen: VisitKind | None) -> VisitKind | None:
    """The kind of the visit a planned file creates, once the person has chosen a kind for the
    new visits (None: the import's own rule, as planned)."""
    if entry.new_kind is None:
        return None
    return rules.new_visit_kind(chosen, has_baseline=entry.new_kind is not VisitKind.BASELINE)


class ImportPreviewDialog(QDialog):
    """Before anything is stored: which visit each photo lands in, which will be refused, and
    (when the import makes visits) what kind of visit they are."""

    def __init__(
        self, parent: QWidget | None, request: ImportRequest, plan: Sequence[PlannedFile]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import photos")
        self.resize(820, 480)
        self.plan = list(plan)
        layout = QVBoxLayout(self)
        good = [p for p in plan if p.lands]
        stored = [p for p in plan if p.duplicate is DuplicateKind.STORED]
        twice = [p for p in plan if p.duplicate is DuplicateKind.GIVEN_TWICE]
        back = [p for p in plan if p.duplicate is DuplicateKind.BROUGHT_BACK]
        new_visits = sorted({p.visit_date for p in good if p.new_kind and p.visit_date})
        where = (
            f"all to the visit on {request.date:%d %b %Y}"
            if request.date
            else "each to the visit on the day it was taken"
        )
        text = f"<b>{len(good)} of {len(plan)} files</b> will be added to <b>{request.area_name}</b>, {where}."
        if new_visits:
            text += f" {len(new_visits)} new visit{'s' if len(new_visits) != 1 else ''} will be created."
        if stored:
            text += f" {len(stored)} {'is' if len(stored) == 1 else 'are'} already in the library and will not be added again."
        if twice:
            text += f" {len(twice)} {'is a copy' if len(twice) == 1 else 'are copies'} of another file given here and will be added once."
        if back:
            text += f" {len(back)} removed earlier will be brought back to {'its visit' if len(back) == 1 else 'their visits'}."
        refused = sum(1 for p in plan if p.problem)
        if refused:
            text += f" {refused} file{'s' if refused != 1 else ''} cannot be imported (see below)."
        summary = QLabel(text, self)
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Kind of the new visits")
        self.kind.addItem("Automatic: the first visit is the baseline, later ones treatments", "")
        for kind in VisitKind:
            self.kind.addItem(NEW_VISITS_AS[kind], kind.value)
        row = QHBoxLayout()
        label = QLabel("New &visits:", self)
        label.setBuddy(self.kind)
        row.addWidget(label)
        row.addWidget(self.kind, 1)
        kind_row = QWidget(self)
        kind_row.setLayout(row)
        kind_row.setVisible(bool(new_visits))
        layout.addWidget(kind_row)
        self.table = _table(self, ["File", "Visit date", "Lands in", "Date from / reason"], [])
        self.table.setAccessibleName("Where each photo will go")
        layout.addWidget(self.table)
        self._fill(None)
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
        self.kind.currentIndexChanged.connect(self._on_kind_changed)

    def chosen_kind(self) -> VisitKind | None:
        value = self.kind.currentData()
        return VisitKind(value) if value else None

    def _on_kind_changed(self, _index: int) -> None:
        self._fill(self.chosen_kind())

    def _fill(self, chosen: VisitKind | None) -> None:
        rows = []
        for p in self.plan:
            name = _name(p.file)
            if p.problem:
                rows.append([name, "", "Will not be imported", _capital(p.problem)])
            elif p.duplicate is DuplicateKind.BROUGHT_BACK:
                rows.append([name, "", "Brought back", "Removed earlier; it returns to its visit"])
            elif p.duplicate is DuplicateKind.GIVEN_TWICE:
                rows.append(
                    [name, "", "Not added again", f"The same photo as {_name(p.duplicate_of)}"]
                )
            elif p.duplicate is DuplicateKind.STORED:
                rows.append([name, "", "Not added again", "Already in the library"])
            else:
                kind = landing_kind(p, chosen)
                visit = (
                    "existing visit"
                    if kind is None
                    else f"new visit ({KIND_LABELS[kind.value].lower()})"
                )
                rows.append(
                    [
                        name,
                        f"{p.visit_date:%d %b %Y}" if p.visit_date else "",
                        visit,
                        DATE_SOURCES[p.date_source] if p.date_source else "",
                    ]
                )
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()

    @classmethod
    def ask(
        cls, parent: QWidget | None, request: ImportRequest, plan: Sequence[PlannedFile]
    ) -> ImportRequest | None:
        """The request to run (with the kind chosen for its new visits), or None to cancel."""
        dialog = cls(parent, request, plan)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return ImportRequest(
            request.paths,
            request.client_id,
            request.area_id,
            request.area_name,
            request.date,
            dialog.chosen_kind(),
        )


NOTE_ADVICE_WINDOW = {
    NoteKind.FUTURE_DATE: "check the camera's clock; you can change the visit's date afterwards",
    NoteKind.STILL_OF_SEQUENCE: "",
}


def window_note(note: Note) -> str:
    """A note about an imported photo as the window says it (the table names the file)."""
    advice = NOTE_ADVICE_WINDOW[note.kind]
    return _capital(f"{note.text}{'; ' + advice if advice else ''}")


def _duplicate_text(d: Duplicate) -> str:
    if d.copy_of:
        return f"The same photo as {_name(d.copy_of)}, added once"
    return "Already in the library" + (
        " (it had been removed; it is back in its visit)" if d.restored else ""
    )


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
        if report.imported or report.brought_back:
            text += " Undo (Ctrl+Z) takes the whole import back."
        noted = [(i.file, n) for i in report.imported for n in i.notes]
        self.summary = QLabel(f"<b>{text}</b>", self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        rows = [[_name(r.file), r.reason or r.error] for r in report.rejected]
        rows += [[_name(d.file), _duplicate_text(d)] for d in report.duplicates]
        rows += [[_name(file), window_note(n)] for file, n in noted]
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
