"""Alignment from landmarks on synthetic pairs with known transforms (3×3: similarity, affine,
homography), the stored matrices' checks, and colour gains."""

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
    return al.affine_matrix(
        s * math.cos(a), -s * math.sin(a), tx, s * math.sin(a), s * math.cos(a), ty
    )


TILT: al.Matrix = (1.02, 0.05, 30.0, -0.03, 0.98, -20.0, 2e-5, -3e-5, 1.0)


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
    assert result.model == "similarity"
    assert _close(result.matrix, truth, 1e-6)
    assert result.max_error < 0.5


def test_many_noisy_points_give_an_affine_within_half_a_pixel() -> None:
    rng = random.Random(7)
    truth = al.affine_matrix(1.05, 0.08, 25.0, -0.04, 0.97, -40.0)
    src = [(rng.uniform(0, 4000), rng.uniform(0, 3000)) for _ in range(12)]
    dst = [
        (x + rng.gauss(0, 0.2), y + rng.gauss(0, 0.2)) for x, y in (al.apply(truth, p) for p in src)
    ]
    result = al.fit(src, dst)
    assert result.model == "affine"
    assert result.rms_error < 0.5
    # Where it matters, inside the photo, the fitted transform is within half a pixel of the truth.
    for p in [(0.0, 0.0), (4000.0, 3000.0), (2000.0, 1500.0)]:
        assert math.dist(al.apply(result.matrix, p), al.apply(truth, p)) < 0.5


def test_three_points_give_the_exact_affine() -> None:
    truth = al.affine_matrix(0.9, 0.2, 10.0, -0.1, 1.1, 5.0)
    src = [(0.0, 0.0), (100.0, 0.0), (0.0, 100.0)]
    result = al.fit(src, [al.apply(truth, p) for p in src])
    assert _close(result.matrix, truth, 1e-9) and result.max_error < 1e-6


def test_compose_and_invert() -> None:
    m = _similar(12, 1.3, 40, -7)
    assert _close(al.compose(al.invert(m), m), al.IDENTITY)
    p = (123.0, 456.0)
    n = al.scale(0.5)
    assert al.apply(al.compose(n, m), p) == pytest.approx(al.apply(n, al.apply(m, p)))


@given(
    x=st.floats(0, 4000),
    y=st.floats(0, 3000),
    angle=st.floats(-15, 15),
    s=st.floats(0.8, 1.25),
)
def test_homographies_compose_invert_and_round_trip(
    x: float, y: float, angle: float, s: float
) -> None:
    m = al.compose(_similar(angle, s, 15, -40), TILT)
    p = (x, y)
    assert al.apply(al.invert(m), al.apply(m, p)) == pytest.approx(p, abs=1e-6)
    assert al.apply(m, p) == pytest.approx(al.apply(_similar(angle, s, 15, -40), al.apply(TILT, p)))
    assert _close(al.compose(m, al.invert(m)), al.IDENTITY, 1e-9)
    assert al.compose(m, al.IDENTITY)[8] == 1.0 and not al.is_affine(m)


def test_four_or_more_points_take_the_simplest_model_that_explains_them() -> None:
    rng = random.Random(3)
    corners = [(100.0, 100.0), (3900.0, 150.0), (3850.0, 2900.0), (120.0, 2850.0)]
    more = [*corners, (2000.0, 1500.0), (900.0, 2100.0), (3100.0, 700.0)]
    similar = _similar(6, 1.1, 40, -25)
    skewed = al.affine_matrix(1.1, 0.15, 10.0, -0.05, 0.92, 30.0)
    for points in (corners, more):
        # a click's noise (a pixel) does not turn a similarity into an affine or a homography
        noisy = [
            (u + rng.gauss(0, 0.7), v + rng.gauss(0, 0.7))
            for u, v in (al.apply(similar, p) for p in points)
        ]
        assert al.fit(points, noisy).model == "similarity"
        assert al.fit(points, [al.apply(skewed, p) for p in points]).model == "affine"
        # a real tilt, tens of pixels at the corners, is a homography, and exactly so
        tilted = al.fit(points, [al.apply(TILT, p) for p in points])
        assert tilted.model == "homography" and tilted.max_error < 1e-6
        assert _close(tilted.matrix, TILT, 1e-6)
    # with exactly four points a homography fits anything: a slight misfit stays affine
    slightly = [
        (u + d, v)
        for (u, v), d in zip(
            (al.apply(skewed, p) for p in corners), (0.8, -0.8, 0.8, -0.8), strict=True
        )
    ]
    assert al.fit(corners, slightly).model == "affine"


def test_alignments_say_how_they_were_made_in_words() -> None:
    auto = al.Alignment(TILT, "auto", "homography", 812, 0.74)
    assert auto.words() == "Aligned automatically: 812 skin features agree within 1 pixel."
    marks = al.Alignment(al.IDENTITY, "landmarks", "affine", 4, 1.6)
    assert marks.words() == "Aligned on 4 points; they agree within 2 pixels."
    assert al.Alignment(al.IDENTITY, "landmarks", "affine", None, None).words() == (
        "Aligned on landmarks."
    )


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
    assert al.check_matrix([1, 0, 0, 0, 1, 0, 0, 0, 1]) == al.IDENTITY
    assert al.check_matrix([2, 0, 0, 0, 2, 0, 0, 0, 2]) == al.IDENTITY  # normalised
    with pytest.raises(ValidationError, match="nine finite numbers"):
        al.check_matrix([1, 0, 0, 0, 1, 0])  # a 2×3 from before
    with pytest.raises(ValidationError, match="nine finite numbers"):
        al.check_matrix([1, 0, float("nan"), 0, 1, 0, 0, 0, 1])
    with pytest.raises(ValidationError, match="nine finite numbers"):
        al.check_matrix([True, 0, 0, 0, 1, 0, 0, 0, 1])
    with pytest.raises(ValidationError, match="squashes the photo flat"):
        al.check_matrix([1, 0, 0, 0, 0, 0, 0, 0, 1])
    with pytest.raises(ValidationError, match="infinity"):
        al.check_matrix([1, 0, 0, 0, 1, 0, 0, 1, 0])
    folding = [1, 0, 0, 0, 1, 0, -0.001, 0, 1]  # w = 0 at x = 1000
    assert al.check_matrix(folding, (800, 600))[6] == -0.001
    with pytest.raises(ValidationError, match="fold part of the photo"):
        al.check_matrix(folding, (4000, 3000))
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
    truth = al.affine_matrix(0.99, -0.05, 12.0, 0.05, 0.99, -30.0)
    result = al.fit(src, [al.apply(truth, p) for p in src])
    assert _close(result.matrix, truth, 1e-6)
