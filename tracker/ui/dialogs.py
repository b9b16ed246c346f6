"""Small dialogs. Each offers a classmethod ``ask(...)`` returning the answer or None, so tests
can replace it without driving a modal dialog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from tracker.core.db.models import Stage, VisitKind
from tracker.core.domain import rules
from tracker.core.domain.scales import SCALES
from tracker.core.errors import TrackerError
from tracker.core.text import check_name, parse_date_of_birth, written_date
from tracker.ui.help_text import scale_tip, stage_tip
from tracker.ui.models import KIND_LABELS

BODY_SITES = (
    "abdomen",
    "thighs",
    "hips",
    "buttocks",
    "breasts",
    "upper arms",
    "back",
    "calves",
    "other",
)
STAGE_LABELS = {
    Stage.RUBRA: "Red or purple (rubra, newer marks)",
    Stage.ALBA: "White or silvery (alba, older marks)",
    Stage.UNKNOWN: "Not sure",
}


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


def visit_dates_only(edit: QDateEdit) -> QDateEdit:
    """A date field that offers only days a visit can have (``rules.check_visit_date``)."""
    edit.setDateRange(qdate(rules.EARLIEST_VISIT), qdate(dt.date.today() + rules.LATEST_AHEAD))
    return edit


def _name_problem(text: str, what: str) -> str:
    """The sentence saying what is wrong with a typed name, or "" if it will do."""
    try:
        check_name(text, what)
    except TrackerError as exc:
        return str(exc)
    return ""


def confirm(parent: QWidget | None, title: str, question: str, action: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=parent)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


class _Form(QDialog):
    """A form with OK/Cancel that shows a sentence instead of closing when the input is wrong."""

    def __init__(self, parent: QWidget | None, title: str, ok_text: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.problem = QLabel(self)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)  # it may repeat what was typed
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.hide()
        self.layout_.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
        self.layout_.addWidget(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    def check(self) -> str:
        """An empty string if the input will do, else the sentence to show."""
        return ""

    def _on_buttons_accepted(self) -> None:
        problem = self.check()
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return
        self.accept()


@dataclass(frozen=True)
class NewVisit:
    day: dt.date
    kind: VisitKind
    notes: str


class NewVisitDialog(_Form):
    def __init__(
        self, parent: QWidget | None, day: dt.date, kind: VisitKind, taken: set[dt.date]
    ) -> None:
        super().__init__(parent, "New visit", "Add visit")
        self.taken = taken
        self.date = visit_dates_only(QDateEdit(qdate(day), self))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("d MMM yyyy")
        self.date.setAccessibleName("Visit date")
        self.kind = QComboBox(self)
        for k in VisitKind:
            self.kind.addItem(KIND_LABELS[k.value], k)
        self.kind.setCurrentIndex(list(VisitKind).index(kind))
        self.kind.setAccessibleName("Kind of visit")
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("Anything worth remembering about this visit")
        self.notes.setAccessibleName("Visit notes")
        self.notes.setTabChangesFocus(True)
        self.form.addRow("&Date:", self.date)
        self.form.addRow("&Kind:", self.kind)
        self.form.addRow("&Notes:", self.notes)

    def check(self) -> str:
        day = pydate(self.date.date())
        if day in self.taken:
            return f"There is already a visit on {day:%d %b %Y}; choose another date or open that visit."
        return ""

    @classmethod
    def ask(
        cls, parent: QWidget | None, day: dt.date, kind: VisitKind, taken: set[dt.date]
    ) -> NewVisit | None:
        dialog = cls(parent, day, kind, taken)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return NewVisit(
            pydate(dialog.date.date()),
            VisitKind(dialog.kind.currentData()),  # Qt hands an enum back as its str value
            dialog.notes.toPlainText().strip(),
        )


@dataclass(frozen=True)
class AreaAnswer:
    name: str
    body_site: str
    stage: Stage
    scale: str = "ctd"
    control: int | None = None  # the untreated area its measures are compared with


class AreaDialog(_Form):
    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        ok_text: str,
        intro: str = "",
        current: AreaAnswer | None = None,
        controls: Sequence[tuple[int, str]] = (),
    ) -> None:
        super().__init__(parent, title, ok_text)
        if intro:
            intro_label = QLabel(intro, self)
            intro_label.setWordWrap(True)
            self.layout_.insertWidget(0, intro_label)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. Lower abdomen, Left thigh")
        self.name.setAccessibleName("Area name")
        self.site = QComboBox(self)
        self.site.setEditable(True)
        self.site.addItems(BODY_SITES)
        self.site.setAccessibleName("Body site")
        self.stage = QComboBox(self)
        for stage, text in STAGE_LABELS.items():
            self.stage.addItem(text, stage)
            self.stage.setItemData(
                self.stage.count() - 1, stage_tip(stage), Qt.ItemDataRole.ToolTipRole
            )
        self.stage.setToolTip(f"Rubra: {stage_tip(Stage.RUBRA)}\n\nAlba: {stage_tip(Stage.ALBA)}")
        self.stage.setCurrentIndex(2)
        self.stage.setAccessibleName("Colour of the marks")
        self.scale = QComboBox(self)
        for key, scale in SCALES.items():
            self.scale.addItem(scale.name, key)
            self.scale.setItemData(
                self.scale.count() - 1, scale_tip(scale), Qt.ItemDataRole.ToolTipRole
            )
        self.scale.setAccessibleName("Rating scale")
        self.form.addRow("Area &name:", self.name)
        self.form.addRow("&Body site:", self.site)
        self.form.addRow("Colour of the &marks:", self.stage)
        self.form.addRow("Rating &scale:", self.scale)
        self.control = QComboBox(self)  # the client's other areas, offered when editing
        self.control.addItem("None", None)
        for area_id, area_name in controls:
            self.control.addItem(f"{area_name} (left untreated)", area_id)
        self.control.setAccessibleName("Untreated control area, to compare the measures with")
        if controls:
            self.form.addRow("Con&trol area:", self.control)
        else:  # not in the form: hidden, or it sits unlaid over the dialog's corner
            self.control.hide()
        if current is not None:
            self.name.setText(current.name)
            self.site.setCurrentText(current.body_site)
            self.stage.setCurrentIndex(list(STAGE_LABELS).index(current.stage))
            self.scale.setCurrentIndex(list(SCALES).index(current.scale))
            self.control.setCurrentIndex(max(0, self.control.findData(current.control)))
        self.name.setFocus()  # the buttons were made first, and would take it

    def check(self) -> str:
        return _name_problem(self.name.text(), "area name")

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        *,
        title: str = "New area",
        ok_text: str = "Add area",
        intro: str = "",
        current: AreaAnswer | None = None,
        controls: Sequence[tuple[int, str]] = (),
    ) -> AreaAnswer | None:
        dialog = cls(parent, title, ok_text, intro, current, controls)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return AreaAnswer(
            dialog.name.text().strip(),
            dialog.site.currentText().strip(),
            Stage(dialog.stage.currentData()),  # Qt hands an enum back as its str value
            str(dialog.scale.currentData()),
            dialog.control.currentData(),
        )


@dataclass(frozen=True)
class ClientAnswer:
    name: str
    date_of_birth: dt.date | None
    fitzpatrick: int | None
    notes: str


FITZPATRICK = ("Not recorded", "I", "II", "III", "IV", "V", "VI")


class ClientDialog(_Form):
    """A client's name and, optionally, date of birth, Fitzpatrick skin type and notes."""

    def __init__(
        self, parent: QWidget | None, title: str, ok_text: str, current: ClientAnswer | None
    ) -> None:
        super().__init__(parent, title, ok_text)
        self.name = QLineEdit(self)
        self.name.setAccessibleName("Client name")
        # Typed as text, never a date field's sections: what is saved is what was typed (a
        # select-all and "14 Mar 1988" typed into a date field saved "1 Mar 1988"), and an
        # empty field is "not recorded", never a date nobody typed.
        self.dob = QLineEdit(self)
        self.dob.setPlaceholderText("e.g. 14 Mar 1988; leave empty if not recorded")
        self.dob.setAccessibleName("Date of birth")
        self.dob.setMaxLength(40)
        self.dob_read = QLabel(self)
        self.dob_read.setTextFormat(Qt.TextFormat.PlainText)  # it repeats what was typed
        self.dob_read.setWordWrap(True)
        self.dob_read.setStyleSheet("color: palette(placeholder-text)")
        dob_label = QLabel("Date of &birth:", self)
        dob_label.setBuddy(self.dob)
        self.skin = QComboBox(self)
        self.skin.addItems(FITZPATRICK)
        self.skin.setAccessibleName("Fitzpatrick skin type")
        self.notes = QPlainTextEdit(self)
        self.notes.setTabChangesFocus(True)
        self.notes.setAccessibleName("Notes about the client")
        self.form.addRow("&Name:", self.name)
        self.form.addRow(dob_label, self.dob)
        self.form.addRow("", self.dob_read)
        self.form.addRow("&Fitzpatrick skin type:", self.skin)
        self.form.addRow("N&otes:", self.notes)
        if current is not None:
            self.name.setText(current.name)
            if current.date_of_birth is not None:
                self.dob.setText(written_date(current.date_of_birth))
            self.skin.setCurrentIndex(current.fitzpatrick or 0)
            self.notes.setPlainText(current.notes)
        self.dob.textChanged.connect(self._on_dob_text_changed)
        self._on_dob_text_changed(self.dob.text())
        self.name.setFocus()  # the buttons were made first, and would take it

    def date_of_birth(self) -> dt.date | None:
        """The date typed (None: the field is empty); ValidationError when it is not one."""
        return parse_date_of_birth(self.dob.text())

    def _on_dob_text_changed(self, _text: str) -> None:
        """Says how the date typed is read, as it is typed ("Read as 4 March 1988")."""
        try:
            day = self.date_of_birth()
        except TrackerError as exc:
            self.dob_read.setText(str(exc) if len(self.dob.text().strip()) >= 8 else "")
            return
        self.dob_read.setText(
            f"Read as {written_date(day, full=True)}." if day is not None else "Not recorded."
        )

    def check(self) -> str:
        try:
            self.date_of_birth()
        except TrackerError as exc:
            return str(exc)
        return _name_problem(self.name.text(), "client name")

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        *,
        title: str,
        ok_text: str,
        current: ClientAnswer | None = None,
    ) -> ClientAnswer | None:
        dialog = cls(parent, title, ok_text, current)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return ClientAnswer(
            dialog.name.text().strip(),
            dialog.date_of_birth(),
            dialog.skin.currentIndex() or None,
            dialog.notes.toPlainText().strip(),
        )


@dataclass(frozen=True)
class MoveAnswer:
    """Where photos go: an existing visit (``visit_id``) or a new one on ``day``; an area and
    a view (None: unchanged)."""

    visit_id: int | None
    day: dt.date | None
    area_id: int | None
    view: str | None


class MoveDialog(_Form):
    """Move photos to another visit (or a new one on a date), area or view."""

    NEW_VISIT = -1

    def __init__(
        self,
        parent: QWidget | None,
        count: int,
        visits: list[tuple[int, str]],
        areas: list[tuple[int, str]],
        views: list[str],
        current: tuple[int, int, str],
    ) -> None:
        super().__init__(parent, "Move photos", f"Move {count} photo{'s' if count != 1 else ''}")
        self.visit = QComboBox(self)
        for ident, label in visits:
            self.visit.addItem(label, ident)
        self.visit.addItem("A new visit on the date below", self.NEW_VISIT)
        self.visit.setCurrentIndex(max(0, self.visit.findData(current[0])))
        self.visit.setAccessibleName("Visit to move the photos to")
        self.day = visit_dates_only(QDateEdit(QDate.currentDate(), self))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("d MMM yyyy")
        self.day.setAccessibleName("Date of the new visit")
        self.area = QComboBox(self)
        for ident, label in areas:
            self.area.addItem(label, ident)
        self.area.setCurrentIndex(max(0, self.area.findData(current[1])))
        self.area.setAccessibleName("Area the photos show")
        self.view = QComboBox(self)
        self.view.setEditable(True)
        self.view.addItems(views)
        self.view.setCurrentText(current[2])
        self.view.setAccessibleName("View of the photos")
        self.form.addRow("&Visit:", self.visit)
        self.form.addRow("New visit's &date:", self.day)
        self.form.addRow("&Area:", self.area)
        self.form.addRow("Vie&w:", self.view)
        note = QLabel(
            "A photo moved to another area or view leaves its alignment behind; it is aligned "
            "again there. Undo (Ctrl+Z) puts everything back.",
            self,
        )
        note.setWordWrap(True)
        self.layout_.insertWidget(self.layout_.count() - 2, note)
        self.current = current
        self.visit.currentIndexChanged.connect(self._on_visit_changed)
        self._on_visit_changed()

    def _on_visit_changed(self, *_args: object) -> None:
        self.day.setEnabled(self.visit.currentData() == self.NEW_VISIT)

    def check(self) -> str:
        return _name_problem(self.view.currentText(), "view name")

    def answer(self) -> MoveAnswer:
        visit = int(self.visit.currentData())
        area = int(self.area.currentData()) if self.area.count() else None
        view = self.view.currentText().strip()
        return MoveAnswer(
            visit_id=None
            if visit == self.NEW_VISIT
            else (visit if visit != self.current[0] else None),
            day=pydate(self.day.date()) if visit == self.NEW_VISIT else None,
            area_id=area if area != self.current[1] else None,
            view=view if view != self.current[2] else None,
        )

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        count: int,
        visits: list[tuple[int, str]],
        areas: list[tuple[int, str]],
        views: list[str],
        current: tuple[int, int, str],
    ) -> MoveAnswer | None:
        dialog = cls(parent, count, visits, areas, views, current)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        answer = dialog.answer()
        if answer == MoveAnswer(None, None, None, None):
            return None  # nothing to change
        return answer
