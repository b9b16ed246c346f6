"""The visit panel's treatment record form (the ratings are ``ratings_editor.py``). Layout
only: it announces the whole new value."""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tracker.core.domain.treatment import TREATMENT_FIELDS, repeated, summary
from tracker.core.queries.rows import PreviousTreatment
from tracker.ui.panels.wheel import guard_wheel

DEVICES = ("pen", "roller", "stamp", "RF microneedling")
TOPICALS = ("PRP", "hyaluronic acid", "vitamin C serum", "growth factors", "tretinoin", "none")
NOT_GIVEN = "—"


def _spin(lo: int, hi: int, name: str, suffix: str = "") -> QSpinBox:
    """A whole-number box whose lowest value (one below ``lo``) means "not given"."""
    box = QSpinBox()
    box.setRange(lo - 1, hi)
    box.setSpecialValueText(NOT_GIVEN)
    box.setSuffix(suffix)
    box.setAccessibleName(name)
    box.setKeyboardTracking(False)
    return box


def _whole(value: object, missing: int) -> int:
    """A stored whole number for a spin box; ``missing`` (its "—" value) when there is none."""
    return int(value) if isinstance(value, int | float) else missing


def _pair(text: str, field: QWidget) -> tuple[QLabel, QWidget]:
    label = QLabel(text)
    label.setBuddy(field)
    return label, field


def _combo(items: tuple[str, ...], name: str) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItem("")
    box.addItems(items)
    box.setAccessibleName(name)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    # As narrow as ten letters allow, not as wide as the longest choice: at 200 % text that
    # one ("hyaluronic acid") pushed a one-column form past a 1024-pixel screen's panel.
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


class TreatmentForm(QGroupBox):
    """What was done to the area at this visit. Every field is optional."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Treatment record", parent)
        self.device = _combo(DEVICES, "Device")
        self.needle_depth = QDoubleSpinBox()
        self.needle_depth.setRange(0.0, 3.5)
        self.needle_depth.setSingleStep(0.25)
        self.needle_depth.setDecimals(2)
        self.needle_depth.setSpecialValueText(NOT_GIVEN)
        self.needle_depth.setSuffix(" mm")
        self.needle_depth.setAccessibleName("Needle depth in millimetres")
        self.needle_depth.setKeyboardTracking(False)
        self.passes = _spin(1, 20, "Passes")
        self.topical = _combo(TOPICALS, "Topical agent")
        self.anaesthetic = QLineEdit()
        self.anaesthetic.setAccessibleName("Anaesthetic")
        self.reaction = QLineEdit()
        self.reaction.setPlaceholderText("e.g. redness, pinpoint bleeding")
        self.reaction.setAccessibleName("Immediate reaction")
        self.pain = _spin(0, 10, "Pain from 0 to 10", " / 10")
        self.downtime = _spin(0, 60, "Downtime in days", " days")
        self.practitioner = QLineEdit()
        self.practitioner.setAccessibleName("Practitioner")
        # Two columns of short fields where the panel is wide enough, one where it is not (a
        # 1024-pixel screen, 200 % text); the reaction, a phrase, always across the whole width.
        outer = QVBoxLayout(self)
        # The area's last record, offered (never copied unasked) while this one is empty.
        self.previous_row = QWidget(self)
        row = QHBoxLayout(self.previous_row)
        row.setContentsMargins(0, 0, 0, 4)
        self.previous_text = QLabel(self.previous_row)
        self.previous_text.setTextFormat(Qt.TextFormat.PlainText)  # a device is the user's text
        self.previous_text.setWordWrap(True)
        self.use_previous = QPushButton("&Use these", self.previous_row)
        self.use_previous.setToolTip(
            "Fill in the device, depth, passes and topical agent as last time"
        )
        row.addWidget(self.previous_text, 1)
        row.addWidget(self.use_previous, 0, Qt.AlignmentFlag.AlignTop)
        self.previous_row.hide()
        self.previous: PreviousTreatment | None = None
        outer.addWidget(self.previous_row)
        self._grid = QGridLayout()
        outer.addLayout(self._grid)
        self._pairs = [
            _pair("Device:", self.device),
            _pair("&Topical agent:", self.topical),
            _pair("&Needle depth:", self.needle_depth),
            _pair("Pa&sses:", self.passes),
            _pair("Pain:", self.pain),
            _pair("Do&wntime:", self.downtime),
            _pair("Anaesthetic:", self.anaesthetic),
            _pair("Practiti&oner:", self.practitioner),
        ]
        self._reaction = _pair("Immediate reaction:", self.reaction)
        self._columns = 0
        self._arrange(1)
        guard_wheel(
            self.device, self.needle_depth, self.passes, self.topical, self.pain, self.downtime
        )
        self._filling = False
        self._connect_signals()

    def _two_column_width(self) -> int:
        """The least width at which two columns of label and field fit side by side."""
        label = max(lbl.sizeHint().width() for lbl, _f in self._pairs)
        field = max(max(f.minimumSizeHint().width(), 140) for _l, f in self._pairs)
        margins = self.contentsMargins()
        spacing = max(self._grid.horizontalSpacing(), 6)
        return 2 * (label + field) + 4 * spacing + 12 + margins.left() + margins.right()

    def _arrange(self, columns: int) -> None:
        """Lay the fields out in ``columns`` columns, the reaction last across them all; the
        tab order goes down the first column, then the second."""
        if columns == self._columns:
            return
        self._columns = columns
        for label, field in [*self._pairs, self._reaction]:
            self._grid.removeWidget(label)
            self._grid.removeWidget(field)
        rows = (len(self._pairs) + columns - 1) // columns
        order: list[QWidget] = []
        for n, (label, field) in enumerate(self._pairs):
            column = n // rows if columns > 1 else 0
            row = n % rows if columns > 1 else n
            # Down the first column the fields of the left, then those of the right.
            self._grid.addWidget(label, row, 3 * column)
            self._grid.addWidget(field, row, 3 * column + 1)
        for column in range(columns):
            order += [f for n, (_l, f) in enumerate(self._pairs) if n // rows == column]
        label, field = self._reaction
        self._grid.addWidget(label, rows, 0)
        self._grid.addWidget(field, rows, 1, 1, 3 * columns - 2)
        order.append(field)
        for col in range(6):
            self._grid.setColumnStretch(col, 1 if col % 3 == 1 and col < 3 * columns else 0)
            self._grid.setColumnMinimumWidth(col, 12 if col == 2 and columns > 1 else 0)
        for before, after in itertools.pairwise(order):
            QWidget.setTabOrder(before, after)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(2 if event.size().width() >= self._two_column_width() else 1)

    def minimumSizeHint(self) -> QSize:
        # Never ask for the two columns' width: below it the form goes back to one column.
        hint = super().minimumSizeHint()
        if self._columns > 1:
            label = max(lbl.sizeHint().width() for lbl, _f in self._pairs)
            field = max(f.minimumSizeHint().width() for _l, f in self._pairs)
            hint.setWidth(label + field + 40)
        return hint

    def _connect_signals(self) -> None:
        self.use_previous.clicked.connect(self._on_use_previous_clicked)
        for combo in (self.device, self.topical):
            combo.activated.connect(self._on_field_edited)
            line = combo.lineEdit()
            assert line is not None
            line.editingFinished.connect(self._on_field_edited)
        for box in (self.needle_depth, self.passes, self.pain, self.downtime):
            box.valueChanged.connect(self._on_field_edited)
        for line in (self.anaesthetic, self.reaction, self.practitioner):
            line.editingFinished.connect(self._on_field_edited)

    def set_record(self, record: dict[str, Any] | None) -> None:
        self._filling = True
        r = record or {}
        self.device.setCurrentText(r.get("device") or "")
        self.needle_depth.setValue(r.get("needle_depth_mm") or 0.0)
        self.passes.setValue(_whole(r.get("passes"), 0))
        self.topical.setCurrentText(r.get("topical") or "")
        self.anaesthetic.setText(r.get("anaesthetic") or "")
        self.reaction.setText(r.get("reaction") or "")
        self.pain.setValue(_whole(r.get("pain"), -1))
        self.downtime.setValue(_whole(r.get("downtime_days"), -1))
        self.practitioner.setText(r.get("practitioner") or "")
        self._shown = self.fields()
        self._filling = False

    def set_previous(self, previous: PreviousTreatment | None) -> None:
        """Offer ``previous`` (the area's last record before this visit) while this record
        says nothing of how the area was treated; hidden otherwise."""
        self.previous = previous
        offer = previous is not None and not repeated(self._shown)
        if previous is not None:
            self.previous_text.setText(
                f"Last time ({previous.date:%d %b %Y}): {summary(previous.fields)}."
            )
        self.previous_row.setVisible(offer)

    def _on_use_previous_clicked(self) -> None:
        if self.previous is None:
            return
        values = self.fields()
        values.update(self.previous.fields)
        self.previous_row.hide()
        self._shown = values
        self.changed.emit(values)

    def fields(self) -> dict[str, Any]:
        def text(value: str) -> str | None:
            return value.strip() or None

        values: dict[str, Any] = {
            "device": text(self.device.currentText()),
            "needle_depth_mm": self.needle_depth.value() or None,
            "passes": self.passes.value() or None,
            "topical": text(self.topical.currentText()),
            "anaesthetic": text(self.anaesthetic.text()),
            "reaction": text(self.reaction.text()),
            "pain": self.pain.value() if self.pain.value() >= 0 else None,
            "downtime_days": self.downtime.value() if self.downtime.value() >= 0 else None,
            "practitioner": text(self.practitioner.text()),
        }
        assert set(values) == set(TREATMENT_FIELDS)
        return values

    def _on_field_edited(self, *_args: object) -> None:
        if self._filling:
            return
        values = self.fields()
        if values != self._shown:
            self._shown = values
            self.changed.emit(values)
