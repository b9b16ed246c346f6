"""The progress charts (QtCharts), one per rated instrument of an area, shared by the progress
view and the PDF report:

- ``ctd`` and POSAS: each item over time, one line per item and rater, coloured by item, with
  line style and marker shape by rater; POSAS's total (6–60) on its own axis on the right,
  scaled so that its grid lines are the items' (the total reads as six times the mean item);
- the improvement VAS: its value (0–10, higher is better) over time, a line per rater;
- GAIS: stacked bars of how many ratings gave each grade at each visit (``chart_grades``).

A marker per visit along the bottom of the line charts is a ``QScatterSeries`` whose hover
the progress view turns into the visit's treatment record (``treatment_text``).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCharts import QChart, QDateTimeAxis, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QDate, QDateTime, QPointF, QRectF, Qt, QTime
from PySide6.QtGui import QColor, QFont, QPainter, QPen

# QtCharts draws through a graphics scene, which is a widget module: the one widget that
# rendering uses, for painting a chart into a PDF.
from PySide6.QtWidgets import QGraphicsScene

from tracker.core.domain.instruments import TOTAL, Instrument, Rater, Series, item_label
from tracker.core.domain.scales import Analysis
from tracker.core.queries.progress import Progress, VisitPoint
from tracker.rendering import chart_grades
from tracker.rendering.chart_style import (
    PRINT,
    ChartColours,
    apply_colours,
    finish_legend,
    marker,
    new_chart,
    rater_style,
    text,
    who,
)


def x_value(visit: VisitPoint, by_session: bool) -> float:
    """Where a visit sits on the x axis: its session (check-ins half-way after the session
    before them, the baseline at 0), or its date in ms since the epoch."""
    if by_session:
        return visit.position
    return float(_qdatetime(visit.date).toMSecsSinceEpoch())


def _qdatetime(day: dt.date, hour: int = 12) -> QDateTime:
    return QDateTime(QDate(day.year, day.month, day.day), QTime(hour, 0))


def treatment_text(visit: VisitPoint) -> str:
    """What the marker of a visit says on hover, as plain text: date, kind, the treatment
    record, and the visit's notes (the first 300 characters)."""
    day = f", day {visit.days_since_baseline}" if visit.days_since_baseline else ""
    head = (
        f"{visit.date:%d %b %Y}: {visit.kind.value.replace('-', ' ')}"
        + (f" (session {visit.session})" if visit.session else "")
        + day
    )
    lines = [head]
    t = visit.treatment or {}
    parts = [
        str(t["device"]) if t.get("device") else "",
        f"{t['needle_depth_mm']:g} mm" if t.get("needle_depth_mm") else "",
        f"{t['passes']} passes" if t.get("passes") else "",
        str(t["topical"]) if t.get("topical") else "",
    ]
    detail = ", ".join(p for p in parts if p)
    if detail:
        lines.append(detail)
    notes = " ".join(visit.notes.split())
    if notes:
        lines.append(notes if len(notes) <= 300 else notes[:299] + "…")
    return "\n".join(lines)


def build_chart(
    data: Progress,
    instrument: Instrument,
    *,
    by_session: bool = False,
    title: bool = True,
    font_size: int = 9,
    legend: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignRight,
    colours: ChartColours = PRINT,
) -> QChart:
    """The chart of one instrument of the area (``data``): GAIS as bars per visit, every other
    instrument as lines over time, by date or by session; in ``colours`` (the report's print
    colours, or ``chart_style.screen_colours`` of a window's palette)."""
    name = f"{data.area}: {instrument.scale.name}" if title else None
    chart, font = new_chart(font_size, name)
    bars = instrument.scale.analysis is Analysis.GRADE
    if bars:
        chart_grades.draw(chart, font, data, instrument, by_session, colours.background)
    else:
        _draw_lines(chart, font, data, instrument, by_session, font_size, colours)
    finish_legend(chart, font, legend, lines=not bars)
    apply_colours(chart, colours)
    return chart


def _draw_lines(
    chart: QChart,
    font: QFont,
    data: Progress,
    instrument: Instrument,
    by_session: bool,
    font_size: int,
    colours: ChartColours,
) -> None:
    scale = instrument.scale
    item_colours = colours.items
    raters: list[Rater] = list(dict.fromkeys(s.rater for s in instrument.series))
    items = [i.key for i in scale.items]
    shown = [k for k in items if any(s.item == k for s in instrument.series)]
    # Several items: colour says the item, line and marker the rater, and the legend says
    # which is which once each (a line of its own per item and rater would run to dozens).
    # One item (the VAS): a colour per rater too, and the legend names the raters.
    by_item = len(shown) > 1
    width = max(2.2, font_size / 4)

    def colour(series: Series) -> QColor:
        if series.item == TOTAL:
            return colours.total
        if by_item:
            return item_colours[items.index(series.item) % len(item_colours)]
        return item_colours[raters.index(series.rater) % len(item_colours)]

    by_visit = {v.visit_id: v for v in data.visits}
    lines: list[tuple[QLineSeries, bool]] = []  # each with whether it is on the total's axis
    for series in instrument.series:
        style, shape, _words = rater_style(raters.index(series.rater))
        line = QLineSeries()
        name = who(series.rater, data.client)
        line.setName(text(f"{series.label} — {name}" if by_item else name))
        thick = width * 1.6 if series.item == TOTAL else width
        line.setPen(QPen(colour(series), thick, style))
        _mark(line, shape, colour(series), width)
        for point in series.points:
            line.append(QPointF(x_value(by_visit[point.visit_id], by_session), point.value))
        chart.addSeries(line)
        if by_item:
            chart.legend().markers(line)[0].setVisible(False)
        lines.append((line, series.item == TOTAL))

    keys: list[QLineSeries] = []
    if by_item:
        for item in shown:
            colour_of = item_colours[items.index(item) % len(item_colours)]
            keys.append(_key(chart, item_label(scale, item), QPen(colour_of, width)))
        if any(s.item == TOTAL for s in instrument.series):
            total = f"{item_label(scale, TOTAL)}, right axis"
            keys.append(_key(chart, total, QPen(colours.total, width * 1.6)))
        for n, rater in enumerate(raters):
            style, shape, words = rater_style(n)
            name = who(rater, data.client) + (f": {words}" if len(raters) > 1 else "")
            entry = _key(chart, name, QPen(colours.key, width, style))
            _mark(entry, shape, colours.key, width)
            keys.append(entry)

    # One marker per visit along the bottom of the chart: hovering shows the treatment record.
    markers = QScatterSeries()
    markers.setName("Visits")
    markers.setMarkerSize(9)
    markers.setColor(colours.visits)
    markers.setBorderColor(colours.visits)
    low = min((i.minimum for i in scale.items), default=0)
    high = max((i.maximum for i in scale.items), default=10)
    for v in data.visits:
        markers.append(QPointF(x_value(v, by_session), low))
    chart.addSeries(markers)
    chart.legend().markers(markers)[0].setVisible(False)

    y = _value_axis(font, low, high, scale.lower_is_better)
    x = _x_axis(font, data, by_session)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    total_axis = None
    if any(on_total for _, on_total in lines):
        total_axis = _total_axis(font, instrument, y)
        chart.addAxis(total_axis, Qt.AlignmentFlag.AlignRight)
    for series_, on_total in [*lines, *((k, False) for k in keys), (markers, False)]:
        series_.attachAxis(x)
        series_.attachAxis(total_axis if on_total and total_axis is not None else y)


def _mark(line: QLineSeries, shape: str, colour: QColor, width: float) -> None:
    line.setLightMarker(marker(shape, colour))
    line.setMarkerSize(max(9.0, width * 4))


def _key(chart: QChart, name: str, pen: QPen) -> QLineSeries:
    """A legend entry without points: an item's colour, or a rater's line and marker."""
    key = QLineSeries()
    key.setName(text(name))
    key.setPen(pen)
    chart.addSeries(key)
    return key


def _value_axis(font: QFont, low: int, high: int, lower_is_better: bool) -> QValueAxis:
    y = QValueAxis()
    y.setRange(low - 0.2, high + 0.2)
    # Ticks on the scale's whole numbers (a fixed tick count over the padded range would put
    # them between values and label them wrongly).
    y.setTickType(QValueAxis.TickType.TicksDynamic)
    y.setTickAnchor(low)
    y.setTickInterval(1 if high - low <= 10 else 2)
    y.setLabelFormat("%d")
    y.setTitleText(
        f"{low}–{high}, " + ("lower is better ↓" if lower_is_better else "higher is better ↑")
    )
    y.setLabelsFont(font)
    y.setTitleFont(font)
    return y


def _total_axis(font: QFont, instrument: Instrument, items: QValueAxis) -> QValueAxis:
    """The POSAS total's axis: n items' sums, so each grid line of the items' axis is n times
    its value here (1 ↔ 6, 10 ↔ 60 for six items)."""
    n = len(instrument.scale.total_items)
    low, high = instrument.scale.total_range
    axis = QValueAxis()
    axis.setRange(items.min() * n, items.max() * n)
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(low)
    axis.setTickInterval(items.tickInterval() * n)
    axis.setLabelFormat("%d")
    axis.setTitleText(text(f"total ({low}–{high})"))
    axis.setGridLineVisible(False)
    axis.setLabelsFont(font)
    axis.setTitleFont(font)
    return axis


def _x_axis(font: QFont, data: Progress, by_session: bool) -> QValueAxis | QDateTimeAxis:
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
    return x


def render_chart(painter: QPainter, chart: QChart, width: float, height: float) -> None:
    """Paint ``chart`` at the painter's origin, ``width`` × ``height`` in its units (for PDFs)."""
    scene = QGraphicsScene()
    scene.addItem(chart)
    chart.resize(width, height)
    scene.setSceneRect(QRectF(0, 0, width, height))
    scene.render(painter, QRectF(0, 0, width, height), QRectF(0, 0, width, height))
    scene.removeItem(chart)
