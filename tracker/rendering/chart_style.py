"""What every chart shares: its frame and fonts, the colours of items and raters, the line
style and marker shape that tell raters apart, and text made safe for QtCharts, which reads
titles, legends and axis labels as rich text (a name with "<b>" in it would turn bold).

Colours come in two sets (``ChartColours``): ``PRINT``, black on white, for the PDF report and
a light window; and, for a window on a dark palette, ``screen_colours(palette)``: the
palette's own background and text, with the item colours lightened to read on it."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCharts import QChart, QLegend
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPolygonF,
)

from tracker.core.db.models import RaterRole
from tracker.core.domain.instruments import Rater

# Colour-blind friendly where it matters most (the first four are the Okabe-Ito blue,
# vermilion, bluish green and reddish purple), each distinct on paper in grey too.
ITEM_COLOURS = (
    QColor("#0072b2"),
    QColor("#d55e00"),
    QColor("#009e73"),
    QColor("#cc79a7"),
    QColor("#e69f00"),
    QColor("#56b4e9"),
    QColor("#7f7f7f"),
)
TOTAL_COLOUR = QColor("#000000")
KEY_COLOUR = QColor("#444444")
# Raters are told apart by line and marker together, so two practitioners who rate the same
# item in the same colour still read as two lines, in colour and in black and white alike.
RATER_STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
# How a legend names them, for a reader in black and white or with the chart small.
STYLE_NAMES = ("solid", "dashed", "dotted", "dash-dot", "dash-dot-dot")
SHAPE_SIGNS = ("●", "■", "▲", "◆", "+")
MARKER_PX = 32  # the marker image, drawn large and scaled down by the chart
VISITS_COLOUR = QColor("#555555")  # the row of visit markers along the bottom


@dataclass(frozen=True)
class ChartColours:
    """The colours a chart is drawn in: its ground, its words and lines, and its series'."""

    background: QColor
    text: QColor
    grid: QColor
    items: tuple[QColor, ...]
    total: QColor  # the POSAS total's line
    key: QColor  # a rater's line and marker in the legend, without an item's colour
    visits: QColor  # the visit markers
    dark: bool


PRINT = ChartColours(
    background=QColor("#ffffff"),
    text=QColor("#000000"),
    grid=QColor("#d9d9d9"),
    items=ITEM_COLOURS,
    total=TOTAL_COLOUR,
    key=KEY_COLOUR,
    visits=VISITS_COLOUR,
    dark=False,
)


def _mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    t = max(0.0, min(1.0, share_of_b))
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` draws light text on a dark ground (a dark desktop theme)."""
    ground = palette.color(QPalette.ColorRole.Base)
    words = palette.color(QPalette.ColorRole.Text)
    return ground.lightness() < words.lightness()


def dark_colours(background: QColor, text: QColor) -> ChartColours:
    """Colours for a chart on a dark ``background`` with words in ``text``: the same hues as
    in print, lightened where they would sink into the ground."""
    items = tuple(c.lighter(150) if c.lightness() < 110 else c for c in ITEM_COLOURS)
    return ChartColours(
        background=background,
        text=text,
        grid=_mix(background, text, 0.22),
        items=items,
        total=text,
        key=_mix(background, text, 0.75),
        visits=_mix(background, text, 0.6),
        dark=True,
    )


def screen_colours(palette: QPalette) -> ChartColours:
    """The colours for a chart in a window of ``palette``: ``PRINT`` on a light palette, the
    palette's own ground and text on a dark one."""
    if not is_dark(palette):
        return PRINT
    return dark_colours(
        palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    )


def apply_colours(chart: QChart, colours: ChartColours) -> None:
    """Draw ``chart``'s ground, title, legend and axes in ``colours`` (call it once its axes
    are added). ``PRINT`` leaves QtCharts' own light theme as it is."""
    if colours is PRINT:
        return
    chart.setBackgroundBrush(QBrush(colours.background))
    chart.setBackgroundPen(QPen(colours.background))
    chart.setPlotAreaBackgroundVisible(False)
    chart.setTitleBrush(QBrush(colours.text))
    chart.legend().setLabelColor(colours.text)
    for axis in chart.axes():
        axis.setLabelsColor(colours.text)
        axis.setTitleBrush(QBrush(colours.text))
        axis.setGridLineColor(colours.grid)
        axis.setMinorGridLineColor(colours.grid)
        axis.setLinePenColor(colours.key)


def text(value: object) -> str:
    """``value`` as QtCharts shows it literally."""
    return html.escape(str(value), quote=False)


def who(rater: Rater, client: str) -> str:
    """A rater as a legend names them: "Dr Lee", "Ana Lima (patient)"."""
    label = rater.label(client)
    return f"{label} (patient)" if rater.role is RaterRole.PATIENT else label


def rater_style(n: int) -> tuple[Qt.PenStyle, str, str]:
    """The ``n``-th rater's line style, marker shape, and both in words ("● solid")."""
    style, shape = RATER_STYLES[n % len(RATER_STYLES)], SHAPES[n % len(SHAPES)]
    words = f"{SHAPE_SIGNS[n % len(SHAPES)]} {STYLE_NAMES[n % len(RATER_STYLES)]}"
    return style, shape, words


def new_chart(font_size: int, title: str | None) -> tuple[QChart, QFont]:
    """An empty chart without animation, and the font its labels use."""
    chart = QChart()
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setBackgroundRoundness(0)
    chart.setMargins(QMargins(4, 4, 4, 4))
    font = QFont()
    font.setPointSize(font_size)
    if title is not None:
        title_font = QFont(font)
        title_font.setBold(True)
        chart.setTitleFont(title_font)
        chart.setTitle(text(title))
    return chart, font


def finish_legend(chart: QChart, font: QFont, alignment: Qt.AlignmentFlag, lines: bool) -> None:
    """The legend's font and place; ``lines``: each entry drawn as its series' line and
    marker (else as a swatch of its colour). An entry cut short shows whole on hover."""
    legend = chart.legend()
    legend.setFont(font)
    legend.setAlignment(alignment)
    legend.setShowToolTips(True)
    legend.setMarkerShape(
        QLegend.MarkerShape.MarkerShapeFromSeries
        if lines
        else QLegend.MarkerShape.MarkerShapeRectangle
    )


def marker(shape: str, colour: QColor) -> QImage:
    """A point marker of ``shape`` in ``colour``, for ``QXYSeries.setLightMarker``."""
    image = QImage(MARKER_PX, MARKER_PX, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        m, s = 3.0, MARKER_PX - 6.0
        path = QPainterPath()
        if shape == "circle":
            path.addEllipse(m, m, s, s)
        elif shape == "square":
            path.addRect(m + 2, m + 2, s - 4, s - 4)
        elif shape == "triangle":
            path.addPolygon(
                QPolygonF([QPointF(m + s / 2, m), QPointF(m + s, m + s), QPointF(m, m + s)])
            )
        elif shape == "diamond":
            c = m + s / 2
            path.addPolygon(
                QPolygonF([QPointF(c, m), QPointF(m + s, c), QPointF(c, m + s), QPointF(m, c)])
            )
        else:  # a cross
            t = s / 3
            path.addRect(m, m + t, s, t)
            path.addRect(m + t, m, t, s)
            path.setFillRule(Qt.FillRule.WindingFill)
        painter.drawPath(path)
    finally:
        painter.end()
    return image
