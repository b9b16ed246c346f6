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
the length runs tip to tip, read on that skeleton with its staircases slimmed, spurs shorter
than the mark is wide cut and gaps under 1 mm between a fading mark's pieces bridged
(``marks_bones``; the mask shown and the area are the mask's own); mean width = area ÷ length
(see ``marks_size.size`` for why that one).

The finding is in ``marks_find`` (only the score, its blurs and the skin's level and spread
over the whole photo; the rest in the seeds' box), the size, the ring and the marks' core in
``marks_size``; once the marks are found every measure is read in the box that holds them and
what they are compared with (``_work_box``), with the same figures as over the whole photo.

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
from tracker.core.imaging import colour, marks_size, skeleton
from tracker.core.imaging.geometry import Gains
from tracker.core.imaging.marks_find import MIN_SKIN_PX, Photo, detect, score

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

MIN_REGION_PX = 400
CARD_MARGIN = 0.2  # the card's outline widened by this share about its centre


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


def _prepare(
    image: Image.Image | NDArray[np.uint8],
    stage: str,
    region: Polygon | None,
    skin: Polygon | None,
    card: Polygon | None,
    px_per_mm: float | None,
    gains: Gains | None,
    sensitivity: float,
) -> Photo:
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
    ys, xs = _crop(inside, skin_mask, px_per_mm)
    if (ys.stop - ys.start, xs.stop - xs.start) != shape:
        rgb, card_mask = rgb[ys, xs], np.ascontiguousarray(card_mask[ys, xs])
        inside = np.ascontiguousarray(inside[ys, xs])
        skin_mask = None if skin_mask is None else np.ascontiguousarray(skin_mask[ys, xs])
    linear = colour.linear_planes(rgb, gains)
    return Photo(
        linear,
        score(linear, stage),
        inside,
        skin_mask,
        card_mask,
        px_per_mm,
        whole=shape,
        at=(ys.start, xs.start),
    )


def _crop(region: Mask, skin: Mask | None, px_per_mm: float | None) -> tuple[slice, slice]:
    """The part of the photo that is read: the region and the skin patch, widened by what is
    read beyond them (the ring, the texture's blur, the score's). Nothing else is worked on;
    what is read inside it is what the whole photo gives there."""
    gap, width = marks_size.ring_reach(px_per_mm)
    reach = gap + width + 8 + (0 if px_per_mm is None else colour.texture_reach(px_per_mm))
    masks = [region] if skin is None else [region, skin]
    boxes = [b for b in (skeleton.box(m, reach) for m in masks) if b is not None]
    y0, y1 = min(b[0] for b in boxes), max(b[1] for b in boxes)
    x0, x1 = min(b[2] for b in boxes), max(b[3] for b in boxes)
    return slice(y0, y1), slice(x0, x1)


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
    found = detect(photo, sensitivity)
    if found.shape == photo.whole:
        return found
    out = np.zeros(photo.whole, bool)
    (y0, x0), (h, w) = photo.at, found.shape
    out[y0 : y0 + h, x0 : x0 + w] = found
    return out


# -- the measures -----------------------------------------------------------------------------
def _work_box(photo: Photo, marks: Mask) -> tuple[slice, slice]:
    """The box every measure is read in: the marks widened by the ring's reach and the
    texture's blur, with the skin patch's box (widened by the blur) when one is drawn."""
    gap, width = marks_size.ring_reach(photo.px_per_mm)
    blur = 0 if photo.px_per_mm is None else colour.texture_reach(photo.px_per_mm)
    boxes = [skeleton.box(marks, gap + width + blur + 1)]
    if photo.skin is not None:
        boxes.append(skeleton.box(photo.skin, blur + 1))
    found = [b for b in boxes if b is not None]
    y0, y1 = min(b[0] for b in found), max(b[1] for b in found)
    x0, x1 = min(b[2] for b in found), max(b[3] for b in found)
    return slice(y0, y1), slice(x0, x1)


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
    ``ValidationError``. Once the marks are found, all is read in the box that holds them and
    what is compared with them (``_work_box``): the same figures as over the whole photo."""
    photo = _prepare(image, stage, region, skin, card, px_per_mm, gains, sensitivity)
    whole = detect(photo, sensitivity)
    ppm = photo.px_per_mm

    def mm(v: float, power: int = 1) -> float | None:
        return None if ppm is None else v / ppm**power

    if not whole.any():
        zero = mm(0.0)
        return MarkMeasures(ppm, False, 0.0, zero, zero, zero, 0.0, *(None,) * 9)
    rows, cols = _work_box(photo, whole)
    marks = whole[rows, cols]
    found = marks_size.size(marks, ppm)
    fraction = found.area / float(photo.region.sum())
    card_box = photo.card[rows, cols]
    near = photo.skin[rows, cols] if photo.skin is not None else None
    near = (near if near is not None else marks_size.ring(marks, card_box, ppm)) & ~marks
    if int(near.sum()) < MIN_SKIN_PX:
        raise ValidationError(
            "No skin is left to compare the marks against: the card or the photo's edge covers "
            "what is beside them; draw a skin patch on untreated skin near them."
        )
    red, green, blue = (p[rows, cols] for p in photo.linear)
    planes = (red, green, blue)
    linear = np.dstack(planes)  # the box's linear RGB, H×W×3
    lin_marks = linear[marks_size.core(found)].mean(axis=0)
    lin_skin = linear[near].mean(axis=0)
    lab_marks, lab_skin = colour.lab_from_linear(lin_marks), colour.lab_from_linear(lin_skin)
    delta = lab_marks - lab_skin
    texture = None
    if ppm is not None:
        lum = 116 * colour.lab_f(planes, (1,))[0] - 16  # L* in the box only
        texture = colour.texture_index(lum, marks, near, delta[0], ppm)
    return MarkMeasures(
        px_per_mm=ppm,
        marks_found=True,
        area_fraction=fraction,
        area_mm2=mm(found.area, 2),
        length_mm=mm(found.length),
        mean_width_mm=mm(found.width),
        mean_width_px=found.width,
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
