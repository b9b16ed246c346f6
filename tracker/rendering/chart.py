"""The progress chart (QtCharts): each item of the area's scale over time, one line per rater role,
with a marker per visit; shared by the progress view and the PDF report."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCharts import QChart, QDateTimeAxis, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QDate, QDateTime, QMargins, QPointF, QRectF, Qt, QTime
from PySide6.QtGui import QColor, QFont, QPainter, QPen

# QtCharts draws through a graphics scene, which is a widget module: the one widget that
# rendering uses, for painting a chart into a PDF.
from PySide6.QtWidgets import QGraphicsScene

from tracker.core.queries.progress import Progress, VisitPoint

ITEM_COLOURS = (
    QColor("#c0392b"),
    QColor("#2471a3"),
    QColor("#7d3c98"),
    QColor("#1e8449"),
    QColor("#b9770e"),
    QColor("#5d6d7e"),
    QColor("#117a65"),
)
ROLE_STYLES = {"patient": Qt.PenStyle.SolidLine, "practitioner": Qt.PenStyle.DashLine}


def x_value(visit: VisitPoint, by_session: bool) -> float:
    """Where a visit sits on the x axis: its session (check-ins half-way after the session
    before them, the baseline at 0), or its date in ms since the epoch."""
    if by_session:
        return visit.position
    return float(_qdatetime(visit.date).toMSecsSinceEpoch())


def _qdatetime(day: dt.date, hour: int = 12) -> QDateTime:
    return QDateTime(QDate(day.year, day.month, day.day), QTime(hour, 0))


def treatment_text(visit: VisitPoint) -> str:
    """What the marker of a visit says on hover: date, kind, and the treatment record."""
    day = f", day {visit.days_since_baseline}" if visit.days_since_baseline else ""
    head = (
        f"{visit.date:%d %b %Y}: {visit.kind.value.replace('-', ' ')}"
        + (f" (session {visit.session})" if visit.session else "")
        + day
    )
    t = visit.treatment
    if not t:
        return head
    parts = [
        str(t["device"]) if t.get("device") else "",
        f"{t['needle_depth_mm']:g} mm" if t.get("needle_depth_mm") else "",
        f"{t['passes']} passes" if t.get("passes") else "",
        str(t["topical"]) if t.get("topical") else "",
    ]
    detail = ", ".join(p for p in parts if p)
    return f"{head}\n{detail}" if detail else head


def build_chart(
    data: Progress,
    *,
    by_session: bool = False,
    title: bool = True,
    font_size: int = 9,
    legend: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignRight,
) -> QChart:
    chart = QChart()
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setBackgroundRoundness(0)
    chart.setMargins(QMargins(4, 4, 4, 4))
    font = QFont()
    font.setPointSize(font_size)
    if title:
        title_font = QFont(font)
        title_font.setBold(True)
        chart.setTitleFont(title_font)
        chart.setTitle(f"{data.area}: {data.scale.name}")
    by_visit = {v.visit_id: v for v in data.visits}
    items = [i.key for i in data.scale.items]
    lines = []
    for series in data.series:
        line = QLineSeries()
        line.setName(f"{series.label} ({series.role.value})")
        colour = ITEM_COLOURS[items.index(series.item) % len(ITEM_COLOURS)]
        pen = QPen(
            colour,
            max(2.2, font_size / 4),
            ROLE_STYLES.get(series.role.value, Qt.PenStyle.SolidLine),
        )
        line.setPen(pen)
        for point in series.points:
            line.append(QPointF(x_value(by_visit[point.visit_id], by_session), point.value))
        chart.addSeries(line)
        lines.append(line)
    # One marker per visit along the bottom of the chart: hovering shows the treatment record.
    markers = QScatterSeries()
    markers.setName("Visits")
    markers.setMarkerSize(9)
    markers.setColor(QColor("#555555"))
    markers.setBorderColor(QColor("#555555"))
    low = min((i.minimum for i in data.scale.items), default=0)
    high = max((i.maximum for i in data.scale.items), default=10)
    for v in data.visits:
        markers.append(QPointF(x_value(v, by_session), low))
    chart.addSeries(markers)

    y = QValueAxis()
    y.setRange(low - 0.2, high + 0.2)
    # Ticks on the scale's whole numbers (a fixed tick count over the padded range would put
    # them between values and label them wrongly).
    y.setTickType(QValueAxis.TickType.TicksDynamic)
    y.setTickAnchor(low)
    y.setTickInterval(1 if high - low <= 10 else 2)
    y.setLabelFormat("%d")
    y.setTitleText("better ↓" if data.scale.lower_is_better else "better ↑")
    y.setLabelsFont(font)
    y.setTitleFont(font)
    x: QValueAxis | QDateTimeAxis
    if by_session:
        numbers = QValueAxis()
        furthest = max((v.position for v in data.visits), default=1.0)
        top = int(furthest) + 1
        numbers.setRange(-0.5, top - 0.5 if furthest % 1 == 0 else top)
        numbers.setTickType(QValueAxis.TickType.TicksDynamic)
        numbers.setTickAnchor(0)
        numbers.setTickInterval(1 if top <= 12 else 2)
        numbers.setLabelFormat("%d")
        numbers.setTitleText("session (0 = before the first)")
        x = numbers
    else:
        dates = QDateTimeAxis()
        dates.setFormat("d MMM yy")
        if data.visits:
            first, last = data.visits[0].date, data.visits[-1].date
            pad = max(3, (last - first).days // 20)
            start = first - dt.timedelta(days=pad)
            end = last + dt.timedelta(days=pad)
            dates.setRange(_qdatetime(start, 0), _qdatetime(end, 0))
        dates.setTickCount(6)
        x = dates
    x.setLabelsFont(font)
    x.setTitleFont(font)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    for s in [*lines, markers]:
        s.attachAxis(x)
        s.attachAxis(y)
    chart.legend().setFont(font)
    chart.legend().setAlignment(legend)
    chart.legend().markers(markers)[0].setVisible(False)
    return chart


def render_chart(painter: QPainter, chart: QChart, width: float, height: float) -> None:
    """Paint ``chart`` at the painter's origin, ``width`` × ``height`` in its units (for PDFs)."""
    scene = QGraphicsScene()
    scene.addItem(chart)
    chart.resize(width, height)
    scene.setSceneRect(QRectF(0, 0, width, height))
    scene.render(painter, QRectF(0, 0, width, height), QRectF(0, 0, width, height))
    scene.removeItem(chart)
