"""The Progress tab's measure chart, painted with QPainter alone (``plot_measures``): what it
draws is read back from its pixels, and it is painted in threads while QtCharts draws on the
GUI thread (QtCharts itself crashed that way)."""

from __future__ import annotations

import datetime as dt
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
from PySide6.QtGui import QColor, QFont, QImage
from PySide6.QtWidgets import QApplication

from tracker.core.domain.measures import MEASURES
from tracker.core.queries.measures import MeasurePoint, MeasureSeries
from tracker.rendering.chart_measures import DARK, measure_chart
from tracker.rendering.chart_style import PRINT
from tracker.rendering.plot_measures import measure_image, nice_ticks

SIZE = (640, 240)


def _series(
    values: list[float | None], controls: list[float | None] | None = None
) -> MeasureSeries:
    day = dt.date(2025, 1, 6)
    controls = controls or [None] * len(values)
    points = [
        MeasurePoint(n + 1, day + dt.timedelta(days=28 * n), n, 100 + n, v, c)
        for n, (v, c) in enumerate(zip(values, controls, strict=True))
    ]
    return MeasureSeries(
        "mean_width_mm", MEASURES["mean_width_mm"], points, 0.3, "retest", None, ""
    )


def _count(image: QImage, colour: QColor, tolerance: int = 40) -> int:
    want = (colour.red(), colour.green(), colour.blue())
    n = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if (
                sum(abs(a - b) for a, b in zip((c.red(), c.green(), c.blue()), want, strict=True))
                < tolerance
            ):
                n += 1
    return n


@pytest.mark.parametrize(
    ("low", "high", "first", "last", "step"),
    [(0.0, 3.7, 0.0, 4.0, 1.0), (0.0, 0.83, 0.0, 1.0, 0.2), (-12.0, 31.0, -20.0, 40.0, 10.0)],
)
def test_the_ticks_are_round_and_hold_the_range(
    low: float, high: float, first: float, last: float, step: float
) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert (ticks[0], ticks[-1]) == pytest.approx((first, last))
    assert all(b - a == pytest.approx(step) for a, b in itertools.pairwise(ticks))
    assert 3 <= len(ticks) <= 8


def test_the_chart_draws_the_measure_its_control_its_band_and_a_missing_visit(
    qapp: QApplication,
) -> None:
    series = _series([3.0, 2.6, None, 2.1], [3.0, 3.0, 2.9, 3.0])
    image = measure_image(series, QFont(), False, False, "Left thigh", SIZE)
    assert (image.width(), image.height()) == SIZE
    main, beside = PRINT.items[0], PRINT.items[1]
    assert _count(image, main) > 60  # the line and its markers
    assert _count(image, beside) > 40  # the control's dashes
    band = QColor(main)
    shade = QColor(  # the band's fill on white
        *(round(255 + (c - 255) * 46 / 255) for c in (band.red(), band.green(), band.blue()))
    )
    assert _count(image, shade, 12) > 500
    without = measure_image(_series([3.0, 2.6, 2.4, 2.1]), QFont(), False, False, None, SIZE)
    assert _count(without, beside) < 5  # no control: nothing in its colour
    assert _count(image, PRINT.background, 3) > 0.5 * (SIZE[0] * SIZE[1] / 4)


def test_a_dark_chart_is_painted_on_the_dark_ground_and_at_the_screen_ratio(
    qapp: QApplication,
) -> None:
    image = measure_image(_series([3.0, 2.5]), QFont(), True, True, None, SIZE, 2.0)
    assert (image.width(), image.height()) == (SIZE[0] * 2, SIZE[1] * 2)
    assert image.devicePixelRatio() == 2.0
    assert image.pixelColor(2, 2) == DARK.background


def test_charts_are_painted_in_threads_while_qtcharts_lays_out_on_the_gui_thread(
    qapp: QApplication,
) -> None:
    series = _series([3.0, 2.8, 2.5, 2.2, 2.0], [3.0, 3.1, 2.9, 3.0, 3.0])
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(measure_image, series, QFont(), n % 2 == 0, False, None, SIZE)
            for n in range(24)
        ]
        for _ in range(12):  # QtCharts's own text layout, meanwhile, here
            measure_chart(series, QFont(), False).legend()
        images = [f.result() for f in futures]
    assert all(_count(i, PRINT.items[0]) > 60 for i in images)
