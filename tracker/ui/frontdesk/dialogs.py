"""The front desk's three forms: a new client (name and, if known, date of birth), a visit
booked (date, kind, a note for the practitioner) and a booked visit moved (date and kind).
They are the main window's forms with what the front desk does not write left out; each
offers ``ask(...)`` returning the answer or None."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QWidget

from tracker.core.db.models import VisitKind
from tracker.core.text import written_date
from tracker.ui.dialogs import ClientDialog, NewVisit, NewVisitDialog, pydate, qdate

NOTE_HINT = "A note for the practitioner (the front desk does not see it again)"


@dataclass(frozen=True)
class NewClient:
    name: str
    date_of_birth: dt.date | None


class NewClientDialog(ClientDialog):
    """A client's name and date of birth: the skin type and notes are the practitioner's."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent, "Add client", "Add client", None)
        self.form.setRowVisible(self.skin, False)
        self.form.setRowVisible(self.notes, False)

    @classmethod
    def ask_new(cls, parent: QWidget | None) -> NewClient | None:
        dialog = cls(parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return NewClient(dialog.name.text().strip(), dialog.date_of_birth())


class BookDialog(NewVisitDialog):
    """A visit's date, kind and a note; a day the client has a visit on is refused here."""

    TITLE, OK = "Book a visit", "Book visit"

    def __init__(
        self,
        parent: QWidget | None,
        client: str,
        day: dt.date,
        kind: VisitKind,
        taken: set[dt.date],
    ) -> None:
        super().__init__(parent, day, kind, taken)
        self.client = client
        self.setWindowTitle(f"{self.TITLE} — {client}")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.OK)
        self.notes.setPlaceholderText(NOTE_HINT)
        self.notes.setAccessibleName("A note for the practitioner")
        self.notes.setMaximumHeight(self.fontMetrics().lineSpacing() * 5)
        self.date.setMinimumDate(qdate(dt.date.today()))  # a booking is from today on
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def check(self) -> str:
        day = pydate(self.date.date())
        if day in self.taken:
            return f"{self.client} already has a visit on {written_date(day)}; choose another date."
        return ""

    @classmethod
    def ask_for(
        cls,
        parent: QWidget | None,
        client: str,
        day: dt.date,
        kind: VisitKind,
        taken: set[dt.date],
    ) -> NewVisit | None:
        dialog = cls(parent, client, day, kind, taken)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        notes = dialog.notes.toPlainText().strip() if dialog.notes.isVisibleTo(dialog) else ""
        return NewVisit(pydate(dialog.date.date()), VisitKind(dialog.kind.currentData()), notes)


class MoveDialog(BookDialog):
    """A booked visit's new date and kind (its notes are not the front desk's to change)."""

    TITLE, OK = "Change a booked visit", "Save"

    def __init__(
        self,
        parent: QWidget | None,
        client: str,
        day: dt.date,
        kind: VisitKind,
        taken: set[dt.date],
    ) -> None:
        super().__init__(parent, client, day, kind, taken)
        self.form.setRowVisible(self.notes, False)
