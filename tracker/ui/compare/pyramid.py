"""A photo for the compare canvas at several sizes, made once in the worker that decodes it.

A pane shows a 2048 px preview at a third of its size or less when fitted. Painted through a
smooth transform from the whole 24-bit preview, two panes cost 10–17 ms of processor time a
paint (the bilinear filter converts and reads the full image for the screen's pixels);
painted from the 32-bit halving nearest above the screen size, 4–8 ms (1280 × 640, the
second photo turned, then with perspective). What is seen stays the same: the sample
library's aligned close-ups differ from before by under 3 % in 21 pixels of 816 000.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QTransform

SMALLEST_SIDE = 256  # below this a pane is a thumbnail; the halving above it serves
FLAT_PX = 0.25
"""A homography is painted as the affine transform through three of its corners when the two
differ by less than this many screen pixels anywhere on the photo: the same picture, painted
in half the time (the raster painter divides at every pixel for a projective transform). A
fitted view of a photo aligned with mild perspective differs by a few hundredths of a pixel;
zoomed in, the perspective shows, and is painted as it is."""


class Pyramid:
    """An image and its halvings, largest first (``build`` makes them in a worker); the canvas
    only chooses one to paint."""

    def __init__(self, levels: list[QImage]) -> None:
        self.levels = levels

    @property
    def full(self) -> QImage:
        return self.levels[0]

    def width(self) -> int:
        return self.full.width()

    def height(self) -> int:
        return self.full.height()

    def over(self, smaller: Pyramid | None) -> Pyramid:
        """These levels above ``smaller``'s smaller ones: the originals, loaded for a zoom
        past the previews, over the previews' halvings for when the view zooms out again."""
        if smaller is None:
            return self
        least = self.levels[-1].width()
        return Pyramid(self.levels + [level for level in smaller.levels if level.width() < least])

    def level_for(self, to_screen: QTransform) -> QImage:
        """The smallest level with at least one pixel for each screen pixel, where
        ``to_screen`` maps the full image's pixels to the screen."""
        scale = screen_scale(to_screen, self.width(), self.height())
        chosen = self.levels[0]
        for level in self.levels[1:]:
            if level.width() < scale * self.width():
                break
            chosen = level
        return chosen


def build(image: QImage, *, halve: bool = True) -> Pyramid:
    """In a worker: the image in the format the raster painter reads fastest (32-bit; a
    24-bit image is converted at every paint), and unless ``halve`` is false its halvings
    down to ``SMALLEST_SIDE``. The halvings of a 2048 px preview cost a few milliseconds, once."""
    levels = [image.convertToFormat(QImage.Format.Format_RGB32)]
    while halve and min(levels[-1].width(), levels[-1].height()) >= 2 * SMALLEST_SIDE:
        last = levels[-1]
        levels.append(
            last.scaled(
                last.width() // 2,
                last.height() // 2,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    return Pyramid(levels)


def screen_scale(to_screen: QTransform, width: int, height: int) -> float:
    """Screen pixels per image pixel, on average over the image: the square root of the ratio
    of the areas (a homography's scale varies across the image)."""
    if width <= 0 or height <= 0:
        return 1.0
    corners = [QPointF(0, 0), QPointF(width, 0), QPointF(width, height), QPointF(0, height)]
    points = [to_screen.map(c) for c in corners]
    twice = sum(
        a.x() * b.y() - b.x() * a.y() for a, b in zip(points, points[1:] + points[:1], strict=True)
    )
    return math.sqrt(abs(twice) / 2 / (width * height))


def flattened(to_screen: QTransform, width: int, height: int) -> QTransform:
    """``to_screen`` (a photo's ``width`` × ``height`` pixels to the screen), or the affine
    transform that paints the same within ``FLAT_PX`` when it is projective."""
    if to_screen.type() != QTransform.TransformationType.TxProject or width <= 0 or height <= 0:
        return to_screen
    o, x, y = (to_screen.map(QPointF(*p)) for p in ((0, 0), (width, 0), (0, height)))
    ax, ay = (x - o) / width, (y - o) / height
    flat = QTransform(ax.x(), ax.y(), ay.x(), ay.y(), o.x(), o.y())
    for i in range(5):
        for j in range(5):
            p = QPointF(width * i / 4, height * j / 4)
            d = flat.map(p) - to_screen.map(p)
            if d.x() * d.x() + d.y() * d.y() > FLAT_PX * FLAT_PX:
                return to_screen
    return flat
