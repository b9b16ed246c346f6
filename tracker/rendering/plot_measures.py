"""One measure's chart for the Progress tab, painted with QPainter alone into an image, so
that it can be made in a worker (issue 18): what ``chart_measures.measure_chart`` draws with
QtCharts (the measure at each visit, the band shaded around the baseline's value, the
control dashed beside it, a hollow mark on the floor for a visit not measured, the unit on
the axis, a legend below), without QtCharts.

Why not QtCharts: building and painting a QChart took the GUI thread 20-45 ms each, and an
area has 14; and QtCharts lays out its text through one document shared by every chart of
the process, so a chart made in a worker while the window paints its rating charts crashes
(found by the dark-palette test). Painting on a ``QImage`` with ``QPainter`` is safe in any
thread.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDate, QLocale, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from tracker.core.queries.measures import MeasurePoint, MeasureSeries
from tracker.rendering.chart_measures import (
    BAND_ALPHA,
    DARK,
    band_name,
    baseline_value,
    shown,
    visit_runs,
)
from tracker.rendering.chart_style import PRINT, ChartColours

PAD = 8.0  # around the plot, in logical pixels
MARK = 7.0  # a point's marker


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values (1, 2 or 5 × 10ⁿ apart) from at or below ``low`` to at or above ``high``,
    about ``most`` of them."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(most - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    ticks: list[float] = [round(n * step, 10) for n in range(first, last + 1)]
    return ticks


def _label(value: float) -> str:
    return f"{value:g}".replace("-", "\u2212")


def _x(point: MeasurePoint, by_session: bool) -> float:
    return float(point.session) if by_session else float(point.date.toordinal())


def _x_ticks(
    points: Sequence[MeasurePoint], by_session: bool
) -> tuple[float, float, list[tuple[float, str]]]:
    """The x range and its ticks (value, label): sessions, or dates."""
    if by_session:
        top = max((p.session for p in points), default=1)
        step = 1 if top <= 12 else 2
        return -0.5, top + 0.5, [(float(s), str(s)) for s in range(0, top + 1, step)]
    first = min(p.date for p in points)
    last = max(p.date for p in points)
    pad = max(3, (last - first).days // 20)
    low, high = (first - dt.timedelta(days=pad)).toordinal(), (last + dt.timedelta(days=pad))
    high_n = high.toordinal()
    locale = QLocale()
    count = 5
    ticks = []
    for n in range(count + 1):
        day = dt.date.fromordinal(round(low + (high_n - low) * n / count))
        ticks.append(
            (
                float(day.toordinal()),
                locale.toString(QDate(day.year, day.month, day.day), "d MMM yy"),
            )
        )
    return float(low), float(high_n), ticks


def _y_range(series: MeasureSeries, values: list[float]) -> list[float]:
    info = series.info
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    # As the QtCharts chart: a size or an unsigned difference starts at nought, so a fall is
    # drawn to its true proportion.
    if not info.signed and info.unit != "°" and low >= 0:
        low = 0.0
    pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
    return nice_ticks(low - (0 if low == 0 else pad), high + pad)


def _marker(painter: QPainter, at: QPointF, shape: str, colour: QColor, hollow: QColor | None):
    painter.setPen(QPen(colour, 1.6) if hollow is not None else Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(hollow if hollow is not None else colour))
    box = QRectF(at.x() - MARK / 2, at.y() - MARK / 2, MARK, MARK)
    if shape == "square":
        painter.drawRect(box)
    else:
        painter.drawEllipse(box)


def paint_measure(
    painter: QPainter,
    series: MeasureSeries,
    font: QFont,
    by_session: bool,
    colours: ChartColours,
    size: tuple[float, float],
    control_name: str | None = None,
) -> None:
    """Paint ``series``'s chart at the painter's origin, ``size`` (logical pixels)."""
    width, height = size
    info = series.info
    points = sorted(series.points, key=lambda p: (p.date, p.session))
    main, beside = colours.items[0], colours.items[1]
    metrics = QFontMetricsF(font)
    line_h = metrics.height()
    painter.setFont(font)
    painter.fillRect(QRectF(0, 0, width, height), colours.background)
    if not points:
        return

    values = [shown(series, p.value) for p in points if p.value is not None]
    values += [shown(series, p.control) for p in points if p.control is not None]
    base = baseline_value(series)
    band = None
    if base is not None and series.band is not None:
        band = (shown(series, base), shown(series, series.band))
        values += [band[0] - band[1], band[0] + band[1]]
    y_ticks = _y_range(series, values)
    y_low, y_high = y_ticks[0], y_ticks[-1]
    x_low, x_high, x_ticks = _x_ticks(points, by_session)

    # The legend's entries, laid out in rows below the x axis.
    control = f"{control_name} (control)" if control_name else "Untreated control"
    legend: list[tuple[str, str, QColor]] = [("line", info.label, main)]
    if any(p.control is not None for p in points):
        legend.append(("dashed", control, beside))
    if band is not None:
        legend.append(("band", band_name(series), main))
    if any(p.value is None for p in points):
        legend.append(("missing", "Not measured", colours.visits))
    rows: list[list[tuple[str, str, QColor, float]]] = [[]]
    used = 0.0
    for kind, name, colour in legend:
        need = 26 + metrics.horizontalAdvance(name) + 16
        if rows[-1] and used + need > width - 2 * PAD:
            rows.append([])
            used = 0.0
        rows[-1].append((kind, name, colour, need))
        used += need

    falls = info.lower_is_better and not info.signed
    title = f"{info.unit or info.label}{', lower is better ↓' if falls else ''}"
    y_labels = [_label(t) for t in y_ticks]
    left = PAD + line_h + 4 + max(metrics.horizontalAdvance(t) for t in y_labels) + 6
    bottom = height - PAD - len(rows) * (line_h + 2) - 4 - line_h - 6
    plot = QRectF(left, PAD + line_h / 2, width - left - PAD - 6, bottom - PAD - line_h / 2)
    if plot.width() < 20 or plot.height() < 20:
        return

    def to_x(x: float) -> float:
        return plot.left() + (x - x_low) / (x_high - x_low) * plot.width()

    def to_y(y: float) -> float:
        return plot.bottom() - (y - y_low) / (y_high - y_low) * plot.height()

    # Grid, ticks and labels.
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QPen(colours.grid, 1))
    for t in y_ticks:
        painter.drawLine(QPointF(plot.left(), to_y(t)), QPointF(plot.right(), to_y(t)))
    for x, _t in x_ticks:
        painter.drawLine(QPointF(to_x(x), plot.top()), QPointF(to_x(x), plot.bottom()))
    painter.setPen(QPen(colours.text, 1))
    painter.drawLine(plot.bottomLeft(), plot.bottomRight())
    painter.drawLine(plot.bottomLeft(), plot.topLeft())
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    for t, words in zip(y_ticks, y_labels, strict=True):
        box = QRectF(0, to_y(t) - line_h / 2, plot.left() - 6, line_h)
        painter.drawText(box, right, words)
    centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
    shown_until = -1e9
    for x, words in x_ticks:
        half = metrics.horizontalAdvance(words) / 2 + 4
        # Centred under its tick, kept inside the image at either end.
        at = min(max(to_x(x) - half, 0.0), width - 2 * half)
        if at < shown_until:
            continue  # no label over another
        painter.drawText(QRectF(at, plot.bottom() + 3, 2 * half, line_h), centre, words)
        shown_until = at + 2 * half
    painter.save()
    painter.translate(PAD + line_h / 2, plot.center().y())
    painter.rotate(-90)
    painter.drawText(
        QRectF(-plot.height() / 2, -line_h / 2, plot.height(), line_h),
        Qt.AlignmentFlag.AlignCenter,
        metrics.elidedText(title, Qt.TextElideMode.ElideRight, plot.height()),
    )
    painter.restore()

    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.save()
    painter.setClipRect(plot.adjusted(-MARK, -MARK, MARK, MARK))
    if band is not None:
        fill = QColor(main)
        fill.setAlpha(BAND_ALPHA[colours.dark])
        edge = QColor(main)
        edge.setAlpha(BAND_ALPHA[colours.dark] * 2)
        top, low = to_y(band[0] + band[1]), to_y(band[0] - band[1])
        painter.fillRect(QRectF(plot.left(), top, plot.width(), low - top), fill)
        painter.setPen(QPen(edge, 1, Qt.PenStyle.DotLine))
        painter.drawLine(QPointF(plot.left(), top), QPointF(plot.right(), top))
        painter.drawLine(QPointF(plot.left(), low), QPointF(plot.right(), low))
    pen_width = max(2.0, font.pointSizeF() / 4)
    lines: list[tuple[Callable[[MeasurePoint], float | None], QColor, Qt.PenStyle, str]] = [
        (lambda p: p.value, main, Qt.PenStyle.SolidLine, "circle"),
        (lambda p: p.control, beside, Qt.PenStyle.DashLine, "square"),
    ]
    for read, colour, style, shape in lines:
        for run in visit_runs(points, read):
            spots = [
                QPointF(to_x(_x(p, by_session)), to_y(shown(series, v)))
                for p in run
                if (v := read(p)) is not None
            ]
            painter.setPen(QPen(colour, pen_width, style))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolyline(spots)
            for point in spots:
                _marker(painter, point, shape, colour, None)
    for p in points:
        if p.value is None:  # not measured: a hollow mark on the floor
            floor = QPointF(to_x(_x(p, by_session)), plot.bottom())
            _marker(painter, floor, "circle", colours.visits, colours.background)
    painter.restore()

    # The legend.
    y = height - PAD - len(rows) * (line_h + 2)
    for row in rows:
        x = (width - sum(need for *_r, need in row)) / 2
        for kind, name, colour, need in row:
            mid = y + line_h / 2
            if kind == "band":
                fill = QColor(colour)
                fill.setAlpha(BAND_ALPHA[colours.dark] * 2)
                painter.fillRect(QRectF(x, mid - 5, 20, 10), fill)
            elif kind == "missing":
                _marker(painter, QPointF(x + 10, mid), "circle", colour, colours.background)
            else:
                dashed = kind == "dashed"
                style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
                painter.setPen(QPen(colour, pen_width, style))
                painter.drawLine(QPointF(x, mid), QPointF(x + 20, mid))
                _marker(
                    painter, QPointF(x + 10, mid), "square" if dashed else "circle", colour, None
                )
            painter.setPen(QPen(colours.text, 1))
            text_box = QRectF(x + 26, y, need - 26, line_h)
            painter.drawText(
                text_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
            )
            x += need
        y += line_h + 2


def measure_image(
    series: MeasureSeries,
    font: QFont,
    by_session: bool,
    dark: bool,
    control_name: str | None,
    size: tuple[int, int],
    ratio: float = 1.0,
) -> QImage:
    """``series``'s chart in an image ``size`` (logical pixels) at the screen's ``ratio``."""
    width, height = size
    image = QImage(
        max(1, round(width * ratio)),
        max(1, round(height * ratio)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(ratio)
    colours = DARK if dark else PRINT
    painter = QPainter(image)
    try:
        paint_measure(painter, series, font, by_session, colours, (width, height), control_name)
    finally:
        painter.end()
    return image
