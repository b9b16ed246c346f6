"""The scale bar's and the ruler's maths: round lengths that fit on screen, lengths in words,
and the local scale through a placement."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QTransform

from tracker.ui.compare.measure import (
    BAR_LEAST,
    BAR_MOST,
    bar_length,
    local_scale,
    mm_words,
    ruler_words,
)


@pytest.mark.parametrize(
    ("px_per_mm", "zoom", "mm"),
    [
        (10.0, 1.0, 10.0),  # 10 screen px a mm: 10 mm is 100 px
        (10.0, 0.25, 50.0),  # 2.5 px a mm: 20 mm would be 50 px, too short
        (10.0, 0.1, 100.0),
        (10.0, 4.0, 2.0),  # 40 px a mm: 1 mm is too short, 2 mm is 80 px
        (10.0, 16.0, 0.5),  # 160 px a mm
        (3.0, 0.05, 500.0),  # a whole leg at a small zoom
    ],
)
def test_the_scale_bar_is_a_round_length_of_60_to_150_screen_pixels(
    px_per_mm: float, zoom: float, mm: float
) -> None:
    found, length = bar_length(px_per_mm, zoom)
    assert found == pytest.approx(mm)
    assert length == pytest.approx(mm * px_per_mm * zoom)
    assert BAR_LEAST <= length <= BAR_MOST


def test_every_scale_gives_a_bar_within_the_range() -> None:
    for k in range(400):
        per_mm = 10 ** (-2 + k / 80)  # screen px a mm from 0.01 to 1e3
        mm, length = bar_length(per_mm, 1.0)
        assert BAR_LEAST - 1e-6 <= length <= BAR_MOST + 1e-6, per_mm
        lead = mm / 10 ** math.floor(math.log10(mm) + 1e-9)
        assert round(lead, 6) in (1, 2, 5), mm


def test_no_scale_bar_without_a_scale() -> None:
    with pytest.raises(ValueError):
        bar_length(0.0, 1.0)


def test_lengths_in_words() -> None:
    assert mm_words(10.0) == "10 mm"
    assert mm_words(0.5) == "0.5 mm"
    assert mm_words(23.44) == "23.4 mm"
    assert mm_words(200.0) == "200 mm"
    assert ruler_words(234.4, 10.0) == "23.4 mm"
    unknown = ruler_words(312.4, None)
    assert unknown.startswith("312 px of the photo") and "no calibration card" in unknown
    assert ruler_words(312.4, None, short=True) == "312 px (no scale)"


def test_the_local_scale_follows_zoom_and_perspective() -> None:
    assert local_scale(QTransform.fromScale(2.5, 2.5), QPointF(10, 10)) == pytest.approx(2.5)
    turned = QTransform().rotate(30).scale(0.5, 0.5)
    assert local_scale(turned, QPointF(100, 40)) == pytest.approx(0.5)
    # A perspective that shrinks things farther right: the scale falls along x.
    perspective = QTransform(1, 0, 0.001, 0, 1, 0, 0, 0, 1)
    assert local_scale(perspective, QPointF(0, 0)) > local_scale(perspective, QPointF(500, 0))
