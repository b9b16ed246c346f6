"""The import preview's table: one row per file, what the checked plan found and what the
person chose for it (leave it out, another date, another visit, another area). It decides
nothing itself: where a row lands is worked out from the plan and the choices, and the kind
of each new visit by ``rules.new_visit_kind``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage

from tracker.core.db.models import DateSource, VisitKind
from tracker.core.domain import rules
from tracker.core.services.import_plan import DuplicateKind, PlannedFile
from tracker.core.services.import_report import ImportItem
from tracker.core.text import display_path
from tracker.ui.models import KIND_LABELS

Index = QModelIndex | QPersistentModelIndex
THUMB = QSize(64, 48)


@dataclass(frozen=True)
class VisitChoice:
    """An existing visit a file can be sent to."""

    id: int
    date: dt.date
    kind: VisitKind

    def label(self) -> str:
        return f"{self.date:%d %b %Y} · {KIND_LABELS[self.kind.value]}"


@dataclass
class PlanRow:
    planned: PlannedFile
    include: bool
    area_id: int
    day: dt.date | None = None  # a date the person gave (the photo is dated as given)
    visit_id: int | None = None  # an existing visit the person sent it to

    @property
    def can_land(self) -> bool:
        """Whether the file can be imported at all (not refused, not a copy of one stored)."""
        p = self.planned
        return not p.problem and p.duplicate in (DuplicateKind.NO, DuplicateKind.BROUGHT_BACK)

    @property
    def lands(self) -> bool:
        return self.include and self.can_land and self.planned.duplicate is DuplicateKind.NO

    def landing_day(self) -> dt.date | None:
        if self.visit_id is not None:
            return None
        return self.day or self.planned.visit_date


@dataclass
class Choices:
    """What the person chose in the preview, for the import to do."""

    items: list[ImportItem]
    kinds: dict[dt.date, VisitKind] = field(default_factory=dict)
    align: bool = False  # align the new photos automatically once they are in


@dataclass(frozen=True)
class Counts:
    """What the preview's rows come to."""

    adding: int  # new photos
    left_out: int  # by the person
    refused: int  # cannot be imported
    stored: int  # in the library already, or given twice
    back: int  # removed earlier, brought back


class PlanModel(QAbstractTableModel):
    HEADERS = ("File", "Taken", "Goes to", "Area", "Note")
    changed = Signal()  # after any change the person made

    def __init__(
        self,
        plan: list[PlannedFile],
        area_id: int,
        areas: dict[int, str],
        visits: list[VisitChoice],
        has_baseline: bool,
        date: dt.date | None = None,
    ) -> None:
        super().__init__()
        self.areas = areas
        self.visits = {v.id: v for v in visits}
        self.visit_days = {v.date: v for v in visits}
        self.has_baseline = has_baseline
        self.rows = [PlanRow(p, True, area_id, date) for p in plan]
        self.kind_choice: dict[dt.date, VisitKind] = {}
        self._images: dict[int, QImage] = {}

    # -- what the rows come to ------------------------------------------------------------

    def new_days(self) -> list[dt.date]:
        """The days of the visits the import would make, oldest first."""
        days = {
            day
            for r in self.rows
            if r.lands and (day := r.landing_day()) is not None and day not in self.visit_days
        }
        return sorted(days)

    def new_kind(self, day: dt.date) -> VisitKind:
        """The kind the visit of ``day`` gets: the person's choice, else the rule (the first
        new visit is the baseline when the client has none)."""
        if day in self.kind_choice:
            return self.kind_choice[day]
        days = self.new_days()
        first = bool(days) and day == days[0]
        return rules.new_visit_kind(None, has_baseline=self.has_baseline or not first)

    def choices(self) -> Choices:
        items = []
        for r in self.rows:
            # A refused file or one stored already goes too: the import's summary says why
            # it was not added, as it does for every file given.
            if not r.include:
                continue
            items.append(ImportItem(Path(r.planned.file), r.area_id, r.day, r.visit_id))
        kinds = {day: self.new_kind(day) for day in self.new_days()}
        return Choices(items, kinds)

    def counts(self) -> Counts:
        rows = self.rows
        return Counts(
            adding=sum(r.lands for r in rows),
            left_out=sum(not r.include and r.can_land for r in rows),
            refused=sum(bool(r.planned.problem) for r in rows),
            stored=sum(not r.can_land and not r.planned.problem for r in rows),
            back=sum(r.include and r.planned.duplicate is DuplicateKind.BROUGHT_BACK for r in rows),
        )

    # -- what the person changes ----------------------------------------------------------

    def set_day(self, rows: list[int], day: dt.date) -> None:
        for i in rows:
            self.rows[i] = replace(self.rows[i], day=day, visit_id=None)
        self._changed(rows)

    def send_to_visit(self, rows: list[int], visit_id: int | None) -> None:
        """To an existing visit (None: back to the visit of the day it was taken)."""
        for i in rows:
            self.rows[i] = replace(self.rows[i], visit_id=visit_id, day=None)
        self._changed(rows)

    def set_area(self, rows: list[int], area_id: int) -> None:
        for i in rows:
            self.rows[i] = replace(self.rows[i], area_id=area_id)
        self._changed(rows)

    def set_included(self, rows: list[int], include: bool) -> None:
        for i in rows:
            if self.rows[i].can_land:
                self.rows[i] = replace(self.rows[i], include=include)
        self._changed(rows)

    def set_kind(self, day: dt.date, kind: VisitKind) -> None:
        self.kind_choice[day] = kind
        self._changed(range(len(self.rows)))

    def _changed(self, _rows: Any) -> None:
        # One change can move other rows too (the first new visit, and so the baseline, is
        # another): every row is said again, and the dialog told.
        if self.rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.rows) - 1, len(self.HEADERS) - 1)
            )
        self.changed.emit()

    # -- Qt's model interface -------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0 and self.rows[index.row()].can_land:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and row.can_land:
            return Qt.CheckState.Checked if row.include else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._image(index.row())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(row, col)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        row = self.rows[index.row()]
        if not row.can_land:
            return False
        checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2)
        self.rows[index.row()] = replace(row, include=checked)
        self._changed([index.row()])
        return True

    def _image(self, i: int) -> QImage | None:
        if i not in self._images:
            data = self.rows[i].planned.thumbnail
            image = QImage.fromData(data) if data else QImage()
            self._images[i] = (
                image.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio)
                if not image.isNull()
                else QImage()
            )
        image = self._images[i]
        return image if not image.isNull() else None

    def _text(self, row: PlanRow, col: int) -> str:
        p = row.planned
        if col == 0:
            return display_path(Path(p.file).name)
        if col == 1:
            if row.day is not None:
                return f"{row.day:%d %b %Y} (given)"
            if p.day is None:
                return ""
            return f"{p.day:%d %b %Y}" + (
                " (file date)" if p.date_source is DateSource.FILE else ""
            )
        if col == 2:
            return self._goes_to(row)
        if col == 3:
            return self.areas.get(row.area_id, "") if row.can_land else ""
        return self._note(row)

    def _goes_to(self, row: PlanRow) -> str:
        p = row.planned
        if p.problem:
            return "Will not be imported"
        if p.duplicate is DuplicateKind.STORED or p.duplicate is DuplicateKind.GIVEN_TWICE:
            return "Not added again"
        if not row.include:
            return "Left out (tick it to import it)"
        if p.duplicate is DuplicateKind.BROUGHT_BACK:
            return "Brought back to its visit"
        if row.visit_id is not None:
            return self.visits[row.visit_id].label()
        day = row.landing_day()
        if day is None:
            return ""
        if day in self.visit_days:
            return self.visit_days[day].label()
        return f"New visit {day:%d %b %Y} ({KIND_LABELS[self.new_kind(day).value].lower()})"

    def _note(self, row: PlanRow) -> str:
        p = row.planned
        if p.problem:
            return p.problem[:1].upper() + p.problem[1:] + ("" if p.problem.endswith(".") else ".")
        if p.duplicate is DuplicateKind.STORED:
            return "Already in the library."
        if p.duplicate is DuplicateKind.GIVEN_TWICE:
            return f"The same photo as {display_path(Path(p.duplicate_of).name)}."
        if p.duplicate is DuplicateKind.BROUGHT_BACK:
            return "Removed earlier; importing it brings it back."
        if row.day is None and p.date_source is DateSource.FILE and p.day is not None:
            return (
                f"No camera date; using the file's date, {p.day:%d %b %Y}. "
                "Set the date if that is not when it was taken."
            )
        return ""
