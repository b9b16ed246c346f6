"""Sizes in the compare window: a scale bar in millimetres on each pane whose photo's scale is
known (from the calibration card), and a ruler dragged across a pane.

The maths is here as pure functions (``bar_length``, ``mm_words``, ``ruler_words``,
``local_scale``); the canvas only calls ``paint`` and hands its mouse to the ``Ruler``.
Lengths are measured in the photo's full-resolution upright pixels: the ruler's ends are kept
in them (so the line stays on the skin while zooming and panning), mapped back from the screen
through the zoom and the photo's alignment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QTransform

from tracker.core.queries.rows import ComparePhoto

BAR_LEAST, BAR_MOST = 60.0, 150.0  # a scale bar's length on screen, in pixels
BACKING = QColor(0, 0, 0, 170)  # behind the bar and the ruler's text: readable on any skin
INK = QColor(255, 255, 255)
RULER = QColor(255, 214, 0)


def bar_length(px_per_mm: float, screen_per_px: float) -> tuple[float, float]:
    """The scale bar for a photo of ``px_per_mm`` shown at ``screen_per_px`` screen pixels per
    photo pixel: a round length (1, 2 or 5 times a power of ten, in mm) that is 60–150 px
    long on screen, and that length on screen. The smallest such length: the steps are at
    most 2.5 apart, so one always falls in the range."""
    per_mm = px_per_mm * screen_per_px  # screen pixels per millimetre
    if not (per_mm > 0 and math.isfinite(per_mm)):
        raise ValueError("a scale bar needs a positive, finite scale")
    power = math.floor(math.log10(BAR_LEAST / per_mm))
    for exponent in (power, power + 1):
        for step in (1, 2, 5):
            mm = step * 10.0**exponent
            if BAR_LEAST - 1e-9 <= mm * per_mm <= BAR_MOST + 1e-9:
                return mm, mm * per_mm
    raise AssertionError("unreachable: 10 ** (power + 2) is always long enough")


def mm_words(mm: float) -> str:
    """A length in millimetres as people write it: "10 mm", "0.5 mm", "23.4 mm"."""
    if mm >= 100:
        return f"{mm:.0f} mm"
    if mm >= 0.1:
        return f"{mm:.1f}".removesuffix(".0") + " mm"
    return f"{mm:.2g} mm"


def ruler_words(length_px: float, px_per_mm: float | None, *, short: bool = False) -> str:
    """What the ruler says: millimetres when the photo's scale is known, else its pixels,
    saying so (``short``: on the line itself, where the status line says why)."""
    if px_per_mm:
        return mm_words(length_px / px_per_mm)
    if short:
        return f"{length_px:.0f} px (no scale)"
    return f"{length_px:.0f} px of the photo (no scale: this photo has no calibration card)"


def local_scale(to_screen: QTransform, at: QPointF) -> float:
    """Screen pixels per photo pixel near ``at`` (a point of the photo): the square root of
    the area one photo pixel covers there, exact for a perspective (homography) placement."""
    o = to_screen.map(at)
    dx = to_screen.map(at + QPointF(1, 0)) - o
    dy = to_screen.map(at + QPointF(0, 1)) - o
    return math.sqrt(abs(dx.x() * dy.y() - dx.y() * dy.x()))


class Measured(Protocol):
    """What of the canvas the scale bar and the ruler read."""

    photos: list[ComparePhoto]
    mode: str
    blink_index: int

    def pane_rects(self) -> list[QRectF]: ...

    def photo_to_screen(self, index: int) -> QTransform: ...


def shown_photo(canvas: Measured, pane: int) -> int:
    """The photo a pane is measured on: its own in side by side, the one shown when
    blinking, else the first (every other photo is placed in its frame)."""
    if canvas.mode == "side":
        return pane
    return canvas.blink_index if canvas.mode == "blink" else 0


class Ruler(QObject):
    """A line dragged across a pane, its ends in the photo's pixels; ``measured`` says how
    long it is each time it changes ("" when it is cleared)."""

    measured = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.active = False
        self.index: int | None = None  # the photo it lies on
        self.ends: list[QPointF] = []  # in that photo's upright full-resolution pixels
        self.dragging = False

    def clear(self) -> bool:
        """Forget the line; whether there was one."""
        had = bool(self.ends)
        self.index, self.ends, self.dragging = None, [], False
        if had:
            self.measured.emit("")
        return had

    def length_px(self) -> float | None:
        if len(self.ends) != 2:
            return None
        a, b = self.ends
        return math.hypot(b.x() - a.x(), b.y() - a.y())

    def words(self, photos: Sequence[ComparePhoto], *, short: bool = False) -> str:
        length = self.length_px()
        if length is None or self.index is None or self.index >= len(photos):
            return ""
        return ruler_words(length, photos[self.index].px_per_mm, short=short)

    def press(self, canvas: Measured, pane: int, pos: QPointF) -> None:
        index = shown_photo(canvas, pane)
        inverse, ok = canvas.photo_to_screen(index).inverted()
        if not ok:
            return
        point = inverse.map(pos)
        self.index, self.ends, self.dragging = index, [point, QPointF(point)], True

    def move(self, canvas: Measured, pos: QPointF) -> None:
        if self.index is None or len(self.ends) != 2:
            return
        inverse, ok = canvas.photo_to_screen(self.index).inverted()
        if ok:
            self.ends[1] = inverse.map(pos)
            self.measured.emit(self.words(canvas.photos))

    def release(self, canvas: Measured) -> None:
        if self.dragging:
            self.dragging = False
            self.measured.emit(self.words(canvas.photos))


# -- painting ---------------------------------------------------------------------------------


def _backed_text(painter: QPainter, anchor: QPointF, text: str) -> None:
    """``text`` centred above ``anchor``, white on a dark box."""
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(text)
    box = QRectF(anchor.x() - width / 2 - 5, anchor.y() - metrics.height() - 8, width + 10, 0)
    box.setHeight(metrics.height() + 4)
    painter.fillRect(box, BACKING)
    painter.setPen(INK)
    painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)


def _scale_bar(painter: QPainter, canvas: Measured, pane: int, rect: QRectF) -> None:
    index = shown_photo(canvas, pane)
    if index >= len(canvas.photos):
        return
    px_per_mm = canvas.photos[index].px_per_mm
    if not px_per_mm:
        return
    to_screen = canvas.photo_to_screen(index)
    inverse, ok = to_screen.inverted()
    if not ok:
        return
    scale = local_scale(to_screen, inverse.map(rect.center()))
    if not scale > 0:
        return
    mm, length = bar_length(px_per_mm, scale)
    text = mm_words(mm)
    metrics = painter.fontMetrics()
    width = max(length, metrics.horizontalAdvance(text)) + 16
    box = QRectF(rect.right() - width - 8, rect.bottom() - metrics.height() - 30, width, 0)
    box.setBottom(rect.bottom() - 8)
    painter.fillRect(box, BACKING)
    y = box.bottom() - 9
    left = box.center().x() - length / 2
    pen = QPen(INK, 3)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(left, y), QPointF(left + length, y))
    pen.setWidth(2)
    painter.setPen(pen)
    for x in (left, left + length):
        painter.drawLine(QPointF(x, y - 6), QPointF(x, y + 3))
    painter.drawText(
        QRectF(box.left(), box.top() + 3, box.width(), metrics.height()),
        int(Qt.AlignmentFlag.AlignCenter),
        text,
    )


def _ruler(painter: QPainter, canvas: Measured, ruler: Ruler, rects: Sequence[QRectF]) -> None:
    if ruler.index is None or len(ruler.ends) != 2 or ruler.index >= len(canvas.photos):
        return
    pane = ruler.index if canvas.mode == "side" else 0
    if pane >= len(rects):
        return
    to_screen = canvas.photo_to_screen(ruler.index)
    a, b = (to_screen.map(p) for p in ruler.ends)
    painter.save()
    painter.setClipRect(rects[pane])
    painter.setPen(QPen(QColor(0, 0, 0), 4))
    painter.drawLine(a, b)
    painter.setPen(QPen(RULER, 2))
    painter.drawLine(a, b)
    for end in (a, b):
        painter.drawEllipse(end, 3, 3)
    text = ruler.words(canvas.photos, short=True)
    if text:
        _backed_text(painter, (a + b) / 2 - QPointF(0, 6), text)
    painter.restore()


def paint(painter: QPainter, canvas: Measured, ruler: Ruler) -> None:
    """The scale bars (one a pane) and the ruler, over the photos."""
    painter.save()
    rects = canvas.pane_rects()
    for pane, rect in enumerate(rects):
        _scale_bar(painter, canvas, pane, rect)
    _ruler(painter, canvas, ruler, rects)
    painter.restore()
