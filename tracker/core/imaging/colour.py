"""Colour measures of skin in a photo: CIELAB, ΔE2000, erythema and melanin indices, ITA°.

Everything starts from the photo's sRGB values after the colour balance (per-channel gains on
the stored sRGB values, as the compare window and the card's ``balance`` apply them, clipped at
255), decoded to linear light with the sRGB curve (IEC 61966-2-1) and taken to CIE XYZ and
L*a*b* under D65 (the sRGB white: Xn 0.95047, Zn 1.08883).

Why not ``cv2.cvtColor(..., COLOR_RGB2Lab)`` on float32: measured against the reference
formula (``tests/core/imaging/synthetic.lab``) it is off by up to 0.15 L* and rounds a* and b*
to coarse steps (its gamma is a lookup spline); the formula here agrees with the reference to
1e-6 and, through a per-channel table of 256 entries, is as fast on 8-bit photos.

Means are taken in linear light (the colour of a region is the Lab of its mean linear RGB, what
a colorimeter's aperture averages), then converted.

It also holds the texture index, a luminance measure. OpenCV and numpy are loaded with
this module, which nothing imports at the app's start-up.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tracker.core.imaging.geometry import NO_GAINS, Gains, check_gains

Array = NDArray[Any]

_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _to_linear(srgb01: Array) -> Array:
    c = np.asarray(srgb01, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


Planes = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]


def linear_planes(rgb: NDArray[np.uint8], gains: Gains | None = None) -> Planes:
    """An 8-bit sRGB image (H×W×3) through the colour balance, as linear light 0–1 (float32),
    in three planes, red, green and blue (each H×W): ``min(255, value × gain)`` per channel,
    then the sRGB curve, by one table per channel. Planes, not one H×W×3 array: OpenCV's
    table lookup and sums are fast on one channel, slow on three interleaved (a 3 MP photo's
    three planes in about a third of the time)."""
    g = NO_GAINS if gains is None else check_gains(gains)
    levels = np.arange(256, dtype=np.float64)
    r, gr, b = cv2.split(np.ascontiguousarray(rgb))
    return tuple(  # type: ignore[return-value]
        np.asarray(
            cv2.LUT(p, _to_linear(np.minimum(255.0, levels * g[c]) / 255.0).astype(np.float32))
        )
        for c, p in enumerate((r, gr, b))
    )


_TO_XYZN = _XYZ.T / _WHITE  # linear RGB to XYZ over the white point, in one product
_BIG = 30_000  # values: a whole image (float32) is converted in float32, a few colours in float64


def lab_from_linear(linear: Array) -> NDArray[np.float64]:
    """CIE L*a*b* (D65) of linear RGB 0–1, any shape ending in 3; L* 0–100.

    A whole float32 image is converted in float32 (within 2e-4 of float64 in L*a*b*, three
    times faster: a 3 MP photo's 0.3 s, BENCHMARKS.md); a few colours, as the measures' means,
    in float64. The measures convert no whole image: they take the channels they need from
    ``lab_f``."""
    a = np.asarray(linear)
    big = a.dtype == np.float32 and a.size > _BIG
    dt = np.float32 if big else np.float64
    xyz = a.astype(dt, copy=False) @ _TO_XYZN.astype(dt)
    f = np.cbrt(xyz)
    small = xyz <= (6 / 29) ** 3
    if small.any():
        f[small] = xyz[small] / (3 * (6 / 29) ** 2) + 4 / 29
    out = np.empty(f.shape, np.float64)
    out[..., 0] = 116 * f[..., 1] - 16
    out[..., 1] = 500 * (f[..., 0] - f[..., 1])
    out[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return out


def lab_f(planes: Planes, rows: tuple[int, ...]) -> list[NDArray[np.float32]]:
    """The CIELAB function ``f`` of X/Xn, Y, Z/Zn (``rows`` picks which: 0, 1, 2) of a linear
    image's planes (``linear_planes``), one float32 plane each: what ``lab_from_linear``
    computes on a whole image (L* = 116·f(Y) − 16, a* = 500·(f(X) − f(Y)), b* = 200·(f(Y) −
    f(Z))), for only the channels a measure needs (a 3 MP photo's whole conversion: 0.24–0.33
    s on the loaded machine; its X and Y planes this way about 15 ms)."""
    out = []
    for row in rows:
        m = _TO_XYZN.T[row].astype(np.float32)
        t = cv2.scaleAdd(
            planes[2],
            float(m[2]),
            cv2.addWeighted(planes[0], float(m[0]), planes[1], float(m[1]), 0.0),
        )
        f = np.cbrt(t)
        if float(t.min()) <= (6 / 29) ** 3:
            small = t <= (6 / 29) ** 3
            f[small] = t[small] / np.float32(3 * (6 / 29) ** 2) + np.float32(4 / 29)
        out.append(np.asarray(f, np.float32))
    return out


def delta_e2000(lab1: Array, lab2: Array) -> NDArray[np.float64]:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal, Color Res. Appl. 30:21, 2005;
    kL = kC = kH = 1) between L*a*b* colours, broadcast over any leading shape."""
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where(c1p == 0, 0.0, np.degrees(np.arctan2(b1, a1p)) % 360)
    h2p = np.where(c2p == 0, 0.0, np.degrees(np.arctan2(b2, a2p)) % 360)
    both = c1p * c2p != 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(both, dh, 0.0)
    dl, dc = l2 - l1, c2p - c1p
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)
    )
    h_bar = np.where(both, h_bar, hsum)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    sl = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    sc = 1 + 0.045 * cp_bar
    sh = 1 + 0.015 * cp_bar * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    return np.asarray(
        np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh))
    )


_FLOOR = 1e-4  # reflectance below this (a black, clipped shadow) is taken as this


def erythema_index(linear: Array) -> float:
    """Erythema index of a mean linear RGB colour: ``EI = 100·[log10(1/R_green) −
    log10(1/R_red)]``, the two-band reduction of Dawson et al.'s log-reflectance index (Phys.
    Med. Biol. 25:695, 1980) used by the DermaSpectrometer (Diffey, Oliver and Farr, Br. J.
    Dermatol. 111:663, 1984), with the camera's green and red channels as the bands.
    Haemoglobin absorbs green and not red, so redder skin scores higher. A global exposure
    multiplies both reflectances and cancels, so differences between regions of one photo are
    what is meaningful."""
    r, g = max(float(linear[0]), _FLOOR), max(float(linear[1]), _FLOOR)
    return 100 * (math.log10(1 / g) - math.log10(1 / r))


def melanin_index(linear: Array) -> float:
    """Melanin index of a mean linear RGB colour: ``MI = 100·log10(1/R_red)`` (Dawson et al.
    1980; Diffey et al. 1984): in red light haemoglobin hardly absorbs and melanin does, so
    darker-pigmented skin scores higher. Exposure adds a constant, which cancels in the
    difference between marks and skin."""
    return 100 * math.log10(1 / max(float(linear[0]), _FLOOR))


def ita(lab: Array) -> float:
    """Individual typology angle ``ITA° = atan((L* − 50)/b*)·180/π`` (Chardon, Cretois and
    Hourseau, Int. J. Cosmet. Sci. 13:191, 1991): above 55° very light skin, below −30° dark.
    atan2 keeps it defined (±90°) at b* = 0."""
    return math.degrees(math.atan2(float(lab[0]) - 50, float(lab[2])))


TEXTURE_MM = (0.1, 0.4)  # the difference of Gaussians' two sigmas


def texture_reach(px_per_mm: float) -> int:
    """How far (pixels) the texture's wider blur reads beyond a pixel: OpenCV's float kernel
    spans 4 sigmas each side; a crop this much wider than what is read gives the same band."""
    return math.ceil(4 * max(0.5, TEXTURE_MM[1] * px_per_mm)) + 2


def texture_index(
    lum: Array,
    marks: NDArray[np.bool_],
    skin: NDArray[np.bool_],
    delta_l: float,
    px_per_mm: float,
) -> float | None:
    """Texture index: the standard deviation of a band-pass (difference of Gaussians at 0.1 and
    0.4 mm) of L* inside the marks over the same in the adjacent skin; 1 is as rough as the
    skin. The marks' own step in L* (``delta_l``) is taken out first so that their edge is not
    read as texture. It is a texture index, not depth: a flat photo cannot measure depth (that
    takes 3-D profilometry); it only sees how the light and shade of the surface vary. None
    when the skin has no texture at all to compare with."""
    flat = (lum - delta_l * marks).astype(np.float32)
    s1, s2 = (max(0.5, v * px_per_mm) for v in TEXTURE_MM)
    band = cv2.GaussianBlur(flat, (0, 0), s1) - cv2.GaussianBlur(flat, (0, 0), s2)
    inner = cv2.erode(marks.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if int(inner.sum()) < 20:
        inner = marks
    skin_spread = float(band[skin].std())
    if skin_spread <= 1e-6:
        return None
    return float(band[inner].std()) / skin_spread
