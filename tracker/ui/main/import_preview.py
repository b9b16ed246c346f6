"""The import preview: before anything is stored, every file with a thumbnail, the date it
was taken, the visit it goes to and what was found wrong with it. The person can leave files
out, give a date, send files to another visit or area, and choose the kind of each visit the
import makes; the counts above the table follow every change."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from PySide6.QtCore import QDate
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from tracker.core.db.models import VisitKind
from tracker.core.services.import_plan import PlannedFile
from tracker.ui.dialogs import pydate, qdate, visit_dates_only
from tracker.ui.main.import_dialogs import ImportRequest
from tracker.ui.main.plan_model import THUMB, Choices, PlanModel, VisitChoice
from tracker.ui.models import KIND_LABELS

T = TypeVar("T")
ROWS_FITTED = 400  # up to this many rows grow to show a whole note; beyond, its tooltip does


@dataclass(frozen=True)
class Prepared:
    """What the preview needs besides the plan: the client's areas and visits."""

    plan: list[PlannedFile]
    areas: dict[int, str]
    visits: list[VisitChoice]
    has_baseline: bool


class _Table(QTableView):
    """Rows grow to show a whole note once the table knows its real width."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        model = self.model()
        if model is not None and model.rowCount() <= ROWS_FITTED:
            self.resizeRowsToContents()


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _ask(
    parent: QWidget, title: str, label: str, field: QWidget, ok: str, read: Callable[[], T]
) -> T | None:
    """A small dialog of one field: ``read()`` of it when the person chose OK, else None."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    layout = QVBoxLayout(dialog)
    form = QFormLayout()
    form.addRow(label, field)  # the dialog owns the field from here on
    layout.addLayout(form)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    try:
        return read() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


class ImportPreviewDialog(QDialog):
    """Where each file goes, what is wrong with it, and the person's changes to that."""

    def __init__(self, parent: QWidget | None, request: ImportRequest, prepared: Prepared) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import photos")
        screen = self.screen().availableGeometry()
        self.resize(min(1000, screen.width() - 40), min(620, screen.height() - 60))
        self.model = PlanModel(
            prepared.plan,
            request.area_id,
            prepared.areas,
            prepared.visits,
            prepared.has_baseline,
            request.date,
        )
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        self.table = _Table(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Where each photo will go")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(THUMB)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 8)
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount() - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((210, 150, 215, 80)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)

        row = QHBoxLayout()
        row.addWidget(QLabel("For the selected files:", self))
        self.set_date = QPushButton("Set &date…", self)
        self.set_date.setToolTip("Date the selected photos as taken on a day you choose")
        self.to_visit = QPushButton("Send to &visit…", self)
        self.to_visit.setToolTip("Put the selected photos in a visit the client already has")
        self.to_area = QPushButton("&Area…", self)
        self.to_area.setToolTip("Put the selected photos in another of the client's areas")
        self.leave_out = QPushButton("&Leave out", self)
        self.take_in = QPushButton("&Include", self)
        for button in (self.set_date, self.to_visit, self.to_area, self.leave_out, self.take_in):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.to_visit.setEnabled(bool(prepared.visits))
        self.to_area.setEnabled(len(prepared.areas) > 1)

        self.kinds_box = QGroupBox("Visits this import makes", self)
        self.kinds_form = QFormLayout()
        self.kinds_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        inner = QWidget()
        inner.setLayout(self.kinds_form)
        scroll = QScrollArea(self.kinds_box)
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setMaximumHeight(130)
        box_layout = QVBoxLayout(self.kinds_box)
        box_layout.addWidget(scroll)
        layout.addWidget(self.kinds_box)

        self.align = QCheckBox("Align the &new photos automatically", self)
        self.align.setChecked(request.align)
        self.align.setToolTip(
            "Once they are in, each new photo is lined up with the first photo of its area and "
            "view, in the background. Undo takes it back; a photo it is not sure of is left for "
            "you to align on points in the compare window."
        )
        layout.addWidget(self.align)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.set_date.clicked.connect(self._on_set_date_clicked)
        self.to_visit.clicked.connect(self._on_to_visit_clicked)
        self.to_area.clicked.connect(self._on_to_area_clicked)
        self.leave_out.clicked.connect(self._on_leave_out_clicked)
        self.take_in.clicked.connect(self._on_take_in_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.changed.connect(self._refresh)
        # The kind chooser of each new visit, by its day.
        self.kind_choosers: dict[dt.date, QComboBox] = {}
        self._refresh()
        self._on_selection_changed()

    # -- what the dialog shows ------------------------------------------------------------

    def _refresh(self) -> None:
        counts = self.model.counts()
        total = len(self.model.rows)
        new = self.model.new_days()
        names = sorted(
            {self.model.areas.get(r.area_id, "") for r in self.model.rows if r.lands},
            key=str.casefold,
        )
        where = (
            " to " + " and ".join(f"<b>{html.escape(n)}</b>" for n in names)
            if 1 <= len(names) <= 2
            else f" to {len(names)} areas"
            if names
            else ""
        )
        text = f"<b>{counts.adding} of {_plural(total, 'file')}</b> will be added{where}"
        text += f", making {_plural(len(new), 'new visit')}." if new else "."
        if counts.back:
            text += f" {counts.back} removed earlier will be brought back."
        if counts.stored:
            text += (
                f" {counts.stored} {'is' if counts.stored == 1 else 'are'} in the library already."
            )
        if counts.refused:
            text += f" {counts.refused} cannot be imported (the Note column says why)."
        if counts.left_out:
            text += f" You left out {counts.left_out}."
        self.summary.setText(text)
        if counts.adding:
            self.ok.setText(f"Import {_plural(counts.adding, 'photo')}")
        elif counts.back:
            self.ok.setText(f"Bring back {_plural(counts.back, 'photo')}")
        else:
            self.ok.setText("Import")
        self.ok.setEnabled(bool(counts.adding or counts.back))
        self._fill_kinds(new)
        if len(self.model.rows) <= ROWS_FITTED:
            self.table.resizeRowsToContents()

    def _fill_kinds(self, days: list[dt.date]) -> None:
        self.kinds_box.setVisible(bool(days))
        if days == list(self.kind_choosers):
            for day, combo in self.kind_choosers.items():
                combo.blockSignals(True)
                combo.setCurrentIndex(list(VisitKind).index(self.model.new_kind(day)))
                combo.blockSignals(False)
            return
        while self.kinds_form.rowCount():
            self.kinds_form.removeRow(0)
        self.kind_choosers = {}
        for day in days:
            combo = QComboBox()
            for kind in VisitKind:
                combo.addItem(KIND_LABELS[kind.value], kind.value)
            combo.setCurrentIndex(list(VisitKind).index(self.model.new_kind(day)))
            combo.setAccessibleName(f"Kind of the new visit on {day:%d %b %Y}")
            combo.currentIndexChanged.connect(
                lambda _i, d=day, c=combo: self.model.set_kind(d, VisitKind(c.currentData()))
            )
            self.kinds_form.addRow(f"{day:%d %b %Y}:", combo)
            self.kind_choosers[day] = combo

    def selected(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def _on_selection_changed(self, *_args: object) -> None:
        rows = [r for r in self.selected() if self.model.rows[r].can_land]
        for button in (self.set_date, self.leave_out, self.take_in):
            button.setEnabled(bool(rows))
        self.to_visit.setEnabled(bool(rows) and bool(self.model.visits))
        self.to_area.setEnabled(bool(rows) and len(self.model.areas) > 1)

    # -- the person's changes -------------------------------------------------------------

    def _importable(self) -> list[int]:
        return [r for r in self.selected() if self.model.rows[r].can_land]

    def _on_set_date_clicked(self) -> None:
        rows = self._importable()
        if not rows:
            return
        first = self.model.rows[rows[0]]
        start = first.day or first.planned.day or dt.date.today()
        edit = visit_dates_only(QDateEdit(qdate(start)))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")
        edit.setMaximumDate(QDate.currentDate())
        edit.setAccessibleName("Date the photos were taken")
        label = f"{_plural(len(rows), 'photo')} taken on:"
        day = _ask(self, "Set the date", label, edit, "Set date", lambda: pydate(edit.date()))
        if day is not None:
            self.model.set_day(rows, day)

    def _on_to_visit_clicked(self) -> None:
        rows = self._importable()
        if not rows:
            return
        combo = QComboBox()
        combo.addItem("The visit of the day each was taken", None)
        for visit in sorted(self.model.visits.values(), key=lambda v: v.date, reverse=True):
            combo.addItem(visit.label(), visit.id)
        combo.setAccessibleName("Visit to send the photos to")
        ident = _ask(
            self, "Send to a visit", "Visit:", combo, "Send", lambda: combo.currentData() or 0
        )
        if ident is not None:
            self.model.send_to_visit(rows, int(ident) or None)  # 0: the visit of its day

    def _on_to_area_clicked(self) -> None:
        rows = self._importable()
        if not rows:
            return
        combo = QComboBox()
        for ident, name in sorted(self.model.areas.items(), key=lambda a: a[1].casefold()):
            combo.addItem(name, ident)
        combo.setCurrentIndex(max(0, combo.findData(self.model.rows[rows[0]].area_id)))
        combo.setAccessibleName("Area the photos show")
        area = _ask(
            self, "Choose the area", "Area:", combo, "Choose", lambda: int(combo.currentData())
        )
        if area is not None:
            self.model.set_area(rows, area)

    def _on_leave_out_clicked(self) -> None:
        self.model.set_included(self._importable(), False)

    def _on_take_in_clicked(self) -> None:
        self.model.set_included(self._importable(), True)

    @classmethod
    def ask(
        cls, parent: QWidget | None, request: ImportRequest, prepared: Prepared
    ) -> Choices | None:
        """What to import and where, or None to cancel."""
        dialog = cls(parent, request, prepared)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return replace(dialog.model.choices(), align=dialog.align.isChecked())
