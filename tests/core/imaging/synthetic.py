"""Photos whose answer is known, for the registration and calibration-card tests (and the
benchmark's full-size run): skin made in code, seen through known transforms, exposures,
colour temperatures and lighting, and a calibration card placed on it at a known pose.

The skin is a "person": a seed gives one patch of skin (its tone, a texture of smooth noise at
several scales, pores, fine furrows and stria as soft curved bands), large enough that several
photos of it at different framings, and photos of parts that do not overlap, can be cut from
it. A photo is that skin warped by a known homography, lit by a gradient, exposed, tinted,
noisy and saved as a JPEG, as a phone would. Everything is computed in linear light and
encoded as sRGB at the end, so an exposure or a colour temperature is a per-channel gain.

Nothing here comes from the code under test except the card's layout (``CARD``), which is the
thing the printed card and the detector must agree on.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tracker.core.imaging.card import CARD, marker_cells

Array = NDArray[Any]  # float32 for images, float64 for colours
Matrix3 = NDArray[np.float64]

# -- colour -----------------------------------------------------------------------------------


def to_linear(srgb: NDArray[np.generic]) -> Array:
    """sRGB values 0–255 as linear light 0–1."""
    c = np.asarray(srgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: NDArray[np.generic]) -> Array:
    """Linear light 0–1 as sRGB values 0–255 (not rounded, clipped)."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return 255.0 * np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def lab(srgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour 0–255."""
    r, g, b = to_linear(np.array(srgb))
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def delta_e2000(c1: tuple[float, float, float], c2: tuple[float, float, float]) -> float:
    """CIEDE2000 between two sRGB colours (Sharma, Wu and Dalal, 2005; kL = kC = kH = 1)."""
    l1, a1, b1 = lab(c1)
    l2, a2, b2 = lab(c2)
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    else:
        dh = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    dhh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_bar - 30))
        + 0.24 * math.cos(math.radians(2 * h_bar))
        + 0.32 * math.cos(math.radians(3 * h_bar + 6))
        - 0.20 * math.cos(math.radians(4 * h_bar - 63))
    )
    d_theta = 30 * math.exp(-(((h_bar - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    sl = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    sc = 1 + 0.045 * cp_bar
    sh = 1 + 0.015 * cp_bar * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt(
        (dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh)
    )


_SRGB_LUT = to_srgb(np.arange(65536) / 65535.0).astype(np.float32)


def balanced(
    rgb: tuple[float, float, float], gains: tuple[float, float, float]
) -> tuple[float, float, float]:
    """A colour through per-channel gains, as the compare window applies them (clipped)."""
    r, g, b = (min(255.0, v * k) for v, k in zip(rgb, gains, strict=True))
    return (r, g, b)


# -- skin -------------------------------------------------------------------------------------

# Skin tones (sRGB), light to dark, as the base reflectance of a person's skin.
TONES = ((236, 198, 178), (222, 176, 150), (198, 146, 116), (160, 110, 82), (112, 74, 54))


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> Array:
    """Gaussian noise blurred at ``sigma`` pixels, scaled to unit standard deviation (made at a
    coarser grid and enlarged when sigma is large, which is the same field, made faster)."""
    h, w = shape
    step = max(1, int(sigma / 3))
    small = rng.standard_normal((h // step + 2, w // step + 2), np.float32)
    small = np.asarray(cv2.GaussianBlur(small, (0, 0), sigma / step))
    small /= small.std() + 1e-9
    if step == 1:
        return np.asarray(small[1 : h + 1, 1 : w + 1])
    field = cv2.resize(small, (w + 2 * step, h + 2 * step), interpolation=cv2.INTER_CUBIC)
    return np.asarray(field[step : step + h, step : step + w])


def skin(seed: int, size: tuple[int, int], scale: float = 1.0) -> Array:
    """A person's skin: an H×W×3 linear reflectance, ``scale`` pixels to a unit of detail (1 for
    an image whose long side is about 1000 px; the detail grows with it)."""
    w, h = size
    rng = np.random.default_rng(seed)
    tone = to_linear(np.array(TONES[seed % len(TONES)], dtype=np.float64))
    # Texture: smooth noise at several scales, stronger at the fine end, as skin looks.
    lum = np.zeros((h, w), np.float32)
    for sigma, amount in ((1.2, 0.05), (3.0, 0.06), (9.0, 0.05), (30.0, 0.05), (90.0, 0.06)):
        lum += amount * _smooth_noise(rng, (h, w), sigma * scale)
    # Furrows: a fine network of faint lines in two main directions.
    furrows = np.zeros((h, w), np.float32)
    n_lines = int(w * h / (2500 * scale * scale))
    for direction in (rng.uniform(0, math.pi), rng.uniform(0, math.pi)):
        for _ in range(n_lines // 2):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            angle = direction + rng.normal(0, 0.25)
            length = rng.uniform(15, 60) * scale
            dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
            p1 = (round(x - dx), round(y - dy))
            p2 = (round(x + dx), round(y + dy))
            cv2.line(furrows, p1, p2, float(rng.uniform(0.3, 1.0)), 1, cv2.LINE_AA)
    lum -= 0.08 * cv2.GaussianBlur(furrows, (0, 0), 0.8 * scale)
    # Pores: small dark dots.
    pores = np.zeros((h, w), np.float32)
    n_pores = int(w * h / (180 * scale * scale))
    xs = rng.integers(0, w, n_pores)
    ys = rng.integers(0, h, n_pores)
    np.add.at(pores, (ys, xs), rng.uniform(0.5, 1.0, n_pores).astype(np.float32))
    sigma = 1.1 * scale
    pores = cv2.GaussianBlur(pores, (0, 0), sigma) * (2 * math.pi * sigma * sigma)
    lum -= 0.22 * np.clip(pores, 0, 1.5)
    reflectance = np.exp(lum)[:, :, None] * tone.astype(np.float32)[None, None, :]
    # Stria: soft curved bands, paler and pinker (rubra) or paler and whiter (alba).
    # (Bands are smooth: drawn at a quarter of the size and enlarged.)
    q = 4
    yy, xx = np.mgrid[0 : h // q + 1, 0 : w // q + 1].astype(np.float32) * q
    bands = np.ones((h // q + 1, w // q + 1, 3), np.float32)
    for _ in range(int(rng.integers(3, 7))):
        angle = rng.uniform(-0.6, 0.6) + rng.choice([0.0, math.pi / 2])
        u = xx * math.cos(angle) + yy * math.sin(angle)
        v = -xx * math.sin(angle) + yy * math.cos(angle)
        centre = rng.uniform(v.min(), v.max())
        period, wobble = rng.uniform(150, 500) * scale, rng.uniform(80, 200) * scale
        bend = rng.uniform(5, 40) * scale * np.sin(u / period + rng.uniform(0, 6))
        width = rng.uniform(6, 22) * scale * (1 + 0.3 * np.sin(u / wobble))
        band = np.exp(-(((v - centre - bend) / width) ** 2))
        pink = rng.uniform() < 0.5
        tint = np.array([1.10, 0.86, 0.90] if pink else [1.12, 1.08, 1.10], np.float32)
        bands *= 1 + band[:, :, None] * (tint - 1)[None, None, :]
    bands = np.asarray(cv2.resize(bands, (w, h), interpolation=cv2.INTER_LINEAR))
    reflectance = reflectance * bands
    return np.clip(reflectance, 0.0, 1.0).astype(np.float32)


# -- taking a photo ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    """How a photo was taken: the homography from the scene (the skin's pixels) to the photo's,
    the photo's size, and its light."""

    from_scene: Matrix3
    size: tuple[int, int]
    exposure: float = 1.0  # a gain on linear light
    temperature: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-channel gains, linear
    gradient: float = 0.15  # how much brighter one side is than the other (fraction)
    gradient_angle: float = 0.0
    noise: float = 1.5  # sensor noise, in sRGB levels
    blur: float = 0.0  # defocus, in photo pixels (Gaussian sigma)
    quality: int = 92  # of the JPEG
    seed: int = 0


def translate(x: float, y: float) -> Matrix3:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def similarity(angle_deg: float, scale: float, centre: tuple[float, float]) -> Matrix3:
    """Rotation by ``angle_deg`` and scaling by ``scale`` about ``centre``."""
    a = math.radians(angle_deg)
    rot = np.array(
        [
            [scale * math.cos(a), -scale * math.sin(a), 0.0],
            [scale * math.sin(a), scale * math.cos(a), 0.0],
            [0.0, 0.0, 1.0],
        ]
    )
    return translate(*centre) @ rot @ translate(-centre[0], -centre[1])


def corners_moved(size: tuple[int, int], offsets: Array) -> Matrix3:
    """The homography that moves a frame's four corners by ``offsets`` (4×2, pixels)."""
    w, h = size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    return np.asarray(
        cv2.getPerspectiveTransform(src.astype(np.float32), (src + offsets).astype(np.float32)),
        dtype=np.float64,
    )


def continuous(m: Matrix3) -> Matrix3:
    """A homography between pixel-centre coordinates (OpenCV's warps: the first pixel's centre
    at 0) as one between continuous coordinates (its top-left corner at 0), the app's."""
    return translate(0.5, 0.5) @ m @ translate(-0.5, -0.5)


def photograph(scene: Array, shot: Shot) -> Image.Image:
    """The scene (linear reflectance, H×W×3) as a phone photo: warped, lit, exposed, tinted,
    blurred, noisy, sRGB, and through a JPEG. ``shot.from_scene`` is in continuous
    coordinates, as the app's matrices are."""
    w, h = shot.size
    to_pixels = translate(-0.5, -0.5) @ shot.from_scene @ translate(0.5, 0.5)
    if np.allclose(to_pixels, np.eye(3)) and scene.shape[:2] == (h, w):
        warped = scene.astype(np.float32)
    else:
        warped = np.asarray(
            cv2.warpPerspective(
                scene.astype(np.float32),
                to_pixels,
                (w, h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
        )
    if shot.blur > 0:
        warped = np.asarray(cv2.GaussianBlur(warped, (0, 0), shot.blur))
    # The light: a gradient across the frame and a little vignetting (made small, enlarged).
    q = 8
    yy, xx = np.mgrid[0 : h // q + 2, 0 : w // q + 2].astype(np.float64) * q
    angle = shot.gradient_angle
    along = ((xx - w / 2) * math.cos(angle) + (yy - h / 2) * math.sin(angle)) / max(w, h)
    vignette = 1 - 0.15 * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (w * w + h * h)
    light = ((1 + shot.gradient * along) * vignette * shot.exposure).astype(np.float32)
    light = cv2.resize(light, (w + 2 * q, h + 2 * q), interpolation=cv2.INTER_LINEAR)[:h, :w]
    # In place, a pass at a time: photos of 10 MP are made here.
    linear = warped if warped is not scene else warped.copy()
    linear *= light[:, :, None]
    linear *= np.array(shot.temperature, np.float32)[None, None, :] * 65535.0
    np.clip(linear, 0, 65535, out=linear)
    encoded = _SRGB_LUT[linear.astype(np.uint16)]
    del linear
    rng = np.random.default_rng(shot.seed)
    encoded += shot.noise * rng.standard_normal((h, w, 3), np.float32)
    encoded += 0.5  # rounds to nearest below
    np.clip(encoded, 0, 255, out=encoded)
    image = Image.fromarray(encoded.astype(np.uint8), "RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=shot.quality)
    out.seek(0)
    with Image.open(out) as jpeg:
        return jpeg.convert("RGB")


# -- pairs with a known registration ----------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """A photo and its reference, and the truth: the homography from the photo's continuous
    pixel coordinates to the reference's, or None when the two must not be aligned."""

    photo: Image.Image
    reference: Image.Image
    truth: Matrix3 | None
    what: str


def _light(rng: np.random.Generator) -> dict[str, object]:
    warm = rng.uniform(-1, 1) * 0.12  # a colour temperature shift, warm (+) or cool (-)
    return {
        "exposure": float(rng.uniform(0.7, 1.3)),
        "temperature": (1 + warm, 1.0, 1 - warm),
        "gradient": float(rng.uniform(0.0, 0.3)),
        "gradient_angle": float(rng.uniform(0, 2 * math.pi)),
    }


def pair(seed: int, size: tuple[int, int] = (800, 600), perspective: float = 0.03) -> Pair:
    """A photo of the same skin as its reference, taken again: turned up to ±15°, scaled by up
    to ±20 %, shifted up to ±10 %, with mild perspective (corners moved up to ``perspective``
    of the frame; 0 for none), and exposed ±30 % with a warm or cool shift and another
    lighting gradient."""
    rng = np.random.default_rng(1000 + seed)
    w, h = size
    scale = max(w, h) / 1000
    scene_size = (2 * w, 2 * h)
    scene = skin(seed, scene_size, scale)
    ref_from_scene = translate(-w / 2, -h / 2)  # the reference sees the scene's middle
    centre = (w / 2, h / 2)
    move = similarity(float(rng.uniform(-15, 15)), float(rng.uniform(0.8, 1.2)), centre)
    shift = translate(float(rng.uniform(-0.1, 0.1) * w), float(rng.uniform(-0.1, 0.1) * h))
    tilt = corners_moved(size, rng.uniform(-perspective, perspective, (4, 2)) * np.array([w, h]))
    photo_from_ref = tilt @ shift @ move
    photo_from_scene = photo_from_ref @ ref_from_scene
    reference = photograph(scene, Shot(ref_from_scene, size, seed=seed * 2 + 1))
    photo = photograph(scene, Shot(photo_from_scene, size, seed=seed * 2, **_light(rng)))  # type: ignore[arg-type]
    truth = np.asarray(np.linalg.inv(photo_from_ref), np.float64)
    return Pair(photo, reference, truth, "same skin, taken again")


def unrelated_pair(seed: int, size: tuple[int, int] = (800, 600)) -> Pair:
    """Two photos that must not be aligned: of one person's skin but of parts that do not
    overlap (even seeds), or of two people (odd seeds)."""
    rng = np.random.default_rng(5000 + seed)
    w, h = size
    scale = max(w, h) / 1000
    centre = (w / 2, h / 2)
    move = similarity(float(rng.uniform(-15, 15)), float(rng.uniform(0.8, 1.2)), centre)
    if seed % 2 == 0:
        scene = skin(seed, (3 * w, h + h // 2), scale)
        reference = photograph(scene, Shot(translate(-w / 4, -h / 4), size, seed=seed))
        photo = photograph(
            scene,
            Shot(move @ translate(-1.9 * w, -h / 4), size, seed=seed + 1, **_light(rng)),  # type: ignore[arg-type]
        )
        return Pair(photo, reference, None, "the same skin, parts that do not overlap")
    ours = skin(seed, (2 * w, 2 * h), scale)
    theirs = skin(seed + 7919, (2 * w, 2 * h), scale)
    reference = photograph(ours, Shot(translate(-w / 2, -h / 2), size, seed=seed))
    photo = photograph(
        theirs,
        Shot(move @ translate(-w / 2, -h / 2), size, seed=seed + 1, **_light(rng)),  # type: ignore[arg-type]
    )
    return Pair(photo, reference, None, "two people's skin")


def apply(m: Matrix3, points: Array) -> Array:
    """Points (N×2) through a homography."""
    p = np.hstack([points, np.ones((len(points), 1))]) @ m.T
    return p[:, :2] / p[:, 2:3]


def corner_error(found: Matrix3, truth: Matrix3, size: tuple[int, int]) -> float:
    """The largest distance, in the reference's pixels, between where the found and the true
    transforms put the photo's four corners: the usual measure of a registration."""
    w, h = size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    return float(np.max(np.linalg.norm(apply(found, corners) - apply(truth, corners), axis=1)))


# -- the calibration card in a photo ----------------------------------------------------------


CARD_CORNERS = [
    (0.0, 0.0),
    (CARD.width_mm, 0.0),
    (CARD.width_mm, CARD.height_mm),
    (0.0, CARD.height_mm),
]


def card_scene(px_per_mm: float) -> Array:
    """The printed card as linear reflectance (one channel: it is all greys) at ``px_per_mm``:
    white paper, the markers, the three grey patches, the ruler's ticks, from its layout."""
    w = round(CARD.width_mm * px_per_mm)
    h = round(CARD.height_mm * px_per_mm)

    def level(srgb: float) -> float:
        return float(to_linear(np.array(srgb)))

    image = np.full((h, w), level(245), np.float32)

    def box(x0: float, y0: float, x1: float, y1: float, value: float) -> None:
        image[
            round(y0 * px_per_mm) : round(y1 * px_per_mm),
            round(x0 * px_per_mm) : round(x1 * px_per_mm),
        ] = value

    for marker in CARD.markers:
        cells = marker_cells(marker.id)
        cell = marker.size_mm / len(cells)
        for row, line in enumerate(cells):
            for col, black in enumerate(line):
                if black:
                    x, y = marker.x_mm + col * cell, marker.y_mm + row * cell
                    box(x, y, x + cell, y + cell, level(20))
    for patch in CARD.patches:
        box(
            patch.x_mm,
            patch.y_mm,
            patch.x_mm + patch.size_mm,
            patch.y_mm + patch.size_mm,
            level(patch.srgb),
        )
    for tick in CARD.ruler_ticks():
        box(tick.x_mm - 0.1, tick.y_mm, tick.x_mm + 0.1, tick.y_mm + tick.length_mm, level(20))
    return image


def tilted(px_per_mm: float, angle_deg: float, tilt_deg: float, tilt_axis_deg: float) -> Matrix3:
    """The homography from the card's millimetres to a photo's pixels (continuous), the card's
    centre at the origin: turned by ``angle_deg``, then seen tilted by ``tilt_deg`` about an
    axis in its plane at ``tilt_axis_deg``, by a camera whose focal length is twice the card's
    width, ``px_per_mm`` at the card's centre."""
    cx, cy = CARD.width_mm / 2, CARD.height_mm / 2
    a, t, axis = math.radians(angle_deg), math.radians(tilt_deg), math.radians(tilt_axis_deg)
    ux, uy = math.cos(axis), math.sin(axis)
    # Rodrigues: a rotation by t about the in-plane axis (ux, uy, 0).
    k = np.array([[0, 0, uy], [0, 0, -ux], [-uy, ux, 0]])
    rot3 = np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)
    spin = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    r = rot3 @ spin
    f = 2 * CARD.width_mm  # focal length in mm-equivalents; the card's centre at depth f
    # A card point (X, Y, 0) about its centre goes to r·(X, Y, 0) + (0, 0, f); projection
    # x = f·X'/Z'. As a homography of (X, Y, 1): columns r1, r2 and (0, 0, f).
    h = np.array(
        [
            [f * r[0, 0], f * r[0, 1], 0.0],
            [f * r[1, 0], f * r[1, 1], 0.0],
            [r[2, 0], r[2, 1], f],
        ]
    )
    h = h / h[2, 2]  # at the centre: scale f/f = 1 pixel per mm before the zoom
    return np.diag([px_per_mm, px_per_mm, 1.0]) @ h @ translate(-cx, -cy)


def local_scale(m: Matrix3, point: tuple[float, float]) -> float:
    """The square root of the area scale of a homography at ``point``: its pixels per unit."""
    x, y = point
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return math.sqrt(abs(np.linalg.det(m)) / abs(w) ** 3)


@dataclass(frozen=True)
class CardPhoto:
    image: Image.Image
    card_to_photo: Matrix3  # the card's millimetres → the photo's continuous pixels
    px_per_mm: float  # at the card's centre (``local_scale``)


def card_photo(
    seed: int,
    px_per_mm: float,
    angle_deg: float = 0.0,
    tilt_deg: float = 0.0,
    blur: float = 0.0,
    exposure: float = 1.0,
    temperature: tuple[float, float, float] = (1.0, 1.0, 1.0),
    gradient: float = 0.05,
    frame: tuple[int, int] | None = None,
) -> CardPhoto:
    """A photo of the card lying on skin at ``px_per_mm`` (at its centre), turned, tilted and
    blurred as given; the frame a little larger than the card, or ``frame`` with the card in
    its middle."""
    rng = np.random.default_rng(7000 + seed)
    to_photo = tilted(px_per_mm, angle_deg, tilt_deg, float(rng.uniform(0, 360)))
    outline = apply(to_photo, np.array(CARD_CORNERS))
    if frame is None:
        # The card's outline with a margin of a tenth of its width on each side (up to a
        # fifth more on one side or the other, by chance).
        margin = 0.1 * CARD.width_mm * px_per_mm
        extra = rng.uniform(0, 0.2 * CARD.width_mm * px_per_mm, 2)
        left, top = outline.min(axis=0) - margin - extra
        right, bottom = outline.max(axis=0) + margin
        size = (math.ceil(right - left), math.ceil(bottom - top))
    else:
        size = frame
        left, top = (outline.min(axis=0) + outline.max(axis=0)) / 2 - np.array(frame) / 2
    to_photo = translate(-left, -top) @ to_photo
    w, h = size
    # The card drawn at a fine resolution, blurred to the photo's sampling (so that the warp
    # does not alias), and warped with its outline into a skin scene the photo's size.
    fine = max(6.0, 1.25 * px_per_mm)
    card = cv2.GaussianBlur(card_scene(fine), (0, 0), 0.5 * fine / px_per_mm)
    card_and_outline = np.dstack([card, np.ones_like(card)])
    pixels = (
        translate(-0.5, -0.5) @ to_photo @ np.diag([1 / fine, 1 / fine, 1.0]) @ translate(0.5, 0.5)
    )
    warped = cv2.warpPerspective(card_and_outline, pixels, size, flags=cv2.INTER_LINEAR)
    # The skin around the card is only clutter here: made at most 600 px wide and enlarged.
    k = min(1.0, 600 / w)
    back = skin(seed, (round(w * k), round(h * k)), 0.6)
    back = np.asarray(cv2.resize(back, size, interpolation=cv2.INTER_LINEAR))
    inside = warped[:, :, 1:2]
    back *= 1 - inside
    back += warped[:, :, 0:1] * inside
    scene = back
    shot = Shot(
        np.eye(3),
        size,
        exposure=exposure,
        temperature=temperature,
        gradient=gradient,
        gradient_angle=float(rng.uniform(0, 2 * math.pi)),
        blur=blur,
        noise=2.5,
        quality=94,
        seed=seed,
    )
    centre = (CARD.width_mm / 2, CARD.height_mm / 2)
    return CardPhoto(photograph(scene, shot), to_photo, local_scale(to_photo, centre))
