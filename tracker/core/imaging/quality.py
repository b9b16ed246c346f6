"""Capture checks made at import, and the calibration card found there.

The checks warn, never refuse. They are measured on the image the import decodes anyway
(``decode(..., pixels=True)``: a JPEG's reduced decode, an eighth of a 12 MP frame, else the
preview), so they cost a few milliseconds a photo (see the import row of ``tracker.bench``):

- **sharpness**: the variance of the Laplacian of luminance at a fixed working size
  (``WORK_SIDE`` on the long side, so that photos of different resolutions compare), with the
  luminance scaled to a mean of 128 first (so that a photo 30 % darker does not read 50 % less
  sharp). Skin is low-contrast and its texture differs from area to area, so the figure means
  nothing alone: it is judged against the reference photo of the same area and view, and warns
  below ``verdicts.SHARPNESS_RATIO`` of it (see there why; ``verdicts`` judges it again,
  without OpenCV, when the reference changes).
- **highlights** and **shadows**: the share of pixels clipped white (any channel at
  ``HIGHLIGHT_LEVEL`` or more) or black (luminance at ``SHADOW_LEVEL`` or less).
- **cast**: how coloured the light on the calibration card is, when the photo shows one.
- **framing**: the registration's (``imaging.framing``), merged in when the photo is aligned.

``judge`` turns the measures into ``photo.quality``:
``{"reference_id": int | None, "checks": [{"check", "value", "unit", "warned", "message"}]}``
with the checks in the order above; ``card_record`` is ``photo.card``. OpenCV and numpy are loaded
with this module, which only the import's workers load (on first use).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from tracker.core.imaging import card as cards
from tracker.core.imaging.geometry import Gains
from tracker.core.imaging.verdicts import SHARPNESS_MESSAGE, check, sharpness_check
from tracker.core.imaging.verdicts import reference_sharpness as reference_sharpness

WORK_SIDE = 400
"""Sharpness is measured with the photo at this many pixels on its long side: what every photo
the import takes can give from the decode it makes anyway (an eighth of a 3200 px frame)."""
HIGHLIGHT_LEVEL = 250
SHADOW_LEVEL = 5
HIGHLIGHTS_SHARE = 0.02
"""Highlights warn above 2 % of the photo clipped: glints on skin stay well under it; 2 % is a
blown patch about the size of a coin in a close-up, where the marks cannot be seen."""
SHADOWS_SHARE = 0.05
"""Shadows warn above 5 % of the photo black: a little dark background at the edges is common
and harmless; more is skin lost in shadow."""
LIGHT_COLOUR_LIMIT = 0.15
"""The card's mid-grey patch, as photographed, warns when a channel departs from grey by more
than this share: the light of a warm lamp (daylight and a phone's white balance stay within a
few percent). The card's gains correct it on the photo, but skin under such light does not
compare truly with skin in daylight."""

MESSAGES = {
    "sharpness": SHARPNESS_MESSAGE,
    "highlights": (
        "{pct} of this photo is so bright that its colour is lost (glare, or too much "
        "light): turn off the flash or move out of direct light, and take it again."
    ),
    "shadows": (
        "{pct} of this photo is lost in black shadow: turn towards the window or add light, "
        "and take it again."
    ),
    "cast": (
        "The light on the calibration card is strongly coloured (a lamp?): the colours were "
        "corrected by the card, but take the next photo in daylight from a window so that "
        "redness compares truly."
    ),
    "uneven": (
        "The calibration card's grey patches do not agree (mixed or coloured light, or a "
        "coloured wall nearby): take the photo again in daylight with the other lights off."
    ),
}


@dataclass(frozen=True)
class Measures:
    """What a worker measured of one photo; ``card`` is its ``photo.card`` record or None."""

    sharpness: float
    highlights: float  # share of pixels, 0–1
    shadows: float
    card: dict[str, Any] | None


def sharpness(lum: np.ndarray[Any, Any], skin: np.ndarray[Any, Any] | None = None) -> float:
    """The variance of the Laplacian of luminance (at ``WORK_SIDE``, as ``measure`` gives it),
    luminance scaled to a mean of 128 (so that exposure does not count as sharpness); only
    where ``skin`` (a mask the size of ``lum``) is set, when given: the card's printed edges
    are no measure of the skin."""
    if skin is not None and not cv2.countNonZero(skin):
        return 0.0
    mean = cv2.mean(lum, mask=skin)[0]
    if mean < 1:
        return 0.0
    laplacian = cv2.Laplacian(lum, cv2.CV_32F, scale=128.0 / mean)
    _mean, std = cv2.meanStdDev(laplacian, mask=skin)
    return float(std[0, 0]) ** 2


def _skin_mask(shape: tuple[int, int], corners: list[list[float]], k: float) -> Any:
    """255 everywhere but on the card (``corners`` in full-size pixels, ``k`` full-size pixels
    a pixel of the mask) and a pixel or two around it."""
    mask = np.full(shape, 255, np.uint8)
    quad = np.array(corners, dtype=np.float64) / k - 0.5  # to OpenCV's pixel centres
    centre = quad.mean(axis=0)
    quad = centre + (quad - centre) * 1.04 + np.sign(quad - centre) * 2
    cv2.fillConvexPoly(mask, np.rint(quad * 16).astype(np.int32), 0, cv2.LINE_8, 4)
    return mask


CARD_SIDE = 2400
"""When a photo may show the card (``may_show_card``) but the import's small decode does not
find it, the card is looked for again in the photo decoded at up to this many pixels on its
long side: a small card (3 px/mm in a 12 MP photo, markers of 42 px) is lost in an eighth of
the frame. Only such photos pay for the second decode."""


def measure(
    image: Image.Image,
    full_size: tuple[int, int],
    larger: Callable[[int], Image.Image] | None = None,
) -> Measures:
    """The measures of an upright photo decoded at any size, ``full_size`` being its upright
    full resolution (for the card's figures); ``larger(side)`` decodes it again at up to
    ``side`` pixels when the card may be there but is too small to find. All but the card are taken at ``WORK_SIDE``
    (the clipped shares of an area-averaged image: what is clipped over 2 % of a photo is
    whole patches, which averaging keeps). With a card in the photo, the checks of the skin
    leave it out: its paper is white and its markers black by design."""
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    h, w = rgb.shape[:2]
    k = WORK_SIDE / max(w, h)
    if k < 1:
        size = (max(1, round(w * k)), max(1, round(h * k)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    hist = cv2.calcHist([lum], [0], None, [256], [0, 256]).ravel()
    card = None
    if may_show_card(hist):
        card = card_record(image, full_size)
        if card is None and larger is not None and max(image.size) < min(CARD_SIDE, *full_size):
            card = card_record(larger(CARD_SIDE), full_size)
    skin = None
    below = HIGHLIGHT_LEVEL - 1
    unclipped = cv2.inRange(rgb, (0, 0, 0), (below, below, below))
    if card is None:
        area = lum.size
        shadows = float(hist[: SHADOW_LEVEL + 1].sum()) / area
    else:
        skin = _skin_mask(lum.shape, card["corners"], full_size[0] / lum.shape[1])
        area = max(1, cv2.countNonZero(skin))
        unclipped = cv2.bitwise_and(unclipped, skin)
        dark = cv2.bitwise_and(cv2.inRange(lum, 0, SHADOW_LEVEL), skin)
        shadows = cv2.countNonZero(dark) / area
    highlights = max(0.0, 1 - cv2.countNonZero(unclipped) / area)
    return Measures(sharpness(lum, skin), highlights, shadows, card)


INK_SHARE = 0.4
"""The card is looked for only where the darkest pixels of the photo (its darkest 0.05 %) are
less than this share as bright as its brightest (its brightest 0.5 %): its markers are black
ink on white paper, which photographed stays under a fifth of the paper's brightness (0.06 to
0.17 in the tests' renders, blurred, tilted, exposed 30 % either way), while skin alone stays
above a half (0.6 to 0.75). The search costs 3 to 60 ms on a textured photo; this, 0.1 ms."""


def may_show_card(histogram: np.ndarray[Any, Any]) -> bool:
    """Whether a photo's luminance (its histogram of 256 levels) has the black and white of
    the card's markers at all."""
    share = np.cumsum(histogram) / max(1.0, float(histogram.sum()))
    dark = int(np.searchsorted(share, 0.0005))
    bright = int(np.searchsorted(share, 0.995))
    return dark < INK_SHARE * bright


def card_record(image: Image.Image, full_size: tuple[int, int]) -> dict[str, Any] | None:
    """``photo.card`` for the card in ``image`` (in ``full_size`` upright pixels), or None.

    In the import's decode of a 12 MP photo (an eighth of its side) the card is found from
    about 6 px/mm (the card a sixth of the photo's width or more)."""
    try:
        found = cards.find_card(image)
    except cards.CardNotFound:
        return None
    k = full_size[0] / image.width
    h = np.array(found.to_image, dtype=np.float64).reshape(3, 3)
    w_mm, h_mm = cards.CARD.width_mm, cards.CARD.height_mm
    outline = np.array([[0, 0], [w_mm, 0], [w_mm, h_mm], [0, h_mm]], dtype=np.float64)
    p = np.hstack([outline, np.ones((4, 1))]) @ h.T
    corners = p[:, :2] / p[:, 2:3] * k
    gains: list[float] | None = None
    cast: float | None = None
    try:
        balance = cards.balance(found.patches)
        gains, cast = [round(g, 5) for g in balance.gains], round(balance.cast, 5)
    except cards.CardNotFound:
        pass
    return {
        "px_per_mm": found.px_per_mm * k,
        "markers": found.markers,
        "residual_px": round(found.residual_px * k, 3),
        "patches": {n: [round(v, 2) for v in rgb] for n, rgb in found.patches.items()},
        "gains": gains,
        "cast": cast,
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in corners],
    }


def gains_for(card: dict[str, Any], reference_card: dict[str, Any] | None) -> Gains | None:
    """The colour gains the card gives a photo: its mid patch made neutral at the reference
    photo's mid-patch level when the reference shows the card too (so exposure matches), else
    at its own (white balance only). None when the patch cannot be balanced by."""
    patches = {n: (v[0], v[1], v[2]) for n, v in card["patches"].items()}
    level = None
    if reference_card is not None:
        level = sum(reference_card["patches"]["mid"]) / 3
    try:
        return cards.balance(patches, level).gains
    except cards.CardNotFound:
        if level is None:
            return None
    try:  # too far from the reference's exposure to match it: colour alone
        return cards.balance(patches).gains
    except cards.CardNotFound:
        return None


# -- judging -----------------------------------------------------------------------------------


def _percent(share: float) -> str:
    pct = share * 100
    return f"{pct:.0f} %" if pct >= 10 else f"{pct:.1f} %"


def judge(
    measures: Measures, reference_id: int | None, reference_sharpness: float | None
) -> dict[str, Any]:
    """``photo.quality`` for measures judged against the reference photo of the same area and
    view (its id and stored sharpness), or on their own when there is none (the first photo of
    a view: its sharpness is then the figure later photos are held to, and never warns)."""
    checks = [sharpness_check(measures.sharpness, reference_sharpness)]
    for name, share, limit in (
        ("highlights", measures.highlights, HIGHLIGHTS_SHARE),
        ("shadows", measures.shadows, SHADOWS_SHARE),
    ):
        message = MESSAGES[name].format(pct=_percent(share)) if share > limit else ""
        checks.append(check(name, share * 100, "%", message))
    if measures.card is not None:
        checks.append(cast_check(measures.card))
    return {
        "reference_id": reference_id if reference_sharpness is not None else None,
        "checks": checks,
    }


def light_colour(card: dict[str, Any]) -> float:
    """How far the card's mid-grey patch is from grey as photographed: the largest channel's
    departure from the three's mean, as a share."""
    mid = card["patches"]["mid"]
    mean = sum(mid) / 3
    return max(abs(v - mean) for v in mid) / mean if mean > 0 else 0.0


def cast_check(card: dict[str, Any]) -> dict[str, Any]:
    """The colour of the light on the card, in percent: it warns when strongly coloured, or
    when the patches disagree after balancing (``card.CAST_LIMIT``), which gains cannot undo."""
    colour = light_colour(card)
    uneven = card.get("cast")
    message = ""
    if uneven is not None and uneven > cards.CAST_LIMIT:
        message = MESSAGES["uneven"]
    elif colour > LIGHT_COLOUR_LIMIT:
        message = MESSAGES["cast"]
    return check("cast", colour * 100, "%", message)
