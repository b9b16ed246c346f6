"""Generated photos for the sample library: skin with stretch marks that improve visit by visit.

Pure Pillow, deterministic for a given seed. The marks keep their geometry from visit to visit (they
are the same marks), while they fade and narrow as the course goes on. Each visit's photo is framed
and lit a little differently, as a phone held by hand would frame it (``framing``: a small turn,
shift and change of distance, known exactly, so that automatic alignment can be checked against
it), under that day's light (``light``: a warmer or cooler white balance, brighter or darker, or a
lamp in the evening), so that alignment and colour balance have real work to do. The wide view can
show the calibration card lying on the skin beside the marks (``tracker.core.demo.card_art``), and
a photo can be shaken (blurred) as a phone at night takes it.

The skin's texture (grain, pores, blotches) is fixed for a person and a view, at a scale where a
photo registered at about 1024 px shows it: alignment finds the same skin in every visit's photo
of a view, and nothing in common with another area's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from tracker.core.imaging.geometry import Matrix, invert

# Skin tones (sRGB) from light to deep; a seed picks one.
SKIN_TONES = ((236, 196, 170), (224, 172, 138), (198, 142, 106), (160, 108, 76), (118, 78, 56))
# Stria colour by stage: rubra are red-violet, alba paler than the skin around them.
STRIA_COLOURS = {"rubra": (176, 78, 96), "alba": (238, 220, 210), "unknown": (190, 110, 120)}
BACKDROP = (58, 66, 78)
OVERSCAN = 1.12  # render larger, then crop, so framing shifts never show an edge
ZOOM = {"front": 1.0, "close-up": 2.2}  # how much larger the close-up shows the marks
BASE_WIDTH = 1600  # the sample's photos are this wide; lengths in pixels are given at it


@dataclass(frozen=True)
class _Stria:
    points: tuple[tuple[float, float], ...]  # in units of the canvas (0..1)
    width: float  # fraction of the canvas width


@dataclass(frozen=True)
class Framing:
    """How the phone framed the (larger) canvas for one photo: the canvas point at the photo's
    centre, how far the skin appears turned in the photo (degrees, clockwise on screen) and the
    scale (photo pixels per canvas pixel)."""

    centre: tuple[float, float]  # as a fraction of the canvas
    angle_deg: float
    scale: float

    def to_photo(self, size: tuple[int, int]) -> Matrix:
        """The canvas's continuous pixel coordinates to the photo's (size ``size``)."""
        w, h = size
        cx, cy = self.centre[0] * w * OVERSCAN, self.centre[1] * h * OVERSCAN
        a = math.radians(self.angle_deg)
        c, s = self.scale * math.cos(a), self.scale * math.sin(a)
        # photo = size/2 + scale·R(a)·(canvas − centre)
        return (c, -s, w / 2 - c * cx + s * cy, s, c, h / 2 - s * cx - c * cy, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class Light:
    """One photo's light: per-channel gains on the sRGB values (the white balance and the
    exposure together), and light falling off towards one side."""

    gains: tuple[float, float, float]
    fall_angle: float  # degrees
    fall_depth: int  # how much darker the far side is, in 255ths


def framing(*, seed: int, visit_index: int, view: str, take: int = 0) -> Framing:
    """This photo's hand-held framing: turned up to 2°, 4 % nearer or farther, off centre by up
    to 3.5 % of the frame (small enough that the framing check stays quiet). ``take`` 1 is the
    same view taken again a minute later (the baseline's retest pair), framed afresh."""
    rng = random.Random(seed * 7919 + visit_index * 104729 + (view == "close-up") + take * 613)
    return Framing(
        centre=(
            0.5 + rng.uniform(-0.035, 0.035) / OVERSCAN,
            0.5 + rng.uniform(-0.035, 0.035) / OVERSCAN,
        ),
        angle_deg=rng.uniform(-2.0, 2.0),
        scale=rng.uniform(0.96, 1.04),
    )


def light(*, seed: int, visit_index: int, view: str, evening: bool = False, take: int = 0) -> Light:
    """The light of a visit's photo: each visit has its own white balance (a warmer or cooler
    room, 3–7 % either way on red against blue) and exposure; ``evening`` is a lamp at night:
    warm and darker. A re-take (``take``) is in the same room, the phone held a little
    differently."""
    day = random.Random(visit_index * 65537 + 3)  # the room's light that day, for every area
    warm = day.choice((-1, 1)) * day.uniform(0.03, 0.07)
    exposure = day.uniform(0.94, 1.03)
    if evening:
        warm, exposure = 0.11, 0.86
    shot = random.Random(seed * 31 + visit_index * 7 + (view == "close-up") + take * 409)
    exposure *= shot.uniform(0.98, 1.02)
    return Light(
        gains=(exposure * (1 + warm), exposure, exposure * (1 - warm)),
        fall_angle=shot.uniform(0, 360),
        fall_depth=shot.randint(16, 32),
    )


def render_area_photo(
    *,
    seed: int,
    visit_index: int,
    n_visits: int,
    view: str,
    stage: str,
    size: tuple[int, int] = (BASE_WIDTH, 1200),
    card: bool = False,
    evening: bool = False,
    shake: float = 0.0,
    take: int = 0,
    untreated: bool = False,
) -> Image.Image:
    """One photo of a treated area at one visit. ``view`` is "front" or "close-up"; ``card``
    lays the calibration card on the skin beside the marks (the front view only: the close-up
    is too near to show it whole); ``evening`` lights it by a lamp at night; ``shake`` blurs it
    as a hand moving during the exposure does (a Gaussian radius in pixels of a photo
    BASE_WIDTH wide); ``take`` 1 is the view taken again moments later; ``untreated`` marks
    stay as they were at the first visit (an untreated control area)."""
    if n_visits < 1 or not 0 <= visit_index < n_visits:
        raise ValueError(f"visit_index {visit_index} is outside a course of {n_visits} visits")
    if view not in ZOOM:
        raise ValueError(f"unknown view {view!r}")
    if card and view != "front":
        raise ValueError("the calibration card is shown in the front view only")
    width, height = size
    big = (round(width * OVERSCAN), round(height * OVERSCAN))
    tone, marks, shape = _body(seed)  # the same for every visit: the body and its marks
    progress = visit_index / (n_visits - 1) if n_visits > 1 and not untreated else 0.0
    zoom = ZOOM[view]

    # The skin's own detail, for this view: the close-up shows other pores, larger.
    detail = random.Random(seed * 1009 + (view == "close-up"))
    skin = _skin(big, tone, detail)
    mask = _stria_mask(big, marks, zoom=zoom, progress=progress)
    colour = STRIA_COLOURS.get(stage, STRIA_COLOURS["unknown"])
    # Marks fade towards the skin around them as the course goes on.
    strength = 0.85 - 0.5 * progress
    mask = mask.point(lambda v: round(v * strength))
    picture = Image.composite(Image.new("RGB", big, colour), skin, mask)
    picture = ImageChops.multiply(picture, _texture(big, detail, zoom=zoom * width / BASE_WIDTH))

    if view == "front":
        picture = _frame_body(picture, shape)
    if card:
        # start-up time: the card's layout comes with OpenCV, loaded only when a card is drawn
        from tracker.core.demo import card_art

        card_art.draw_card(
            picture, card_art.placement(seed=seed, visit_index=visit_index, canvas=big)
        )
    lit_by = light(seed=seed, visit_index=visit_index, view=view, evening=evening, take=take)
    picture = _light(picture, lit_by)
    photo = _reframe(
        picture, size, framing(seed=seed, visit_index=visit_index, view=view, take=take)
    )
    if shake > 0:
        photo = photo.filter(ImageFilter.GaussianBlur(shake * width / BASE_WIDTH))
    return photo


def _body(seed: int) -> tuple[tuple[int, int, int], list[_Stria], random.Random]:
    """An area's skin tone and marks, the same at every visit, and the generator that goes on
    to draw the body's outline."""
    shape = random.Random(seed)
    tone = SKIN_TONES[shape.randrange(len(SKIN_TONES))]
    return tone, _striae(shape, count=shape.randint(5, 8)), shape


def marks_outline(
    *,
    seed: int,
    view: str,
    visit_index: int = 0,
    take: int = 0,
    size: tuple[int, int] = (BASE_WIDTH, 1200),
    margin: float = 0.025,
) -> list[tuple[float, float]]:
    """An outline around the marks as a person would draw it on that photo: the convex hull of
    the marks at their widest, ``margin`` (a share of the photo's width) beyond them, in the
    photo's pixels and kept 2 px inside it (the close-up shows the marks running off its
    edges)."""
    _tone, marks, _shape = _body(seed)
    w, h = round(size[0] * OVERSCAN), round(size[1] * OVERSCAN)
    zoom = ZOOM[view]
    a, b, c, d, e, f, *_ = framing(
        seed=seed, visit_index=visit_index, view=view, take=take
    ).to_photo(size)
    around: list[tuple[float, float]] = []
    for mark in marks:
        r = mark.width * w * zoom / 2 + margin * w
        for x, y in mark.points:
            cx, cy = (x - 0.5) * zoom * w + w / 2, (y - 0.5) * zoom * h + h / 2
            for k in range(12):
                u, v = cx + r * math.cos(k * math.pi / 6), cy + r * math.sin(k * math.pi / 6)
                around.append((a * u + b * v + c, d * u + e * v + f))
    return [
        (min(max(x, 2.0), size[0] - 2.0), min(max(y, 2.0), size[1] - 2.0)) for x, y in _hull(around)
    ]


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull of ``points``, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(set(points))

    def turn(o: tuple[float, float], p: tuple[float, float], q: tuple[float, float]) -> float:
        return (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for chain, ordered in ((lower, pts), (upper, pts[::-1])):
        for pt in ordered:
            while len(chain) >= 2 and turn(chain[-2], chain[-1], pt) <= 0:
                chain.pop()
            chain.append(pt)
    return lower[:-1] + upper[:-1]


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


def _texture(size: tuple[int, int], rng: random.Random, *, zoom: float) -> Image.Image:
    """Fine grain and pores as a multiplier close to white, ``zoom`` times as coarse as in the
    wide view of a photo BASE_WIDTH wide (whose grain is 4 px: about 2.5 px at the 1024 px
    that photos are registered at, where SIFT finds thousands of features in it)."""
    cell = 4 * zoom
    small = (max(1, round(size[0] / cell)), max(1, round(size[1] / cell)))
    grain = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    grain = grain.resize(size, Image.Resampling.BILINEAR).point(lambda v: 226 + v * 29 // 255)
    # The skin's micro-relief, at the finest scale whatever the view: what a sharp photo shows
    # and a shaken one loses (its sharpness is measured on it).
    fine = (size[0] // 2, size[1] // 2)
    relief = Image.frombytes("L", fine, rng.randbytes(fine[0] * fine[1]))
    relief = relief.resize(size, Image.Resampling.BILINEAR).point(lambda v: 238 + v * 17 // 255)
    grain = ImageChops.multiply(grain, relief)
    # Pores: small dark dots scattered over the grain.
    draw = ImageDraw.Draw(grain)
    r = max(0.6, 1.1 * zoom)
    for _ in range(round(size[0] * size[1] / (900 * zoom * zoom))):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(200, 225))
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


def _light(picture: Image.Image, lit_by: Light) -> Image.Image:
    """The photo's light: its gains per channel, and light falling off towards one side."""
    bands = [
        band.point(lambda v, g=g: min(255, round(v * g)))
        for band, g in zip(picture.split(), lit_by.gains, strict=True)
    ]
    lit = Image.merge("RGB", bands)
    # Rotate a larger gradient and keep its middle, so no corner is left unshaded.
    fall = (
        Image.linear_gradient("L")
        .resize((364, 364))
        .rotate(lit_by.fall_angle, Image.Resampling.BILINEAR)
    )
    fall = fall.crop((54, 54, 310, 310)).resize(picture.size, Image.Resampling.BILINEAR)
    depth = lit_by.fall_depth
    fall = fall.point(lambda v: 255 - v * depth // 255)
    return ImageChops.multiply(lit, Image.merge("RGB", (fall, fall, fall)))


def _reframe(picture: Image.Image, size: tuple[int, int], frame: Framing) -> Image.Image:
    """The photo the phone took of the canvas: ``frame``'s turn, shift and distance, in one
    resampling."""
    a, b, c, d, e, f, *_ = invert(frame.to_photo(size))
    return picture.transform(
        size, Image.Transform.AFFINE, (a, b, c, d, e, f), Image.Resampling.BICUBIC
    )
