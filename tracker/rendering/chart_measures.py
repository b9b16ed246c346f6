"""The chart of one measure of the marks over an area's visits (issue 18), shared by the
progress view and the PDF report: the measure at each visit, by date or by session; the
band (the smallest change worth believing) shaded around the baseline's value, so a later
point outside the shading is a change to believe; the untreated control area's same measure
dashed beside it; the unit on the axis.

A visit whose photo could not be measured (or lacks the scale the measure needs) has no
point: the line stops there and starts again after it, and a hollow mark on the axis's floor
says that the visit is missing, so no line is drawn through a visit as if it had been seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCharts import (
    QAreaSeries,
    QChart,
    QDateTimeAxis,
    QLegend,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QDateTime, QPointF, Qt, QTime
from PySide6.QtGui import QBrush, QColor, QFont, QPen

from tracker.core.queries.measures import MeasurePoint, MeasureSeries
from tracker.rendering.chart_style import (
    PRINT,
    ChartColours,
    apply_colours,
    dark_colours,
    finish_legend,
    marker,
    new_chart,
    text,
)

# The measure is drawn in the first item colour and its control in the second (the Okabe-Ito
# blue and vermilion, told apart in grey by the control's dashes); the band in the measure's.
BAND_ALPHA = {False: 46, True: 70}  # of 255: the band's shading, light enough to read through
DARK = dark_colours(QColor("#1e1e1e"), QColor("#e6e6e6"))  # for ``dark`` without a palette


def shown(series: MeasureSeries, value: float) -> float:
    """A value as its unit reads: the share of the region is stored as a fraction and shown as
    a percentage (as ``measures.format_value`` writes it)."""
    return value * 100.0 if series.info.unit == "% of region" else value


def baseline_value(series: MeasureSeries) -> float | None:
    """The value the band is shaded around: the first visit's that was measured."""
    return next((p.value for p in series.points if p.value is not None), None)


def x_value(point: MeasurePoint, by_session: bool) -> float:
    """Where a visit sits on the x axis: its session number, or its date (ms since the epoch,
    at noon)."""
    if by_session:
        return float(point.session)
    return float(_noon(point.date).toMSecsSinceEpoch())


def _noon(day: dt.date, hour: int = 12) -> QDateTime:
    return QDateTime(QDate(day.year, day.month, day.day), QTime(hour, 0))


def visit_runs(
    points: Sequence[MeasurePoint], value: Callable[[MeasurePoint], float | None]
) -> list[list[MeasurePoint]]:
    """The points in runs of consecutive visits that have a value: a line is drawn along each
    run, never across a visit without one."""
    runs: list[list[MeasurePoint]] = [[]]
    for p in points:
        if value(p) is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(p)
    return [r for r in runs if r]


def measure_chart(
    series: MeasureSeries,
    font: QFont,
    by_session: bool,
    dark: bool = False,
    *,
    control_name: str | None = None,
    title: str | None = None,
    compact: bool = False,
    colours: ChartColours | None = None,
) -> QChart:
    """The chart of ``series`` (one measure of an area over its visits); ``control_name`` names
    the untreated control in the legend ("Untreated control" without it). ``compact``: for a
    small chart under a ``title`` naming the measure (the report's grid), the axis says only
    the unit, and there is no legend (the figure's caption is the key). ``colours``: a
    window's (``chart_style.screen_colours``); without them, print colours, or dark ones with
    ``dark``."""
    chart, _title_font = new_chart(font.pointSize(), title)
    palette = colours or (DARK if dark else PRINT)
    main, beside = palette.items[0], palette.items[1]
    width = max(2.0, font.pointSizeF() / 4)
    info = series.info
    points = sorted(series.points, key=lambda p: (p.date, p.session))

    drawn: list[QLineSeries | QScatterSeries | QAreaSeries] = []
    values = [shown(series, p.value) for p in points if p.value is not None]
    values += [shown(series, p.control) for p in points if p.control is not None]
    x_axis = _x_axis(font, points, by_session, compact)
    low_x, high_x = _x_range(x_axis)

    base = baseline_value(series)
    if base is not None and series.band is not None:
        centre, half = shown(series, base), shown(series, series.band)
        drawn.append(
            _band(chart, band_name(series), (centre, half), (low_x, high_x), main, palette.dark)
        )
        values += [centre - half, centre + half]

    control = f"{control_name} (control)" if control_name else "Untreated control"
    lines: list[tuple[Callable[[MeasurePoint], float | None], QColor, Qt.PenStyle, str]] = [
        (lambda p: p.value, main, Qt.PenStyle.SolidLine, info.label),
        (lambda p: p.control, beside, Qt.PenStyle.DashLine, control),
    ]
    for read, colour, style, name in lines:
        for n, run in enumerate(visit_runs(points, read)):
            line = QLineSeries()
            line.setName(text(name))
            line.setPen(QPen(colour, width, style))
            shape = "circle" if style == Qt.PenStyle.SolidLine else "square"
            line.setLightMarker(marker(shape, colour))
            line.setMarkerSize(max(8.0, width * 4))
            for p in run:
                v = read(p)
                assert v is not None
                line.append(QPointF(x_value(p, by_session), shown(series, v)))
            chart.addSeries(line)
            if n:  # one legend entry per line, however many runs it is cut into
                chart.legend().markers(line)[0].setVisible(False)
            drawn.append(line)

    y_axis = _y_axis(font, series, values, compact)
    missing = [p for p in points if p.value is None]
    if missing:
        marks = QScatterSeries()
        marks.setName("Not measured")
        marks.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeCircle)
        marks.setMarkerSize(10)
        marks.setColor(palette.background)
        marks.setBorderColor(palette.visits)
        marks.setPen(QPen(palette.visits, 2))
        for p in missing:
            marks.append(QPointF(x_value(p, by_session), y_axis.min()))
        chart.addSeries(marks)
        drawn.append(marks)

    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    for s in drawn:
        s.attachAxis(x_axis)
        s.attachAxis(y_axis)
    finish_legend(chart, font, Qt.AlignmentFlag.AlignBottom, lines=True)
    chart.legend().setVisible(not compact)
    apply_colours(chart, palette)
    return chart


def band_name(series: MeasureSeries) -> str:
    from_ = "retest pair" if series.band_source == "retest" else "default"
    amount = shown(series, series.band or 0.0)
    unit = series.info.unit
    number = f"{amount:.{series.info.decimals}f}"
    return f"Band ±{number}{'' if unit in ('', '°') else ' '}{unit} ({from_})"


def _band(
    chart: QChart,
    name: str,
    around: tuple[float, float],
    across: tuple[float, float],
    colour: QColor,
    dark: bool,
) -> QAreaSeries:
    """The band: ``around`` (centre, half-width) shaded ``across`` the x axis's range."""
    (centre, half), (low_x, high_x) = around, across
    upper, lower = QLineSeries(), QLineSeries()
    for x in (low_x, high_x):
        upper.append(QPointF(x, centre + half))
        lower.append(QPointF(x, centre - half))
    band = QAreaSeries(upper, lower)
    # The area series does not own its two lines: without a parent, Python would free them
    # while the chart still draws them.
    upper.setParent(band)
    lower.setParent(band)
    band.setName(text(name))
    fill = QColor(colour)
    fill.setAlpha(BAND_ALPHA[dark])
    band.setBrush(QBrush(fill))
    edge = QColor(colour)
    edge.setAlpha(BAND_ALPHA[dark] * 2)
    band.setPen(QPen(edge, 1, Qt.PenStyle.DotLine))
    chart.addSeries(band)
    chart.legend().markers(band)[0].setShape(QLegend.MarkerShape.MarkerShapeRectangle)
    return band


def _y_axis(font: QFont, series: MeasureSeries, values: list[float], compact: bool) -> QValueAxis:
    info = series.info
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    # A size or a difference that cannot go below nought starts at nought, so a fall is
    # drawn to its true proportion; signed differences and angles keep to their values.
    if not info.signed and info.unit != "°" and low >= 0:
        low = 0.0
    pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
    axis = QValueAxis()
    axis.setRange(low - (0 if low == 0 else pad), high + pad)
    axis.applyNiceNumbers()
    axis.setLabelFormat("%g")  # the nice ticks' own digits: "0.5", "2", "4000"
    # The unit (the legend and the chart's heading name the measure), and which way is better.
    falls = info.lower_is_better and not info.signed
    if compact:
        axis.setTitleText(text(f"{info.unit or 'difference'}{' ↓' if falls else ''}"))
    else:
        axis.setTitleText(
            text(f"{info.unit or info.label}{', lower is better ↓' if falls else ''}")
        )
    _fonts(axis, font)
    return axis


def _x_axis(
    font: QFont,
    points: Sequence[MeasurePoint],
    by_session: bool,
    compact: bool,
) -> QValueAxis | QDateTimeAxis:
    axis: QValueAxis | QDateTimeAxis
    if by_session:
        numbers = QValueAxis()
        top = max((p.session for p in points), default=1)
        numbers.setRange(-0.5, top + 0.5)
        numbers.setTickType(QValueAxis.TickType.TicksDynamic)
        numbers.setTickAnchor(0)
        numbers.setTickInterval(1 if top <= 12 else 2)
        numbers.setLabelFormat("%d")
        numbers.setTitleText("session" if compact else "session (0 = before the first)")
        axis = numbers
    else:
        dates = QDateTimeAxis()
        dates.setFormat("MMM yy" if compact else "d MMM yy")
        if points:
            first, last = points[0].date, points[-1].date
            pad = max(3, (last - first).days // 20)
            dates.setRange(
                _noon(first - dt.timedelta(days=pad), 0), _noon(last + dt.timedelta(days=pad), 0)
            )
        dates.setTickCount(4 if compact else 6)
        axis = dates
    _fonts(axis, font)
    return axis


def _x_range(axis: QValueAxis | QDateTimeAxis) -> tuple[float, float]:
    if isinstance(axis, QValueAxis):
        return axis.min(), axis.max()
    return float(axis.min().toMSecsSinceEpoch()), float(axis.max().toMSecsSinceEpoch())


def _fonts(axis: QValueAxis | QDateTimeAxis, font: QFont) -> None:
    axis.setLabelsFont(font)
    axis.setTitleFont(font)
