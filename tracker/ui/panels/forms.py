"""The visit panel's treatment record form (the ratings are ``ratings_editor.py``). Layout
only: it announces the whole new value."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from tracker.core.domain.treatment import TREATMENT_FIELDS
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


def _combo(items: tuple[str, ...], name: str) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItem("")
    box.addItems(items)
    box.setAccessibleName(name)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
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
        form = QFormLayout(self)
        form.addRow("Device:", self.device)
        form.addRow("&Needle depth:", self.needle_depth)
        form.addRow("Pa&sses:", self.passes)
        form.addRow("&Topical agent:", self.topical)
        form.addRow("Anaesthetic:", self.anaesthetic)
        form.addRow("Immediate reaction:", self.reaction)
        form.addRow("Pain:", self.pain)
        form.addRow("Do&wntime:", self.downtime)
        form.addRow("Practiti&oner:", self.practitioner)
        guard_wheel(
            self.device, self.needle_depth, self.passes, self.topical, self.pain, self.downtime
        )
        self._filling = False
        self._connect_signals()

    def _connect_signals(self) -> None:
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
