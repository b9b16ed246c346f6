"""The measures of an area's marks, as the Progress tab shows them beside the rating charts
(issue 18): what they stand on (the scale, the photos measured, waiting or refused), then a
chart per measure with its band shaded, the control area's series dashed beside it, and the
change in words. And the visit panel's table of one visit's photos' figures.

Layout only: the view says what it was asked (``view_chosen``, ``subtract_toggled``,
``measure_requested``) and shows what it is given (``show_measures``); the main window's
``measuring`` reads the core.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import shiboken6
from PySide6.QtCore import QEvent, QRect, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QFont, QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracker.core.domain.instruments import day_text
from tracker.core.domain.measures import (
    CAVEAT,
    MEASURE_KEYS,
    MEASURES,
    format_amount,
    format_value,
)
from tracker.core.queries.measures import AreaMeasures, MeasureSeries, PhotoMeasure
from tracker.rendering.plot_measures import measure_image
from tracker.ui.workers import Task, TaskRunner

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CHART_HEIGHT = 240
NO_SCALE = (
    "No calibration card was found in these photos, so sizes are in pixels (labelled px), "
    "which change with the distance to the camera; lay the card flat beside the marks when "
    "you take the next photos to have millimetres."
)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def standing(data: AreaMeasures) -> list[str]:
    """What the measures stand on, a sentence each: the scale, the photos not measured yet
    and those that could not be, with why."""
    lines: list[str] = []
    if not data.scale_known:
        lines.append(NO_SCALE)
    waiting = data.stale + data.unmeasured
    if waiting:
        lines.append(
            f"{_plural(waiting, 'photo')} {'is' if waiting == 1 else 'are'} waiting to be "
            "measured (after a new photo, an alignment, a region or a colour change); they "
            "are measured in the background and the charts follow."
        )
    failed = [p for p in data.photos if p.error]
    for photo in failed:
        lines.append(
            f"The photo of {day_text(photo.date)} ({photo.view}) was not measured: {photo.error}"
        )
    if data.retest is None:
        lines.append(
            "The bands are the documented defaults: two photos of this view taken the same day "
            "at the baseline would measure how much the figures move by chance alone."
        )
    return lines


def control_words(series: MeasureSeries, control_name: str) -> str:
    """The control area's change over the same visits, in a sentence ("" without one)."""
    values = [p.control for p in series.points if p.control is not None]
    if len(values) < 2:
        return ""
    change = values[-1] - values[0]
    if change == 0:
        return f"The control area, {control_name}, did not change over the same visits."
    return (
        f"The control area, {control_name}, {'rose' if change > 0 else 'fell'} by "
        f"{format_amount(series.key, change)} over the same visits."
    )


class ChartImage(QWidget):
    """One measure's chart, painted in a worker (``measure_image``) and shown here as an image:
    drawn again, in the worker, when the width it was painted for no longer fits."""

    def __init__(self, series: MeasureSeries, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series = series
        self.image: QImage | None = None
        self.ticket = 0  # counts the paintings asked: only the latest one's image is shown
        self.setMinimumHeight(CHART_HEIGHT)
        self.setAccessibleName(f"{series.info.label} over the course")

    def sizeHint(self) -> QSize:
        return QSize(600, CHART_HEIGHT)

    def painted_width(self) -> int:
        """The width (logical pixels) its image was painted for; 0 before it has one."""
        if self.image is None:
            return 0
        return round(self.image.width() / self.image.devicePixelRatio())

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        if self.image is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        # At its painted size while it fits, shrunk (never stretched) until painted again.
        width = min(self.width(), self.painted_width())
        height = round(width * self.image.height() / max(self.image.width(), 1))
        painter.drawImage(QRect(0, 0, width, height), self.image)
        painter.end()


class Section(QWidget):
    """One measure's part of the section: its heading, the finding in words, the control's
    change, and its chart. Kept while the measure is shown, and told what changed
    (``update``): building the widgets again each time the measures came in (and laying out
    and polishing them) held the GUI thread 30-50 ms."""

    def __init__(self, data: AreaMeasures, series: MeasureSeries, parent: QWidget) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 6)
        # Plain text in every label (a rich-text label lays out through a text document:
        # the slowest part of adding a section); the heading's weight and the note's size
        # from their fonts.
        self.head = QLabel(self)
        self.head.setTextFormat(Qt.TextFormat.PlainText)
        self.head.setWordWrap(True)
        bold = self.head.font()
        bold.setBold(True)
        self.head.setFont(bold)
        layout.addWidget(self.head)
        self.explain = QLabel(self)
        self.explain.setTextFormat(Qt.TextFormat.PlainText)
        self.explain.setWordWrap(True)
        small = self.explain.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.explain.setFont(small)
        layout.addWidget(self.explain)
        self.words = QLabel(self)
        self.words.setTextFormat(Qt.TextFormat.PlainText)
        self.words.setWordWrap(True)
        self.words.setAccessibleName(f"{series.info.label}: finding")
        layout.addWidget(self.words)
        self.control = QLabel(self)
        self.control.setTextFormat(Qt.TextFormat.PlainText)
        self.control.setWordWrap(True)
        layout.addWidget(self.control)
        self.chart = ChartImage(series, self)
        layout.addWidget(self.chart)
        self.update_to(data, series)

    def update_to(self, data: AreaMeasures, series: MeasureSeries) -> None:
        info = series.info
        unit = "in pixels: no scale" if info.unit == "px" else info.unit or "CIELAB difference"
        band = (
            f"band ±{format_amount(series.key, series.band)}"
            + (" from the retest pair" if series.band_source == "retest" else ", the default")
            if series.band is not None
            else "no band"
        )
        self.head.setText(f"{info.label} ({unit}) · {band}")
        self.explain.setText(info.explain)
        self.words.setText(series.words)
        control = control_words(series, data.control_name) if data.control_name else ""
        self.control.setText(control)
        self.control.setVisible(bool(control))
        self.chart.series = series


class MeasureView(QWidget):
    """The measures section of the Progress tab."""

    view_chosen = Signal(str)
    subtract_toggled = Signal(bool)
    measure_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: AreaMeasures | None = None
        # A section per measure shown, kept and updated while shown; the new ones are built
        # one an event-loop turn (``waiting``), the first at once.
        self.sections: dict[str, Section] = {}
        self.waiting: list[MeasureSeries] = []
        self._next = QTimer(self)
        self._next.setSingleShot(True)
        self._next.setInterval(0)
        self._next.timeout.connect(self._chart_next)
        # The charts are painted in a worker of their own, one after another (building and
        # painting a QChart took the GUI thread 20-45 ms each, and an area has 14): the
        # window only shows the images. ``_painting`` counts the paintings not back yet.
        pool = QThreadPool(self)
        pool.setMaxThreadCount(1)
        self._runner = TaskRunner(pool, self)
        self._painting = 0
        self._by_session = False
        self._dark = False
        self._control_name: str | None = None
        # A width change is painted again once the resizing stops for a moment.
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(200)
        self._repaint.timeout.connect(self._paint_again)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 8)
        self.head = QLabel("<b>Measures from the photos</b>", self)
        layout.addWidget(self.head)
        row = QHBoxLayout()
        self.view = QComboBox(self)
        self.view.setAccessibleName("View measured")
        self.subtract = QCheckBox("Subtract the control's drift", self)
        self.subtract.setToolTip(
            "Take away what the untreated control area changed over the same visits, so that "
            "lighting and camera drift are not read as progress"
        )
        self.measure_now = QPushButton("Measure now", self)
        self.measure_now.setToolTip("Measure the photos waiting, in the background")
        row.addWidget(QLabel("View:", self))
        row.addWidget(self.view)
        row.addSpacing(12)
        row.addWidget(self.subtract)
        row.addStretch(1)
        row.addWidget(self.measure_now)
        layout.addLayout(row)
        self.notes = QLabel(self)
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.notes)
        self.body = QVBoxLayout()
        layout.addLayout(self.body)
        self.empty = QLabel("No photo of this view has been measured yet.", self)
        self.empty.setWordWrap(True)
        self.empty.hide()
        self.body.addWidget(self.empty)
        self.view.activated.connect(self._on_view_activated)
        self.subtract.toggled.connect(self.subtract_toggled)
        self.measure_now.clicked.connect(self.measure_requested)

    @property
    def has_content(self) -> bool:
        return self.data is not None and bool(self.data.photos)

    def show_measures(
        self, data: AreaMeasures | None, views: Sequence[str], *, by_session: bool, busy: bool
    ) -> None:
        self.data = data
        self.setVisible(data is not None and bool(data.photos))
        if data is None or not data.photos:
            self._drop([*self.sections])
            return
        self.view.blockSignals(True)
        self.view.clear()
        self.view.addItems(list(views))
        if data.view is not None:
            self.view.setCurrentText(data.view)
        self.view.blockSignals(False)
        self.view.setEnabled(len(views) > 1)
        self.subtract.blockSignals(True)
        self.subtract.setEnabled(data.control_area_id is not None)
        if data.control_area_id is None:
            self.subtract.setChecked(False)
            self.subtract.setToolTip(
                "Mark an untreated area as this area's control (Area ▸ Edit area) to compare "
                "with it"
            )
        self.subtract.blockSignals(False)
        waiting = data.stale + data.unmeasured
        self.measure_now.setVisible(waiting > 0)
        self.set_busy(busy)
        lines = [html.escape(line) for line in standing(data)]
        if self.subtract.isChecked() and data.control_name:
            lines.insert(
                0,
                html.escape(
                    f"What {data.control_name} changed over the same visits is taken away from "
                    "these figures (their bands widen to hold the control's own)."
                ),
            )
        lines.append(f"<i>{html.escape(CAVEAT)}</i>")
        self.notes.setText("<br>".join(lines))
        self._dark = self.palette().window().color().lightness() < 128
        self._by_session = by_session
        self._control_name = data.control_name
        charted = [
            series
            for key in MEASURE_KEYS
            if (series := data.series.get(key)) is not None
            and any(p.value is not None for p in series.points)
        ]
        keys = {series.key for series in charted}
        self._drop([key for key in self.sections if key not in keys])
        self.empty.setVisible(not charted)
        self.waiting = [series for series in charted if series.key not in self.sections]
        kept = [series for series in charted if series.key in self.sections]
        for series in kept:
            self.sections[series.key].update_to(data, series)
        self._paint([self.sections[series.key].chart for series in kept])
        self._chart_next()  # the first new one now, the others a turn each

    def set_busy(self, busy: bool) -> None:
        """Measuring started or ended: the button says so (the figures follow when they come)."""
        self.measure_now.setEnabled(not busy)
        self.measure_now.setText("Measuring…" if busy else "Measure now")

    @property
    def charts(self) -> list[tuple[ChartImage, MeasureSeries]]:
        """The charts shown, in the measures' order, with the series each shows."""
        ordered = [self.sections[k] for k in MEASURE_KEYS if k in self.sections]
        return [(section.chart, section.chart.series) for section in ordered]

    @property
    def charting(self) -> bool:
        """Charts are still being built (a turn each) or painted (in the worker)."""
        return bool(self.waiting) or self._painting > 0

    def _chart_next(self) -> None:
        if not self.waiting or self.data is None:
            return
        series = self.waiting.pop(0)
        section = Section(self.data, series, self)
        order = list(MEASURE_KEYS)
        before = sum(1 for k in self.sections if order.index(k) < order.index(series.key))
        self.body.insertWidget(1 + before, section)  # after the "none yet" line
        self.sections[series.key] = section
        self._paint([section.chart])
        if self.waiting:
            self._next.start()

    def _drop(self, keys: Sequence[str]) -> None:
        """Take away the sections of ``keys`` (and any still to build)."""
        self.waiting = []
        self._next.stop()
        for key in keys:
            section = self.sections.pop(key)
            self.body.removeWidget(section)
            section.deleteLater()

    def _chart_width(self) -> int:
        return max(320, self.width() - 8)

    def _paint(self, charts: Sequence[ChartImage]) -> None:
        """Paint ``charts`` in the worker, at the width there is now; each is shown as it
        comes back."""
        font = QFont(self.font())
        size = (self._chart_width(), CHART_HEIGHT)
        ratio = self.devicePixelRatioF()
        by_session, dark, control = self._by_session, self._dark, self._control_name
        for chart in charts:
            series = chart.series

            def work(_task: Task, series: MeasureSeries = series) -> QImage:
                return measure_image(series, font, by_session, dark, control, size, ratio)

            chart.ticket += 1

            def done(image: QImage, chart: ChartImage = chart, ticket: int = chart.ticket) -> None:
                if not shiboken6.isValid(self):
                    return
                self._painting -= 1
                if shiboken6.isValid(chart) and chart.ticket == ticket:
                    chart.set_image(image)  # else painted again since: the later one shows

            def failed(_message: str) -> None:
                if shiboken6.isValid(self):
                    self._painting -= 1

            self._painting += 1
            self._runner.start(work, finished=done, failed=failed)

    def _paint_again(self) -> None:
        width = self._chart_width()
        stale = [chart for chart, _s in self.charts if abs(chart.painted_width() - width) > 4]
        if stale and not self.charting:
            self._paint(stale)
        elif stale:
            self._repaint.start()  # after the painting going on

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.charts and event.size().width() != event.oldSize().width():
            self._repaint.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # The desktop switched between light and dark: the charts are painted in its colours.
        dark = self.palette().window().color().lightness() < 128
        if event.type() == QEvent.Type.PaletteChange and self.charts and dark != self._dark:
            self._dark = dark
            self._paint([chart for chart, _s in self.charts])

    def _on_view_activated(self, _index: int) -> None:
        self.view_chosen.emit(self.view.currentText())


class PhotoFigures(QGroupBox):
    """A visit's photos' measures in the visit panel: a row a measure, a column a photo."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Measures from these photos", parent)
        self.table = QTableWidget(self)
        table = self.table
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAccessibleName("The measures of this visit's photos")
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.setWordWrap(False)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.setMaximumWidth(620)
        self.hide()

    def show_figures(self, photos: Sequence[tuple[str, PhotoMeasure | None]]) -> None:
        """The figures of each photo (its view, its measure: None when never measured); a
        photo not measured says why in its column."""
        table = self.table
        table.clear()
        if not photos:
            self.hide()
            return
        keys = [
            k
            for k in MEASURE_KEYS
            if any(m and m.values is not None and m.values.get(k) is not None for _v, m in photos)
        ]
        table.setColumnCount(len(photos))
        table.setRowCount(max(len(keys), 1))
        table.setHorizontalHeaderLabels(
            [view + (" (waiting)" if m is None or m.stale else "") for view, m in photos]
        )
        table.setVerticalHeaderLabels([MEASURES[k].label for k in keys] or ["Measures"])
        for c, (_view, photo) in enumerate(photos):
            if photo is None or photo.values is None:
                error = photo.error if photo is not None else None
                text = f"Not measured: {error}" if error else "Not measured yet"
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(0, c, item)
                continue
            for r, key in enumerate(keys):
                value = photo.values.get(key)
                item = QTableWidgetItem(
                    format_value(key, value if isinstance(value, int | float) else None)
                )
                item.setTextAlignment(RIGHT)
                item.setToolTip(MEASURES[key].explain)
                table.setItem(r, c, item)
        height = table.horizontalHeader().sizeHint().height() + 4
        height += sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(min(height, 440))
        self.show()
