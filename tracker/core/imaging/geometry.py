"""Alignment and colour maths, kept free of Qt so that tests (and later automatic alignment) can
use it directly: transforms, landmark fits, and colour gains from a neutral patch.

A transform is a 2x3 affine matrix ``[a, b, c, d, e, f]`` mapping a point (x, y) of one photo's
upright pixels to (a·x + b·y + c, d·x + e·y + f) in another's. Landmarks give either a similarity
(2 point pairs: shift, rotation and uniform scale) or a full affine (3 or more, least squares).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.core.errors import ValidationError

if TYPE_CHECKING:
    from PIL import Image

Point = tuple[float, float]
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True)
class Fit:
    matrix: Matrix
    kind: str  # "similarity" or "affine"
    rms_error: float  # in pixels of the target photo
    max_error: float


def apply(m: Matrix, p: Point) -> Point:
    a, b, c, d, e, f = m
    x, y = p
    return (a * x + b * y + c, d * x + e * y + f)


def compose(outer: Matrix, inner: Matrix) -> Matrix:
    """The transform that applies ``inner`` first, then ``outer``."""
    a1, b1, c1, d1, e1, f1 = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (
        a1 * a2 + b1 * d2,
        a1 * b2 + b1 * e2,
        a1 * c2 + b1 * f2 + c1,
        d1 * a2 + e1 * d2,
        d1 * b2 + e1 * e2,
        d1 * c2 + e1 * f2 + f1,
    )


def invert(m: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    det = a * e - b * d
    if abs(det) < 1e-12:
        raise ValidationError("The alignment cannot be undone because it squashes the photo flat.")
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))


def scale(sx: float, sy: float | None = None) -> Matrix:
    return (sx, 0.0, 0.0, 0.0, sx if sy is None else sy, 0.0)


def check_matrix(values: Sequence[float]) -> Matrix:
    """A stored transform, checked: six finite numbers that do not squash the photo flat."""
    if len(values) != 6 or not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        raise ValidationError("An alignment is six finite numbers.")
    m = tuple(float(v) for v in values)
    invert(m)  # type: ignore[arg-type]
    return m  # type: ignore[return-value]


def _check_pairs(src: Sequence[Point], dst: Sequence[Point], least: int) -> None:
    if len(src) != len(dst):
        raise ValidationError(
            f"Mark the same points on both photos: one has {len(src)}, the other {len(dst)}."
        )
    if len(src) < least:
        raise ValidationError(f"Mark at least {least} matching points on each photo.")


def similarity(src: Sequence[Point], dst: Sequence[Point]) -> Matrix:
    """Shift, rotation and uniform scale taking ``src`` onto ``dst`` (least squares for >2 pairs)."""
    _check_pairs(src, dst, 2)
    n = len(src)
    sx = sum(p[0] for p in src) / n
    sy = sum(p[1] for p in src) / n
    dx = sum(p[0] for p in dst) / n
    dy = sum(p[1] for p in dst) / n
    # With centred points, the best a = s·cosθ and b = s·sinθ solve a 2x2 system in closed form.
    num_a = num_b = den = 0.0
    for (x, y), (u, v) in zip(src, dst, strict=True):
        x, y, u, v = x - sx, y - sy, u - dx, v - dy
        num_a += x * u + y * v
        num_b += x * v - y * u
        den += x * x + y * y
    if den < 1e-9:
        raise ValidationError(
            "The points on the first photo are all in one place; spread them out."
        )
    a, b = num_a / den, num_b / den
    if math.hypot(a, b) < 1e-9:
        raise ValidationError(
            "The points on the second photo are all in one place; spread them out."
        )
    return (a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy))


def affine(src: Sequence[Point], dst: Sequence[Point]) -> Matrix:
    """The least-squares affine transform taking ``src`` onto ``dst`` (3 or more pairs).

    Solved on centred coordinates (a 2x2 system per output axis), which stays well conditioned
    for points thousands of pixels from the origin.
    """
    _check_pairs(src, dst, 3)
    n = len(src)
    mx = sum(p[0] for p in src) / n
    my = sum(p[1] for p in src) / n
    mu = sum(q[0] for q in dst) / n
    mv = sum(q[1] for q in dst) / n
    sxx = sxy = syy = sxu = syu = sxv = syv = 0.0
    for (x, y), (u, v) in zip(src, dst, strict=True):
        x, y, u, v = x - mx, y - my, u - mu, v - mv
        sxx += x * x
        sxy += x * y
        syy += y * y
        sxu += x * u
        syu += y * u
        sxv += x * v
        syv += y * v
    det = sxx * syy - sxy * sxy
    if det <= 1e-6 * (sxx + syy) ** 2:
        raise ValidationError(
            "The points lie on one line; mark at least three points that are not in a row."
        )
    a = (syy * sxu - sxy * syu) / det
    b = (sxx * syu - sxy * sxu) / det
    d = (syy * sxv - sxy * syv) / det
    e = (sxx * syv - sxy * sxv) / det
    return (a, b, mu - a * mx - b * my, d, e, mv - d * mx - e * my)


def fit(src: Sequence[Point], dst: Sequence[Point]) -> Fit:
    """Similarity for two pairs, affine for three or more, with the residual errors."""
    matrix = similarity(src, dst) if len(src) <= 2 else affine(src, dst)
    errors = [math.dist(apply(matrix, p), q) for p, q in zip(src, dst, strict=True)]
    rms = math.sqrt(sum(e * e for e in errors) / len(errors))
    return Fit(matrix, "similarity" if len(src) <= 2 else "affine", rms, max(errors))


# -- colour ---------------------------------------------------------------------------------

Gains = tuple[float, float, float]
NO_GAINS: Gains = (1.0, 1.0, 1.0)


def neutral_gains(patch: Sequence[float], level: float | None = None) -> Gains:
    """Per-channel gains that make a patch of neutral colour (grey card, untreated skin seen as a
    reference) read as grey at ``level`` (default: the patch's own mean, so only the white
    balance changes; give another photo's level to match brightness too)."""
    if len(patch) != 3 or any(not math.isfinite(v) for v in patch):
        raise ValidationError("A neutral patch has a red, a green and a blue value.")
    if min(patch) < 4:
        raise ValidationError("The patch is too dark to balance; pick a lighter, evenly lit area.")
    if max(patch) > 252:
        raise ValidationError("The patch is too bright (clipped); pick an area that is not white.")
    target = sum(patch) / 3 if level is None else level
    gains = tuple(target / v for v in patch)
    if any(not 0.25 <= g <= 4.0 for g in gains):
        raise ValidationError("That patch is too far from neutral to balance the photo by it.")
    return gains  # type: ignore[return-value]


def check_gains(values: Sequence[float]) -> Gains:
    if len(values) != 3 or not all(isinstance(v, int | float) and 0.25 <= v <= 4.0 for v in values):
        raise ValidationError("Colour gains are three numbers between 0.25 and 4.")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def patch_mean(
    image: Image.Image, x: float, y: float, radius: int = 5
) -> tuple[float, float, float]:
    """The mean red, green and blue of the square of side 2·radius+1 around (x, y) in an RGB
    image (clipped to the image), for balancing colour on a neutral patch."""
    cx, cy = round(x), round(y)
    box = (
        max(0, cx - radius),
        max(0, cy - radius),
        min(image.width, cx + radius + 1),
        min(image.height, cy + radius + 1),
    )
    if box[0] >= box[2] or box[1] >= box[3]:
        raise ValidationError("That point is outside the photo; click on the photo itself.")
    # start-up time: the records' readers use this module's maths without loading Pillow
    from PIL import ImageStat

    mean = ImageStat.Stat(image.crop(box).convert("RGB")).mean
    return (mean[0], mean[1], mean[2])
