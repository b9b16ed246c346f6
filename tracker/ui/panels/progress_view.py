"""The progress view of an area: course summary, the chart of ratings over time (hover a visit's
marker for its treatment record), change from baseline, and the CSV and PDF exports."""

from __future__ import annotations

from PySide6.QtCharts import QChartView, QScatterSeries
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from tracker.core.queries.progress import Progress
from tracker.rendering.chart import build_chart, treatment_text, x_value


class ProgressView(QWidget):
    interval_changed = Signal(int)
    export_csv_requested = Signal()
    export_report_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: Progress | None = None
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600")
        layout.addWidget(self.title)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        interval_label = QLabel("Sessions every", self)
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
        self.csv = QPushButton("Export ratings (CSV)…", self)
        self.report = QPushButton("Export report (PDF)…", self)
        row.addWidget(interval_label)
        row.addWidget(self.interval)
        row.addSpacing(16)
        row.addWidget(self.axis)
        row.addStretch(1)
        row.addWidget(self.csv)
        row.addWidget(self.report)
        layout.addLayout(row)
        self.chart_view = QChartView(self)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(300)
        self.chart_view.setAccessibleName("Ratings over time")
        layout.addWidget(self.chart_view, 3)
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)
        self.table = QTableWidget(0, 6, self)
        self.table.setHorizontalHeaderLabels(["Item", "Rater", "Baseline", "Latest", "Change", "%"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Change from baseline")
        layout.addWidget(self.table, 2)
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
            self.chart_view.hide()
            self.table.hide()
            return
        self.title.setText(f"{data.area}: progress")
        parts = [
            f"<b>{data.sessions_done}</b> session{'s' if data.sessions_done != 1 else ''} done"
        ]
        if data.days_since_baseline is not None:
            parts.append(f"<b>{data.days_since_baseline}</b> days since the baseline")
        if data.next_session is not None:
            parts.append(f"next session suggested on <b>{data.next_session:%d %B %Y}</b>")
        text = ", ".join(parts) + "."
        if data.mean_change:
            labels = {i.key: i.label for i in data.scale.items}
            better = "lower is better" if data.scale.lower_is_better else "higher is better"
            text += (
                "<br>Mean change since baseline ("
                + better
                + "): "
                + ", ".join(f"{labels[k]} {v:+.1f}" for k, v in data.mean_change.items())
            )
        self.summary.setText(text)
        self.interval.blockSignals(True)
        self.interval.setValue(data.interval_days)
        self.interval.blockSignals(False)
        self._draw_chart()
        self.table.setVisible(bool(data.changes))
        self.table.setRowCount(len(data.changes))
        for r, c in enumerate(data.changes):
            cells = [
                c.label,
                c.role.value,
                f"{c.baseline:g}",
                f"{c.latest:g}",
                f"{c.change:+g}",
                "" if c.percent is None else f"{c.percent:+.0f}%",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, col, item)

    def _draw_chart(self) -> None:
        data = self.data
        if data is None:
            return
        has = bool(data.series)
        self.chart_view.setVisible(has)
        self.empty.setVisible(not has)
        self.empty.setText(
            f"No ratings on the {data.scale.name} scale yet. Rate a visit in its Ratings box "
            "and the chart appears here."
        )
        if not has:
            return
        old = self.chart_view.chart()
        chart = build_chart(data, by_session=bool(self.axis.currentData()))
        self.chart_view.setChart(chart)
        if old is not None:
            old.deleteLater()
        for series in chart.series():
            if isinstance(series, QScatterSeries):
                series.hovered.connect(self._on_marker_hovered)

    def _on_marker_hovered(self, point: QPointF, state: bool) -> None:
        if not state or self.data is None:
            QToolTip.hideText()
            return
        by_session = bool(self.axis.currentData())
        visits = self.data.visits
        visit = min(visits, key=lambda v: abs(x_value(v, by_session) - point.x()))
        QToolTip.showText(self.cursor().pos(), treatment_text(visit), self.chart_view)

    def _on_interval_value_changed(self, days: int) -> None:
        if self.data is not None and days != self.data.interval_days:
            self.interval_changed.emit(days)

    def _on_axis_changed(self, _index: int) -> None:
        self._draw_chart()
