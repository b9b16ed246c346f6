"""Framing against the reference photo, read from an alignment: how much larger or smaller the
area shows, how far the phone was turned and how far off centre the area sits, and what to do
about it in a sentence. Pure Python (it runs where alignments are stored).

The measures, from the alignment ``m`` (this photo's upright pixels → the reference's) at the
centre of the photo: its scale relative to the two frames' long sides (1 when the area fills
both frames alike; below 1 when it fills more of this photo), its rotation, and where the
photo's centre lands in the reference, as a share of the reference's frame. Thresholds:
``SCALE_OFF`` (10 %), ``ROTATION_OFF`` (5°), ``OFFSET_OFF`` (10 % of the frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tracker.core.imaging.geometry import Matrix, apply

SCALE_OFF = 0.10
ROTATION_OFF = 5.0  # degrees
OFFSET_OFF = 0.10

Size = tuple[int, int]


@dataclass(frozen=True)
class Framing:
    scale: float  # the area's size in the reference's frame over its size in this photo's
    rotation_deg: float  # positive: this photo must turn clockwise to lie on the reference
    offset: tuple[float, float]  # the photo's centre in the reference, from its centre, /frame

    def advice(self) -> list[str]:
        """A sentence for each measure that is off, most important first."""
        out = []
        if self.scale < 1 - SCALE_OFF:
            out.append(
                "Step back a little: the area fills more of this photo than of the first one."
            )
        elif self.scale > 1 + SCALE_OFF:
            out.append(
                "Come a little closer: the area fills less of this photo than of the first one."
            )
        if self.rotation_deg > ROTATION_OFF:
            out.append(
                "Turn the phone a little counter-clockwise: this photo is tilted against the first one."
            )
        elif self.rotation_deg < -ROTATION_OFF:
            out.append(
                "Turn the phone a little clockwise: this photo is tilted against the first one."
            )
        dx, dy = self.offset
        if dx > OFFSET_OFF:
            out.append(
                "Move the phone a little to the left: the area sits off centre compared with the first one."
            )
        elif dx < -OFFSET_OFF:
            out.append(
                "Move the phone a little to the right: the area sits off centre compared with the first one."
            )
        if dy > OFFSET_OFF:
            out.append(
                "Move the phone a little up: the area sits off centre compared with the first one."
            )
        elif dy < -OFFSET_OFF:
            out.append(
                "Move the phone a little down: the area sits off centre compared with the first one."
            )
        return out


def framing(m: Matrix, photo: Size, reference: Size) -> Framing:
    w, h = photo
    cx, cy = w / 2, h / 2
    # the local linear part at the centre, by central differences (exact for an affine)
    eps = max(w, h) / 100
    x1, y1 = apply(m, (cx + eps, cy))
    x0, y0 = apply(m, (cx - eps, cy))
    u1, v1 = apply(m, (cx, cy + eps))
    u0, v0 = apply(m, (cx, cy - eps))
    a, d = (x1 - x0) / (2 * eps), (y1 - y0) / (2 * eps)
    b, e = (u1 - u0) / (2 * eps), (v1 - v0) / (2 * eps)
    px = math.sqrt(abs(a * e - b * d))
    rotation = math.degrees(math.atan2(d - b, a + e))
    mx, my = apply(m, (cx, cy))
    rw, rh = reference
    return Framing(
        scale=px * max(w, h) / max(rw, rh),
        rotation_deg=rotation,
        offset=((mx - rw / 2) / rw, (my - rh / 2) / rh),
    )


def framing_check(m: Matrix, photo: Size, reference: Size) -> dict[str, Any]:
    """The "framing" entry of a photo's ``quality`` checks: the measure farthest off its
    threshold as the value, with its unit, whether any warned, and what to do."""
    f = framing(m, photo, reference)
    measures = [
        (abs(f.scale - 1) / SCALE_OFF, round(100 * (f.scale - 1), 1), "% size"),
        (abs(f.rotation_deg) / ROTATION_OFF, round(f.rotation_deg, 1), "°"),
        (
            max(abs(f.offset[0]), abs(f.offset[1])) / OFFSET_OFF,
            round(100 * max(abs(f.offset[0]), abs(f.offset[1])), 1),
            "% of the frame off centre",
        ),
    ]
    _, value, unit = max(measures, key=lambda t: t[0])
    advice = f.advice()
    return {
        "check": "framing",
        "value": value,
        "unit": unit,
        "warned": bool(advice),
        "message": " ".join(advice),
    }


ORDER = ("sharpness", "highlights", "shadows", "cast", "framing")


def merge_framing(
    quality: dict[str, Any] | None, check: dict[str, Any] | None, reference_id: int
) -> dict[str, Any] | None:
    """``quality`` with its framing check replaced by ``check`` (None removes it), the checks
    kept in their order; a photo without checks gets {"reference_id": …, "checks": [...]}."""
    if quality is None:
        if check is None:
            return None
        quality = {"reference_id": reference_id, "checks": []}
    checks = [c for c in quality.get("checks", []) if c.get("check") != "framing"]
    if check is not None:
        checks.append(check)
    rank = {name: i for i, name in enumerate(ORDER)}
    checks.sort(key=lambda c: rank.get(c.get("check", ""), len(ORDER)))
    return {**quality, "checks": checks}
