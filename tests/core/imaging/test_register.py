"""Automatic registration against truth: generated skin seen through known transforms
(tests/core/imaging/synthetic.py), the error measured where it shows most, at the photo's
corners, and every refusal checked to be one.

The images are 480×360 "previews" of photos of other full-resolution sizes, so the conversion
to full-resolution pixels is tested too; the benchmark (``python -m tracker.bench --only
align``) runs the same measurement on 12 MP photos' previews.
"""

from __future__ import annotations

import io
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from tests.core.imaging import synthetic as syn
from tracker.core.imaging import register as rg

PREVIEW = (480, 360)
PHOTO_FULL = (960, 720)  # the photo's full-resolution size
REFERENCE_FULL = (1200, 900)  # another camera's
N_PAIRS = 60


def _to_full(m: syn.Matrix3, photo_full: tuple[int, int], ref_full: tuple[int, int]) -> syn.Matrix3:
    """A transform between previews as one between the photos' full-resolution pixels."""
    to_photo_preview = np.diag([PREVIEW[0] / photo_full[0], PREVIEW[1] / photo_full[1], 1.0])
    from_ref_preview = np.diag([ref_full[0] / PREVIEW[0], ref_full[1] / PREVIEW[1], 1.0])
    return from_ref_preview @ m @ to_photo_preview


@dataclass(frozen=True)
class Outcome:
    seed: int
    result: rg.Registration | None
    refusal: rg.RegistrationRefused | None
    error: float | None  # the worst corner's error, as a fraction of the reference's diagonal


def _run(seed: int) -> Outcome:
    p = syn.pair(seed, PREVIEW)
    assert p.truth is not None
    try:
        found = rg.register(p.photo, PHOTO_FULL, p.reference, REFERENCE_FULL)
    except rg.RegistrationRefused as exc:
        return Outcome(seed, None, exc, None)
    truth = _to_full(p.truth, PHOTO_FULL, REFERENCE_FULL)
    matrix = np.array(found.matrix).reshape(3, 3)
    error = syn.corner_error(matrix, truth, PHOTO_FULL) / math.hypot(*REFERENCE_FULL)
    return Outcome(seed, found, None, error)


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    # OpenCV and numpy let go of the interpreter: two pairs at a time use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_run, range(N_PAIRS)))


def _report(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.result is None:
            lines.append(f"pair {o.seed}: refused ({o.refusal})")
        else:
            r = o.result
            lines.append(
                f"pair {o.seed}: {r.method}, {r.inliers}/{r.matches} inliers, "
                f"residual {r.residual_px:.2f} px, corner error {o.error:.4%}"
            )
    return "\n".join(lines)


def test_photos_of_the_same_skin_are_aligned_to_a_fraction_of_a_pixel(
    outcomes: list[Outcome],
) -> None:
    aligned = [o for o in outcomes if o.error is not None]
    errors = np.array([o.error for o in aligned])
    success = len(aligned) / len(outcomes)
    median, p95 = float(np.median(errors)), float(np.percentile(errors, 95))
    summary = (
        f"success {success:.0%}, median corner error {median:.4%}, 95th percentile {p95:.4%} "
        f"of the diagonal\n{_report(outcomes)}"
    )
    assert success >= 0.95, summary
    assert median <= 0.001, summary
    assert p95 <= 0.003, summary


def test_every_result_says_how_it_was_found_and_how_well(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        if o.result is None:
            continue
        r = o.result
        assert r.method == f"auto:sift-magsac-{r.model}"
        assert r.inliers >= rg.MIN_INLIERS and r.inliers <= r.matches
        assert 0 < r.residual_px < 3 * rg.THRESHOLD * REFERENCE_FULL[0] / PREVIEW[0]
        assert r.quality in ("good", "fair")
        assert len(r.matrix) == 9 and r.matrix[8] == pytest.approx(1.0)
    # The pairs have mild perspective: the homography explains them, and says so.
    models = {o.result.model for o in outcomes if o.result is not None}
    assert "homography" in models, _report(outcomes)


def _unrelated(seed: int) -> tuple[str, rg.Registration | rg.RegistrationRefused]:
    p = syn.unrelated_pair(seed, PREVIEW)
    try:
        return p.what, rg.register(p.photo, PHOTO_FULL, p.reference, REFERENCE_FULL)
    except rg.RegistrationRefused as exc:
        return p.what, exc


def test_photos_that_do_not_overlap_or_are_of_another_person_are_refused() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_unrelated, range(16)))
    aligned = [(what, r) for what, r in results if isinstance(r, rg.Registration)]
    assert aligned == [], f"aligned what must not be: {aligned}"
    kinds = {what for what, _r in results}
    assert kinds == {"two people's skin", "the same skin, parts that do not overlap"}
    for _what, refusal in results:
        assert isinstance(refusal, rg.RegistrationRefused)
        assert "landmarks" in str(refusal)


def test_the_simplest_model_that_explains_the_matches_is_chosen() -> None:
    """Without perspective a similarity does as well as a homography, and is kept: exactly
    affine (a last row of 0, 0, 1), as a 2×3 alignment can hold it."""
    for seed in (200, 201, 202):
        p = syn.pair(seed, PREVIEW, perspective=0.0)
        found = rg.register(p.photo, PREVIEW, p.reference, PREVIEW)
        assert p.truth is not None
        error = syn.corner_error(np.array(found.matrix).reshape(3, 3), p.truth, PREVIEW)
        assert found.model == "similarity", (seed, found)
        assert found.matrix[6:] == (0.0, 0.0, 1.0)
        assert error / math.hypot(*PREVIEW) <= 0.001, (seed, error)


def _shifted(fraction: float, scale: float = 1.0) -> tuple[Image.Image, Image.Image]:
    """A reference and a photo of the same skin, the photo moved by ``fraction`` of the
    frame's width and zoomed by ``scale``."""
    w, h = PREVIEW
    scene = syn.skin(3, (3 * w, 2 * h), max(w, h) / 1000)
    ref_from_scene = syn.translate(-w / 2, -h / 2)
    move = syn.similarity(0.0, scale, (w / 2, h / 2)) @ syn.translate(-fraction * w, 0)
    reference = syn.photograph(scene, syn.Shot(ref_from_scene, PREVIEW, seed=1))
    photo = syn.photograph(scene, syn.Shot(move @ ref_from_scene, PREVIEW, seed=2))
    return photo, reference


def test_a_photo_that_would_cover_too_little_of_the_reference_is_refused() -> None:
    photo, reference = _shifted(0.82)
    with pytest.raises(rg.RegistrationRefused) as refused:
        rg.register(photo, PREVIEW, reference, PREVIEW)
    assert refused.value.reason == "coverage", refused.value
    assert "would cover only" in str(refused.value)


def test_a_photo_taken_from_much_farther_away_is_refused() -> None:
    photo, reference = _shifted(0.0, scale=0.42)
    with pytest.raises(rg.RegistrationRefused) as refused:
        rg.register(photo, PREVIEW, reference, PREVIEW)
    assert refused.value.reason in ("implausible", "coverage"), refused.value


def test_a_featureless_photo_is_refused_for_what_it_lacks() -> None:
    blank = Image.new("RGB", PREVIEW, (200, 160, 140))
    p = syn.pair(5, PREVIEW)
    with pytest.raises(rg.RegistrationRefused) as refused:
        rg.register(blank, PREVIEW, p.reference, PREVIEW)
    assert refused.value.reason == "few_features"
    assert "the photo shows too little detail" in str(refused.value)


def test_a_preview_is_read_for_registration_at_the_working_size() -> None:
    out = io.BytesIO()
    Image.new("RGB", (2048, 1536), (200, 150, 130)).save(out, "JPEG", quality=90)
    image = rg.working_image(out.getvalue())
    assert image.mode == "L"
    assert image.size == (1024, 768)  # decoded at half size by DCT scaling: no resampling


def test_akaze_registers_too() -> None:
    """The other detector, kept to measure against (docs/ARCHITECTURE.md says why SIFT)."""
    p = syn.pair(7, PREVIEW)
    found = rg.register(p.photo, PREVIEW, p.reference, PREVIEW, detector="akaze")
    assert p.truth is not None
    error = syn.corner_error(np.array(found.matrix).reshape(3, 3), p.truth, PREVIEW)
    assert found.method.startswith("auto:akaze-magsac-")
    assert error / math.hypot(*PREVIEW) <= 0.002


def test_the_same_photos_give_the_same_answer_every_time() -> None:
    p = syn.pair(9, PREVIEW)
    first = rg.register(p.photo, PHOTO_FULL, p.reference, REFERENCE_FULL)
    again = rg.register(p.photo, PHOTO_FULL, p.reference, REFERENCE_FULL)
    assert first == again
