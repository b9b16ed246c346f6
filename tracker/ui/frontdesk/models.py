"""The front desk's two tables, as thin models over ``queries.front_desk``'s rows: the clients
(name, next visit) and one client's visits (date, kind, whether it is still to come)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from tracker.core.queries.front_desk import DeskClient, DeskVisit
from tracker.core.text import written_date
from tracker.ui.models import KIND_LABELS, IdRole

Index = QModelIndex | QPersistentModelIndex
_DISPLAY, _TIP = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole


def when(day: dt.date, today: dt.date) -> str:
    """How far a visit is from today, as the desk says it: "today", "in 3 days", "past"."""
    days = (day - today).days
    if days < 0:
        return "Past"
    if days == 0:
        return "Today"
    if days == 1:
        return "Tomorrow"
    return f"In {days} days"


class _Rows(QAbstractTableModel):
    """A table of rows with an ``id``, under ``HEADERS``: what both of the desk's tables share."""

    HEADERS: tuple[str, ...] = ()
    rows: list[Any]

    def row_of(self, ident: int | None) -> int | None:
        return next((n for n, r in enumerate(self.rows) if r.id == ident), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY:
            return self.HEADERS[section]
        return None


class ClientsModel(_Rows):
    """The clients shown (after the search): name, and the next visit booked."""

    HEADERS = ("Client", "Next visit")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[DeskClient] = []

    def set_rows(self, rows: Sequence[DeskClient]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == IdRole:
            return row.id
        if role not in (_DISPLAY, _TIP):
            return None
        if index.column() == 0:
            if role == _TIP:
                return f"{row.name}: {row.visits} visit{'' if row.visits == 1 else 's'}"
            return row.name
        if row.next_visit is None:
            return "none booked" if role == _DISPLAY else "No visit is booked from today on."
        return written_date(row.next_visit)


class VisitsModel(_Rows):
    """One client's visits, the latest first: date, kind, and how far from today."""

    HEADERS = ("Date", "Kind", "When")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[DeskVisit] = []
        self.today = dt.date.today()

    def set_rows(self, rows: Sequence[DeskVisit], today: dt.date | None = None) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.today = today or dt.date.today()
        self.endResetModel()

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == IdRole:
            return row.id
        if role != _DISPLAY:
            return None
        if index.column() == 0:
            return written_date(row.date)
        if index.column() == 1:
            return KIND_LABELS[row.kind.value]
        return when(row.date, self.today)
