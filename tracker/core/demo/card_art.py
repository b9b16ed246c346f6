"""The calibration card lying on the skin in a sample photo: drawn from the card's own layout
(``tracker.core.imaging.card``: its markers' cells, the neutral patches' printed greys, the
ruler), at a known pose, so that finding it in the photo can be checked against the truth.

The card is drawn flat at a fine resolution with Pillow, then laid onto the canvas through the
homography of its pose: its centre, its turn, and a slight tilt (a card on a curved belly or
thigh, seen by a phone not quite square to it), with a soft shadow under it. Each visit places it
afresh, a little differently. Its paper is printed white seen as a light grey, so that a warm or
cool light tints it without clipping.

Loaded only when a card is drawn (numpy and OpenCV come with the card's layout).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from tracker.core.imaging.card import CARD, marker_cells

PAPER = 226  # printed white, as the sample's photos show it (sRGB level)
INK = 28
SHADOW = 0.3  # how much light the card's shadow takes from the skin beside it
FOCAL = 2.0  # the camera's focal length in card widths: how strongly a tilt foreshortens
FINE = 2.0  # the card is drawn at this many times its pixels per mm in the photo, then reduced

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class CardPlacement:
    """Where the card lies on the canvas: its centre (canvas pixels), its turn (degrees,
    counter-clockwise), its tilt (degrees, about an axis in its plane at ``tilt_axis_deg``) and
    the canvas's pixels per millimetre at its centre before the tilt."""

    centre: tuple[float, float]
    angle_deg: float
    tilt_deg: float
    tilt_axis_deg: float
    px_per_mm: float

    def to_canvas(self) -> Floats:
        """The homography from the card's millimetres to the canvas's continuous pixels."""
        a, t = math.radians(self.angle_deg), math.radians(self.tilt_deg)
        axis = math.radians(self.tilt_axis_deg)
        ux, uy = math.cos(axis), math.sin(axis)
        # Rodrigues: a rotation by t about the in-plane axis (ux, uy, 0), after the turn.
        k = np.array([[0, 0, uy], [0, 0, -ux], [-uy, ux, 0]])
        rot = np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)
        spin = np.array([[math.cos(a), math.sin(a), 0], [-math.sin(a), math.cos(a), 0], [0, 0, 1]])
        r = rot @ spin
        f = FOCAL * CARD.width_mm  # the card's centre at depth f: 1 px per mm there, untilted
        project = np.array(
            [[r[0, 0], r[0, 1], 0.0], [r[1, 0], r[1, 1], 0.0], [r[2, 0] / f, r[2, 1] / f, 1.0]]
        )
        zoom = np.diag([self.px_per_mm, self.px_per_mm, 1.0])
        cx, cy = self.centre
        to_centre = np.array(
            [[1.0, 0, -CARD.width_mm / 2], [0, 1.0, -CARD.height_mm / 2], [0, 0, 1.0]]
        )
        place = np.array([[1.0, 0, cx], [0, 1.0, cy], [0, 0, 1.0]])
        return np.asarray(place @ zoom @ project @ to_centre, dtype=np.float64)


def placement(*, seed: int, visit_index: int, canvas: tuple[int, int]) -> CardPlacement:
    """Where this visit's card lies on the wide view's canvas: on the skin low on the side the
    marks leave free, turned 4–12° one way or the other and tilted 6–14°, at 4.5–5.5 px/mm
    for a photo 1600 px wide (a wide view of an abdomen or thigh about 30 cm across)."""
    area = random.Random(seed * 4099 + 1)  # the same for every visit of an area
    scale = area.uniform(4.5, 5.5) * canvas[0] / 1792  # 1792: the canvas of a 1600 px photo
    visit = random.Random(seed * 4099 + 17 * visit_index + 5)
    return CardPlacement(
        centre=(
            (0.72 + visit.uniform(-0.02, 0.02)) * canvas[0],
            (0.73 + visit.uniform(-0.02, 0.02)) * canvas[1],
        ),
        angle_deg=visit.choice((-1, 1)) * visit.uniform(4, 12),
        tilt_deg=visit.uniform(6, 14),
        tilt_axis_deg=visit.uniform(0, 360),
        px_per_mm=scale,
    )


def draw_card(picture: Image.Image, where: CardPlacement) -> None:
    """Lay the card onto ``picture`` (the canvas, RGB) at ``where``, in place."""
    fine = max(6.0, FINE * where.px_per_mm)
    flat = _flat_card(fine).filter(ImageFilter.GaussianBlur(0.45 * FINE))
    to_canvas = where.to_canvas() @ np.diag([1 / fine, 1 / fine, 1.0])
    # Only the card's neighbourhood on the canvas is touched.
    w, h = flat.size
    outline = to_canvas @ np.array([[0, w, w, 0], [0, 0, h, h], [1, 1, 1, 1]], dtype=np.float64)
    outline = outline[:2] / outline[2]
    margin = 4 + 2 * where.px_per_mm
    left, top = (max(0, math.floor(v - margin)) for v in outline.min(axis=1))
    right = min(picture.width, math.ceil(outline[0].max() + margin))
    bottom = min(picture.height, math.ceil(outline[1].max() + margin))
    box = (left, top, right, bottom)
    size = (right - left, bottom - top)
    from_box = np.linalg.inv(to_canvas) @ np.array([[1.0, 0, left], [0, 1.0, top], [0, 0, 1.0]])
    from_box /= from_box[2, 2]
    coeffs = tuple(float(v) for v in from_box.ravel()[:8])
    card = flat.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    inside = Image.new("L", flat.size, 255).transform(
        size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    # A soft shadow, down and to the right of the card, then the card over it.
    region = picture.crop(box)
    offset = round(0.6 * where.px_per_mm)
    shadow = Image.new("L", size, 0)
    shadow.paste(inside, (offset, offset))
    shadow = shadow.filter(ImageFilter.GaussianBlur(1.2 * where.px_per_mm))
    shadow = shadow.point(lambda v: 255 - round(v * SHADOW))
    region = ImageChops.multiply(region, Image.merge("RGB", (shadow, shadow, shadow)))
    region.paste(card.convert("RGB"), (0, 0), inside)
    picture.paste(region, box[:2])


def _flat_card(px_per_mm: float) -> Image.Image:
    """The card as printed, flat, at ``px_per_mm`` (grey): paper, markers, patches, ruler."""
    k = px_per_mm
    image = Image.new("L", (round(CARD.width_mm * k), round(CARD.height_mm * k)), PAPER)
    draw = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float, level: int) -> None:
        # Cells meet exactly: each edge is rounded once, the far one exclusive (a fine line
        # keeps at least a pixel).
        left, top = round(x0 * k), round(y0 * k)
        right, bottom = max(left, round(x1 * k) - 1), max(top, round(y1 * k) - 1)
        draw.rectangle((left, top, right, bottom), level)

    for marker in CARD.markers:
        cells = marker_cells(marker.id)
        cell = marker.size_mm / len(cells)
        for row, line in enumerate(cells):
            for col, black in enumerate(line):
                if black:
                    x, y = marker.x_mm + col * cell, marker.y_mm + row * cell
                    box(x, y, x + cell, y + cell, INK)
    for patch in CARD.patches:
        # The printed grey, as the paper's white makes it look.
        level = round(patch.srgb * PAPER / 255)
        box(patch.x_mm, patch.y_mm, patch.x_mm + patch.size_mm, patch.y_mm + patch.size_mm, level)
    stroke = max(1.0, 0.15 * k)
    box(
        CARD.ruler_x_mm,
        CARD.ruler_y_mm,
        CARD.ruler_x_mm + CARD.ruler_mm,
        CARD.ruler_y_mm + stroke / k,
        INK,
    )
    font = ImageFont.load_default(size=max(6, round(2.2 * k)))
    for tick in CARD.ruler_ticks():
        half = max(0.5, 0.06 * k) / k
        box(tick.x_mm - half, tick.y_mm, tick.x_mm + half, tick.y_mm + tick.length_mm, INK)
        if tick.label:
            draw.text((tick.x_mm * k, (tick.y_mm + 5.6) * k), tick.label, INK, font, "mt")
    ruler_end = CARD.ruler_x_mm + CARD.ruler_mm + 1.5
    draw.text((ruler_end * k, (CARD.ruler_y_mm + 0.6) * k), "cm", INK, font, "lt")
    caption = ImageFont.load_default(size=max(6, round(2.4 * k)))
    draw.text((CARD.width_mm / 2 * k, 52 * k), "calibration card", INK, caption, "mt")
    return image
