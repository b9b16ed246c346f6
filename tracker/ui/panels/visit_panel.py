"""The visit panel: the visit's date, kind and notes, and for the chosen area its treatment
record, its photos and its ratings.

Layout only: every change is announced by a signal carrying the whole new value, and the main
window turns it into an undoable command. ``show_visit`` fills the widgets without emitting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.domain.instruments import Rater
from tracker.core.domain.scales import scale_or_default
from tracker.core.queries.rows import AreaAtVisit, VisitDetail
from tracker.ui.dialogs import pydate, qdate, visit_dates_only
from tracker.ui.models import KIND_LABELS, PhotoGridModel
from tracker.ui.panels.fitting import ElidedLabel, set_heading
from tracker.ui.panels.forms import TreatmentForm
from tracker.ui.panels.measure_view import PhotoFigures
from tracker.ui.panels.photo_grid import PhotoGrid
from tracker.ui.panels.ratings_editor import RatingsEditor
from tracker.ui.panels.wheel import guard_wheel

PHOTO_HINT = (
    "Drop photos here to add them to this visit. Double-click a photo to open it; "
    "F2 changes its view label."
)
PHOTO_HINT_READ_ONLY = "Double-click a photo to open it."


class VisitPanel(QScrollArea):
    visit_edited = Signal(dict)  # {"date"|"kind"|"notes": value}
    treatment_edited = Signal(dict)
    rating_edited = Signal(object, dict)  # RaterColumn, {item: value or None}
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
        # The heading is two lines of one line each, whatever the visit (shortened with "…"
        # when narrow): the fields and rating boxes under it stay put from visit to visit.
        self.title = ElidedLabel(self.content)
        set_heading(self.title, 1.6)
        self.title.setAccessibleName("Visit")
        content.addWidget(self.title)
        self.subtitle = ElidedLabel(self.content)
        self.subtitle.setAccessibleName("Where the visit stands in the course")
        content.addWidget(self.subtitle)
        row = QHBoxLayout()
        self.date = visit_dates_only(QDateEdit(self.content))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("d MMM yyyy")
        self.date.setAccessibleName("Visit date")
        self.date.setKeyboardTracking(False)
        self.kind = QComboBox(self.content)
        for k in VisitKind:
            self.kind.addItem(KIND_LABELS[k.value], k)
        self.kind.setAccessibleName("Kind of visit")
        guard_wheel(self.date, self.kind)
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

        self.area_title = ElidedLabel(self.content)  # the area's name, plain text
        set_heading(self.area_title, 1.3)
        self.area_title.setContentsMargins(0, 8, 0, 0)
        content.addWidget(self.area_title)
        self.no_area = QLabel(
            "Add an area (Area ▸ New area) to record treatments, photos and ratings.", self.content
        )
        self.no_area.setWordWrap(True)
        content.addWidget(self.no_area)
        self.grid = PhotoGrid(photos, self.content)
        self.photo_hint = QLabel(PHOTO_HINT, self.content)
        self.photo_hint.setWordWrap(True)
        self.photo_hint.setStyleSheet("color: palette(placeholder-text)")
        content.addWidget(self.grid)
        content.addWidget(self.photo_hint)
        # The record, then the ratings under it at the panel's full width: a visit may carry
        # several scales by several raters, side by side within their box. What is typed at
        # every visit comes first; the photos' measures, to read, after it (a 1024×700 screen
        # shows the record without scrolling).
        self.treatment = TreatmentForm(self.content)
        self.ratings = RatingsEditor(self.content)
        self.treatment.setMaximumWidth(940)  # a form of short fields reads badly stretched
        content.addWidget(self.treatment)
        content.addWidget(self.ratings)
        self.figures = PhotoFigures(self.content)  # the photos' measures (``measuring``)
        content.addWidget(self.figures)
        content.addStretch(1)
        layout.addWidget(self.content)
        self.setWidget(body)
        self.detail: VisitDetail | None = None
        self.area: AreaAtVisit | None = None
        # Who rates in this window (Preferences): new ratings are this rater's.
        self.me = Rater(RaterRole.PATIENT, "")
        self._filling = False
        self._place: tuple[int | None, int | None] = (None, None)
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
        place = (detail.id if detail else None, area_id)
        new_place = place != self._place
        self._place = place
        self.detail = detail
        self.empty.setVisible(detail is None)
        self.content.setVisible(detail is not None)
        if detail is None:
            self.area = None
            return
        self._filling = True
        self.date.setDate(qdate(detail.date))
        self.kind.setCurrentIndex(list(VisitKind).index(detail.kind))
        if self.notes.toPlainText() != detail.notes:
            self.notes.setPlainText(detail.notes)
        self._filling = False
        self.area = next(
            (a for a in detail.areas if a.area.id == area_id),
            detail.areas[0] if detail.areas else None,
        )
        self._show_title(detail)
        has_area = self.area is not None
        for widget in (self.grid, self.photo_hint, self.treatment, self.ratings, self.area_title):
            widget.setVisible(has_area)
        self.no_area.setVisible(not has_area)
        if self.area is None:
            return
        n = len(self.area.photos)
        session = f", session {self.area.session}" if self.area.session else ""
        self.area_title.setText(
            f"{self.area.area.name}: {n} photo{'s' if n != 1 else ''} at this visit{session}"
        )
        self.treatment.set_record(self.area.treatment)
        # A treatment session is offered the area's last record, while its own is empty.
        treating = detail.kind is VisitKind.TREATMENT
        self.treatment.set_previous(self.area.previous if treating else None)
        self.ratings.show_ratings(
            scale_or_default(self.area.area.default_scale),
            self.area.ratings,
            self.me,
            detail.client,
            new_place=new_place,
        )

    def _show_title(self, detail: VisitDetail) -> None:
        """The visit's kind and date, and where it stands in the chosen area's course (from the
        area's own baseline; the client's when the area has not started)."""
        days = detail.days_since_baseline
        if self.area is not None and self.area.days_since_baseline is not None:
            days = self.area.days_since_baseline
        day = (
            "the baseline"
            if days == 0
            else f"day {days} since the baseline"
            if days is not None and days > 0
            else f"{-days} days before the baseline"
            if days is not None
            else ""
        )
        self.title.setText(f"{KIND_LABELS[detail.kind.value]} visit, {detail.date:%A %d %B %Y}")
        self.subtitle.setText(day[:1].upper() + day[1:])  # kept, empty, when there is none

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
            kind = VisitKind(self.kind.currentData())  # Qt hands an enum back as its str value
            if kind is not self.detail.kind:
                self.visit_edited.emit({"kind": kind})
