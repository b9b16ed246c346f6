"""The GAIS chart: at each visit (and rater role, when more than one graded), a bar stacked
from how many ratings gave each grade, 1 (very much improved) at the bottom to 5 (worse) at
the top, the share improved (grades 1–3) under it. GAIS is a judgement against baseline, so
it is never drawn as a change from one.

Its x axis is the bars' categories, so it has no visit markers to hover (``categories``
says which visit and role each bar is)."""

from __future__ import annotations

from PySide6.QtCharts import QBarCategoryAxis, QBarSet, QChart, QStackedBarSeries, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from tracker.core.domain.instruments import Grades, Instrument
from tracker.core.queries.progress import Progress, VisitPoint
from tracker.rendering.chart_style import text

# Grade 1 to 5: improved in greens, darkest the most; no change grey; worse red.
GRADE_COLOURS = ("#00602f", "#2e9d5a", "#9fd8a8", "#b3b3b3", "#c0392b")
LIGHT = {3, 4}  # grades whose bars are light enough for a dark count on them


def visit_label(visit: VisitPoint, by_session: bool) -> str:
    """A visit as a bar's category names it: "06 Jan 25", or "session 2" by session."""
    if not by_session:
        return f"{visit.date:%d %b %y}"
    if visit.session is not None:
        return f"session {visit.session}"
    if visit.position == 0:
        return "before session 1"
    return f"after session {int(visit.position)}"


def categories(data: Progress, instrument: Instrument) -> list[tuple[VisitPoint, Grades]]:
    """The bars in order, each with its visit and the grades it stacks."""
    by_visit = {v.visit_id: v for v in data.visits}
    return [(by_visit[g.visit_id], g) for g in instrument.grades]


def draw(
    chart: QChart,
    font: QFont,
    data: Progress,
    instrument: Instrument,
    by_session: bool,
    ground: QColor | None = None,
) -> None:
    """The bars of ``instrument`` on ``chart``, each grade's block edged in ``ground`` (the
    chart's background; white when not given)."""
    item = instrument.scale.items[0]
    bars = categories(data, instrument)
    roles = {g.role for _v, g in bars}
    series = QStackedBarSeries()
    series.setLabelsVisible(True)
    for n, grade in enumerate(range(item.minimum, item.maximum + 1)):
        counts = QBarSet(text(f"{grade} {item.anchors.get(grade, '')}".strip()))
        colour = QColor(GRADE_COLOURS[n % len(GRADE_COLOURS)])
        counts.setColor(colour)
        counts.setBorderColor(ground if ground is not None else QColor("#ffffff"))
        counts.setLabelColor(QColor("#000000") if grade in LIGHT else QColor("#ffffff"))
        counts.setLabelFont(font)
        for _visit, grades in bars:
            counts.append(float(dict(grades.counts).get(grade, 0)))
        series.append(counts)
    chart.addSeries(series)

    labels = []
    for visit, grades in bars:
        lines = [visit_label(visit, by_session)]
        if len(roles) > 1:
            lines.append(f"{grades.role.value}s" if grades.total > 1 else grades.role.value)
        lines.append(f"{grades.improved}/{grades.total} improved")
        labels.append("<br>".join(text(line) for line in lines))
    x = QBarCategoryAxis()
    x.append(labels)
    x.setLabelsFont(font)
    x.setTitleFont(font)
    x.setTitleText("improved = grades 1–3")
    y = QValueAxis()
    most = max((g.total for _v, g in bars), default=1)
    y.setRange(0, most + 0.4)
    y.setTickType(QValueAxis.TickType.TicksDynamic)
    y.setTickAnchor(0)
    y.setTickInterval(1 if most <= 10 else 2)
    y.setLabelFormat("%d")
    y.setTitleText("ratings")
    y.setLabelsFont(font)
    y.setTitleFont(font)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(x)
    series.attachAxis(y)
