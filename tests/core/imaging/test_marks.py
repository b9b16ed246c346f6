"""The marks' measures against generated truth (tests/core/imaging/marks_synthetic.py): width,
area and ΔE2000 across skin tones, scales, exposures and colour temperatures; a fading series;
re-takes inside the default band; refusals. Each table of truth against found is in the
failure message."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tests.core.imaging import synthetic
from tests.core.imaging.marks_synthetic import ALBA, RUBRA, MarksPhoto, marks_photo
from tracker.core.errors import ValidationError
from tracker.core.imaging import colour, marks


def _measure(p: MarksPhoto, stage: str) -> marks.MarkMeasures:
    return marks.measure(
        p.image, stage=stage, region=p.region, px_per_mm=p.px_per_mm, gains=p.gains
    )


def test_lab_and_delta_e_agree_with_the_reference() -> None:
    rng = np.random.default_rng(3)
    colours = [tuple(float(v) for v in rng.uniform(20, 250, 3)) for _ in range(40)]
    for c1, c2 in zip(colours[::2], colours[1::2], strict=True):
        ours = [colour.lab_from_linear(synthetic.to_linear(np.array(c))) for c in (c1, c2)]
        assert np.allclose(ours[0], synthetic.lab(c1), atol=1e-6)  # type: ignore[arg-type]
        found = float(colour.delta_e2000(ours[0], ours[1]))
        assert found == pytest.approx(synthetic.delta_e2000(c1, c2), abs=1e-9)  # type: ignore[arg-type]
    # Vectorised over pixels, and the 8-bit table through gains is the sRGB curve of v × g.
    pixels = np.array([[[10, 128, 250], [255, 0, 64]]], np.uint8)
    lin = np.dstack(colour.linear_planes(pixels, (1.1, 1.0, 0.9)))
    assert lin[0, 0] == pytest.approx(synthetic.to_linear(np.array([11.0, 128.0, 225.0])), 1e-5)
    assert lin[0, 1, 0] == 1.0  # clipped at 255
    assert colour.delta_e2000(colour.lab_from_linear(lin), colour.lab_from_linear(lin)).shape == (
        1,
        2,
    )
    # The planes' f (L* and a* of the measures' score) is the whole conversion's, in float32.
    fx, fy = colour.lab_f(colour.linear_planes(pixels, (1.1, 1.0, 0.9)), (0, 1))
    lab = colour.lab_from_linear(lin)
    assert np.allclose(116 * fy - 16, lab[..., 0], atol=1e-3)
    assert np.allclose(500 * (fx - fy), lab[..., 1], atol=1e-3)
    # ITA and the indices on known values.
    assert colour.ita(np.array([60.0, 10.0, 10.0])) == pytest.approx(45.0)
    assert colour.erythema_index(np.array([0.5, 0.25, 0.2])) == pytest.approx(100 * math.log10(2))
    assert colour.melanin_index(np.array([0.1, 0.2, 0.2])) == pytest.approx(100.0)


# ppm, width mm, length mm, tone, stage, exposure, warm, stripes, curve mm
CASES = [
    (5, 1.0, 30, 5, "rubra", 1.3, -0.10, 2, 0.0),
    (5, 2.0, 40, 1, "alba", 1.0, -0.10, 2, 3.0),
    (5, 8.0, 60, 0, "alba", 0.7, -0.10, 1, 0.0),
    (10, 0.5, 30, 2, "rubra", 1.3, 0.10, 2, 0.0),
    (10, 2.0, 40, 3, "alba", 1.3, 0.10, 2, 2.0),
    (10, 4.0, 40, 4, "rubra", 1.0, -0.10, 2, 0.0),
    (15, 3.0, 30, 0, "rubra", 0.7, 0.12, 2, 1.5),
    (20, 0.5, 20, 1, "rubra", 1.0, 0.10, 2, 0.0),
    (20, 1.0, 25, 5, "alba", 1.3, 0.00, 2, 1.0),
    (20, 6.0, 25, 2, "rubra", 0.8, 0.10, 1, 0.0),
]


def test_width_area_and_colour_against_truth() -> None:
    rows, bad = [], []
    for i, (ppm, width, length, tone, stage, exposure, warm, count, curve) in enumerate(CASES):
        p = marks_photo(
            10 + i,
            tone=tone,
            px_per_mm=ppm,
            width_mm=width,
            length_mm=length,
            offset=RUBRA if stage == "rubra" else ALBA,
            exposure=exposure,
            warm=warm,
            count=count,
            curve_mm=curve,
        )
        r = _measure(p, stage)
        assert r.marks_found and r.mean_width_mm and r.area_mm2 and r.delta_e00
        w_err = r.mean_width_mm - width
        a_err = r.area_mm2 / p.area_mm2 - 1
        e_err = r.delta_e00 - p.delta_e00
        row = (
            f"{ppm:>3} {width:>4} tone {tone} {stage:<5} exp {exposure:.1f} warm {warm:+.2f} | "
            f"width {r.mean_width_mm:6.3f} ({w_err:+.3f}) area {p.area_mm2:6.1f}→{r.area_mm2:6.1f}"
            f" ({a_err:+.1%}) length {p.length_mm:5.1f}→{r.length_mm:5.1f} "
            f"ΔE00 {p.delta_e00:.2f}→{r.delta_e00:.2f} ({e_err:+.2f})"
        )
        rows.append(row)
        # Marks under 1 mm come out about half a pixel wider on each side: a JPEG keeps
        # colour at half resolution, which blurs a* more than the lens does (measured: +14 %
        # on 0.5 mm at 10 px/mm, -3 % at 20 px/mm); their area is held to 15 %.
        area_limit = 0.10 if width >= 1.0 else 0.15
        if abs(w_err) > max(0.1 * width, 0.2) or abs(a_err) > area_limit or abs(e_err) > 1.5:
            bad.append(row)
    assert not bad, "\n".join(["outside the targets:", *bad, "all:", *rows])


def test_a_fading_series_falls_monotonically() -> None:
    keys = ("delta_e00", "delta_a", "erythema_index_delta", "area_mm2", "mean_width_mm")
    series = []
    for fade in (1.0, 0.8, 0.6, 0.4):
        p = marks_photo(
            5, tone=1, px_per_mm=10, width_mm=3.0 * (0.5 + 0.5 * fade), length_mm=40, fade=fade
        )
        values = _measure(p, "rubra").as_dict()
        series.append([float(values[k]) for k in keys])  # type: ignore[arg-type]
    table = "\n".join(" ".join(f"{v:8.3f}" for v in row) for row in series)
    for column, key in enumerate(keys):
        falling = [row[column] for row in series]
        assert all(a > b for a, b in itertools.pairwise(falling)), f"{key}\n{table}"


# ppm, width mm, centre lines apart (× width), tone, stage, exposure, warm: two marks side by
# side found as one band (their ends 3 mm, or a width, apart), and a third on its own, 30 mm
# each (60 mm at 8 mm wide). Measured before the band was counted as its marks (length,
# mean width): −31 %, +1.03 mm; −31 %, +1.82; −30 %, +0.44; −30 %, +1.38; −31 %, +0.85;
# −31 %, +0.47; −31 %, +0.69; −30 %, +0.27; −29 %, +3.08. After: −1.8 %, +0.13 mm; −6.5 %,
# +0.30; −0.3 %, +0.01; −5.1 %, +0.24; −2.9 %, +0.04; −1.6 %, +0.04; −2.8 %, −0.08; −0.1 %,
# +0.04; −5.7 %, +0.31; areas within 5 % and ΔE00 within 0.35 throughout.
TOUCHING = [
    (5, 2.0, 1.0, 0, "rubra", 0.8, -0.10),
    (5, 4.0, 1.05, 3, "alba", 0.7, 0.10),
    (10, 1.0, 1.0, 5, "rubra", 1.0, 0.12),
    (10, 3.0, 1.1, 2, "rubra", 0.8, -0.10),
    (15, 2.0, 1.0, 4, "alba", 1.3, 0.0),
    (20, 1.0, 1.05, 1, "rubra", 0.7, 0.10),
    (20, 2.0, 0.9, 2, "alba", 1.0, -0.12),
    (10, 0.5, 1.0, 3, "rubra", 1.0, 0.0),
    (5, 8.0, 1.0, 1, "rubra", 1.0, 0.0),
]


def test_touching_marks_are_measured_as_the_marks_they_are() -> None:
    rows, bad = [], []
    for i, (ppm, width, apart, tone, stage, exposure, warm) in enumerate(TOUCHING):
        length = 30 if width < 8 else 60
        size = (max(600, int((length + 12) * ppm)), max(450, int(22 * ppm)) if width < 8 else 560)
        p = marks_photo(
            60 + i,
            tone=tone,
            px_per_mm=ppm,
            width_mm=width,
            length_mm=length,
            offset=RUBRA if stage == "rubra" else ALBA,
            exposure=exposure,
            warm=warm,
            count=3,
            beside_mm=apart * width,
            stagger_mm=max(3.0, width),
            size=size,
        )
        r = _measure(p, stage)
        assert r.length_mm and r.mean_width_mm and r.area_mm2 and r.delta_e00
        l_err, w_err = r.length_mm / p.length_mm - 1, r.mean_width_mm - width
        a_err, e_err = r.area_mm2 / p.area_mm2 - 1, r.delta_e00 - p.delta_e00
        row = (
            f"{ppm:>3} {width:>4} apart {apart:.2f} tone {tone} {stage:<5} | length "
            f"{p.length_mm:5.1f}→{r.length_mm:5.1f} ({l_err:+.1%}) width {r.mean_width_mm:.2f} "
            f"({w_err:+.2f}) area {a_err:+.1%} ΔE00 {e_err:+.2f}"
        )
        rows.append(row)
        if (
            abs(l_err) > 0.10
            or abs(w_err) > max(0.1 * width, 0.2)
            or abs(a_err) > 0.10
            or abs(e_err) > 1.5
        ):
            bad.append(row)
    assert not bad, "\n".join(["outside the targets:", *bad, "all:", *rows])


def test_touching_marks_that_part_as_they_fade_do_not_grow_longer() -> None:
    # The pair 3.3 mm apart centre to centre, 3.0 mm wide (one band) narrowing to 2.1 mm
    # (apart), and a third mark, 120 mm in all. Measured (mm): before 94.9 → 118.2 → 118.3 →
    # 119.0 (the jump as the band parts), after 126.1 → 118.2 → 118.3 → 119.0.
    lengths, widths = [], []
    for fade in (1.0, 0.8, 0.6, 0.4):
        width = 3.0 * (0.5 + 0.5 * fade)
        p = marks_photo(
            5, tone=1, px_per_mm=10, width_mm=width, length_mm=40, fade=fade, count=3, beside_mm=3.3
        )
        r = _measure(p, "rubra")
        assert r.length_mm and r.mean_width_mm
        lengths.append(r.length_mm / p.length_mm)
        widths.append(r.mean_width_mm)
    table = " → ".join(f"{v:.3f}" for v in lengths) + " of the truth; widths " + str(widths)
    assert all(abs(v - 1) <= 0.10 for v in lengths), table
    band = marks.DEFAULT_BAND["length_mm"][1]
    assert all(b <= a * (1 + band) for a, b in itertools.pairwise(lengths)), table
    assert all(a > b for a, b in itertools.pairwise(widths)), table


RETAKES = [
    (5, 2.0, 1, "alba", 0.8),
    (10, 1.0, 4, "rubra", 1.0),
    (10, 3.0, 0, "rubra", 0.9),
    (15, 2.0, 5, "alba", 1.1),
    (20, 4.0, 2, "rubra", 1.0),
]


def test_a_retake_changes_no_measure_beyond_the_default_band() -> None:
    worst: dict[str, float] = {}
    lines = []
    for i, (ppm, width, tone, stage, exposure) in enumerate(RETAKES):
        common = {
            "tone": tone,
            "px_per_mm": ppm,
            "width_mm": width,
            "length_mm": 25,
            "offset": RUBRA if stage == "rubra" else ALBA,
            "count": 1 if width > 3 else 2,
        }
        first = _measure(marks_photo(40 + i, exposure=exposure, **common), stage)  # type: ignore[arg-type]
        again = marks_photo(40 + i, exposure=exposure * 1.1, shift=(3.0, 3.0), quality=80, **common)  # type: ignore[arg-type]
        second = _measure(again, stage)
        band = marks.default_band(first)
        a, b = first.as_dict(), second.as_dict()
        for key, limit in band.items():
            assert limit is not None
            change = abs(float(a[key]) - float(b[key]))  # type: ignore[arg-type]
            worst[key] = max(worst.get(key, 0.0), change / limit)
            if change > limit:
                lines.append(f"case {i} {key}: {a[key]:.4f} → {b[key]:.4f}, band {limit:.4f}")
        # The band from the pair is never below the default, and follows a large difference.
        pair = marks.repeatability_band(first, second)
        assert all(pair[k] >= band[k] for k in band)  # type: ignore[operator]
    summary = ", ".join(f"{k} {v:.2f}" for k, v in worst.items())
    assert not lines, "\n".join([*lines, "largest change / band:", summary])


def test_the_band_from_a_pair_is_twice_their_difference_above_the_default() -> None:
    p = marks_photo(7, tone=2, px_per_mm=10, width_mm=2, length_mm=25)
    first = _measure(p, "rubra")
    second = _measure(marks_photo(7, tone=2, px_per_mm=10, width_mm=4, length_mm=25), "rubra")
    band = marks.repeatability_band(first, second)
    assert first.mean_width_mm and second.mean_width_mm
    assert band["mean_width_mm"] == pytest.approx(
        marks.BAND_FACTOR * abs(second.mean_width_mm - first.mean_width_mm)
    )
    assert band["delta_e00"] is not None and band["delta_e00"] >= marks.DEFAULT_BAND["delta_e00"][0]


def test_without_a_scale_sizes_are_in_pixels_only() -> None:
    p = marks_photo(8, tone=3, px_per_mm=10, width_mm=3, length_mm=30)
    r = marks.measure(p.image, stage="rubra", region=p.region, gains=p.gains)
    assert r.px_per_mm is None and r.area_mm2 is None and r.length_mm is None
    assert r.mean_width_mm is None and r.texture_index is None
    assert r.mean_width_px == pytest.approx(30, rel=0.1)
    assert r.delta_e00 == pytest.approx(p.delta_e00, abs=1.5)
    assert marks.default_band(r)["area_mm2"] is None


def test_no_marks_is_an_answer_not_an_error() -> None:
    p = marks_photo(9, tone=2, px_per_mm=10, offset=(0.0, 0.0, 0.0))
    r = _measure(p, "rubra")
    assert r.marks_found is False
    assert (r.area_fraction, r.area_mm2, r.length_mm, r.mean_width_mm, r.mean_width_px) == (0,) * 5
    assert r.delta_e00 is None and r.ita_skin is None and r.texture_index is None


def test_the_card_is_left_out_and_a_drawn_skin_patch_is_used() -> None:
    p = marks_photo(11, tone=2, px_per_mm=10, width_mm=2, length_mm=40)
    card = [(0.0, 0.0), (200.0, 0.0), (200.0, 120.0), (0.0, 120.0)]
    found = marks.find_marks(p.image, stage="rubra", card=card, px_per_mm=10, gains=p.gains)
    assert found.any() and not found[:120, :200].any()
    skin = [(400.0, 380.0), (580.0, 380.0), (580.0, 440.0), (400.0, 440.0)]
    r = marks.measure(p.image, stage="rubra", card=card, skin=skin, px_per_mm=10, gains=p.gains)
    assert r.delta_e00 == pytest.approx(p.delta_e00, abs=1.5)
    assert r.texture_index is not None and 0.5 < r.texture_index < 2.0
    assert r.ita_skin is not None and r.ita_marks is not None and r.ita_marks < r.ita_skin


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"region": [(0, 0), (700, 0), (700, 100)]}, "outside the photo"),
        ({"region": [(10, 10), (20, 10), (20, 20), (10, 20)]}, "too small"),
        ({"region": [(1, 1), (2, 2)]}, "three corners"),
        ({"skin": [(10, 10), (15, 10), (15, 15)]}, "No skin is left"),
        ({"stage": "purple"}, "rubra or alba"),
        ({"px_per_mm": -1.0}, "pixels per millimetre"),
        ({"sensitivity": 0.0}, "sensitivity"),
        ({"card": [(0, 0), (1, 1)]}, "four corners"),
    ],
)
def test_bad_input_is_refused_in_a_sentence(kwargs: dict[str, object], words: str) -> None:
    p = marks_photo(12, tone=2, px_per_mm=10)
    args: dict[str, object] = {"stage": "rubra", **kwargs}
    with pytest.raises(ValidationError, match=words):
        marks.measure(p.image, **args)  # type: ignore[arg-type]
