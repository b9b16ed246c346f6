"""Framing against the reference, read from an alignment: each measure's direction, its
threshold, and the check merged into a photo's quality."""

from __future__ import annotations

import math

import pytest

from tracker.core.imaging import framing as fr
from tracker.core.imaging import geometry as al

SIZE = (1000, 800)


def _about_centre(angle_deg: float, s: float, shift: tuple[float, float] = (0, 0)) -> al.Matrix:
    """This photo → the reference: turned by ``angle_deg`` (clockwise on screen) and scaled
    by ``s`` about the centre, then shifted."""
    a = math.radians(angle_deg)
    c, d = s * math.cos(a), s * math.sin(a)
    cx, cy = SIZE[0] / 2, SIZE[1] / 2
    return al.affine_matrix(
        c, -d, cx - c * cx + d * cy + shift[0], d, c, cy - d * cx - c * cy + shift[1]
    )


def test_a_photo_framed_like_the_reference_is_fine() -> None:
    check = fr.framing_check(_about_centre(2, 1.04, (30, -20)), SIZE, SIZE)
    assert check["check"] == "framing" and not check["warned"] and check["message"] == ""


@pytest.mark.parametrize(
    ("m", "words"),
    [
        (_about_centre(0, 0.85), "Step back a little"),
        (_about_centre(0, 1.2), "Come a little closer"),
        (_about_centre(8, 1.0), "counter-clockwise"),
        (_about_centre(-8, 1.0), "Turn the phone a little clockwise"),
        (_about_centre(0, 1.0, (150, 0)), "to the left"),
        (_about_centre(0, 1.0, (-150, 0)), "to the right"),
        (_about_centre(0, 1.0, (0, 120)), "a little up"),
    ],
)
def test_each_measure_off_says_what_to_do(m: al.Matrix, words: str) -> None:
    check = fr.framing_check(m, SIZE, SIZE)
    assert check["warned"] and words in check["message"]
    assert check["message"].endswith(".")


def test_the_scale_is_of_the_frames_not_the_pixels() -> None:
    # the same framing by a phone with twice the pixels: half the scale in pixels, not off
    double = al.compose(_about_centre(0, 1.0), al.scale(0.5))
    f = fr.framing(double, (2000, 1600), SIZE)
    assert f.scale == pytest.approx(1.0) and f.offset == pytest.approx((0.0, 0.0))
    assert fr.framing_check(double, (2000, 1600), SIZE)["warned"] is False


def test_the_framing_check_replaces_an_older_one_in_its_place() -> None:
    old = {"check": "framing", "value": 1.0, "unit": "°", "warned": False, "message": ""}
    sharp = {"check": "sharpness", "value": 0.9, "unit": "", "warned": False, "message": ""}
    cast = {"check": "cast", "value": 2.0, "unit": "ΔE", "warned": False, "message": ""}
    new = fr.framing_check(_about_centre(0, 0.8), SIZE, SIZE)
    merged = fr.merge_framing({"reference_id": 4, "checks": [old, cast, sharp]}, new, 9)
    assert merged == {"reference_id": 4, "checks": [sharp, cast, new]}
    assert fr.merge_framing(None, new, 9) == {"reference_id": 9, "checks": [new]}
    assert fr.merge_framing(merged, None, 9) == {"reference_id": 4, "checks": [sharp, cast]}
    assert fr.merge_framing(None, None, 9) is None
