"""The marks' size and the pixels their colour is read from (``marks.measure``), on the marks'
mask cropped to the box that holds them and what is read around them (``marks.measure``
crops; each step here is the same on the crop as over the whole photo, as ``skeleton`` says).

Length along the skeleton (Zhang–Suen thinning, ``cv2.ximgproc.thinning``), with each open end
lengthened by its distance to the mark's edge so the length runs tip to tip, read on the
skeleton with its spurs cut and a fading mark's gaps bridged (``marks_bones``); mean width =
area ÷ length (see ``size`` for why that one). The distance to the edge and the skeleton are
worked out once and serve the size and the marks' core both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tracker.core.imaging import marks_bones, skeleton

Mask = NDArray[np.bool_]

RING_GAP_MM, RING_WIDTH_MM = 0.5, 3.0
RING_GAP_PX, RING_WIDTH_PX = 3, 15


@dataclass(frozen=True)
class Size:
    area: float  # pixels
    length: float  # pixels, tip to tip
    width: float  # pixels: area ÷ length
    distance: NDArray[np.float32]  # each marked pixel's distance to the nearest unmarked one
    bones: Mask  # the skeleton


def _skeleton_length(bones: Mask, distance: NDArray[np.float32]) -> float:
    """The skeleton's length in pixels: 1 between side neighbours, √2 between diagonal ones
    (unless a side neighbour already joins them), and each open end lengthened by its
    distance to the edge, so a mark is measured tip to tip; each step weighted by how many
    marks side by side its two pixels stand for (``marks_bones.parallel``: one but in a band
    of touching marks), on average."""
    many = np.pad(marks_bones.parallel(bones, distance), 1)
    s = many > 0
    core, n = s[1:-1, 1:-1], many[1:-1, 1:-1]
    h, w = s.shape

    def at(dy: int, dx: int) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        return s[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx], many[
            1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx
        ]

    side = 0.0
    for dy, dx in ((0, 1), (1, 0)):
        other, m = at(dy, dx)
        side += float(((n + m) / 2)[core & other].sum())
    diagonal = 0.0
    for dy, dx in ((1, 1), (1, -1)):
        other, m = at(dy, dx)
        via_a, via_b = at(dy, 0)[0], at(0, dx)[0]
        diagonal += float(((n + m) / 2)[core & other & ~via_a & ~via_b].sum())
    kernel = np.ones((3, 3), np.float32)
    count = cv2.filter2D(bones.astype(np.uint8), -1, kernel, borderType=cv2.BORDER_CONSTANT)
    neighbours = count.astype(np.int32) - 1
    ends = bones & (neighbours == 1)
    lone = bones & (neighbours == 0)
    reach = (distance - 0.5).clip(0) * n
    tips = float(reach[ends].sum() + 2 * reach[lone].sum())
    return side + math.sqrt(2) * diagonal + tips


def size(mask: Mask, px_per_mm: float | None = None) -> Size:
    """Area, length (pixels) and mean width (pixels) of the marks; ``px_per_mm`` sets the
    widest gap bridged between a mark's pieces (``marks_bones``).

    The width is area ÷ length. The other candidate, twice the mean distance to the edge at
    the skeleton's pixels (less half a pixel each side), was measured on the same generated
    stripes and reads 2–6 % narrow on every wide mark (−0.09 mm on 4 mm at 10 px/mm, −0.29 mm
    on 8 mm at 5 px/mm: the distance between pixel centres is quantised, and a skeleton on an
    even number of pixels sits half a pixel off the middle) where area ÷ length is within 2 %.
    """
    m = mask.astype(np.uint8)
    area = float(m.sum())
    distance = skeleton.distance(m)  # in the marks' box: the same, faster
    bones = skeleton.thin(m)  # Zhang–Suen, one shape at a time
    if area == 0:
        return Size(0.0, 0.0, 0.0, distance, bones)
    measured = marks_bones.for_length(bones, distance, px_per_mm)
    length = max(_skeleton_length(measured, distance), 1.0)
    return Size(area, length, area / length, distance, bones)


def core(found: Size) -> Mask:
    """The marks' pixels whose colour is read: those at least 1.5 px inside their edge, or
    their skeleton where that leaves too few. A thin mark's edge pixels are part skin (the
    lens, and a JPEG's chroma kept at half resolution, blur it), and would dilute its colour."""
    inner = found.distance >= 2.0
    if int(inner.sum()) >= int(found.bones.sum()):
        return np.asarray(inner)
    return np.asarray(found.bones)


def ring_reach(px_per_mm: float | None) -> tuple[int, int]:
    """The ring's gap and width beyond the marks' edge, in pixels."""
    if px_per_mm is None:
        return RING_GAP_PX, RING_WIDTH_PX
    return max(1, round(RING_GAP_MM * px_per_mm)), max(2, round(RING_WIDTH_MM * px_per_mm))


def ring(marks: Mask, card: Mask, px_per_mm: float | None) -> Mask:
    """The skin around the marks, from the ring's gap to its gap + width, outside the card."""
    gap, width = ring_reach(px_per_mm)
    # in the marks' box widened by r: the same, faster
    return skeleton.dilate(marks, gap + width) & ~skeleton.dilate(marks, gap) & ~card
