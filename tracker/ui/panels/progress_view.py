"""The progress view of an area: its course (sessions, days since its baseline, the next
suggested session), then a section per instrument it was rated on, each as it is reported:
the finding in a sentence, a chart (hover a visit's marker for its treatment record) and a
table (change from baseline; GAIS grades per visit; the VAS's values). CSV and PDF exports."""

from __future__ import annotations

import html
import textwrap

from PySide6.QtCharts import QBarCategoryAxis, QChartView, QScatterSeries
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from tracker.core.domain.instruments import Instrument, day_text, headline
from tracker.core.domain.scales import Analysis
from tracker.core.queries.progress import Progress
from tracker.rendering.chart import build_chart, treatment_text, x_value
from tracker.rendering.chart_style import screen_colours
from tracker.ui.help_text import scale_tip
from tracker.ui.panels.fitting import ElidedLabel, FlowLayout, set_heading
from tracker.ui.panels.measure_view import MeasureView

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
MANY_BARS = 6  # more bars than this and their labels would be cut across: they stand upright


def _table(headers: list[str], rows: list[list[str]], name: str, parent: QWidget) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers), parent)
    # Long headings ("1 very much improved") on two lines: the table fits the panel's width.
    table.setHorizontalHeaderLabels([textwrap.fill(h, 12) for h in headers])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setAccessibleName(name)
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c >= 2:
                item.setTextAlignment(RIGHT)
            table.setItem(r, c, item)
    # Tall enough for every row: the section scrolls with the page, not on its own.
    height = table.horizontalHeader().sizeHint().height() + 4
    height += sum(table.rowHeight(r) for r in range(len(rows)))
    table.setFixedHeight(min(height, 320))
    return table


def table_rows(instrument: Instrument, client: str) -> tuple[list[str], list[list[str]]]:
    """The instrument's table as it is reported: headers and rows of text."""
    scale = instrument.scale
    if scale.analysis is Analysis.GRADE:
        item = scale.items[0]
        grades = list(range(item.minimum, item.maximum + 1))
        headers = ["Date", "Rated by", *(f"{g} {item.anchors.get(g, '')}" for g in grades)]
        headers.append("Improved (1–3)")
        rows = [
            [
                day_text(g.date),
                g.role.value,
                *(str(n) for _grade, n in g.counts),
                f"{g.improved} of {g.total} ({100 * g.share_improved:.0f}%)",
            ]
            for g in instrument.grades
        ]
        return headers, rows
    if scale.analysis is Analysis.LEVEL:
        points = sorted(
            (p.date, series.rater.label(client), p.value)
            for series in instrument.series
            for p in series.points
        )
        rows = [[day_text(day), who, f"{value:g}"] for day, who, value in points]
        return ["Date", "Rater", f"Value (0–{scale.items[0].maximum})"], rows
    headers = ["Item", "Rated by", "Baseline", "Latest", "Change", "%"]
    rows = [
        [
            c.label,
            c.rated_by,
            f"{c.baseline:g} ({day_text(c.baseline_date)})",
            f"{c.latest:g} ({day_text(c.latest_date)})",
            f"{c.change:+g}",
            "" if c.percent is None else f"{c.percent:+.0f}%",
        ]
        for c in instrument.changes
    ]
    return headers, rows


class ProgressView(QWidget):
    interval_changed = Signal(int)
    export_csv_requested = Signal()
    export_report_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: Progress | None = None
        self.charts: list[tuple[QChartView, Instrument]] = []
        layout = QVBoxLayout(self)
        self.title = ElidedLabel(self)  # an area's name is the user's text: plain, one line
        set_heading(self.title, 1.6)
        layout.addWidget(self.title)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)
        row = FlowLayout()  # on two lines when narrow, never wider than the screen
        self.interval_label = interval_label = QLabel("Sessions every", self)
        self.interval = QSpinBox(self)
        self.interval.setRange(1, 365)
        self.interval.setSuffix(" days")
        self.interval.setKeyboardTracking(False)
        self.interval.setAccessibleName("Days between sessions")
        interval_label.setBuddy(self.interval)
        self.axis = QComboBox(self)
        self.axis.addItem("By date", False)
        self.axis.addItem("By session", True)
        self.axis.setAccessibleName("Chart axis")
        self.csv = QPushButton("Export ratings and measures (CSV)…", self)
        self.report = QPushButton("Export report (PDF)…", self)
        row.addWidget(interval_label)
        row.addWidget(self.interval)
        row.addWidget(self.axis)
        row.add_stretch()
        row.addWidget(self.csv)
        row.addWidget(self.report)
        layout.addLayout(row)
        self.page = QScrollArea(self)
        self.page.setWidgetResizable(True)
        self.page.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(self.page, 1)
        self.body = QWidget()
        self.sections = QVBoxLayout(self.body)
        self.page.setWidget(self.body)
        self.measures = MeasureView(self.body)  # the photos' measures, after the ratings
        self.empty = QLabel(self)
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.interval.valueChanged.connect(self._on_interval_value_changed)
        self.axis.currentIndexChanged.connect(self._on_axis_changed)
        self.csv.clicked.connect(self.export_csv_requested)
        self.report.clicked.connect(self.export_report_requested)

    def show_progress(self, data: Progress | None) -> None:
        self.data = data
        if data is None:
            self.title.setText("Progress")
            self.summary.setText("Choose a treated area to see its progress.")
            self._clear()
            self.empty.hide()
            return
        self.title.setText(f"{data.area}: progress")
        if data.baseline is None:
            text = (
                "Not started: this area has no photos or ratings yet. Its course counts from "
                "its first visit with either."
            )
        else:
            parts = [
                html.escape(data.course_words)
                if data.untreated
                else f"<b>{data.sessions_done}</b> session{'s' if data.sessions_done != 1 else ''} "
                "done",
                f"baseline {day_text(data.baseline)}",
            ]
            if data.days_since_baseline is not None:
                parts.append(f"<b>{data.days_since_baseline}</b> days since the baseline")
            if data.next_session is not None and data.overdue:
                parts.append(f"the next session was due on <b>{day_text(data.next_session)}</b>")
            elif data.next_session is not None:
                parts.append(f"next session suggested on <b>{day_text(data.next_session)}</b>")
            text = ", ".join(parts) + "."
        self.summary.setText(text)
        self.interval.blockSignals(True)
        self.interval.setValue(data.interval_days)
        self.interval.blockSignals(False)
        # An untreated control has no sessions to plan or to chart by: its charts are by date.
        for widget in (self.interval_label, self.interval, self.axis):
            widget.setVisible(not data.untreated)
        self._draw()

    @property
    def by_session(self) -> bool:
        """Whether the charts are by session: as chosen, but by date for an untreated control."""
        untreated = self.data is not None and self.data.untreated
        return bool(self.axis.currentData()) and not untreated

    def _clear(self) -> None:
        """Everything but the measures, which stay in the layout: taken out and added again,
        Qt kept their first layout item as theirs and laid them out by its stale size (a
        blank page where the measures' charts should be)."""
        self.charts = []
        i = 0
        while i < self.sections.count():
            item = self.sections.itemAt(i)
            if item is not None and item.widget() is self.measures:
                i += 1
                continue
            taken = self.sections.takeAt(i)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()

    def _draw(self) -> None:
        data = self.data
        if data is None:
            return
        self._clear()
        rated = data.rated
        self.page.setVisible(bool(rated) or self.measures.has_content)
        self.empty.setVisible(not rated)
        self.empty.setText(
            f"No ratings of {data.area} yet. Rate a visit in its Ratings box (any scale, by "
            "any rater) and its chart appears here."
        )
        by_session = self.by_session
        for at, instrument in enumerate(rated):
            self.sections.insertWidget(at, self._section(data, instrument, by_session))
        if self.sections.indexOf(self.measures) < 0:
            self.sections.addWidget(self.measures)
        self.sections.addStretch(1)

    def measures_shown(self) -> None:
        """The measures were filled in (``measuring``): the page shows when they are there."""
        rated = bool(self.data is not None and self.data.rated)
        self.page.setVisible(rated or self.measures.has_content)

    def _section(self, data: Progress, instrument: Instrument, by_session: bool) -> QWidget:
        scale = instrument.scale
        box = QWidget(self.body)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 8)
        n = instrument.ratings
        head = QLabel(
            f"<b>{scale.name}</b> · {n} rating{'s' if n != 1 else ''}"
            f"<br><small>{scale.description}</small>",
            box,
        )
        head.setWordWrap(True)
        head.setToolTip(scale_tip(scale))  # the glossary's words for POSAS, GAIS…
        layout.addWidget(head)
        finding = QLabel(headline(instrument), box)
        finding.setWordWrap(True)
        finding.setAccessibleName(f"{scale.name}: finding")
        layout.addWidget(finding)
        view = QChartView(box)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        view.setMinimumHeight(300)
        view.setAccessibleName(f"{scale.name} over time")
        grades = scale.analysis is Analysis.GRADE
        # Bars need the width: their legend goes under them; many bars' labels stand upright
        # rather than being cut to "01…".
        legend = Qt.AlignmentFlag.AlignBottom if grades else Qt.AlignmentFlag.AlignRight
        colours = screen_colours(self.palette())  # a dark desktop: a dark chart
        chart = build_chart(data, instrument, by_session=by_session, legend=legend, colours=colours)
        for axis in chart.axes(Qt.Orientation.Horizontal):
            if isinstance(axis, QBarCategoryAxis) and axis.count() > MANY_BARS:
                axis.setLabelsAngle(-90)
                view.setMinimumHeight(420)  # room for the upright labels, whole
        view.setChart(chart)
        for series in chart.series():
            if isinstance(series, QScatterSeries):
                series.hovered.connect(self._on_marker_hovered)
        layout.addWidget(view)
        self.charts.append((view, instrument))
        headers, rows = table_rows(instrument, data.client)
        if rows:
            layout.addWidget(_table(headers, rows, f"{scale.name}: table", box))
        return box

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # The desktop switched between light and dark: the charts are drawn again in its colours.
        if event.type() == QEvent.Type.PaletteChange and self.data is not None:
            self._draw()

    def _on_marker_hovered(self, point: QPointF, state: bool) -> None:
        if not state or self.data is None or not self.data.visits:
            QToolTip.hideText()
            return
        by_session = self.by_session
        visits = self.data.visits
        visit = min(visits, key=lambda v: abs(x_value(v, by_session) - point.x()))
        # Plain text (notes may hold anything), shown as such: a tooltip reads markup.
        text = html.escape(treatment_text(visit)).replace("\n", "<br>")
        QToolTip.showText(self.cursor().pos(), f"<p>{text}</p>", self)

    def _on_interval_value_changed(self, days: int) -> None:
        if self.data is not None and days != self.data.interval_days:
            self.interval_changed.emit(days)

    def _on_axis_changed(self, _index: int) -> None:
        self._draw()
