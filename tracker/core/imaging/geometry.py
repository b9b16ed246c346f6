"""Alignment and colour maths, kept free of Qt (and of numpy: record readers import it at
start-up) so that tests and automatic alignment use it directly: transforms, landmark fits,
and colour gains from a neutral patch.

A transform is a 3×3 matrix, row-major, ``(a, b, c, d, e, f, g, h, i)`` mapping a point (x, y)
of one photo's upright pixels to ((a·x + b·y + c) / w, (d·x + e·y + f) / w), w = g·x + h·y + i,
in another's; stored ones are normalised so that i = 1, and an affine one has g = h = 0.
Landmarks give a similarity (2 point pairs: shift, rotation and uniform scale), a full affine
(3 pairs) or, from 4 pairs on, the simplest of similarity, affine and homography that explains
the points nearly as well as the richer ones (``fit``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.core.errors import ValidationError

if TYPE_CHECKING:
    from PIL import Image

Point = tuple[float, float]
Matrix = tuple[float, float, float, float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
METHODS = ("landmarks", "auto")
MODELS = ("similarity", "affine", "homography")


def _pixels(r: float) -> str:
    n = max(1, math.ceil(r - 1e-9))
    return f"{n} pixel" if n == 1 else f"{n} pixels"


@dataclass(frozen=True)
class Alignment:
    """A photo's stored transform to the reference photo of its area and view, and how it was
    made: ``points`` are the landmark pairs or the skin features that agree with it,
    ``residual_px`` their RMS distance after it, in the reference's pixels."""

    matrix: Matrix
    method: str  # "landmarks" | "auto"
    model: str  # "similarity" | "affine" | "homography"
    points: int | None
    residual_px: float | None

    def words(self) -> str:
        """What happened and how well, for people."""
        within = f" within {_pixels(self.residual_px)}" if self.residual_px is not None else ""
        if self.method == "auto":
            if self.points is None:
                return "Aligned automatically."
            return f"Aligned automatically: {self.points} skin features agree{within}."
        if self.points is None:
            return "Aligned on landmarks."
        if not within:
            return f"Aligned on {self.points} points."
        return f"Aligned on {self.points} points; they agree{within}."


@dataclass(frozen=True)
class Fit:
    matrix: Matrix
    model: str  # "similarity", "affine" or "homography"
    rms_error: float  # in pixels of the target photo
    max_error: float


def affine_matrix(a: float, b: float, c: float, d: float, e: float, f: float) -> Matrix:
    return (a, b, c, d, e, f, 0.0, 0.0, 1.0)


def apply(m: Matrix, p: Point) -> Point:
    a, b, c, d, e, f, g, h, i = m
    x, y = p
    w = g * x + h * y + i
    return ((a * x + b * y + c) / w, (d * x + e * y + f) / w)


def compose(outer: Matrix, inner: Matrix) -> Matrix:
    """The transform that applies ``inner`` first, then ``outer`` (normalised: i = 1)."""
    r = tuple(
        sum(outer[3 * row + k] * inner[3 * k + col] for k in range(3))
        for row in range(3)
        for col in range(3)
    )
    return _normalised(r)


def _normalised(m: Sequence[float]) -> Matrix:
    last = m[8]
    if abs(last) < 1e-12 * max(1.0, max(abs(v) for v in m)):
        raise ValidationError("The alignment sends the photo's corner to infinity; align it again.")
    return tuple(v / last for v in m)  # type: ignore[return-value]


def _det(m: Sequence[float]) -> float:
    a, b, c, d, e, f, g, h, i = m
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def invert(m: Matrix) -> Matrix:
    a, b, c, d, e, f, g, h, i = m
    det = _det(m)
    if abs(det) < 1e-12:
        raise ValidationError("The alignment cannot be undone because it squashes the photo flat.")
    adj = (
        e * i - f * h,
        c * h - b * i,
        b * f - c * e,
        f * g - d * i,
        a * i - c * g,
        c * d - a * f,
        d * h - e * g,
        b * g - a * h,
        a * e - b * d,
    )
    return _normalised([v / det for v in adj])


def scale(sx: float, sy: float | None = None) -> Matrix:
    return (sx, 0.0, 0.0, 0.0, sx if sy is None else sy, 0.0, 0.0, 0.0, 1.0)


def is_affine(m: Matrix) -> bool:
    return m[6] == 0.0 and m[7] == 0.0


def check_matrix(values: Sequence[float], size: tuple[float, float] | None = None) -> Matrix:
    """A stored transform, checked: nine finite numbers that do not squash the photo flat,
    normalised so that the last is 1. Given the photo's ``size``, a perspective that would
    send part of the photo behind the viewer (w ≤ 0 at a corner) is refused too."""
    if len(values) != 9 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise ValidationError("An alignment is nine finite numbers (a 3×3 matrix, row by row).")
    m = _normalised([float(v) for v in values])
    invert(m)
    if size is not None and not is_affine(m):
        w, h = size
        if any(m[6] * x + m[7] * y + 1.0 <= 0 for x, y in ((0, 0), (w, 0), (w, h), (0, h))):
            raise ValidationError(
                "The alignment would fold part of the photo over the horizon; align it again."
            )
    return m


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
    return affine_matrix(a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy))


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
    return affine_matrix(a, b, mu - a * mx - b * my, d, e, mv - d * mx - e * my)


def _normaliser(points: Sequence[Point]) -> Matrix:
    """Hartley's normalisation: centred, mean distance √2 (keeps the DLT well conditioned)."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    spread = sum(math.hypot(x - mx, y - my) for x, y in points) / n
    k = math.sqrt(2) / spread if spread > 1e-9 else 1.0
    return (k, 0.0, -k * mx, 0.0, k, -k * my, 0.0, 0.0, 1.0)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a small dense system)."""
    n = len(b)
    rows = [[*row, v] for row, v in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-12:
            raise ValidationError(
                "Three of the points lie on one line; mark points spread over the area."
            )
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            k = rows[r][col] / rows[col][col]
            for c in range(col, n + 1):
                rows[r][c] -= k * rows[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (rows[r][n] - sum(rows[r][c] * x[c] for c in range(r + 1, n))) / rows[r][r]
    return x


def homography(src: Sequence[Point], dst: Sequence[Point]) -> Matrix:
    """The homography taking ``src`` onto ``dst`` (4 or more pairs; exact for 4, least squares
    of the linearised equations with i = 1 beyond), on normalised coordinates."""
    _check_pairs(src, dst, 4)
    affine(src, dst)  # the same refusal for points in a row
    ns, nd = _normaliser(src), _normaliser(dst)
    s = [apply(ns, p) for p in src]
    d = [apply(nd, q) for q in dst]
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(s, d, strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rhs.append(u)
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        rhs.append(v)
    # normal equations (8×8): exact for 4 pairs, least squares for more
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(8)] for i in range(8)]
    atb = [sum(r[i] * y for r, y in zip(rows, rhs, strict=True)) for i in range(8)]
    h = _solve(ata, atb)
    m = compose(invert(nd), compose((*h, 1.0), ns))  # type: ignore[arg-type]
    if any(m[6] * x + m[7] * y + 1.0 <= 0 for x, y in src):
        raise ValidationError(
            "The points do not match in the same order on both photos; check their numbers."
        )
    return m


# The landmark model choice from 4 pairs on: a simpler model is kept when its RMS error is at
# most the richer one's plus a click's worth of error, the larger of CLICK_PX pixels and
# CLICK_SHARE of the points' extent on the target photo. With exactly 4 pairs a homography
# passes through every point (no error at all), so it wins only where an affine transform is
# clearly off: the marks then show a real tilt of the camera, not a click's imprecision.
CLICK_PX = 2.0
CLICK_SHARE = 0.002


def _errors(m: Matrix, src: Sequence[Point], dst: Sequence[Point]) -> list[float]:
    return [math.dist(apply(m, p), q) for p, q in zip(src, dst, strict=True)]


def _fit_of(m: Matrix, model: str, src: Sequence[Point], dst: Sequence[Point]) -> Fit:
    errors = _errors(m, src, dst)
    rms = math.sqrt(sum(e * e for e in errors) / len(errors))
    return Fit(m, model, rms, max(errors))


def fit(src: Sequence[Point], dst: Sequence[Point]) -> Fit:
    """The transform taking the points ``src`` onto ``dst``, with its residual errors: a
    similarity for 2 pairs, an affine for 3; from 4 pairs on, the simplest of similarity,
    affine and homography whose RMS error is within a click (``CLICK_PX``, ``CLICK_SHARE``)
    of the best of them."""
    if len(src) <= 2:
        return _fit_of(similarity(src, dst), "similarity", src, dst)
    if len(src) == 3 or len(src) != len(dst):
        return _fit_of(affine(src, dst), "affine", src, dst)
    fits = [
        _fit_of(similarity(src, dst), "similarity", src, dst),
        _fit_of(affine(src, dst), "affine", src, dst),
    ]
    with contextlib.suppress(ValidationError):  # points that fold one: the affine stands
        fits.append(_fit_of(homography(src, dst), "homography", src, dst))
    xs, ys = [q[0] for q in dst], [q[1] for q in dst]
    extent = math.hypot(max(xs) - min(xs), max(ys) - min(ys))
    slack = max(CLICK_PX, CLICK_SHARE * extent)
    best = min(f.rms_error for f in fits)
    return next(f for f in fits if f.rms_error <= best + slack)


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
