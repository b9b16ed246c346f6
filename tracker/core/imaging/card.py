"""The calibration card: what is printed on it, finding it in a photo, and what it tells.

The card (``CARD``, printed by ``tracker card``) carries four ArUco markers of one fixed
dictionary at its corners, three neutral grey patches (light, mid, dark) and a millimetre ruler,
all at known positions in millimetres. Found in a photo, the markers' corners give the
homography from the card's millimetres to the photo's pixels, hence the pixels per millimetre
at the card, and the patches' colours sampled inside their known squares, hence a colour balance
that needs no clicking: per-channel gains that make the mid patch neutral, checked against the
other two.

Coordinates are continuous, as everywhere in the app: a pixel's top-left corner is at whole
numbers, the first pixel's centre at (0.5, 0.5). OpenCV's own (pixel centres at whole numbers)
are converted where they come in.

OpenCV and numpy are loaded with this module, which only the commands that find or print the
card import (start-up time of the others stays as it was).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tracker.core.errors import TrackerError, ValidationError
from tracker.core.imaging.geometry import Gains, check_gains

# One thread for OpenCV's own loops: the callers run photos in parallel on their own pool
# (the import's workers), and OpenCV's threads on top of those would only fight them.
cv2.setNumThreads(1)

DICTIONARY = cv2.aruco.DICT_4X4_50
"""The ArUco dictionary of the card's markers: 4×4 bits, the sturdiest to find when small."""

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Marker:
    id: int
    x_mm: float  # the top-left corner of its black square (border included)
    y_mm: float
    size_mm: float

    def corners_mm(self) -> list[tuple[float, float]]:
        """Its outer corners clockwise from the top left, in ArUco's order."""
        x, y, s = self.x_mm, self.y_mm, self.size_mm
        return [(x, y), (x + s, y), (x + s, y + s), (x, y + s)]


@dataclass(frozen=True)
class Patch:
    name: str  # "light", "mid", "dark"
    x_mm: float
    y_mm: float
    size_mm: float
    srgb: int  # the grey printed, as an sRGB level (0–255) on each channel


@dataclass(frozen=True)
class Tick:
    x_mm: float
    y_mm: float  # where the tick starts, at the ruler's edge
    length_mm: float
    label: str  # "" or the centimetre it marks ("0", "1", …)


@dataclass(frozen=True)
class CardLayout:
    width_mm: float
    height_mm: float
    markers: tuple[Marker, ...]
    patches: tuple[Patch, ...]
    ruler_x_mm: float  # where the ruler's 0 is
    ruler_y_mm: float  # its top edge; ticks hang down from it
    ruler_mm: int  # its length

    def ruler_ticks(self) -> list[Tick]:
        """A tick per millimetre, longer every 5 mm, longer still and labelled every 10."""
        ticks = []
        for mm in range(self.ruler_mm + 1):
            length = 5.0 if mm % 10 == 0 else 3.5 if mm % 5 == 0 else 2.0
            label = str(mm // 10) if mm % 10 == 0 else ""
            ticks.append(Tick(self.ruler_x_mm + mm, self.ruler_y_mm, length, label))
        return ticks

    def patch(self, name: str) -> Patch:
        return next(p for p in self.patches if p.name == name)


CARD = CardLayout(
    width_mm=100.0,
    height_mm=64.0,
    markers=(
        Marker(0, 4.0, 4.0, 14.0),
        Marker(1, 82.0, 4.0, 14.0),
        Marker(2, 82.0, 46.0, 14.0),
        Marker(3, 4.0, 46.0, 14.0),
    ),
    patches=(
        Patch("light", 22.0, 5.0, 16.0, 200),
        Patch("mid", 42.0, 5.0, 16.0, 120),
        Patch("dark", 62.0, 5.0, 16.0, 56),
    ),
    ruler_x_mm=25.0,
    ruler_y_mm=30.0,
    ruler_mm=50,
)
"""The card as printed. Changing it makes cards printed before unreadable: don't."""


@cache
def marker_cells(marker_id: int) -> tuple[tuple[bool, ...], ...]:
    """The marker's cells, its black border included (6×6), True where black: what the printed
    card draws and the detector reads."""
    dictionary = cv2.aruco.getPredefinedDictionary(DICTIONARY)
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)
    return tuple(tuple(bool(v < 128) for v in row) for row in image)


# -- finding it -------------------------------------------------------------------------------


class CardNotFound(TrackerError):
    """The photo does not show the calibration card well enough to measure by it."""


@dataclass(frozen=True)
class CardFound:
    """The card in a photo: ``to_image`` maps the card's millimetres to the photo's pixels
    (3×3 row-major); ``px_per_mm`` is the photo's scale at the card's centre; ``patches`` the
    mean sRGB of each neutral patch; ``markers`` how many of the four were read."""

    to_image: tuple[float, ...]
    px_per_mm: float
    patches: dict[str, RGB]
    markers: int
    residual_px: float  # RMS distance of the markers' corners from the fitted homography


DETECT_SIDE = 2400
"""Markers are looked for at most this many pixels on the long side, then their corners are
refined on the photo itself: a 12 MP photo is searched at about half size."""
MIN_MARKERS = 2
MIN_MARKER_PERIMETER_PX = 32
"""No marker smaller than this is looked for (8 pixels a side, 1.3 a cell: less cannot be read)."""


def _detector(long_side: int) -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # Small markers in a large photo: the default (3 % of the long side) misses a card at
    # 3 px/mm in a 12 MP photo. In a small image (the import's reduced decode, 500 px) the
    # same share would send every speck of skin texture through the decoder (10 ms instead of
    # 3 where there is no card): nothing smaller than a readable marker is looked for.
    params.minMarkerPerimeterRate = max(0.01, MIN_MARKER_PERIMETER_PX / max(1, long_side))
    # Blurred and small, a marker's bits are read better from more samples per cell, away
    # from the cell's edges, with every error the dictionary can correct corrected (only the
    # card's four ids are taken, and they must agree on one flat card).
    params.perspectiveRemovePixelPerCell = 8
    params.perspectiveRemoveIgnoredMarginPerCell = 0.3
    params.errorCorrectionRate = 1.0
    return cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(DICTIONARY), params)


def _homography(
    points_mm: NDArray[np.float64], points_px: NDArray[np.float64]
) -> NDArray[np.float64]:
    h, _mask = cv2.findHomography(points_mm, points_px, 0)
    if h is None:
        raise CardNotFound("The calibration card's markers do not give a usable view of it.")
    return np.asarray(h, dtype=np.float64) / h[2, 2]


def _project(h: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.hstack([points, np.ones((len(points), 1))]) @ h.T
    return np.asarray(p[:, :2] / p[:, 2:3])


def local_scale(h: NDArray[np.float64], x: float, y: float) -> float:
    """The homography's scale at (x, y): the square root of its area scale there."""
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    return math.sqrt(abs(float(np.linalg.det(h))) / abs(w) ** 3)


def _markers(grey: NDArray[np.uint8]) -> list[tuple[Marker, NDArray[np.float32]]]:
    """The card's markers found in a grey image, each with its four corners (OpenCV's pixel
    centres, clockwise from the top left)."""
    corners, ids, _rejected = _detector(max(grey.shape)).detectMarkers(grey)
    wanted = {m.id: m for m in CARD.markers}
    return [
        (wanted[int(i)], np.asarray(c, np.float32).reshape(4, 2))
        for c, i in zip(corners, (ids.ravel() if ids is not None else []), strict=True)
        if int(i) in wanted
    ]


def find_card(image: Image.Image) -> CardFound:
    """The card in an upright photo, or CardNotFound saying why.

    The markers are looked for at a reduced size first (a whole number of pixels to one, at
    most DETECT_SIDE on the long side), and in the photo itself when that does not find all
    four (a small card in a large photo); their corners are then refined in the photo."""
    grey_image = image.convert("L")
    grey = np.asarray(grey_image)
    factor = max(1, math.ceil(max(grey_image.size) / DETECT_SIDE))
    found = _markers(grey if factor == 1 else np.asarray(grey_image.reduce(factor)))
    if len(found) < len(CARD.markers) and factor > 1:
        whole = _markers(grey)
        if len(whole) > len(found):
            found, factor = whole, 1
    seen = {m.id for m, _c in found}
    if len(seen) < MIN_MARKERS or len(seen) != len(found):
        raise CardNotFound(
            "No calibration card was found in the photo"
            if not seen
            else f"Only {len(seen)} of the calibration card's four markers could be read"
            if len(seen) < MIN_MARKERS
            else "The photo shows the calibration card's markers more than once"
        )
    # From the search size to the photo's pixel centres, then refined there.
    px = np.concatenate([(c + 0.5) * factor - 0.5 for _m, c in found]).astype(np.float32)
    side = min(float(np.linalg.norm(c[1] - c[0])) * factor for _m, c in found)
    win = max(2, min(12, round(side / 14)))  # a fraction of a marker's cell
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 0.01)
    cv2.cornerSubPix(grey, px.reshape(-1, 1, 2), (win, win), (-1, -1), criteria)
    mm = np.array([p for m, _c in found for p in m.corners_mm()], dtype=np.float64)
    points_px = px.astype(np.float64).reshape(-1, 2) + 0.5  # continuous coordinates
    h = _homography(mm, points_px)
    residual = float(np.sqrt(np.mean(np.sum((_project(h, mm) - points_px) ** 2, axis=1))))
    scale = local_scale(h, CARD.width_mm / 2, CARD.height_mm / 2)
    if residual > max(1.5, 0.02 * side):
        raise CardNotFound(
            "The calibration card is bent or partly hidden: its markers do not lie on one "
            "flat card. Lay it flat beside the area."
        )
    patches = {p.name: _patch_mean(image, h, p) for p in CARD.patches}
    return CardFound(tuple(float(v) for v in h.ravel()), scale, patches, len(found), residual)


def _patch_mean(image: Image.Image, h: NDArray[np.float64], patch: Patch) -> RGB:
    """The mean colour inside the middle of a patch (a fifth of its side kept clear of each
    edge, where blur mixes in the paper), read from just the pixels around it."""
    inset = patch.size_mm / 5
    x0, y0 = patch.x_mm + inset, patch.y_mm + inset
    x1, y1 = patch.x_mm + patch.size_mm - inset, patch.y_mm + patch.size_mm - inset
    quad = _project(h, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64))
    quad -= 0.5  # to OpenCV's pixel centres
    left, top = (int(v) for v in np.floor(quad.min(axis=0)))
    right, bottom = (int(v) + 1 for v in np.ceil(quad.max(axis=0)))
    if left < 0 or top < 0 or right > image.width or bottom > image.height:
        raise CardNotFound(
            "The calibration card is cut off by the edge of the photo; keep it whole in the frame."
        )
    pixels = np.asarray(image.crop((left, top, right, bottom)).convert("RGB"))
    mask = np.zeros(pixels.shape[:2], np.uint8)
    corners = np.rint((quad - [left, top]) * 16).astype(np.int32)
    cv2.fillConvexPoly(mask, corners, 255, cv2.LINE_8, 4)
    if not mask.any():
        raise CardNotFound("The calibration card is too small in the photo to read its patches.")
    mean = cv2.mean(pixels, mask=mask)
    return (mean[0], mean[1], mean[2])


# -- colour balance ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """Per-channel gains from the card, and how far the light and dark patches stay from grey
    after them (``cast``, the largest channel's departure from their mean, as a fraction): a
    large cast means a coloured light or a print that is not neutral, which one set of gains
    cannot undo."""

    gains: Gains
    cast: float


CAST_LIMIT = 0.05
"""The ``cast`` above which the patches disagree: ΔE2000 4 to 5 on a mid grey."""


def balance(patches: dict[str, RGB], level: float | None = None) -> Balance:
    """The gains that make the mid patch neutral at ``level`` (default: its own mean, so only
    the colour changes; give the reference photo's card's level to match brightness too),
    checked on the light and dark patches (a channel clipped in either is left out)."""
    mid = patches["mid"]
    if min(mid) < 4 or max(mid) > 250:
        raise CardNotFound(
            "The card's mid-grey patch is too dark or too bright in the photo to balance by it."
        )
    target = sum(mid) / 3 if level is None else level
    try:
        gains = check_gains([target / v for v in mid])
    except ValidationError:
        raise CardNotFound(
            "The card's mid-grey patch is too far from grey in the photo to balance by it (a "
            "strongly coloured light?)."
        ) from None
    cast = 0.0
    for name in ("light", "dark"):
        values = patches[name]
        if max(values) >= 250 or min(values) < 4:
            continue
        balanced = [v * g for v, g in zip(values, gains, strict=True)]
        mean = sum(balanced) / 3
        cast = max(cast, *(abs(v - mean) / mean for v in balanced))
    return Balance(gains, cast)
