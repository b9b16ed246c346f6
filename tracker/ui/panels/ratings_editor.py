"""The visit panel's ratings: every rating of the area at the visit, on any scale and by any
rater, plus a column for the user on the area's default scale, and *Add a rating…* (scale,
role, rater, method) for another. A scale is a box with one column per rater; POSAS's patient
and observer forms stand side by side, each with its total. Layout only: an edit announces the
rater's column and the column's values; nothing is stored until a value is given."""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tracker.core.db.models import RaterRole, RatingMethod
from tracker.core.domain.instruments import Rater
from tracker.core.domain.scales import SCALES, Analysis, Scale, get_scale
from tracker.core.queries.rows import RatingRow
from tracker.core.text import MAX_NAME
from tracker.ui.help_text import scale_tip
from tracker.ui.panels.fitting import FlowLayout
from tracker.ui.panels.wheel import guard_wheel

NOT_GIVEN = "—"
METHOD_LABELS = {RatingMethod.IN_PERSON: "in person", RatingMethod.PHOTOS: "from photos"}


@dataclass(frozen=True)
class RaterColumn:
    """One rater's rating on one scale: what an edit in the editor is of. ``method`` is how a
    new rating was made, or a change of it; None keeps an existing rating's."""

    scale: str
    role: RaterRole
    name: str
    method: RatingMethod | None = None

    @property
    def key(self) -> tuple[str, RaterRole, str]:
        return (self.scale, self.role, self.name)


def _box(lo: int, hi: int, whole: bool) -> QAbstractSpinBox:
    """A score box whose lowest value (just below the scale's) means "not rated"."""
    box: QSpinBox | QDoubleSpinBox
    if whole:
        box = QSpinBox()
        box.setRange(lo - 1, hi)
    else:
        box = QDoubleSpinBox()
        box.setDecimals(1)
        box.setSingleStep(0.5)
        box.setRange(lo - 0.1, hi)  # one step below the scale: "not rated"
    box.setSpecialValueText(NOT_GIVEN)
    box.setKeyboardTracking(False)
    box.setMinimumWidth(60)
    guard_wheel(box)
    return box


class AddRatingDialog(QDialog):
    """Which rating to add: the scale, who rates (role and name) and how (in person, from
    photos). The name starts as the user's own (Preferences) for their role."""

    def __init__(self, parent: QWidget | None, me: Rater, client: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a rating")
        self.me, self.client = me, client
        self.scale = QComboBox(self)
        for key, scale in SCALES.items():
            self.scale.addItem(scale.name, key)
            self.scale.setItemData(
                self.scale.count() - 1, scale_tip(scale), Qt.ItemDataRole.ToolTipRole
            )
        self.role = QComboBox(self)
        self.name = QLineEdit(self)
        self.name.setMaxLength(MAX_NAME)
        self.method = QComboBox(self)
        for method, label in METHOD_LABELS.items():
            self.method.addItem(label, method)
        form = QFormLayout(self)
        form.addRow("&Scale:", self.scale)
        form.addRow("Rated &by:", self.role)
        form.addRow("Rater's &name:", self.name)
        form.addRow("&How:", self.method)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text)")
        form.addRow(self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.scale.currentIndexChanged.connect(self._on_scale_changed)
        self.role.currentIndexChanged.connect(self._on_role_changed)
        self._on_scale_changed()

    def _on_scale_changed(self, *_args: object) -> None:
        scale = get_scale(str(self.scale.currentData()))
        current = self.role.currentData()
        self.role.blockSignals(True)
        self.role.clear()
        for role in sorted(scale.roles, key=lambda r: r.value):
            self.role.addItem(role.value.capitalize(), role)
        wanted = current if current in scale.roles else self.me.role
        found = self.role.findData(wanted)
        self.role.setCurrentIndex(max(found, 0))
        self.role.blockSignals(False)
        self._on_role_changed()

    def _on_role_changed(self, *_args: object) -> None:
        role = RaterRole(self.role.currentData())  # Qt hands an enum back as its str value
        self.name.setText(self.me.name if role is self.me.role else "")
        if role is RaterRole.PATIENT:
            self.name.setPlaceholderText(f"{self.client} (the client)")
            self.note.setText("Leave the name empty when the client rates.")
        else:
            self.name.setPlaceholderText("e.g. Dr Lee")
            self.note.setText(
                "Two practitioners rating one visit are two ratings: give each their name."
            )

    def column(self) -> RaterColumn:
        return RaterColumn(
            str(self.scale.currentData()),
            RaterRole(self.role.currentData()),
            self.name.text().strip(),
            RatingMethod(self.method.currentData()),
        )

    @classmethod
    def ask(cls, parent: QWidget | None, me: Rater, client: str) -> RaterColumn | None:
        dialog = cls(parent, me, client)
        return dialog.column() if dialog.exec() == QDialog.DialogCode.Accepted else None


class RatingsEditor(QGroupBox):
    """Every rating of the area at the visit; a box at "—" is not rated."""

    changed = Signal(object, dict)  # RaterColumn, {item: value or None}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Ratings", parent)
        self._layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.about = QLabel(self)
        self.about.setTextFormat(Qt.TextFormat.PlainText)  # it names the user
        self.about.setWordWrap(True)
        self.about.setStyleSheet("color: palette(placeholder-text)")
        self.add_button = QPushButton("&Add a rating…", self)
        self.add_button.setToolTip("Rate on another scale, or as another rater")
        top.addWidget(self.about, 1)
        top.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addLayout(top)
        self.host = QWidget(self)
        self._layout.addWidget(self.host)
        self.columns: list[RaterColumn] = []
        self.boxes: dict[tuple[RaterColumn, str], QAbstractSpinBox] = {}
        self.methods: dict[RaterColumn, QComboBox] = {}
        self.totals: dict[RaterColumn, QLabel] = {}
        self.me = Rater(RaterRole.PATIENT, "")
        self.client = ""
        self.default_scale = get_scale("ctd")
        self._pending: list[RaterColumn] = []
        self._rows: tuple[RatingRow, ...] = ()
        self._shape: tuple[object, ...] = ()
        self._filling = False
        self.add_button.clicked.connect(self._on_add_clicked)

    # -- what is shown ------------------------------------------------------------------------

    def show_ratings(
        self,
        default_scale: Scale,
        ratings: Sequence[RatingRow],
        me: Rater,
        client: str,
        *,
        new_place: bool = False,
    ) -> None:
        """Show ``ratings`` (every rating of the area at the visit), the user's column on the
        default scale, and the columns added but not yet rated (forgotten when ``new_place``:
        another visit or area)."""
        if new_place:
            self._pending = []
        self._rows = tuple(ratings)
        self.default_scale, self.me, self.client = default_scale, me, client
        # A rating on a scale of a newer version is shown in the timeline, not edited here.
        ratings = [r for r in ratings if r.scale_key in SCALES]
        stored = {(r.scale_key, r.role, r.rater_name): r for r in ratings}
        columns = [RaterColumn(r.scale_key, r.role, r.rater_name) for r in ratings]
        # The default scale is always there to rate: as the user, or, on a scale the user's
        # role does not rate (POSAS observer in patient mode), as each role that does.
        if me.role in default_scale.roles:
            wanted = [RaterColumn(default_scale.key, me.role, me.name)]
        else:
            wanted = [RaterColumn(default_scale.key, r, "") for r in sorted(default_scale.roles)]
        columns += [c for c in wanted if c.key not in stored]
        self._pending = [c for c in self._pending if c.key not in stored]
        for c in self._pending:
            if c.key not in {k.key for k in columns}:
                columns.append(c)
        order = {key: n for n, key in enumerate(SCALES)}
        columns.sort(
            key=lambda c: (
                c.scale != default_scale.key,
                order.get(c.scale, len(order)),
                c.role.value,
                c.name,
            )
        )
        shape = (default_scale.key, me, client, tuple(c.key for c in columns))
        if shape != self._shape:
            self._build(columns)
            self._shape = shape
        self._fill(stored)

    def _rater_text(self, column: RaterColumn) -> str:
        who = html.escape(Rater(column.role, column.name).label(self.client))
        return f"<b>{who}</b><br><small>{column.role.value}</small>"

    def _build(self, columns: list[RaterColumn]) -> None:
        self.host.deleteLater()
        self.host = QWidget(self)
        self._layout.addWidget(self.host)
        outer = QVBoxLayout(self.host)
        outer.setContentsMargins(0, 0, 0, 0)
        self.columns, self.boxes, self.methods, self.totals = columns, {}, {}, {}
        scales = list(dict.fromkeys(c.scale for c in columns))
        rows: list[list[str]] = []
        for key in scales:  # scales of one family share a row: POSAS patient beside observer
            family = get_scale(key).family
            if family and rows and get_scale(rows[-1][0]).family == family:
                rows[-1].append(key)
            else:
                rows.append([key])
        for keys in rows:
            line = FlowLayout()  # side by side where they fit, one under the other if not
            for key in keys:
                line.addWidget(
                    self._scale_box(get_scale(key), [c for c in columns if c.scale == key])
                )
            outer.addLayout(line)
        # Tab goes down a rater's column (how, then each item), then to the next rater's.
        order: list[QWidget] = [self.add_button]
        for column in columns:
            order.append(self.methods[column])
            order += [box for (c, _key), box in self.boxes.items() if c is column]
        for before, after in itertools.pairwise(order):
            QWidget.setTabOrder(before, after)
        self.about.setText(
            "Each box is one scale, each column one rater. "
            f"New ratings are yours ({Rater(self.me.role, self.me.name).label(self.client)})."
        )

    def _scale_box(self, scale: Scale, columns: list[RaterColumn]) -> QGroupBox:
        box = QGroupBox(scale.name, self.host)
        box.setToolTip(scale_tip(scale))  # the glossary's words for POSAS, GAIS…
        grid = QGridLayout(box)
        for c, column in enumerate(columns, start=1):
            head = QLabel(self._rater_text(column), box)
            head.setTextFormat(Qt.TextFormat.RichText)
            head.setWordWrap(True)  # a long name wraps in its column, not off the panel
            grid.addWidget(head, 0, c)
            method = QComboBox(box)
            for m, text in METHOD_LABELS.items():
                method.addItem(text, m)
            who = Rater(column.role, column.name).label(self.client)
            method.setAccessibleName(f"How {who} rated")
            method.setToolTip("How this rating was made: in person, or from the photos")
            guard_wheel(method)
            method.activated.connect(lambda _i, col=column: self._on_method_activated(col))
            grid.addWidget(method, 1, c)
            self.methods[column] = method
        for r, item in enumerate(scale.items, start=2):
            label = QLabel(item.label, box)
            label.setWordWrap(True)  # "Improvement since baseline" at 200 % text: two lines
            anchors = "; ".join(f"{v} = {text}" for v, text in sorted(item.anchors.items()))
            label.setToolTip(anchors)
            grid.addWidget(label, r, 0)
            for c, column in enumerate(columns, start=1):
                spin = _box(item.minimum, item.maximum, item.whole_numbers)
                who = Rater(column.role, column.name).label(self.client)
                spin.setAccessibleName(f"{who}'s rating of {item.label}")
                spin.setToolTip(anchors)
                grid.addWidget(spin, r, c)
                self.boxes[(column, item.key)] = spin
                spin.valueChanged.connect(lambda _v, col=column: self._on_box_changed(col))  # type: ignore[attr-defined]
            if len(scale.items) == 1:
                hint = QLabel(anchors, box)
                hint.setStyleSheet("color: palette(placeholder-text)")
                hint.setWordWrap(True)
                grid.addWidget(hint, r + 1, 0, 1, len(columns) + 1)
        if scale.analysis is Analysis.POSAS:
            low, high = scale.total_range
            r = len(scale.items) + 2
            total = QLabel(f"<b>Total ({low}–{high})</b>", box)
            total.setToolTip("The sum of the six items; the overall opinion stands apart")
            grid.addWidget(total, r, 0)
            for c, column in enumerate(columns, start=1):
                shown = QLabel(box)
                shown.setAlignment(Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(shown, r, c)
                self.totals[column] = shown
        grid.setColumnStretch(len(columns) + 1, 1)
        return box

    def _fill(self, stored: dict[tuple[str, RaterRole, str], RatingRow]) -> None:
        self._filling = True
        for (column, key), box in self.boxes.items():
            row = stored.get(column.key)
            value = row.values.get(key) if row is not None else None
            box.setValue(value if value is not None else box.minimum())  # type: ignore[attr-defined]
        for column, combo in self.methods.items():
            row = stored.get(column.key)
            method = row.method if row is not None else column.method or RatingMethod.IN_PERSON
            combo.setCurrentIndex(combo.findData(method))
        self._filling = False
        self._show_totals()

    def _show_totals(self) -> None:
        for column, label in self.totals.items():
            given = {k: v for k, v in self.values(column).items() if v is not None}
            total = get_scale(column.scale).total(given)
            label.setText(f"<b>{total:g}</b>" if total is not None else NOT_GIVEN)

    # -- edits --------------------------------------------------------------------------------

    def values(self, column: RaterColumn) -> dict[str, float | None]:
        """Every item of the column: its value, or None where it is at "—" (an item to clear,
        by the rule of ``ratings.rate``)."""
        out: dict[str, float | None] = {}
        for (c, key), box in self.boxes.items():
            if c.key == column.key:
                value = box.value()  # type: ignore[attr-defined]
                out[key] = value if value > box.minimum() else None  # type: ignore[attr-defined]
        return out

    def column(
        self, role: RaterRole, scale: str | None = None, name: str | None = None
    ) -> RaterColumn:
        """The first column of ``role`` (on ``scale``, by ``name``, when given)."""
        return next(
            c
            for c in self.columns
            if c.role is role
            and (scale is None or c.scale == scale)
            and (name is None or c.name == name)
        )

    def _with_method(self, column: RaterColumn) -> RaterColumn:
        combo = self.methods.get(column)
        method = RatingMethod(combo.currentData()) if combo is not None else column.method
        return RaterColumn(column.scale, column.role, column.name, method)

    def _on_box_changed(self, column: RaterColumn) -> None:
        if self._filling:
            return
        self._show_totals()
        self.changed.emit(self._with_method(column), self.values(column))

    def _on_method_activated(self, column: RaterColumn) -> None:
        values = {k: v for k, v in self.values(column).items() if v is not None}
        if not self._filling and values:  # an unrated column's method goes with its first value
            self.changed.emit(self._with_method(column), values)

    def _on_add_clicked(self) -> None:
        column = AddRatingDialog.ask(self, self.me, self.client)
        if column is None:
            return
        if column.key not in {c.key for c in self.columns}:
            self._pending.append(column)
        self._shape = ()
        self.show_ratings(self.default_scale, self._rows, self.me, self.client)
        first = next((b for (c, _k), b in self.boxes.items() if c.key == column.key), None)
        if first is not None:
            first.setFocus()
            # Bring the new column into view once it is laid out (the next turn of the loop).
            QTimer.singleShot(0, lambda: self._reveal(first))

    def _reveal(self, widget: QWidget) -> None:
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(widget, 40, 80)
