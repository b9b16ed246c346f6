"""Finding the marks in a photo (``marks.find_marks``; the method is in ``imaging.marks``'s
docstring), worked out so that only what must see every pixel does.

Over the whole photo: the score (a* or L* − a*, from only the two CIELAB channels it needs,
``colour.lab_f``), its two blurs, the skin's level (made at a small size and enlarged) and the
skin's spread. Everything after the seeds is done in the box that holds them: the pixels above
the edge's level joined to a seed are looked for in the seeds' box widened until none of them
reaches its side (the same as over the whole photo, then), and the outline's smoothing, holes
and specks in the box of what was kept, widened by the blur's reach.

Measured on the bench's photo (2000 × 1500, a 12 MP photo's preview; BENCHMARKS.md): finding
the marks took 0.88 s in a profile under a load of 9 with the whole photo's L*a*b* and every
step over the whole photo; now 0.13 s at a load of 3 (0.21–0.32 s at 7), the same marks pixel
for pixel (on 42 generated cases: regions small and none, skin patches, cards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tracker.core.imaging import colour, skeleton

Array = NDArray[Any]
Mask = NDArray[np.bool_]
Box = tuple[int, int, int, int]  # rows y0:y1, columns x0:x1

MIN_SKIN_PX = 100
SPECK_MM2, SPECK_PX = 1.0, 25
OPEN_MM = 0.1  # opening radius: structures narrower than twice this are removed
SPREAD_FLOOR = 0.3
"""The least the skin's variation is taken to be (a*, or L* − a*): a JPEG at quality 80 can
flatten skin's colour till its spread is near nought, and its block edges would seed marks."""
SPREAD_SAMPLE = 200_000  # the most values a robust spread is taken over (evenly spaced)


@dataclass(frozen=True)
class Photo:
    """A photo made ready to measure: linear light after the colour balance, the stage's
    score, and the masks of the region, the skin patch (if drawn) and the card."""

    linear: colour.Planes  # red, green, blue
    score: NDArray[np.float32]
    region: Mask
    skin: Mask | None
    card: Mask
    px_per_mm: float | None
    whole: tuple[int, int] = (0, 0)  # the photo's height and width, when this is a crop of it
    at: tuple[int, int] = (0, 0)  # where the crop's top-left pixel is in the photo (y, x)


def score(linear: colour.Planes, stage: str) -> NDArray[np.float32]:
    """a* for stria rubra (redder than the skin), L* − a* for stria alba (lighter, less red)."""
    fx, fy = colour.lab_f(linear, (0, 1))
    if stage == "rubra":
        return np.asarray(cv2.addWeighted(fx, 500.0, fy, -500.0, 0.0), np.float32)
    # (116 fy − 16) − 500 (fx − fy)
    return np.asarray(cv2.addWeighted(fy, 616.0, fx, -500.0, -16.0), np.float32)


def _level(photo: Photo, score: Array, weight: Mask, sigma: float) -> NDArray[np.float32]:
    """The skin's level of the score everywhere: a Gaussian average over ``weight`` only. On a
    crop, made as over the whole photo (the weighted score put back in a photo of zeros, which
    is what lies outside the crop once weighted), so the level is the same to the last bit."""
    h, w = photo.whole if photo.whole != (0, 0) else score.shape
    k = max(1, int(sigma / 8))  # a field this smooth is made at 1/k of the size, then enlarged
    small = (max(1, w // k), max(1, h // k))
    # The weighted score and the weights as two channels of one image: OpenCV's area
    # reduction takes as long for two channels as for one, and gives each the same values.
    both = np.zeros((h, w, 2), np.float32)
    (y0, x0), (ch, cw) = photo.at, score.shape
    inside = both[y0 : y0 + ch, x0 : x0 + cw]
    inside[..., 1] = weight
    np.multiply(score, inside[..., 1], out=inside[..., 0])
    reduced = cv2.resize(both, small, interpolation=cv2.INTER_AREA)
    reduced = reduced.reshape(small[1], small[0], 2)
    num, den = (
        cv2.GaussianBlur(np.ascontiguousarray(reduced[..., i]), (0, 0), sigma / k) for i in (0, 1)
    )
    fallback = float(np.median(score[weight])) if (den <= 1e-3).any() else 0.0  # where needed
    level = np.where(den > 1e-3, num / np.maximum(den, 1e-3), fallback).astype(np.float32)
    level = np.asarray(cv2.resize(level, (w, h), interpolation=cv2.INTER_LINEAR))
    if (h, w) != score.shape:
        level = np.ascontiguousarray(level[y0 : y0 + ch, x0 : x0 + cw])
    return level


def spread(values: Array) -> float:
    """A robust standard deviation (1.4826 × MAD), never under ``SPREAD_FLOOR``."""
    values = values[:: 1 + values.size // SPREAD_SAMPLE]  # every n-th: as robust, faster
    mad = float(np.median(np.abs(values - np.median(values))))
    return max(1.4826 * mad, SPREAD_FLOOR)


def spread_in(values: Array, where: NDArray[np.intp]) -> float:
    """``spread(values[mask])`` for ``where = np.flatnonzero(mask)``, gathering only the values
    it takes (every n-th)."""
    return spread(values.ravel()[where[:: 1 + where.size // SPREAD_SAMPLE]])


def speck(px_per_mm: float | None) -> int:
    return SPECK_PX if px_per_mm is None else max(4, math.ceil(SPECK_MM2 * px_per_mm**2))


def _clean(mask: Mask, px_per_mm: float | None) -> Mask:
    """An opening that removes what is narrower than 2 × ``OPEN_MM``, then specks removed."""
    m: Array = mask
    radius = 0 if px_per_mm is None else int(OPEN_MM * px_per_mm)
    if radius >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        m = np.asarray(cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel), np.uint8)
    return skeleton.drop_small(m, speck(px_per_mm))  # in the marks' box: the same, faster


def _touches_side(kept: Mask, box: Box, shape: tuple[int, int]) -> bool:
    """Whether ``kept`` (the box's pixels) reaches a side of the box that is not the image's."""
    y0, y1, x0, x1 = box
    h, w = shape
    return bool(
        (y0 > 0 and kept[0].any())
        or (y1 < h and kept[-1].any())
        or (x0 > 0 and kept[:, 0].any())
        or (x1 < w and kept[:, -1].any())
    )


def _joined(excess: Array, edge: float, seeds: Mask, region: Mask, margin: int) -> tuple[Box, Mask]:
    """The pixels of ``(excess > edge) & region`` 8-connected to a seed, in a box holding them
    all."""
    shape = (seeds.shape[0], seeds.shape[1])
    while True:
        box = skeleton.box(seeds, margin)
        assert box is not None  # there are seeds
        y0, y1, x0, x1 = box
        inside = ((excess[y0:y1, x0:x1] > edge) & region[y0:y1, x0:x1]).astype(np.uint8)
        n, labels = cv2.connectedComponents(inside, connectivity=8)
        touched = np.zeros(n, bool)
        touched[np.unique(labels[seeds[y0:y1, x0:x1]])] = True
        touched[0] = False
        kept = touched[labels]
        if box == (0, shape[0], 0, shape[1]) or not _touches_side(kept, box, shape):
            return box, kept
        margin *= 4  # a joined shape runs out of the box: look wider


def _smooth(mask: Mask, px_per_mm: float | None) -> Mask:
    """The mask's outline smoothed (blurred at 0.15 mm, at least a pixel, and cut at half,
    which keeps a straight edge where it is) and its small holes filled: a ragged edge would
    grow spurs on the skeleton and lengthen it. What is cut at half lies in the mask's box."""
    sigma = 1.0 if px_per_mm is None else max(1.0, 0.15 * px_per_mm)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma) >= 0.5
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~soft).astype(np.uint8), connectivity=4)
    fill = np.zeros(n, bool)
    fill[1:] = stats[1:, cv2.CC_STAT_AREA] < speck(px_per_mm)
    return np.asarray(soft | fill[labels])


def _finish(kept: Mask, box: Box, shape: tuple[int, int], ppm: float | None) -> Mask:
    """``_clean(_smooth(...))`` of the kept pixels, in their box widened by the blur's reach
    (the same as over the whole image: nothing beyond it is within the blur's kernel)."""
    out = np.zeros(shape, bool)
    inner = skeleton.box(kept, 0)
    if inner is None:
        return out
    sigma = 1.0 if ppm is None else max(1.0, 0.15 * ppm)
    reach = math.ceil(4 * sigma) + 2  # OpenCV's float kernel: 4 sigmas each side
    iy0, iy1, ix0, ix1 = inner
    y0, y1 = max(0, box[0] + iy0 - reach), min(shape[0], box[0] + iy1 + reach)
    x0, x1 = max(0, box[2] + ix0 - reach), min(shape[1], box[2] + ix1 + reach)
    local = np.zeros((y1 - y0, x1 - x0), bool)
    ky, kx = box[0] + iy0 - y0, box[2] + ix0 - x0
    local[ky : ky + iy1 - iy0, kx : kx + ix1 - ix0] = kept[iy0:iy1, ix0:ix1]
    out[y0:y1, x0:x1] = _clean(_smooth(local, ppm), ppm)
    return out


def detect(photo: Photo, sensitivity: float) -> Mask:
    """The marks' mask, of the photo's size (see ``imaging.marks`` for the method)."""
    coarse = cv2.GaussianBlur(photo.score, (0, 0), 1.5)
    fine = cv2.GaussianBlur(photo.score, (0, 0), 1.0)
    h, w = photo.score.shape
    sigma_level = max(photo.whole if photo.whole != (0, 0) else (h, w)) / 4
    base = photo.region if photo.skin is None else photo.skin
    seeds = np.zeros((h, w), bool)
    level = np.zeros((h, w), np.float32)
    skin, where = base, np.flatnonzero(base)
    for step in range(2):
        if photo.skin is None and step > 0:
            skin = base & ~skeleton.dilate(seeds, 3)  # the seeds grown by a 7 × 7 disc
            where = np.flatnonzero(skin)
            if where.size < MIN_SKIN_PX:
                skin, where = base, np.flatnonzero(base)
        level = _level(photo, coarse, skin, sigma_level)
        above = cv2.subtract(coarse, level)
        limit = sensitivity * spread_in(above, where)
        seeds = _clean((above > limit) & photo.region, photo.px_per_mm)
    if not seeds.any():
        return seeds
    excess = cv2.subtract(fine, level)
    noise = spread_in(excess, where)
    # The marks' contrast at their ridge (the seeds' skeleton): where a thin, blurred mark
    # peaks, not the median over its slopes too, which would put its edges too far out.
    ridge = skeleton.thin(seeds)  # one shape at a time: the same, faster
    edge = max(0.5 * float(np.median(excess[ridge])), 2 * noise)
    margin = 16 if photo.px_per_mm is None else max(16, round(2 * photo.px_per_mm))
    box, kept = _joined(excess, edge, seeds, photo.region, margin)
    return _finish(kept, box, (h, w), photo.px_per_mm)
