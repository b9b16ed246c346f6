"""Alignment from landmarks on synthetic pairs with known transforms, and colour gains."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.errors import ValidationError
from tracker.core.imaging import geometry as al


def _similar(angle_deg: float, s: float, tx: float, ty: float) -> al.Matrix:
    a = math.radians(angle_deg)
    return (s * math.cos(a), -s * math.sin(a), tx, s * math.sin(a), s * math.cos(a), ty)


def _close(m1: al.Matrix, m2: al.Matrix, tol: float = 1e-6) -> bool:
    return all(abs(x - y) < tol for x, y in zip(m1, m2, strict=True))


@given(
    angle=st.floats(-30, 30),
    s=st.floats(0.6, 1.6),
    tx=st.floats(-300, 300),
    ty=st.floats(-300, 300),
)
def test_two_points_recover_a_similarity_exactly(
    angle: float, s: float, tx: float, ty: float
) -> None:
    truth = _similar(angle, s, tx, ty)
    src = [(400.0, 300.0), (1200.0, 900.0)]
    dst = [al.apply(truth, p) for p in src]
    result = al.fit(src, dst)
    assert result.kind == "similarity"
    assert _close(result.matrix, truth, 1e-6)
    assert result.max_error < 0.5


def test_many_noisy_points_give_an_affine_within_half_a_pixel() -> None:
    rng = random.Random(7)
    truth: al.Matrix = (1.05, 0.08, 25.0, -0.04, 0.97, -40.0)
    src = [(rng.uniform(0, 4000), rng.uniform(0, 3000)) for _ in range(12)]
    dst = [
        (x + rng.gauss(0, 0.2), y + rng.gauss(0, 0.2)) for x, y in (al.apply(truth, p) for p in src)
    ]
    result = al.fit(src, dst)
    assert result.kind == "affine"
    assert result.rms_error < 0.5
    # Where it matters, inside the photo, the fitted transform is within half a pixel of the truth.
    for p in [(0.0, 0.0), (4000.0, 3000.0), (2000.0, 1500.0)]:
        assert math.dist(al.apply(result.matrix, p), al.apply(truth, p)) < 0.5


def test_three_points_give_the_exact_affine() -> None:
    truth: al.Matrix = (0.9, 0.2, 10.0, -0.1, 1.1, 5.0)
    src = [(0.0, 0.0), (100.0, 0.0), (0.0, 100.0)]
    result = al.fit(src, [al.apply(truth, p) for p in src])
    assert _close(result.matrix, truth, 1e-9) and result.max_error < 1e-6


def test_compose_and_invert() -> None:
    m = _similar(12, 1.3, 40, -7)
    assert _close(al.compose(al.invert(m), m), al.IDENTITY)
    p = (123.0, 456.0)
    n = al.scale(0.5)
    assert al.apply(al.compose(n, m), p) == pytest.approx(al.apply(n, al.apply(m, p)))


@pytest.mark.parametrize(
    ("src", "dst", "words"),
    [
        ([(0, 0), (10, 10)], [(0, 0)], "one has 2, the other 1"),
        ([(0, 0)], [(1, 1)], "at least 2"),
        ([(5, 5), (5, 5)], [(0, 0), (1, 1)], "all in one place"),
        ([(0, 0), (1, 1), (2, 2)], [(0, 0), (1, 1), (2, 3)], "on one line"),
    ],
)
def test_bad_landmarks_are_refused_with_a_sentence(
    src: list[tuple[float, float]], dst: list[tuple[float, float]], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        al.fit(src, dst)


def test_stored_matrices_and_gains_are_checked() -> None:
    assert al.check_matrix([1, 0, 0, 0, 1, 0]) == al.IDENTITY
    with pytest.raises(ValidationError):
        al.check_matrix([1, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationError):
        al.check_matrix([1, 0, float("nan"), 0, 1, 0])
    with pytest.raises(ValidationError):
        al.check_gains([1, 1, 9])


def test_neutral_gains_make_the_patch_grey() -> None:
    patch = (180.0, 150.0, 120.0)
    gains = al.neutral_gains(patch)
    balanced = [v * g for v, g in zip(patch, gains, strict=True)]
    assert max(balanced) - min(balanced) < 1e-9 and balanced[0] == pytest.approx(150.0)
    assert [
        v * g for v, g in zip(patch, al.neutral_gains(patch, 100.0), strict=True)
    ] == pytest.approx([100.0] * 3)
    with pytest.raises(ValidationError, match="too dark"):
        al.neutral_gains((2.0, 50.0, 50.0))
    with pytest.raises(ValidationError, match="too far from neutral"):
        al.neutral_gains((250.0, 20.0, 20.0))


def test_a_small_landmark_group_far_from_the_origin_is_not_taken_for_a_line() -> None:
    # Four corners of a 150 x 50 px grey card near the bottom of a 1600 x 1200 photo.
    src = [(30.0, 1030.0), (430.0, 1040.0), (425.0, 1175.0), (30.0, 1160.0)]
    truth: al.Matrix = (0.99, -0.05, 12.0, 0.05, 0.99, -30.0)
    result = al.fit(src, [al.apply(truth, p) for p in src])
    assert _close(result.matrix, truth, 1e-6)
