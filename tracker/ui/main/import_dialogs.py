"""The import's request and its summary dialog, which lists every file that was not added
(or that has a note) with the reason, and the capture checks that warned, each with what to do
next time. The preview before it is ``import_preview``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracker.core.imaging.facts import Note, NoteKind
from tracker.core.queries import browse
from tracker.core.services.import_report import Duplicate, ImportReport
from tracker.core.store.library import Library
from tracker.core.text import display_path
from tracker.ui.help_window import PHOTO_HELP_ACTION

IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.JPG *.JPEG *.PNG *.HEIC *.HEIF *.WEBP *.TIF *.TIFF);;All files (*)"


@dataclass(frozen=True)
class ImportRequest:
    paths: list[Path]
    client_id: int
    area_id: int
    area_name: str  # for the dialogs' sentences
    date: dt.date | None  # every photo to this visit date, or None to go by capture date
    align: bool = False  # what the preview offers for aligning the new photos automatically


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


NOTE_ADVICE_WINDOW = {
    NoteKind.FUTURE_DATE: "check the camera's clock; you can change the visit's date afterwards",
    NoteKind.STILL_OF_SEQUENCE: "",
}


def window_note(note: Note) -> str:
    """A note about an imported photo as the window says it (the table names the file)."""
    advice = NOTE_ADVICE_WINDOW[note.kind]
    return _capital(f"{note.text}{'; ' + advice if advice else ''}")


PHOTO_TIPS = (
    "Photos compare best when each is taken alike: the same place, light and distance, the "
    "phone held still and square to the skin, no flash, and the calibration card (Help ▸ "
    "Print a calibration card) lying flat beside the marks."
)


def retest_advice(lib: Library, report: ImportReport, today: dt.date | None = None) -> str:
    """When the photos went into today's baseline visit and it has one photo of a view, why a
    second one of that view today helps (issue 18's repeatability band); else ""."""
    if report.client_id is None or report.area_id is None or not report.imported:
        return ""
    rows = browse.timeline(lib, report.client_id, report.area_id)
    baseline = next((r for r in rows if r.days_since_baseline == 0 and r.photos), None)
    day = today or dt.date.today()
    if baseline is None or baseline.date != day:
        return ""
    if baseline.id not in {i.visit_id for i in report.imported}:
        return ""
    single = [v for v, n in Counter(p.view for p in baseline.photos).items() if n == 1]
    if not single:
        return ""
    return (
        f"The baseline has one photo of the view “{single[0]}”: a second one taken today, the "
        "same way, shows how much the measures move by chance alone, so that later changes "
        "smaller than that are not read as progress."
    )


def _duplicate_text(d: Duplicate) -> str:
    if d.copy_of:
        return f"The same photo as {_name(d.copy_of)}, added once"
    return "Already in the library" + (
        " (it had been removed; it is back in its visit)" if d.restored else ""
    )


class ImportSummaryDialog(QDialog):
    """After the import: what was added, what was already there, and every refusal's reason."""

    def __init__(self, parent: QWidget | None, report: ImportReport, advice: str = "") -> None:
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
        layout.addWidget(self.table, 1)
        # The capture checks warn and never refuse: the photos are in; this is for next time.
        checks = [[_name(i.file), m] for i in report.imported for m in i.capture_warnings]
        warned = len({i.file for i in report.imported if i.capture_warnings})
        self.checks_label = QLabel(
            "One photo may not compare well with the others: it is in the library all the "
            "same, and the note says what to do when you next take it."
            if warned == 1
            else f"{warned} photos may not compare well with the others: they are in the "
            "library all the same, and the notes say what to do when you next take them.",
            self,
        )
        self.checks_label.setWordWrap(True)
        self.checks = _table(self, ["Photo", "Capture check"], checks)
        self.checks.setAccessibleName("Capture checks that warned, with what to do")
        for widget in (self.checks_label, self.checks):
            widget.setVisible(bool(checks))
            layout.addWidget(widget)
        layout.setStretchFactor(self.checks, 1)
        self.tips = QLabel(PHOTO_TIPS, self)
        self.tips.setWordWrap(True)
        self.tips.setVisible(bool(report.imported))
        layout.addWidget(self.tips)
        self.advice = QLabel(f"<b>{advice}</b>" if advice else "", self)  # a retest pair
        self.advice.setWordWrap(True)
        self.advice.setVisible(bool(advice))
        layout.addWidget(self.advice)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.accept)
        self._add_photo_help(buttons, parent, bool(report.imported))
        layout.addWidget(buttons)
        if not rows and not checks:  # sentences and a button: no room kept for empty tables
            self.resize(520, self.sizeHint().height())

    def _add_photo_help(
        self, buttons: QDialogButtonBox, parent: QWidget | None, shown: bool
    ) -> None:
        """A button to the help's photo topic, from the main window's action for it."""
        action = parent.findChild(QAction, PHOTO_HELP_ACTION) if parent is not None else None
        if action is None or not shown:
            return
        button = buttons.addButton(action.text(), QDialogButtonBox.ButtonRole.HelpRole)
        button.clicked.connect(self.accept)  # first: the help is not to open behind this modal
        button.clicked.connect(action.trigger)

    @classmethod
    def show_report(cls, parent: QWidget | None, report: ImportReport, advice: str = "") -> None:
        cls(parent, report, advice).exec()
