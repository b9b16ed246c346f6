"""The visit panel: the visit's date, kind and notes, and for the chosen area its treatment
record, its photos and its ratings.

Layout only: every change is announced by a signal carrying the whole new value, and the main
window turns it into an undoable command. ``show_visit`` fills the widgets without emitting.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.domain.scales import Scale, get_scale
from tracker.core.queries.workspace import TREATMENT_FIELDS, AreaAtVisit, VisitDetail
from tracker.ui.dialogs import pydate, qdate
from tracker.ui.models import GRID_ICON, KIND_LABELS, IdRole, PhotoGridModel

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
        form.addRow("De&vice:", self.device)
        form.addRow("Needle &depth:", self.needle_depth)
        form.addRow("Pa&sses:", self.passes)
        form.addRow("&Topical agent:", self.topical)
        form.addRow("A&naesthetic:", self.anaesthetic)
        form.addRow("Immediate &reaction:", self.reaction)
        form.addRow("&Pain:", self.pain)
        form.addRow("Do&wntime:", self.downtime)
        form.addRow("Practitio&ner:", self.practitioner)
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


class RatingsEditor(QGroupBox):
    """The area's scale, one column per rater role; a box at "—" is not rated."""

    changed = Signal(object, dict)  # RaterRole, {item: value}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Ratings", parent)
        self._layout = QVBoxLayout(self)
        self.about = QLabel(self)
        self.about.setWordWrap(True)
        self._layout.addWidget(self.about, 0, Qt.AlignmentFlag.AlignTop)
        self.grid_host = QWidget(self)
        self._layout.addWidget(self.grid_host)
        self.scale: Scale | None = None
        self.boxes: dict[tuple[RaterRole, str], QAbstractSpinBox] = {}
        self._filling = False

    def set_scale(self, scale: Scale) -> None:
        if self.scale is scale:
            return
        self.scale = scale
        self.grid_host.deleteLater()
        self.grid_host = QWidget(self)
        self._layout.addWidget(self.grid_host)
        grid = QGridLayout(self.grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes = {}
        self.setTitle(f"Ratings: {scale.name}")
        self.about.setText(scale.description)
        roles = sorted(scale.roles, key=lambda r: r.value)
        for c, role in enumerate(roles, start=1):
            grid.addWidget(QLabel(f"<b>{role.value.capitalize()}</b>", self.grid_host), 0, c)
        for r, item in enumerate(scale.items, start=1):
            label = QLabel(item.label, self.grid_host)
            anchors = "; ".join(f"{v} = {text}" for v, text in sorted(item.anchors.items()))
            label.setToolTip(anchors)
            grid.addWidget(label, r, 0)
            for c, role in enumerate(roles, start=1):
                box = self._box(item.minimum, item.maximum, item.whole_numbers)
                box.setAccessibleName(f"{role.value} rating of {item.label}")
                box.setToolTip(anchors)
                grid.addWidget(box, r, c)
                self.boxes[(role, item.key)] = box
                box.valueChanged.connect(lambda _v, role=role: self._on_box_changed(role))  # type: ignore[attr-defined]
            if item.anchors != scale.items[0].anchors or len(scale.items) == 1:
                hint = QLabel(anchors, self.grid_host)
                hint.setStyleSheet("color: palette(placeholder-text)")
                hint.setWordWrap(True)
                grid.addWidget(hint, r, len(roles) + 1)
        grid.setColumnStretch(len(roles) + 1, 1)
        grid.setRowStretch(len(scale.items) + 1, 1)

    @staticmethod
    def _box(lo: int, hi: int, whole: bool) -> QAbstractSpinBox:
        box: QSpinBox | QDoubleSpinBox
        if whole:
            box = QSpinBox()
            box.setRange(lo - 1, hi)
        else:
            box = QDoubleSpinBox()
            box.setDecimals(1)
            box.setSingleStep(0.5)
            box.setRange(lo - 0.5, hi)
        box.setSpecialValueText(NOT_GIVEN)
        box.setKeyboardTracking(False)
        box.setMinimumWidth(64)
        return box

    def set_values(self, ratings: dict[RaterRole, dict[str, float]]) -> None:
        self._filling = True
        for (role, key), box in self.boxes.items():
            value = ratings.get(role, {}).get(key)
            box.setValue(value if value is not None else box.minimum())  # type: ignore[attr-defined]
        self._filling = False

    def values(self, role: RaterRole) -> dict[str, float]:
        out: dict[str, float] = {}
        for (r, key), box in self.boxes.items():
            value = box.value()  # type: ignore[attr-defined]
            if r == role and value > box.minimum():  # type: ignore[attr-defined]
                out[key] = value
        return out

    def _on_box_changed(self, role: RaterRole) -> None:
        if not self._filling:
            self.changed.emit(role, self.values(role))


class PhotoGrid(QListView):
    """The visit's photos of the area. Double-click opens one; F2 relabels its view; Delete
    removes; files dropped here are imported into this visit."""

    open_requested = Signal(int)
    remove_requested = Signal(list)
    files_dropped = Signal(list)

    def __init__(self, model: PhotoGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(GRID_ICON)
        self.setGridSize(QSize(GRID_ICON.width() + 16, GRID_ICON.height() + 36))
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        # Drops arrive at the viewport, which must accept them itself, or they go to the window.
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setMinimumHeight(170)
        self.setAccessibleName("Photos of this visit")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.open_action = QAction("Open photo", self)
        self.rename_action = QAction("Change view label", self)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.compare_action = QAction("Compare with baseline", self)
        self.compare_selected_action = QAction("Compare selected photos", self)
        self.remove_action = QAction("Remove from library…", self)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        for action in (
            self.open_action,
            self.compare_action,
            self.compare_selected_action,
            self.rename_action,
            self.remove_action,
        ):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.addAction(action)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.doubleClicked.connect(self._on_self_double_clicked)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.rename_action.triggered.connect(self._on_rename_action_triggered)
        self.remove_action.triggered.connect(self._on_remove_action_triggered)

    def selected_ids(self) -> list[int]:
        return [i.data(IdRole) for i in self.selectionModel().selectedIndexes()]

    def _on_self_double_clicked(self, index: Any) -> None:
        self.open_requested.emit(index.data(IdRole))

    def _on_open_action_triggered(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.open_requested.emit(ids[0])

    def _on_rename_action_triggered(self) -> None:
        if self.currentIndex().isValid():
            self.edit(self.currentIndex())

    def _on_remove_action_triggered(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.remove_requested.emit(ids)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)


class VisitPanel(QScrollArea):
    visit_edited = Signal(dict)  # {"date"|"kind"|"notes": value}
    treatment_edited = Signal(dict)
    rating_edited = Signal(object, dict)
    files_dropped = Signal(list)

    def __init__(self, photos: PhotoGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setAccessibleName("Visit")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.empty = QLabel(
            "Choose a visit in the timeline, or add one with Visit ▸ New visit (Ctrl+N).", body
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)

        self.content = QWidget(body)
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(self.content)
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600")
        self.title.setWordWrap(True)
        content.addWidget(self.title)
        row = QHBoxLayout()
        self.date = QDateEdit(self.content)
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("d MMM yyyy")
        self.date.setAccessibleName("Visit date")
        self.date.setKeyboardTracking(False)
        self.kind = QComboBox(self.content)
        for k in VisitKind:
            self.kind.addItem(KIND_LABELS[k.value], k)
        self.kind.setAccessibleName("Kind of visit")
        date_label = QLabel("&Date:", self.content)
        date_label.setBuddy(self.date)
        kind_label = QLabel("&Kind:", self.content)
        kind_label.setBuddy(self.kind)
        row.addWidget(date_label)
        row.addWidget(self.date)
        row.addSpacing(12)
        row.addWidget(kind_label)
        row.addWidget(self.kind)
        row.addStretch(1)
        content.addLayout(row)
        self.notes = QPlainTextEdit(self.content)
        self.notes.setPlaceholderText("Notes about this visit")
        self.notes.setAccessibleName("Visit notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(56)
        content.addWidget(self.notes)

        self.area_title = QLabel(self.content)
        self.area_title.setStyleSheet("font-size: 12pt; font-weight: 600; margin-top: 8px")
        content.addWidget(self.area_title)
        self.no_area = QLabel(
            "Add an area (Area ▸ New area) to record treatments, photos and ratings.", self.content
        )
        self.no_area.setWordWrap(True)
        content.addWidget(self.no_area)
        self.grid = PhotoGrid(photos, self.content)
        self.photo_hint = QLabel(
            "Drop photos here to add them to this visit. Double-click a photo to open it; "
            "F2 changes its view label.",
            self.content,
        )
        self.photo_hint.setWordWrap(True)
        self.photo_hint.setStyleSheet("color: palette(placeholder-text)")
        content.addWidget(self.grid)
        content.addWidget(self.photo_hint)
        lower = QHBoxLayout()
        self.treatment = TreatmentForm(self.content)
        self.ratings = RatingsEditor(self.content)
        lower.addWidget(self.treatment, 2)
        lower.addWidget(self.ratings, 3)
        content.addLayout(lower)
        content.addStretch(1)
        layout.addWidget(self.content)
        self.setWidget(body)
        self.detail: VisitDetail | None = None
        self.area: AreaAtVisit | None = None
        self._filling = False
        self.notes.installEventFilter(self)
        self._connect_signals()
        self.show_visit(None, None)

    def _connect_signals(self) -> None:
        self.date.dateChanged.connect(self._on_date_changed)
        self.kind.activated.connect(self._on_kind_activated)
        self.treatment.changed.connect(self.treatment_edited)
        self.ratings.changed.connect(self.rating_edited)
        self.grid.files_dropped.connect(self.files_dropped)

    def show_visit(self, detail: VisitDetail | None, area_id: int | None) -> None:
        self.detail = detail
        self.empty.setVisible(detail is None)
        self.content.setVisible(detail is not None)
        if detail is None:
            self.area = None
            return
        self._filling = True
        day = (
            "the baseline"
            if detail.days_since_baseline == 0
            else f"day {detail.days_since_baseline} since the baseline"
            if detail.days_since_baseline is not None
            else ""
        )
        self.title.setText(
            f"{KIND_LABELS[detail.kind.value]} visit, {detail.date:%A %d %B %Y}"
            + (f" ({day})" if day else "")
        )
        self.date.setDate(qdate(detail.date))
        self.kind.setCurrentIndex(list(VisitKind).index(detail.kind))
        if self.notes.toPlainText() != detail.notes:
            self.notes.setPlainText(detail.notes)
        self._filling = False
        self.area = next(
            (a for a in detail.areas if a.area.id == area_id),
            detail.areas[0] if detail.areas else None,
        )
        has_area = self.area is not None
        for widget in (self.grid, self.photo_hint, self.treatment, self.ratings, self.area_title):
            widget.setVisible(has_area)
        self.no_area.setVisible(not has_area)
        if self.area is None:
            return
        n = len(self.area.photos)
        self.area_title.setText(
            f"{self.area.area.name}: {n} photo{'s' if n != 1 else ''} at this visit"
        )
        self.treatment.set_record(self.area.treatment)
        self.ratings.set_scale(get_scale(self.area.area.default_scale))
        self.ratings.set_values(self.area.ratings)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        # Notes are saved when the box loses focus, as one undoable change.
        if watched is self.notes and event.type() == event.Type.FocusOut:
            self._on_notes_done()
        return super().eventFilter(watched, event)

    def _on_notes_done(self) -> None:
        if self.detail is not None and not self._filling:
            text = self.notes.toPlainText().strip()
            if text != self.detail.notes:
                self.visit_edited.emit({"notes": text})

    def _on_date_changed(self, value: Any) -> None:
        if self.detail is not None and not self._filling:
            day: dt.date = pydate(value)
            if day != self.detail.date:
                self.visit_edited.emit({"date": day})

    def _on_kind_activated(self, _index: int) -> None:
        if self.detail is not None and not self._filling:
            kind = self.kind.currentData()
            if kind != self.detail.kind:
                self.visit_edited.emit({"kind": kind})
