"""Generated photos for the sample library: skin with stretch marks that improve visit by visit.

Pure Pillow, deterministic for a given seed. The marks keep their geometry from visit to visit (they
are the same marks), while they fade and narrow as the course goes on. Each visit's photo is framed and
lit a little differently, as a phone held by hand would frame it, so alignment and colour
normalisation have real work to do.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

# Skin tones (sRGB) from light to deep; a seed picks one.
SKIN_TONES = ((236, 196, 170), (224, 172, 138), (198, 142, 106), (160, 108, 76), (118, 78, 56))
# Stria colour by stage: rubra are red-violet, alba paler than the skin around them.
STRIA_COLOURS = {"rubra": (176, 78, 96), "alba": (238, 220, 210), "unknown": (190, 110, 120)}
BACKDROP = (58, 66, 78)
OVERSCAN = 1.12  # render larger, then crop, so framing shifts never show an edge


@dataclass(frozen=True)
class _Stria:
    points: tuple[tuple[float, float], ...]  # in units of the canvas (0..1)
    width: float  # fraction of the canvas width


def render_area_photo(
    *,
    seed: int,
    visit_index: int,
    n_visits: int,
    view: str,
    stage: str,
    size: tuple[int, int] = (1600, 1200),
) -> Image.Image:
    """One photo of a treated area at one visit. ``view`` is "front" or "close-up"."""
    if n_visits < 1 or not 0 <= visit_index < n_visits:
        raise ValueError(f"visit_index {visit_index} is outside a course of {n_visits} visits")
    if view not in ("front", "close-up"):
        raise ValueError(f"unknown view {view!r}")
    width, height = size
    big = (round(width * OVERSCAN), round(height * OVERSCAN))
    shape = random.Random(seed)  # the same for every visit: the body and its marks
    jitter = random.Random(seed * 7919 + visit_index * 104729 + (view == "close-up"))
    progress = visit_index / (n_visits - 1) if n_visits > 1 else 0.0

    tone = SKIN_TONES[shape.randrange(len(SKIN_TONES))]
    skin = _skin(big, tone, shape)
    zoom = 1.0 if view == "front" else 2.2
    marks = _striae(shape, count=shape.randint(5, 8))
    mask = _stria_mask(big, marks, zoom=zoom, progress=progress)
    colour = STRIA_COLOURS.get(stage, STRIA_COLOURS["unknown"])
    # Marks fade towards the skin around them as the course goes on.
    strength = 0.85 - 0.5 * progress
    mask = mask.point(lambda v: round(v * strength))
    picture = Image.composite(Image.new("RGB", big, colour), skin, mask)
    picture = ImageChops.multiply(picture, _texture(big, shape))

    if view == "front":
        picture = _frame_body(picture, shape)
        _colour_card(picture)
    picture = _light(picture, jitter)
    return _reframe(picture, size, jitter)


def _skin(size: tuple[int, int], tone: tuple[int, int, int], rng: random.Random) -> Image.Image:
    """Even skin with soft blotches of slightly different tone."""
    base = Image.new("RGB", size, tone)
    blotch = Image.frombytes("L", (16, 12), rng.randbytes(16 * 12)).resize(
        size, Image.Resampling.BICUBIC
    )
    redder = Image.new(
        "RGB", size, (min(255, tone[0] + 10), max(0, tone[1] - 12), max(0, tone[2] - 8))
    )
    return Image.composite(redder, base, blotch.point(lambda v: v // 3))


def _texture(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Fine pores and grain as a multiplier close to white."""
    grain = Image.frombytes(
        "L", (size[0] // 4, size[1] // 4), rng.randbytes((size[0] // 4) * (size[1] // 4))
    )
    grain = grain.resize(size, Image.Resampling.BILINEAR).point(lambda v: 236 + v * 19 // 255)
    return Image.merge("RGB", (grain, grain, grain))


def _striae(rng: random.Random, *, count: int) -> list[_Stria]:
    """Roughly parallel wavy marks running diagonally across the middle of the area."""
    angle = math.radians(rng.uniform(-35, -15))
    marks = []
    for i in range(count):
        offset = (i - count / 2) * rng.uniform(0.05, 0.08)
        length = rng.uniform(0.35, 0.6)
        cx, cy = (
            0.5 + offset * math.sin(angle) + rng.uniform(-0.05, 0.05),
            0.5 + offset * math.cos(angle),
        )
        a = angle + math.radians(rng.uniform(-6, 6))
        wave, phase = rng.uniform(0.005, 0.015), rng.uniform(0, math.tau)
        points = []
        for step in range(25):
            t = step / 24 - 0.5
            bend = wave * math.sin(t * 9 + phase)
            points.append(
                (
                    cx + t * length * math.cos(a) - bend * math.sin(a),
                    cy + t * length * math.sin(a) + bend * math.cos(a),
                )
            )
        marks.append(_Stria(tuple(points), rng.uniform(0.008, 0.018)))
    return marks


def _stria_mask(
    size: tuple[int, int], marks: list[_Stria], *, zoom: float, progress: float
) -> Image.Image:
    """Where the marks are (255 = fully mark-coloured); they narrow with progress."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    w, h = size
    for mark in marks:
        pts = [((x - 0.5) * zoom * w + w / 2, (y - 0.5) * zoom * h + h / 2) for x, y in mark.points]
        line_width = max(2, round(mark.width * w * zoom * (1 - 0.45 * progress)))
        draw.line(pts, fill=255, width=line_width, joint="curve")
        # The ends of a stria taper off rather than stop.
        for end in (pts[0], pts[-1]):
            r = line_width / 2
            draw.ellipse((end[0] - r, end[1] - r, end[0] + r, end[1] + r), fill=160)
    return mask.filter(ImageFilter.GaussianBlur(max(1.5, 3.0 * zoom)))


def _frame_body(picture: Image.Image, rng: random.Random) -> Image.Image:
    """The wide view: skin as a soft-edged body shape against a clinic backdrop."""
    w, h = picture.size
    mask = Image.new("L", picture.size, 0)
    inset_x, inset_y = rng.uniform(0.05, 0.09) * w, rng.uniform(-0.04, 0.04) * h
    ImageDraw.Draw(mask).ellipse((inset_x, inset_y - 0.45 * h, w - inset_x, h * 1.45), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(w / 90))
    # Shading towards the sides of the body.
    shade = (
        Image.radial_gradient("L")
        .resize(picture.size)
        .point(lambda v: 255 - max(0, v - 110) * 2 // 5)
    )
    body = ImageChops.multiply(picture, Image.merge("RGB", (shade, shade, shade)))
    return Image.composite(body, Image.new("RGB", picture.size, BACKDROP), mask)


def _colour_card(picture: Image.Image) -> None:
    """A small grey and white reference card near a corner, as clinics put in frame."""
    w, h = picture.size
    side = w // 14
    x0, y0 = round(w * 0.1), round(h * 0.8)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((x0, y0, x0 + 3 * side, y0 + side), fill=(242, 242, 240))
    for i, grey in enumerate((200, 128, 60)):
        draw.rectangle(
            (x0 + i * side + 6, y0 + 6, x0 + (i + 1) * side - 6, y0 + side - 6),
            fill=(grey, grey, grey),
        )


def _light(picture: Image.Image, rng: random.Random) -> Image.Image:
    """This visit's lighting: overall brightness, a colour cast, and light falling from one side."""
    gains = [
        rng.uniform(0.88, 1.08) * g for g in (rng.uniform(0.95, 1.05), 1.0, rng.uniform(0.92, 1.06))
    ]
    bands = [
        band.point(lambda v, g=g: min(255, round(v * g)))
        for band, g in zip(picture.split(), gains, strict=True)
    ]
    lit = Image.merge("RGB", bands)
    # Rotate a larger gradient and keep its middle, so no corner is left unshaded.
    fall = (
        Image.linear_gradient("L")
        .resize((364, 364))
        .rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR)
    )
    fall = fall.crop((54, 54, 310, 310)).resize(picture.size, Image.Resampling.BILINEAR)
    depth = rng.randint(18, 40)
    fall = fall.point(lambda v: 255 - v * depth // 255)
    return ImageChops.multiply(lit, Image.merge("RGB", (fall, fall, fall)))


def _reframe(picture: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Hand-held framing: a small turn, shift and change of distance, then crop to ``size``."""
    angle = rng.uniform(-3.0, 3.0)
    scale = rng.uniform(0.96, 1.04)
    turned = picture.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=BACKDROP)
    w, h = turned.size
    crop_w, crop_h = size[0] / scale, size[1] / scale
    cx = w / 2 + rng.uniform(-0.035, 0.035) * size[0]
    cy = h / 2 + rng.uniform(-0.035, 0.035) * size[1]
    box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
    return turned.resize(size, Image.Resampling.BICUBIC, box=box)
