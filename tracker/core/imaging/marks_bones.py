"""The marks' skeleton made fit to measure length on (``marks_size.size``): its staircases
slimmed, spurs pruned and the gaps of a fading mark bridged, and how many marks side by side
each of its pixels stands for. The mask itself, its area and the skeleton the colour is read
along are left as they are; only the length (and so the mean width, area ÷ length) is read
on this one.

A fading mark breaks into pieces and its edge frays: Zhang–Suen thinning then gives every
bump of the edge a spur and every piece two more ends, each end lengthened by its distance to
the edge, so the length grew as the mark faded (issue 18). Here:

* **spurs**: a branch from an open end to a fork, shorter than the mark's width at the fork
  (twice the distance to the edge there), is cut. A mark's own end, which Zhang–Suen splits
  into a short fork, loses both prongs and is measured from the fork to the edge instead.
  A branch that runs to another open end is the whole piece and is never cut.
* **gaps**: two open ends of different pieces whose edges are at most ``GAP_MM`` (1 mm;
  ``GAP_PX`` = 6 px without a scale) apart, each pointing at the other within
  ``MAX_TURN_DEG`` (the direction of an end: from the pixel ``AIM_STEPS`` back along its
  branch), are joined by a straight line; the nearest pairs first, never two pieces already
  joined (no loops). A lone dot (a skeleton of one pixel) may be joined by an end pointing at
  it.
* **parallel marks** (``parallel``): marks side by side that touch are found as one band,
  whose skeleton runs once down its middle; as they narrow with the fade they come apart and
  the length doubled (issue 18: 94.9 → 118.2 mm of 120 on three 40 mm marks, two of them
  3.3 mm apart, 3 → 2.7 mm wide). The skeleton is cut into stretches of a steady width; one
  at least ``PARALLEL`` (1.4) times as wide as a stretch near it where one mark runs on
  alone is a band of ``round(width / that one's)`` marks. Its marks are read against the
  mark that runs on beside it, not against the photo's typical width: the sample library's
  widest mark stayed about 1.6 times the typical width as the narrower ones narrowed faster,
  so it counted as two marks and, beside another, as three (its abdomen read 1442 → 1574 mm
  over the course, against a true 1389 → 1371, and its mean width 3.51 → 1.94 mm of a true
  4.27 → 2.36; now 1265 → 1315 mm, as low as 1238, and 4.00 → 2.32 mm: it still rises by
  more than its band, the marks lying on one another at the first visits read as one). The
  stretches are found level by level and walked in boxes of their own (labelled reductions,
  no pass over the whole skeleton per stretch). Not told apart: marks that
  touch along all their length with their ends level (within about half a width), two marks
  that lie nearly on one another (less than 1.4 times one's width together), and a photo
  whose marks are all in one band.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

GAP_MM = 1.0
GAP_PX = 6.0  # no scale: about 1 mm at the 6 px/mm the ring's defaults assume
MAX_TURN_DEG = 45.0
AIM_STEPS = 6
SPUR = 2.0  # a branch whose reach (its length + its end's distance to the edge) is under
# this many times the distance to the edge at its fork is a spur
MAX_ENDS = 4000  # beyond this many open ends (noise, not marks) no gap is bridged
PARALLEL = 1.4  # a stretch this many times as wide as a mark running on alone near it is a band
TYPICAL = 0.4  # the quantile of the skeleton's widths taken as the marks' typical width
EASE = 1.15  # a steady width varies by less than this factor
REACH = 2.0  # near: this far straight across (× typical)
ALONE = 0.5  # a stretch of steady width this long at least (× its width)

_STEPS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _count(b: NDArray[np.uint8]) -> NDArray[np.int32]:
    kernel = np.ones((3, 3), np.float32)
    total = cv2.filter2D(b, -1, kernel, borderType=cv2.BORDER_CONSTANT).astype(np.int32)
    return total - 1


_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _forks(b: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """The skeleton's pixels where three branches or more meet: three or more runs of marked
    pixels around them (a staircase's corner, with three neighbours in two runs, is none)."""
    h, w = b.shape
    p = np.pad(b, 1)
    ring = [p[1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx] for dy, dx in _RING]
    runs = sum(((ring[k] == 0) & (ring[(k + 1) % 8] > 0)).astype(np.int32) for k in range(8))
    return (b > 0) & (np.asarray(runs) >= 3)


def _slim(b: NDArray[np.uint8]) -> None:
    """The pixels of the skeleton's staircases it can do without cut in place: Zhang–Suen
    leaves 4-connected corners on a curve (three pixels for a step one diagonal spans), which
    read as two side steps where the mark runs one diagonal one (+15 % on an arc). A pixel
    goes when it is no open end and its neighbours stay one 8-connected run without it
    (Yokoi's connectivity number 1), a checkerboard half at a time so that no two neighbours
    go together."""
    ys, xs = np.nonzero(b)  # the padded array's border is background: no neighbour outside
    # E, NE, N, NW, W, SW, S, SE: Yokoi's x1 … x8
    around = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))
    for parity in (0, 1, 0, 1):
        half = ((ys + xs) % 2 == parity) & (b[ys, xs] > 0)
        y, x = ys[half], xs[half]
        absent = [1 - b[y + dy, x + dx].astype(np.int32) for dy, dx in around]
        c8 = sum(absent[k] - absent[k] * absent[k + 1] * absent[(k + 2) % 8] for k in (0, 2, 4, 6))
        neighbours = 8 - sum(absent)
        gone = (np.asarray(c8) == 1) & (np.asarray(neighbours) >= 2)
        b[y[gone], x[gone]] = 0


def _walk(b: NDArray[np.uint8], fork: NDArray[np.bool_], y: int, x: int, limit: int) -> list[Any]:
    """The pixels from the open end (y, x) along its branch, up to the first fork (which is
    the last one listed) or ``limit`` pixels; the padded array's border is background."""
    path = [(y, x)]
    seen = {(y, x)}
    while len(path) <= limit:
        cy, cx = path[-1]
        if len(path) > 1 and fork[cy, cx]:
            return path
        nxt = [
            (cy + dy, cx + dx)
            for dy, dx in _STEPS
            if b[cy + dy, cx + dx] and (cy + dy, cx + dx) not in seen
        ]
        if not nxt:
            return path
        # a side neighbour before a diagonal one: the staircase, not a shortcut
        nxt.sort(key=lambda p: abs(p[0] - cy) + abs(p[1] - cx))
        path.append(nxt[0])
        seen.add(nxt[0])
    return path


def _prune(b: NDArray[np.uint8], distance: NDArray[np.float32]) -> None:
    """Spurs cut in place (see the module)."""
    n, fork = _count(b), _forks(b)
    limit = int(SPUR * float(distance.max())) + 2
    for y, x in np.argwhere((b > 0) & (n == 1)):
        path = _walk(b, fork, int(y), int(x), limit)
        fy, fx = path[-1]
        if len(path) < 2 or not fork[fy, fx]:
            continue  # the branch runs on (a piece's end, not a spur) or is the whole piece
        if len(path) - 1 + float(distance[y, x]) < SPUR * float(distance[fy, fx]):
            for py, px in path[:-1]:
                b[py, px] = 0
    # what a cut left: forks that now lead nowhere are plain line again, nothing to do


def _ends(b: NDArray[np.uint8]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The open ends and lone dots (rows of y, x) and each one's outward direction (unit; 0
    for a dot)."""
    n, fork = _count(b), _forks(b)
    points = np.argwhere((b > 0) & (n <= 1))
    aims = np.zeros((len(points), 2))
    for i, (y, x) in enumerate(points):
        if n[y, x] == 1:
            back = _walk(b, fork, int(y), int(x), AIM_STEPS)[-1]
            v = np.array([y - back[0], x - back[1]], float)
            norm = float(np.hypot(*v))
            aims[i] = v / norm if norm else 0.0
    return points, aims


def _bridge(b: NDArray[np.uint8], distance: NDArray[np.float32], gap: float) -> None:
    """Gaps bridged in place (see the module)."""
    points, aims = _ends(b)
    if len(points) < 2 or len(points) > MAX_ENDS:
        return
    _, labels = cv2.connectedComponents(b, connectivity=8)
    piece = labels[points[:, 0], points[:, 1]]
    tip = (distance[points[:, 0], points[:, 1]].astype(float) - 0.5).clip(0)
    d = points[None, :, :].astype(float) - points[:, None, :]  # from i to j
    far = np.hypot(d[..., 0], d[..., 1])
    edge_gap = far - tip[:, None] - tip[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = d / far[..., None]
    cos_turn = math.cos(math.radians(MAX_TURN_DEG))
    lone: NDArray[np.bool_] = np.asarray(~aims.any(axis=1))
    out_i = (np.einsum("ijk,ik->ij", unit, aims) >= cos_turn) | lone[:, None]
    out_j = (np.einsum("ijk,jk->ij", -unit, aims) >= cos_turn) | lone[None, :]
    ok = (piece[:, None] != piece[None, :]) & (edge_gap <= gap) & out_i & out_j
    ok &= ~(lone[:, None] & lone[None, :])  # two dots: no direction to go by
    pairs = np.argwhere(np.triu(ok, 1))
    if len(pairs) == 0:
        return
    order = np.argsort(far[pairs[:, 0], pairs[:, 1]], kind="stable")
    root = {int(p): int(p) for p in np.unique(piece)}

    def find(p: int) -> int:
        while root[p] != p:
            root[p] = root[root[p]]
            p = root[p]
        return p

    used: set[int] = set()
    for i, j in pairs[order]:
        a, c = find(int(piece[i])), find(int(piece[j]))
        if a == c or (not lone[i] and int(i) in used) or (not lone[j] and int(j) in used):
            continue
        root[a] = c
        used.update((int(i), int(j)))
        (y0, x0), (y1, x1) = points[i], points[j]
        cv2.line(b, (int(x0), int(y0)), (int(x1), int(y1)), 1, 1, cv2.LINE_8)


def for_length(
    bones: NDArray[np.bool_], distance: NDArray[np.float32], px_per_mm: float | None
) -> NDArray[np.bool_]:
    """The skeleton with its spurs cut and the gaps between a mark's pieces bridged."""
    rows, cols = np.flatnonzero(bones.any(axis=1)), np.flatnonzero(bones.any(axis=0))
    if rows.size == 0:
        return bones
    gap = GAP_PX if px_per_mm is None else GAP_MM * px_per_mm
    reach = math.ceil(gap + 2 * float(distance.max())) + 1
    h, w = bones.shape
    y0, y1 = max(0, int(rows[0]) - reach), min(h, int(rows[-1]) + 1 + reach)
    x0, x1 = max(0, int(cols[0]) - reach), min(w, int(cols[-1]) + 1 + reach)
    b = np.pad(bones[y0:y1, x0:x1].astype(np.uint8), 1)
    dist = np.pad(distance[y0:y1, x0:x1], 1)
    _slim(b)
    _prune(b, dist)
    _bridge(b, dist, gap)
    out = np.zeros_like(bones)
    out[y0:y1, x0:x1] = b[1:-1, 1:-1] > 0
    return out


def _flat_stretches(
    ratio: NDArray[np.float64], on: NDArray[np.bool_], flat: int
) -> tuple[int, NDArray[np.int32], NDArray[np.float64], NDArray[np.intp]]:
    """The skeleton's stretches of a steady width (each pixel's neighbours along ``flat``
    pixels within ``EASE`` of its width): their count (with the background, label 0), labels,
    median widths (in ``ratio``'s units) and sizes in pixels."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * flat + 1, 2 * flat + 1))
    wide = cv2.dilate(ratio.astype(np.float32), k)
    narrow = cv2.erode(np.where(on, ratio, np.inf).astype(np.float32), k)
    steady = on & (wide <= ratio * EASE) & (narrow >= ratio / EASE)
    # a slow change of width is no steady stretch: cut where the width passes a level, on two
    # sets of levels half a level apart, each pixel in the longer of its two stretches (a
    # width that wavers about one level's edge is well inside the other's)
    with np.errstate(divide="ignore"):
        level = np.log(ratio) / math.log(EASE * EASE)
    # each steady pixel's stretch on either set of levels, found level by level in the box of
    # that level's pixels (labels in raster order, as on the whole array)
    sy, sx = np.nonzero(steady)
    first = np.zeros(sy.size, np.int64)  # the stretch on the first set of levels, its size
    first_size = np.zeros(sy.size, np.int64)
    labels = np.zeros(ratio.shape, np.int32)
    n = 1
    for shift in (0.5, 0.0):
        bins = np.floor(level[sy, sx] + shift)
        order = np.argsort(bins, kind="stable")
        _steps, starts = np.unique(bins[order], return_index=True)
        part = np.zeros(sy.size, np.int64)
        size = np.zeros(sy.size, np.int64)
        for at, end in zip(starts, [*starts[1:], sy.size], strict=True):
            idx = order[at:end]
            y, x = sy[idx], sx[idx]
            ty, tx = int(y.min()), int(x.min())
            crop = np.zeros((int(y.max()) - ty + 1, int(x.max()) - tx + 1), np.uint8)
            crop[y - ty, x - tx] = 1
            found, lab = cv2.connectedComponents(crop, connectivity=8)
            own = lab[y - ty, x - tx]
            part[idx] = own + (n - 1)
            size[idx] = np.bincount(own, minlength=found)[own]
            n += found - 1
        if shift == 0.5:
            first, first_size = part, size
        else:  # each pixel in the longer of its two stretches (the first on a tie)
            labels[sy, sx] = np.where(size > first_size, part, first)
    sizes = np.bincount(labels[steady], minlength=n).astype(np.intp)
    # each stretch's median width: its widths sorted, the middle one (or two)
    own, value = labels[sy, sx], ratio[sy, sx]
    by = np.lexsort((value, own))
    own, value = own[by], value[by]
    at = np.searchsorted(own, np.arange(n))
    half = sizes // 2
    has = sizes > 0
    hi = np.where(has, at + half, 0)
    lo = np.where(has & (sizes % 2 == 0), hi - 1, hi)
    widths = np.where(has, (value[lo] + value[hi]) / 2.0, 0.0) if value.size else np.zeros(n)
    return n, labels, widths, sizes


def parallel(bones: NDArray[np.bool_], distance: NDArray[np.float32]) -> NDArray[np.float64]:
    """How many marks each pixel of the (cleaned) skeleton stands for, as a float array of its
    shape (0 off the skeleton): one, but in a band of marks side by side (see the module).

    The width at a pixel is ``w`` = 2 × its distance to the edge − 1 (a stripe ``w`` pixels
    wide), the marks' typical width ``m`` the ``TYPICAL`` quantile of it over the skeleton's
    length. The skeleton's stretches of a steady width (within ``EASE`` for a quarter of ``m``
    either way) at least ``ALONE`` × their width long are taken narrowest first: one is a mark
    running on alone unless it is at least ``PARALLEL`` times as wide as such a stretch within
    ``REACH`` × ``m`` (straight across, on the same piece of the skeleton), when it is
    a band of ``round(w / that width)`` marks (the widest such neighbour's width: a mark wider
    than the others counts once, and so does a band's widest mark running on alone). The other
    pixels of the skeleton (where the width changes, a fork, a taper) count as the stretch
    nearest them within ``REACH`` × ``m`` when ``EASE`` times as wide as one of its marks or more,
    else one. Stretches narrower than ``m`` / ``EASE`` (a bridged gap) are no mark to go by."""
    out = np.zeros(bones.shape, np.float64)
    if not bones.any():
        return out
    ys, xs = np.nonzero(bones)
    width = (2.0 * distance[ys, xs].astype(np.float64) - 1.0).clip(1.0)
    typical = float(np.quantile(width, TYPICAL))
    out[ys, xs] = 1.0
    if not (width >= PARALLEL * width.min()).any():
        return out
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    ratio = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.float64)  # the box, a pixel of margin
    ratio[ys - y0 + 1, xs - x0 + 1] = width / typical
    on = ratio > 0
    n, stretch, widths, sizes = _flat_stretches(ratio, on, max(1, round(typical / 4)))
    _, pieces = cv2.connectedComponents(on.view(np.uint8), connectivity=8)
    piece = np.zeros(n, np.int32)
    piece[stretch[on]] = pieces[on]
    long = np.flatnonzero((sizes > 0) & (sizes >= ALONE * widths * typical))
    long = long[long > 0]
    count = np.ones(n)  # each stretch's marks
    ref = widths.copy()  # the width of one of them
    alone = np.zeros(stretch.shape, np.int32)  # the stretches found to be one mark, so far
    r = max(1, math.ceil(REACH * typical))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    ly, lx = np.nonzero(stretch)
    lab = stretch[ly, lx]
    by = np.argsort(lab, kind="stable")
    ly, lx, lab = ly[by], lx[by], lab[by]
    at = np.searchsorted(lab, np.arange(n + 1))
    for label in long[np.argsort(widths[long], kind="stable")]:
        w = widths[label]
        yy, xx = ly[at[label] : at[label + 1]], lx[at[label] : at[label + 1]]
        ty, tx = int(yy.min()), int(xx.min())
        b0, b1 = max(0, ty - r), int(yy.max()) + 1 + r
        c0, c1 = max(0, tx - r), int(xx.max()) + 1 + r
        own = np.zeros((min(b1, stretch.shape[0]) - b0, min(c1, stretch.shape[1]) - c0), np.uint8)
        own[yy - b0, xx - c0] = 1
        near = cv2.dilate(own, k, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        found = np.unique(alone[b0:b1, c0:c1][near])
        found = found[(found > 0) & (widths[found] * PARALLEL <= w) & (widths[found] * EASE >= 1)]
        found = found[piece[found] == piece[label]]
        if found.size:
            ref[label] = float(widths[found].max())
            count[label] = max(2.0, float(np.rint(w / ref[label])))
        else:
            alone[yy, xx] = label
    # each other pixel (a step, a fork, a taper): as many as the band nearest it if one is
    # within reach and the pixel is wider than one of its marks, else one
    bands = np.isin(stretch, np.flatnonzero(count > 1))
    many = np.ones(ratio.shape)
    if bands.any():
        far, nearest = cv2.distanceTransformWithLabels(
            (~bands).view(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        sy, sx = np.nonzero(bands)
        of = np.zeros(int(nearest.max()) + 1, np.int32)
        of[nearest[sy, sx]] = stretch[sy, sx]
        which = of[nearest]
        beside = (far <= REACH * typical) & (ratio >= EASE * ref[which])
        many = np.where(beside, count[which], 1.0)
    many = np.where(np.isin(stretch, long), count[stretch], many)
    out[y0:y1, x0:x1] = np.where(on, many, 0.0)[1:-1, 1:-1]
    return out
