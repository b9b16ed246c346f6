"""The charts of each instrument: what is drawn, on which axis, and how raters are told apart."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCharts import (
    QAbstractAxis,
    QBarCategoryAxis,
    QChart,
    QLineSeries,
    QScatterSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsScene

from tests import helpers as h
from tests.rendering.conftest import area_id
from tracker.core.db.models import RaterRole
from tracker.core.domain.instruments import Instrument
from tracker.core.queries.progress import Progress, progress
from tracker.core.services import clients
from tracker.core.store.library import Library
from tracker.rendering.chart import build_chart, treatment_text
from tracker.rendering.chart_style import PRINT, screen_colours


def _chart(lib: Library, key: str, **options: object) -> tuple[Progress, Instrument, QChart]:
    data = progress(lib, area_id(lib), today=dt.date(2025, 5, 1))
    instrument = data.instrument(key)
    assert instrument is not None
    return data, instrument, build_chart(data, instrument, **options)  # type: ignore[arg-type]


def _lines(chart: QChart) -> dict[str, QLineSeries]:
    """The lines that carry points, by name (the legend's own entries have none)."""
    return {s.name(): s for s in chart.series() if isinstance(s, QLineSeries) and s.count() > 0}


def _legend(chart: QChart) -> list[str]:
    """The legend's entries as drawn (a marker is visible only in a scene)."""
    scene = QGraphicsScene()
    scene.addItem(chart)
    chart.resize(900, 480)
    try:
        return [m.label() for m in chart.legend().markers() if m.isVisible()]
    finally:
        scene.removeItem(chart)


def _vertical(series: QLineSeries) -> QValueAxis:
    axis = next(a for a in series.attachedAxes() if a.orientation() == Qt.Orientation.Vertical)
    assert isinstance(axis, QValueAxis)
    return axis


def test_chart_ticks_sit_on_the_scale_values(qapp: QApplication, course: Library) -> None:
    _data, _instrument, chart = _chart(course, "ctd")
    y = chart.axes(Qt.Orientation.Vertical)[0]
    assert isinstance(y, QValueAxis)
    assert y.tickType() == QValueAxis.TickType.TicksDynamic
    assert (y.tickAnchor(), y.tickInterval()) == (1, 1)  # ticks at 1, 2, ... 10


def test_posas_has_a_line_per_item_and_rater_and_its_total_on_its_own_axis(
    qapp: QApplication, course: Library
) -> None:
    _data, _instrument, chart = _chart(course, "posas2-observer")
    lines = _lines(chart)
    # Six items, the overall opinion and the total, each by Dr Kim and by Dr Lee.
    assert len(lines) == 16
    for name in ("Pigmentation — Dr Lee", "Pigmentation — Dr Kim", "Total (6–60) — Dr Kim"):
        assert name in lines
    lee, kim = lines["Pigmentation — Dr Lee"], lines["Pigmentation — Dr Kim"]
    # One item, one colour; the two practitioners by line and marker.
    assert lee.pen().color() == kim.pen().color()
    assert lee.pen().style() != kim.pen().style()
    assert lee.lightMarker() != kim.lightMarker()
    items, total = _vertical(lee), _vertical(lines["Total (6–60) — Dr Lee"])
    assert items is not total
    # The total's grid is the items' times six: 1 ↔ 6, 10 ↔ 60.
    assert (round(items.min(), 1), round(items.max(), 1)) == (0.8, 10.2)
    assert (round(total.min(), 1), round(total.max(), 1)) == (4.8, 61.2)
    assert [p.y() for p in lines["Total (6–60) — Dr Lee"].points()] == [33, 30, 27, 24]
    # The legend says once which colour is which item and which line is whom.
    assert _legend(chart) == [
        "Vascularity",
        "Pigmentation",
        "Thickness",
        "Relief",
        "Pliability",
        "Surface area",
        "Overall opinion",
        "Total (6–60), right axis",
        "Dr Kim: ● solid",
        "Dr Lee: ■ dashed",
    ]
    # The visits' markers, for the treatment record on hover.
    markers = [s for s in chart.series() if isinstance(s, QScatterSeries)]
    assert len(markers) == 1 and markers[0].count() == 4


def test_one_rater_of_several_items_is_named_once(qapp: QApplication, course: Library) -> None:
    _data, _instrument, chart = _chart(course, "ctd", by_session=True)
    assert set(_lines(chart)) == {
        "Colour — Ana Lima (patient)",
        "Texture — Ana Lima (patient)",
        "Depth — Ana Lima (patient)",
    }
    assert _legend(chart) == ["Colour", "Texture", "Depth", "Ana Lima (patient)"]
    x = chart.axes(Qt.Orientation.Horizontal)[0]
    assert isinstance(x, QValueAxis) and x.titleText().startswith("session")


def test_the_vas_is_its_value_over_time(qapp: QApplication, course: Library) -> None:
    _data, _instrument, chart = _chart(course, "improvement-vas")
    lines = _lines(chart)
    assert list(lines) == ["Ana Lima (patient)"]
    assert [p.y() for p in lines["Ana Lima (patient)"].points()] == [2.5, 4.5, 6.5]
    y = _vertical(lines["Ana Lima (patient)"])
    assert (round(y.min(), 1), round(y.max(), 1)) == (-0.2, 10.2)
    assert "higher is better" in y.titleText()


def test_gais_is_how_many_gave_each_grade_at_each_visit(
    qapp: QApplication, course: Library
) -> None:
    _data, _instrument, chart = _chart(course, "gais")
    assert not _lines(chart)  # never a line of "change"
    (bars,) = chart.series()
    assert isinstance(bars, QStackedBarSeries)
    sets = bars.barSets()
    assert [s.label() for s in sets] == [
        "1 very much improved",
        "2 much improved",
        "3 improved",
        "4 no change",
        "5 worse",
    ]
    # Dr Lee and Dr Kim graded 3 and 4, then 2 and 3, then 1 and 2.
    assert [[s.at(i) for s in sets] for i in range(3)] == [
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
        [1, 1, 0, 0, 0],
    ]
    x: QAbstractAxis = chart.axes(Qt.Orientation.Horizontal)[0]
    assert isinstance(x, QBarCategoryAxis)
    assert [c.split("<br>")[-1] for c in x.categories()] == [
        "1/2 improved",
        "2/2 improved",
        "2/2 improved",
    ]


def test_names_in_a_chart_are_shown_as_written(qapp: QApplication, course: Library) -> None:
    """QtCharts reads its labels as rich text: a name is escaped, never markup."""
    clients.update_area(course, area_id(course), name="<b>Belly</b> &amp;")
    h.rate(
        course,
        area="<b>Belly</b> &amp;",
        day=dt.date(2025, 3, 31),
        role=RaterRole.PATIENT,
        values={"overall": 9},
        scale="improvement-vas",
        rater_name="<i>me</i>",
    )
    _data, _instrument, chart = _chart(course, "improvement-vas", title=True)
    assert chart.title() == "&lt;b&gt;Belly&lt;/b&gt; &amp;amp;: Improvement since baseline (0–10)"
    assert _legend(chart) == ["Ana Lima (patient)", "&lt;i&gt;me&lt;/i&gt; (patient)"]


def test_hover_text_has_the_treatment_and_the_notes(course: Library) -> None:
    data = progress(course, area_id(course))
    text = treatment_text(data.visits[1])
    assert "03 Feb 2025: treatment (session 1), day 28" in text
    assert "pen, 1.1 mm" in text
    assert "tolerated well & asked about sun care <i>before</i>" in text


def test_a_dark_palette_gives_a_dark_chart_and_the_report_keeps_its_print_colours(
    qapp: QApplication, course: Library
) -> None:
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    colours = screen_colours(dark)
    assert colours.dark and screen_colours(QPalette()) is PRINT  # a light palette: print
    _data, _instrument, chart = _chart(course, "posas2-observer", colours=colours)
    assert chart.backgroundBrush().color() == QColor("#202020")
    assert all(a.labelsColor() == QColor("#eeeeee") for a in chart.axes())
    lines = _lines(chart)
    total = next(s for name, s in lines.items() if name.startswith("Total"))
    assert total.pen().color() == QColor("#eeeeee")  # black would vanish on the dark ground
    # Every item colour is light enough to read on it.
    assert min(c.lightness() for c in colours.items) > QColor("#202020").lightness() + 60
    # The report builds its charts without colours: black on white whatever the window's.
    qapp.setPalette(dark)
    try:
        _data, _instrument, printed = _chart(course, "posas2-observer")
        ground = printed.backgroundBrush().gradient()  # QtCharts' light theme: a white fade
        assert ground is not None and all(c.lightness() > 200 for _at, c in ground.stops())
        printed_total = next(s for n, s in _lines(printed).items() if n.startswith("Total"))
        assert printed_total.pen().color() == QColor("#000000")
    finally:
        qapp.setPalette(QPalette())
