"""Photos of stretch marks whose answer is known, for tests/core/imaging/test_marks.py.

Skin of a given tone (light to dark) with a texture of smooth noise and pores, and stripes of a
known width, length and colour (a known L*a*b* offset from the skin's tone), drawn at four times
the resolution and averaged down so the true covered area is exact, then photographed through
``synthetic.photograph`` (a lighting gradient and vignette, exposure, a colour temperature,
noise, JPEG). The gains a card's mid-grey patch would give for that light are returned with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tests.core.imaging import synthetic

# Fitzpatrick-like tones, I–VI, light to dark (sRGB).
TONES = (
    (232, 196, 176),
    (220, 174, 148),
    (196, 146, 114),
    (160, 112, 82),
    (120, 80, 58),
    (84, 56, 42),
)
RUBRA = (-3.0, 9.0, 1.0)  # ΔL*, Δa*, Δb* of stria rubra against the skin
ALBA = (8.0, -3.0, -3.0)  # of stria alba


def srgb_of_lab(lab: tuple[float, float, float]) -> tuple[float, float, float]:
    """The sRGB colour 0–255 of an L*a*b* (D65) colour: the inverse of ``synthetic.lab``."""
    big_l, a, b = lab
    fy = (big_l + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def finv(t: float) -> float:
        return t**3 if t > 6 / 29 else 3 * (6 / 29) ** 2 * (t - 4 / 29)

    x, y, z = 0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz)
    m = np.array(
        [
            [3.2404542, -1.5371385, -0.4985314],
            [-0.9692660, 1.8760108, 0.0415560],
            [0.0556434, -0.2040259, 1.0572252],
        ]
    )
    rgb = synthetic.to_srgb(m @ np.array([x, y, z]))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


@dataclass(frozen=True)
class MarksPhoto:
    """A generated photo and its truth (areas in mm², lengths tip to tip)."""

    image: Image.Image
    px_per_mm: float
    gains: tuple[float, float, float]
    region: list[tuple[float, float]]
    truth: NDArray[np.float32]  # the share of each pixel the marks cover
    width_mm: float
    length_mm: float  # of all stripes together
    area_mm2: float
    delta_e00: float


def _texture(rng: np.random.Generator, shape: tuple[int, int], px_per_mm: float) -> NDArray:
    """Log-luminance texture: smooth noise at 0.1–3 mm, and pores of about 0.15 mm."""
    h, w = shape
    lum = np.zeros(shape, np.float32)
    for sigma_mm, amount in ((0.1, 0.04), (0.3, 0.04), (1.0, 0.04), (3.0, 0.04)):
        noise = rng.standard_normal(shape).astype(np.float32)
        noise = np.asarray(cv2.GaussianBlur(noise, (0, 0), max(0.6, sigma_mm * px_per_mm)))
        lum += amount * noise / (noise.std() + 1e-9)
    pores = np.zeros(shape, np.float32)
    n = int(h * w / (px_per_mm**2) * 0.8)  # about 0.8 a mm²
    pores[rng.integers(0, h, n), rng.integers(0, w, n)] = 1.0
    sigma = max(0.6, 0.08 * px_per_mm)
    pores = cv2.GaussianBlur(pores, (0, 0), sigma) * (2 * math.pi * sigma * sigma)
    return np.asarray(np.exp(lum - 0.15 * np.clip(pores, 0, 1.5)), np.float32)


def card_gains(exposure: float, temperature: tuple[float, float, float]) -> tuple[float, ...]:
    """The gains on sRGB values that bring the card's mid patch (sRGB 120) back to itself."""
    mid = float(synthetic.to_linear(np.array(120.0)))
    return tuple(
        120.0 / float(synthetic.to_srgb(np.array(mid * exposure * t))) for t in temperature
    )


def marks_photo(
    seed: int,
    *,
    tone: int = 2,
    px_per_mm: float = 10.0,
    width_mm: float = 2.0,
    length_mm: float = 25.0,
    offset: tuple[float, float, float] = RUBRA,
    count: int = 2,
    curve_mm: float = 0.0,
    exposure: float = 1.0,
    warm: float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
    quality: int = 92,
    size: tuple[int, int] = (600, 450),
    fade: float = 1.0,
    beside_mm: float | None = None,
    stagger_mm: float = 3.0,
) -> MarksPhoto:
    """Skin of ``TONES[tone]`` with ``count`` parallel stripes (round-ended, bowed by
    ``curve_mm`` at their middle) of ``width_mm`` and ``length_mm`` tip to tip, coloured by
    ``offset`` × ``fade``, photographed at ``px_per_mm`` under ``exposure`` (a linear gain) and
    a warm (+) or cool (−) shift, the scene moved by ``shift`` pixels. With ``beside_mm`` the
    second stripe lies that far (centre line to centre line) below the first, its ends
    ``stagger_mm`` further right: touching it when ``beside_mm`` is the width, one band with it in the
    found marks when a little more; the others are spread over the photo as usual."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = TONES[tone]
    lab = synthetic.lab(base)
    mark = srgb_of_lab(
        (lab[0] + fade * offset[0], lab[1] + fade * offset[1], lab[2] + fade * offset[2])
    )
    q = 4
    fine = np.zeros((h * q, w * q), np.uint8)
    spacing = h / (count + 1)
    core = (length_mm - width_mm) * px_per_mm  # the centre line, between the round ends
    total = 0.0
    first = (0.0, 0.0)
    for i in range(count):
        cy = spacing * (i + 1) + rng.uniform(-0.1, 0.1) * spacing
        cx = w / 2 + rng.uniform(-0.05, 0.05) * w
        if beside_mm is not None and i == 0:
            first = (cy, cx)
        elif beside_mm is not None:  # the second beside the first, the rest below them
            cy = first[0] + beside_mm * px_per_mm if i == 1 else spacing * (i + 0.5)
            cx = first[1] + stagger_mm * px_per_mm if i == 1 else cx
        u = np.linspace(-0.5, 0.5, 64)
        xs = cx + u * core
        ys = cy + curve_mm * px_per_mm * (1 - 4 * u * u)
        pts = np.stack([xs, ys], axis=1)
        total += float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()) / px_per_mm + width_mm
        thick = max(1, round(width_mm * px_per_mm * q))
        cv2.polylines(fine, [np.rint(pts * q).astype(np.int32)], False, 255, thick, cv2.LINE_8)
    cover = np.asarray(
        cv2.resize(fine.astype(np.float32) / 255, (w, h), interpolation=cv2.INTER_AREA), np.float32
    )
    skin_lin = synthetic.to_linear(np.array(base)).astype(np.float32)
    mark_lin = synthetic.to_linear(np.array(mark)).astype(np.float32)
    tone_map = skin_lin * (1 - cover[..., None]) + mark_lin * cover[..., None]
    scene = tone_map * _texture(rng, (h, w), px_per_mm)[..., None]
    scene = cv2.GaussianBlur(scene, (0, 0), 0.6)  # the lens
    temperature = (1 + warm, 1.0, 1 - warm)
    shot = synthetic.Shot(
        synthetic.translate(*shift),
        size,
        exposure=exposure,
        temperature=temperature,
        gradient=0.1,
        noise=1.5,
        quality=quality,
        seed=seed,
    )
    image = synthetic.photograph(np.clip(scene, 0, 1), shot)
    margin = 0.08
    region = [
        (margin * w + shift[0], margin * h + shift[1]),
        ((1 - margin) * w + shift[0], margin * h + shift[1]),
        ((1 - margin) * w + shift[0], (1 - margin) * h + shift[1]),
        (margin * w + shift[0], (1 - margin) * h + shift[1]),
    ]
    gains = card_gains(exposure, temperature)
    return MarksPhoto(
        image,
        px_per_mm,
        (gains[0], gains[1], gains[2]),
        region,
        cover,
        width_mm,
        total,
        float(cover.sum()) / px_per_mm**2,
        synthetic.delta_e2000(base, mark),
    )
