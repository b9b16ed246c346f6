"""Objective measures of stretch marks in one photo: where they are, their size, their colour
against the skin beside them, and a texture index (issue 18, the measuring engine).

Pure functions over a photo (a Pillow image or an H×W×3 uint8 array of sRGB), its colour
balance (per-channel gains, ``geometry.Gains``) and, when the calibration card gives it, its
scale in pixels per millimetre. Polygons are in the photo's continuous pixel coordinates (a
pixel's top-left corner at whole numbers), as everywhere in the app.

**Finding the marks** (``find_marks``): a contrast score per pixel, a* for stria rubra (redder
than the skin), L* − a* for stria alba (lighter, less red); the skin's level of it followed
across the photo by a Gaussian average (a quarter of the long side) over skin pixels only, so a
lighting gradient is no mark, and its variation as a robust standard deviation (1.4826 × MAD).
Pixels above the level by ``sensitivity`` deviations seed the marks (twice: the second time
without the first marks in the skin's figures); the edge is where the score is half way from
the skin's level to the marks' at their ridge (the half-maximum of a blurred step, which does
not move with the contrast), keeping what joins a seed. Clean-up: the outline smoothed at
0.15 mm, holes and specks under 1 mm² (25 px without a scale) filled and dropped, an opening
removing anything narrower than 0.2 mm.

**Adjacent skin**: a drawn skin polygon, else a ring around the marks found, from 0.5 mm to
3.5 mm beyond their edge (3 to 18 px without a scale), leaving out other marks and the card.

**Size**: area from the mask; length along its skeleton (Zhang–Suen thinning,
``cv2.ximgproc.thinning``), with each open end lengthened by its distance to the mark's edge so
the length runs tip to tip; mean width = area ÷ length (see ``_size`` for why that one).

OpenCV and numpy are loaded with this module, which nothing imports at the app's start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tracker.core.errors import ValidationError
from tracker.core.imaging import colour, skeleton
from tracker.core.imaging.geometry import Gains

# One thread for OpenCV's own loops: callers measure photos in parallel on their own pool.
cv2.setNumThreads(1)

__all__ = [
    "DEFAULT_BAND",
    "DEFAULT_SENSITIVITY",
    "MarkMeasures",
    "default_band",
    "find_marks",
    "measure",
    "repeatability_band",
]

Array = NDArray[Any]
Mask = NDArray[np.bool_]
Polygon = Sequence[tuple[float, float]]

DEFAULT_SENSITIVITY = 4.0
"""How far above the skin's own variation (in its robust standard deviations) a pixel must be
to seed a mark. Lower finds fainter marks and more false ones; 1.5–8 is accepted."""

MIN_REGION_PX, MIN_SKIN_PX = 400, 100
SPECK_MM2, SPECK_PX = 1.0, 25
OPEN_MM = 0.1  # opening radius: structures narrower than twice this are removed
RING_GAP_MM, RING_WIDTH_MM = 0.5, 3.0
RING_GAP_PX, RING_WIDTH_PX = 3, 15
CARD_MARGIN = 0.2  # the card's outline widened by this share about its centre
SPREAD_FLOOR = 0.3
SPREAD_SAMPLE = 200_000  # the most values a robust spread is taken over (evenly spaced)
"""The least the skin's variation is taken to be (a*, or L* − a*): a JPEG at quality 80 can
flatten skin's colour till its spread is near nought, and its block edges would seed marks."""


@dataclass(frozen=True)
class MarkMeasures:
    """A photo's measures, keyed as issue 18's ``tracker measure --json``. The unit is in each
    name: without a scale (``px_per_mm`` None) the millimetre measures and the texture index
    (whose band is in millimetres) are None and ``mean_width_px`` still holds. Colour
    differences are marks − adjacent skin, after the colour balance; with no marks found the
    size measures are 0 and the colour measures None."""

    px_per_mm: float | None
    marks_found: bool
    area_fraction: float
    area_mm2: float | None
    length_mm: float | None
    mean_width_mm: float | None
    mean_width_px: float
    delta_e00: float | None
    delta_L: float | None
    delta_a: float | None
    delta_b: float | None
    erythema_index_delta: float | None
    melanin_index_delta: float | None
    ita_marks: float | None
    ita_skin: float | None
    texture_index: float | None

    def as_dict(self) -> dict[str, float | bool | None]:
        """The measures under the issue's keys, in its order (the command line's JSON)."""
        return {
            "px_per_mm": self.px_per_mm,
            "marks_found": self.marks_found,
            "area_fraction": self.area_fraction,
            "area_mm2": self.area_mm2,
            "length_mm": self.length_mm,
            "mean_width_mm": self.mean_width_mm,
            "mean_width_px": self.mean_width_px,
            "delta_e00": self.delta_e00,
            "delta_L": self.delta_L,
            "delta_a": self.delta_a,
            "delta_b": self.delta_b,
            "erythema_index_delta": self.erythema_index_delta,
            "melanin_index_delta": self.melanin_index_delta,
            "ita_marks": self.ita_marks,
            "ita_skin": self.ita_skin,
            "texture_index": self.texture_index,
        }


def _pixels(image: Image.Image | NDArray[np.uint8]) -> NDArray[np.uint8]:
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValidationError("A photo to measure is an 8-bit RGB image.")
    return a


def _polygon(shape: tuple[int, int], points: Polygon, what: str) -> Mask:
    h, w = shape
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.isfinite(pts).all():
        raise ValidationError(f"The {what} needs at least three corners, each an x and a y.")
    if (pts < -0.5).any() or (pts[:, 0] > w + 0.5).any() or (pts[:, 1] > h + 0.5).any():
        raise ValidationError(
            f"The {what} reaches outside the photo ({w} × {h} pixels); draw it inside the photo."
        )
    return _fill(shape, pts)


def _fill(shape: tuple[int, int], pts: NDArray[np.float64]) -> Mask:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.rint((pts - 0.5) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def _card(shape: tuple[int, int], card: Polygon | None) -> Mask:
    """The card's outline widened by ``CARD_MARGIN`` (its shadow and the blur of its edge)."""
    if card is None:
        return np.zeros(shape, bool)
    pts = np.asarray(card, dtype=np.float64)
    if pts.shape != (4, 2) or not np.isfinite(pts).all():
        raise ValidationError("The card's outline is four corners, each an x and a y.")
    centre = pts.mean(axis=0)
    return _fill(shape, centre + (pts - centre) * (1 + CARD_MARGIN))


@dataclass(frozen=True)
class _Photo:
    linear: NDArray[np.float32]
    lab: NDArray[np.float64]
    region: Mask
    skin: Mask | None
    card: Mask
    px_per_mm: float | None


def _prepare(
    image: Image.Image | NDArray[np.uint8],
    stage: str,
    region: Polygon | None,
    skin: Polygon | None,
    card: Polygon | None,
    px_per_mm: float | None,
    gains: Gains | None,
    sensitivity: float,
) -> _Photo:
    if stage not in ("rubra", "alba"):
        raise ValidationError(f"The stage is rubra or alba, not {stage!r}.")
    if px_per_mm is not None and not (math.isfinite(px_per_mm) and 0.5 <= px_per_mm <= 500):
        raise ValidationError("The scale is between 0.5 and 500 pixels per millimetre.")
    if not (math.isfinite(sensitivity) and 1.5 <= sensitivity <= 8):
        raise ValidationError("The sensitivity is between 1.5 and 8 (the default is 4).")
    rgb = _pixels(image)
    shape = (rgb.shape[0], rgb.shape[1])
    card_mask = _card(shape, card)
    inside = np.ones(shape, bool) if region is None else _polygon(shape, region, "marks' region")
    inside &= ~card_mask
    if int(inside.sum()) < MIN_REGION_PX:
        raise ValidationError(
            f"The marks' region is too small to measure (under {MIN_REGION_PX} pixels outside "
            "the card); draw it around the marks with some skin inside."
        )
    skin_mask = None
    if skin is not None:
        skin_mask = _polygon(shape, skin, "skin patch") & ~card_mask
        if int(skin_mask.sum()) < MIN_SKIN_PX:
            raise ValidationError(
                "No skin is left to compare the marks against: the skin patch is too small or "
                "under the card; draw it on untreated skin beside the marks."
            )
    linear = colour.linear_rgb(rgb, gains)
    return _Photo(linear, colour.lab_from_linear(linear), inside, skin_mask, card_mask, px_per_mm)


# -- finding the marks ------------------------------------------------------------------------
def _score(lab: NDArray[np.float64], stage: str) -> NDArray[np.float32]:
    s = lab[..., 1] if stage == "rubra" else lab[..., 0] - lab[..., 1]
    return np.asarray(s, np.float32)


def _level(score: Array, weight: Mask, sigma: float) -> NDArray[np.float32]:
    """The skin's level of the score everywhere: a Gaussian average over ``weight`` only."""
    h, w = score.shape
    k = max(1, int(sigma / 8))  # a field this smooth is made at 1/k of the size, then enlarged
    small = (max(1, w // k), max(1, h // k))
    weights = weight.astype(np.float32)
    num, den = (
        cv2.GaussianBlur(cv2.resize(v, small, interpolation=cv2.INTER_AREA), (0, 0), sigma / k)
        for v in (score * weights, weights)
    )
    fallback = float(np.median(score[weight])) if (den <= 1e-3).any() else 0.0  # where needed
    level = np.where(den > 1e-3, num / np.maximum(den, 1e-3), fallback).astype(np.float32)
    return np.asarray(cv2.resize(level, (w, h), interpolation=cv2.INTER_LINEAR))


def _spread(values: Array) -> float:
    values = values[:: 1 + values.size // SPREAD_SAMPLE]  # every n-th: as robust, faster
    mad = float(np.median(np.abs(values - np.median(values))))
    return max(1.4826 * mad, SPREAD_FLOOR)


def _speck(px_per_mm: float | None) -> int:
    return SPECK_PX if px_per_mm is None else max(4, math.ceil(SPECK_MM2 * px_per_mm**2))


def _clean(mask: Mask, px_per_mm: float | None) -> Mask:
    """An opening that removes what is narrower than 2 × ``OPEN_MM``, then specks removed."""
    m = mask.astype(np.uint8)
    radius = 0 if px_per_mm is None else int(OPEN_MM * px_per_mm)
    if radius >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        m = np.asarray(cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel), np.uint8)
    return skeleton.drop_small(m, _speck(px_per_mm))  # in the marks' box: the same, faster


def _detect(photo: _Photo, stage: str, sensitivity: float) -> Mask:
    score = _score(photo.lab, stage)
    coarse = cv2.GaussianBlur(score, (0, 0), 1.5)
    fine = cv2.GaussianBlur(score, (0, 0), 1.0)
    h, w = score.shape
    sigma_level = max(h, w) / 4
    base = photo.region if photo.skin is None else photo.skin
    seeds = np.zeros((h, w), bool)
    level = np.zeros((h, w), np.float32)
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    for _ in range(2):
        near = cv2.dilate(seeds.astype(np.uint8), grow) > 0
        skin = base if photo.skin is not None else base & ~near
        if int(skin.sum()) < MIN_SKIN_PX:
            skin = base
        level = _level(coarse, skin, sigma_level)
        spread = _spread((coarse - level)[skin])
        seeds = _clean(((coarse - level) > sensitivity * spread) & photo.region, photo.px_per_mm)
    if not seeds.any():
        return seeds
    excess = fine - level
    noise = _spread(excess[skin])
    # The marks' contrast at their ridge (the seeds' skeleton): where a thin, blurred mark
    # peaks, not the median over its slopes too, which would put its edges too far out.
    ridge = skeleton.thin(seeds)  # one shape at a time: the same, faster
    edge = max(0.5 * float(np.median(excess[ridge])), 2 * noise)
    candidate = ((excess > edge) & photo.region).astype(np.uint8)
    n, labels = cv2.connectedComponents(candidate, connectivity=8)
    touched = np.zeros(n, bool)
    touched[np.unique(labels[seeds])] = True
    touched[0] = False
    return _clean(_smooth(touched[labels], photo.px_per_mm), photo.px_per_mm)


def _smooth(mask: Mask, px_per_mm: float | None) -> Mask:
    """The mask's outline smoothed (blurred at 0.15 mm, at least a pixel, and cut at half,
    which keeps a straight edge where it is) and its small holes filled: a ragged edge would
    grow spurs on the skeleton and lengthen it."""
    sigma = 1.0 if px_per_mm is None else max(1.0, 0.15 * px_per_mm)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma) >= 0.5
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~soft).astype(np.uint8), connectivity=4)
    fill = np.zeros(n, bool)
    fill[1:] = stats[1:, cv2.CC_STAT_AREA] < _speck(px_per_mm)
    return np.asarray(soft | fill[labels])


def find_marks(
    image: Image.Image | NDArray[np.uint8],
    *,
    stage: str,
    region: Polygon | None = None,
    skin: Polygon | None = None,
    card: Polygon | None = None,
    px_per_mm: float | None = None,
    gains: Gains | None = None,
    sensitivity: float = DEFAULT_SENSITIVITY,
) -> Mask:
    """The marks inside ``region`` (the whole photo outside the ``card`` without one), as a
    boolean mask of the photo's size, for the overlay the user checks (see the module's
    docstring for how). Raises ``ValidationError`` for a region outside the photo or too
    small, or a skin patch with no skin left in it."""
    photo = _prepare(image, stage, region, skin, card, px_per_mm, gains, sensitivity)
    return _detect(photo, stage, sensitivity)


# -- size -------------------------------------------------------------------------------------
def _skeleton_length(skeleton: Mask, distance: NDArray[np.float32]) -> float:
    """The skeleton's length in pixels: 1 between side neighbours, √2 between diagonal ones
    (unless a side neighbour already joins them), and each open end lengthened by its
    distance to the edge, so a mark is measured tip to tip."""
    s = np.pad(skeleton, 1)
    core = s[1:-1, 1:-1]
    side = float((core & s[1:-1, 2:]).sum() + (core & s[2:, 1:-1]).sum())
    diagonal = 0.0
    for dy, dx in ((1, 1), (1, -1)):
        other = s[1 + dy : s.shape[0] - 1 + dy, 1 + dx : s.shape[1] - 1 + dx]
        via_a = s[1 + dy : s.shape[0] - 1 + dy, 1:-1]
        via_b = s[1:-1, 1 + dx : s.shape[1] - 1 + dx]
        diagonal += float((core & other & ~via_a & ~via_b).sum())
    kernel = np.ones((3, 3), np.float32)
    count = cv2.filter2D(skeleton.astype(np.uint8), -1, kernel, borderType=cv2.BORDER_CONSTANT)
    neighbours = count.astype(np.int32) - 1
    ends = skeleton & (neighbours == 1)
    lone = skeleton & (neighbours == 0)
    tips = float((distance[ends] - 0.5).clip(0).sum() + 2 * (distance[lone] - 0.5).clip(0).sum())
    return side + math.sqrt(2) * diagonal + tips


def _size(mask: Mask) -> tuple[float, float, float]:
    """Area, length (pixels) and mean width (pixels) of the marks.

    The width is area ÷ length. The other candidate, twice the mean distance to the edge at
    the skeleton's pixels (less half a pixel each side), was measured on the same generated
    stripes and reads 2–6 % narrow on every wide mark (−0.09 mm on 4 mm at 10 px/mm, −0.29 mm
    on 8 mm at 5 px/mm: the distance between pixel centres is quantised, and a skeleton on an
    even number of pixels sits half a pixel off the middle) where area ÷ length is within 2 %.
    """
    m = mask.astype(np.uint8)
    area = float(m.sum())
    if area == 0:
        return 0.0, 0.0, 0.0
    distance = skeleton.distance(m)  # in the marks' box: the same, faster
    bones = skeleton.thin(m)  # Zhang–Suen, one shape at a time
    length = max(_skeleton_length(bones, distance), 1.0)
    return area, length, area / length


# -- the measures -----------------------------------------------------------------------------
def _core(marks: Mask) -> Mask:
    """The marks' pixels whose colour is read: those at least 1.5 px inside their edge, or
    their skeleton where that leaves too few. A thin mark's edge pixels are part skin (the
    lens, and a JPEG's chroma kept at half resolution, blur it), and would dilute its colour."""
    distance = skeleton.distance(marks)
    inner = distance >= 2.0
    bones = skeleton.thin(marks)
    if int(inner.sum()) >= int(bones.sum()):
        return np.asarray(inner)
    return np.asarray(bones)


def _ring(photo: _Photo, marks: Mask) -> Mask:
    ppm = photo.px_per_mm
    gap = RING_GAP_PX if ppm is None else max(1, round(RING_GAP_MM * ppm))
    width = RING_WIDTH_PX if ppm is None else max(2, round(RING_WIDTH_MM * ppm))

    def grown(r: int) -> Mask:
        return skeleton.dilate(marks, r)  # in the marks' box widened by r: the same, faster

    return grown(gap + width) & ~grown(gap) & ~photo.card


def measure(
    image: Image.Image | NDArray[np.uint8],
    *,
    stage: str,
    region: Polygon | None = None,
    skin: Polygon | None = None,
    card: Polygon | None = None,
    px_per_mm: float | None = None,
    gains: Gains | None = None,
    sensitivity: float = DEFAULT_SENSITIVITY,
) -> MarkMeasures:
    """Every measure of the marks in one photo (see ``MarkMeasures``), on the photo balanced by
    ``gains``. No marks found is an answer (``marks_found`` False), not an error; a region
    outside the photo or too small, or no skin left to compare against, raises
    ``ValidationError``."""
    photo = _prepare(image, stage, region, skin, card, px_per_mm, gains, sensitivity)
    marks = _detect(photo, stage, sensitivity)
    area, length, width = _size(marks)
    fraction = area / float(photo.region.sum())
    ppm = photo.px_per_mm

    def mm(v: float, power: int = 1) -> float | None:
        return None if ppm is None else v / ppm**power

    if not marks.any():
        zero = mm(0.0)
        return MarkMeasures(ppm, False, 0.0, zero, zero, zero, 0.0, *(None,) * 9)
    near = (photo.skin if photo.skin is not None else _ring(photo, marks)) & ~marks
    if int(near.sum()) < MIN_SKIN_PX:
        raise ValidationError(
            "No skin is left to compare the marks against: the card or the photo's edge covers "
            "what is beside them; draw a skin patch on untreated skin near them."
        )
    lin_marks = photo.linear[_core(marks)].mean(axis=0)
    lin_skin = photo.linear[near].mean(axis=0)
    lab_marks, lab_skin = colour.lab_from_linear(lin_marks), colour.lab_from_linear(lin_skin)
    delta = lab_marks - lab_skin
    lum = photo.lab[..., 0]
    texture = None if ppm is None else colour.texture_index(lum, marks, near, delta[0], ppm)
    return MarkMeasures(
        px_per_mm=ppm,
        marks_found=True,
        area_fraction=fraction,
        area_mm2=mm(area, 2),
        length_mm=mm(length),
        mean_width_mm=mm(width),
        mean_width_px=width,
        delta_e00=float(colour.delta_e2000(lab_skin, lab_marks)),
        delta_L=float(delta[0]),
        delta_a=float(delta[1]),
        delta_b=float(delta[2]),
        erythema_index_delta=colour.erythema_index(lin_marks) - colour.erythema_index(lin_skin),
        melanin_index_delta=colour.melanin_index(lin_marks) - colour.melanin_index(lin_skin),
        ita_marks=colour.ita(lab_marks),
        ita_skin=colour.ita(lab_skin),
        texture_index=texture,
    )


# -- how much change to believe ---------------------------------------------------------------

BAND_FACTOR = 2.0
"""A retest pair's difference times this is the smallest change worth believing: with one pair
the difference is one draw of the measurement's retest spread, and 1.96 of those spreads is
the usual smallest detectable change at 95 % (rounded up to 2)."""

DEFAULT_BAND: dict[str, tuple[float, float]] = {
    "area_fraction": (0.002, 0.07),
    "area_mm2": (1.0, 0.07),
    "length_mm": (1.0, 0.03),
    "mean_width_mm": (0.05, 0.07),
    "mean_width_px": (1.0, 0.07),
    "delta_e00": (0.9, 0.0),
    "delta_L": (0.3, 0.0),
    "delta_a": (1.5, 0.0),
    "delta_b": (2.2, 0.0),
    "erythema_index_delta": (2.1, 0.0),
    "melanin_index_delta": (0.9, 0.0),
    "ita_marks": (3.1, 0.0),
    "ita_skin": (1.9, 0.0),
    "texture_index": (0.06, 0.0),
}
"""The band used without a retest pair, per measure: (absolute, share of the value), the larger
wins: twice the largest change seen on 16 generated re-takes (``marks_synthetic``, seeds
200–215: tones I–VI, 5–20 px/mm, marks 1–4 mm, rubra and alba, exposed 0.7–0.9), each taken
again 10 % brighter, shifted 3 px and saved as JPEG quality 80 instead of 92, each balanced by
its own card's gains; rounded up. The JPEG's chroma quantisation sets the colour bands (it
moved a* and b* by up to 0.7 and 1.1). ``test_marks.py`` checks them on other re-takes."""


def default_band(result: MarkMeasures) -> dict[str, float | None]:
    """The smallest change worth believing per measure without a retest pair (``DEFAULT_BAND``
    at this result's values); None where the measure is None."""
    v = result.as_dict()
    return {
        key: None if v[key] is None else max(absolute, share * abs(float(v[key])))  # type: ignore[arg-type]
        for key, (absolute, share) in DEFAULT_BAND.items()
    }


def repeatability_band(first: MarkMeasures, second: MarkMeasures) -> dict[str, float | None]:
    """From two photos of one view on the same day, the smallest change worth believing per
    measure: ``BAND_FACTOR`` × their difference, never below the default band; None where
    either lacks the measure."""
    a, b, fa, fb = first.as_dict(), second.as_dict(), default_band(first), default_band(second)
    band: dict[str, float | None] = dict.fromkeys(DEFAULT_BAND)
    for key in DEFAULT_BAND:
        va, vb, floor_a, floor_b = a[key], b[key], fa[key], fb[key]
        if va is not None and vb is not None and floor_a is not None and floor_b is not None:
            band[key] = max(BAND_FACTOR * abs(float(va) - float(vb)), floor_a, floor_b)
    return band
