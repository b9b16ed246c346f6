"""The calibration card against truth: photos of the card generated at known scales, turns,
tilts, blurs, exposures and colour temperatures (tests/core/imaging/synthetic.py), and what
finding it gives (pixels per millimetre, the patches' colours and the balance they make)
measured against what was put in."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest

from tests.core.imaging import synthetic as syn
from tracker.core.imaging import card
from tracker.core.imaging.geometry import check_gains

N_PHOTOS = 50


@dataclass(frozen=True)
class Trial:
    what: str
    truth_px_per_mm: float
    found: card.CardFound | card.CardNotFound


def _trial(seed: int) -> Trial:
    """The card at 3–20 px/mm (evenly on a log scale), turned anyhow, tilted up to 30°,
    blurred up to 1.5 px, exposed ±30 % and warmer or cooler."""
    rng = np.random.default_rng(seed)
    px_per_mm = float(np.exp(rng.uniform(math.log(3), math.log(20))))
    angle, tilt, blur = rng.uniform(-180, 180), rng.uniform(0, 30), rng.uniform(0, 1.5)
    exposure, warm = rng.uniform(0.7, 1.3), rng.uniform(-0.12, 0.12)
    photo = syn.card_photo(
        seed, px_per_mm, angle, tilt, blur, exposure=exposure, temperature=(1 + warm, 1, 1 - warm)
    )
    what = (
        f"{px_per_mm:.1f} px/mm, turned {angle:.0f}°, tilted {tilt:.0f}°, blur {blur:.1f} px, "
        f"exposure {exposure:.2f}, warm {warm:+.2f}"
    )
    try:
        return Trial(what, photo.px_per_mm, card.find_card(photo.image))
    except card.CardNotFound as exc:
        return Trial(what, photo.px_per_mm, exc)


@pytest.fixture(scope="module")
def trials() -> list[Trial]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_trial, range(N_PHOTOS)))


def _found(trials: list[Trial]) -> list[tuple[Trial, card.CardFound]]:
    return [(t, t.found) for t in trials if isinstance(t.found, card.CardFound)]


def test_the_card_is_found_and_measures_pixels_per_millimetre_within_one_percent(
    trials: list[Trial],
) -> None:
    found = _found(trials)
    errors = [(abs(f.px_per_mm / t.truth_px_per_mm - 1), t.what) for t, f in found]
    missed = [f"{t.what}: {t.found}" for t in trials if isinstance(t.found, card.CardNotFound)]
    summary = (
        f"found {len(found)} of {len(trials)}; px/mm error worst {max(errors)[0]:.2%} "
        f"({max(errors)[1]}), median {float(np.median([e for e, _w in errors])):.2%}; "
        f"missed: {missed}"
    )
    assert len(found) >= 0.98 * len(trials), summary
    assert max(errors)[0] <= 0.01, summary
    for _t, f in found:
        assert f.markers >= card.MIN_MARKERS
        assert len(f.to_image) == 9


def test_after_its_balance_a_grey_patch_matches_the_reference_within_delta_e_2(
    trials: list[Trial],
) -> None:
    """The light and dark patches (the gains come from the mid one) against the same patches
    in a reference photo of the card, each balanced by its own card, to the reference's
    level: what Compare sees."""
    reference = card.find_card(syn.card_photo(999, 8.0).image)
    own = card.balance(reference.patches)
    level = sum(v * g for v, g in zip(reference.patches["mid"], own.gains, strict=True)) / 3
    wanted = {name: syn.balanced(reference.patches[name], own.gains) for name in ("light", "dark")}
    worst = (0.0, "")
    for t, f in _found(trials):
        gains = card.balance(f.patches, level).gains
        for name in ("light", "dark"):
            de = syn.delta_e2000(syn.balanced(f.patches[name], gains), wanted[name])
            worst = max(worst, (de, f"{name} patch, {t.what}"))
    assert worst[0] < 2.0, f"worst ΔE2000 {worst[0]:.2f}: {worst[1]}"


def test_a_small_card_in_a_large_photo_is_found_in_the_photo_itself() -> None:
    """At 3 px/mm in a 2600 px photo, the card's markers are too small to read at the reduced
    size the search starts at; the photo itself is searched then."""
    photo = syn.card_photo(8, 3.0, angle_deg=30, tilt_deg=25, blur=0.8, frame=(2600, 1950))
    found = card.find_card(photo.image)
    assert found.markers == 4
    assert found.px_per_mm == pytest.approx(photo.px_per_mm, rel=0.01)


def test_a_photo_without_the_card_says_so() -> None:
    for seed in (1, 2):
        p = syn.pair(seed, (800, 600))
        with pytest.raises(card.CardNotFound, match="No calibration card was found"):
            card.find_card(p.photo)


def test_the_balance_makes_the_mid_patch_neutral_and_finds_a_cast_it_cannot_undo() -> None:
    warm = {
        "light": (210.0, 196.0, 180.0),
        "mid": (130.0, 120.0, 108.0),
        "dark": (61.0, 56.0, 50.0),
    }
    b = card.balance(warm)
    mid = syn.balanced(warm["mid"], b.gains)
    assert max(mid) - min(mid) < 1e-9
    assert b.cast < card.CAST_LIMIT
    check_gains(b.gains)  # a balance the compare window can store
    # A coloured light on the dark patch only (or a print with a cast): gains cannot undo it.
    odd = {**warm, "dark": (50.0, 56.0, 66.0)}
    assert card.balance(odd).cast > card.CAST_LIMIT
    # To another photo's level, brightness follows too.
    assert sum(syn.balanced(warm["mid"], card.balance(warm, 100.0).gains)) == pytest.approx(300)
    with pytest.raises(card.CardNotFound, match="too dark or too bright"):
        card.balance({**warm, "mid": (255.0, 250.0, 240.0)})
    with pytest.raises(card.CardNotFound, match="too far from grey"):
        card.balance({**warm, "mid": (240.0, 20.0, 20.0)})


def test_the_markers_are_the_dictionarys_with_their_black_border() -> None:
    cells = [card.marker_cells(m.id) for m in card.CARD.markers]
    for grid in cells:
        assert len(grid) == 6 and all(len(row) == 6 for row in grid)
        assert all(grid[0]) and all(grid[5]) and all(row[0] and row[5] for row in grid)
    assert len({tuple(g) for g in cells}) == 4
    ticks = card.CARD.ruler_ticks()
    assert len(ticks) == card.CARD.ruler_mm + 1
    assert [t.label for t in ticks if t.label] == ["0", "1", "2", "3", "4", "5"]
