"""The capture checks (imaging.quality) on generated photos whose truth is known: a blurred copy
of the same skin is judged less sharp and a sharp one is not, a photo exposed into white warns,
the calibration card gives its scale in full-size pixels and its light's colour, and a photo
without the card has none. Measured as the import measures: on the decode it makes."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

from tests.core.imaging import synthetic as syn
from tracker.core.imaging import quality
from tracker.core.imaging.decode import decode

SIZE = (1200, 900)


def _decoded(image: Image.Image) -> Image.Image:
    """The pixels the import measures: its own decode of the photo's JPEG."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    pixels = decode(out.getvalue(), pixels=True).pixels
    assert pixels is not None
    return pixels


@cache
def _skin(blur: float = 0.0, exposure: float = 1.0, seed: int = 1) -> quality.Measures:
    shot = syn.Shot(np.eye(3), SIZE, exposure=exposure, blur=blur, seed=seed)
    return quality.measure(_decoded(syn.photograph(syn.skin(3, SIZE), shot)), SIZE)


def _checks(q: dict[str, object]) -> dict[str, dict[str, object]]:
    checks = q["checks"]
    assert isinstance(checks, list)
    return {c["check"]: c for c in checks}


def test_the_first_photo_of_a_view_is_judged_on_its_own() -> None:
    q = quality.judge(_skin(), None, None)
    assert q["reference_id"] is None
    checks = q["checks"]
    assert [c["check"] for c in checks] == ["sharpness", "highlights", "shadows"]
    assert all(set(c) == {"check", "value", "unit", "warned", "message"} for c in checks)
    assert not any(c["warned"] for c in checks) and all(c["message"] == "" for c in checks)
    assert _checks(q)["highlights"]["unit"] == "%"


def test_a_blurred_copy_warns_and_a_sharp_one_does_not() -> None:
    reference = _skin()
    sharp = quality.judge(_skin(seed=2), 7, reference.sharpness)
    assert sharp["reference_id"] == 7 and not _checks(sharp)["sharpness"]["warned"]
    blurred = quality.judge(_skin(blur=3.0, seed=2), 7, reference.sharpness)
    check = _checks(blurred)["sharpness"]
    assert check["warned"]
    assert "as sharp as the reference photo" in str(check["message"])
    assert "hold the phone still" in str(check["message"])


def test_exposure_is_not_taken_for_sharpness() -> None:
    reference = _skin()
    for exposure in (0.7, 1.3):
        ratio = _skin(exposure=exposure, seed=3).sharpness / reference.sharpness
        assert 0.8 < ratio < 1.25, (exposure, ratio)


def test_a_photo_exposed_into_white_warns_of_its_highlights() -> None:
    checks = _checks(quality.judge(_skin(exposure=3.0), None, None))
    assert checks["highlights"]["warned"] and float(str(checks["highlights"]["value"])) > 20
    assert "so bright that its colour is lost" in str(checks["highlights"]["message"])
    dark = _checks(quality.judge(_skin(exposure=0.01), None, None))
    assert dark["shadows"]["warned"] and "shadow" in str(dark["shadows"]["message"])


def test_the_card_gives_its_scale_in_full_size_pixels_within_one_percent() -> None:
    shot = syn.card_photo(3, 16.0, angle_deg=20, tilt_deg=15, frame=(3200, 2400))
    pixels = _decoded(shot.image)
    assert pixels.width < 3200  # measured on the reduced decode, expressed at full size
    measures = quality.measure(pixels, (3200, 2400))
    card = measures.card
    assert card is not None
    assert abs(card["px_per_mm"] / shot.px_per_mm - 1) < 0.01
    assert set(card) == {
        "px_per_mm",
        "markers",
        "residual_px",
        "patches",
        "gains",
        "cast",
        "corners",
    }
    assert card["markers"] == 4 and set(card["patches"]) == {"light", "mid", "dark"}
    truth = syn.apply(shot.card_to_photo, np.array(syn.CARD_CORNERS))
    assert np.abs(np.array(card["corners"]) - truth).max() < 0.01 * 3200
    checks = _checks(quality.judge(measures, None, None))
    assert not checks["cast"]["warned"]
    # The white paper and black markers of the card are not taken for clipped skin.
    assert not checks["highlights"]["warned"] and not checks["shadows"]["warned"]


def test_a_warm_light_on_the_card_warns() -> None:
    shot = syn.card_photo(4, 10.0, temperature=(1.5, 1.0, 0.6), frame=SIZE)
    measures = quality.measure(_decoded(shot.image), SIZE)
    assert measures.card is not None
    check = _checks(quality.judge(measures, None, None))["cast"]
    assert check["warned"] and check["unit"] == "%"
    assert "daylight" in str(check["message"])


def test_a_photo_without_the_card_has_none() -> None:
    measures = _skin()
    assert measures.card is None
    assert "cast" not in _checks(quality.judge(measures, None, None))


def test_the_gains_match_the_reference_cards_exposure() -> None:
    ref = quality.measure(_decoded(syn.card_photo(5, 10.0, frame=SIZE).image), SIZE).card
    dim = syn.card_photo(5, 10.0, exposure=0.7, temperature=(1.1, 1.0, 0.9), frame=SIZE)
    card = quality.measure(_decoded(dim.image), SIZE).card
    assert ref is not None and card is not None
    matched = quality.gains_for(card, ref)
    alone = quality.gains_for(card, None)
    assert matched is not None and alone is not None
    level = sum(ref["patches"]["mid"]) / 3
    mid = [v * g for v, g in zip(card["patches"]["mid"], matched, strict=True)]
    assert all(abs(v - level) < 1.0 for v in mid)
    own = [v * g for v, g in zip(card["patches"]["mid"], alone, strict=True)]
    assert max(own) - min(own) < 1.0 and abs(sum(own) / 3 - level) > 10


def test_the_card_is_looked_for_only_where_black_ink_on_white_paper_could_be() -> None:
    def histogram(image: Image.Image) -> np.ndarray:
        return np.array(_decoded(image).convert("L").histogram(), dtype=np.float32)

    skin = syn.photograph(syn.skin(2, SIZE), syn.Shot(np.eye(3), SIZE))
    assert not quality.may_show_card(histogram(skin))
    for exposure, blur in ((1.3, 3.0), (0.7, 2.0)):
        shot = syn.card_photo(9, 6.0, blur=blur, exposure=exposure, frame=(1600, 1200))
        assert quality.may_show_card(histogram(shot.image))


def test_a_photo_shaken_beyond_recognition_reads_less_than_one_percent_not_zero() -> None:
    reference = _skin()
    shaken = quality.judge(_skin(blur=3.0, seed=2), 7, reference.sharpness * 1000)
    message = str(_checks(shaken)["sharpness"]["message"])
    assert message.startswith("This photo is less than 1 % as sharp"), message
