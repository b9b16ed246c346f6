"""The sample library: generated photos and the course recorded around them."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from tests import helpers as h
from tests.core.demo.conftest import TODAY
from tracker.core.demo.images import render_area_photo
from tracker.core.demo.sample import AREAS, MEASURED, SESSION_DAYS, create_demo
from tracker.core.errors import LibraryError
from tracker.core.queries import browse
from tracker.core.queries.measures import area_measures
from tracker.core.services import measure
from tracker.core.store.library import Library

SMALL = (320, 240)


def _photo(
    index: int, *, view: str = "close-up", seed: int = 11, stage: str = "rubra"
) -> Image.Image:
    return render_area_photo(
        seed=seed, visit_index=index, n_visits=6, view=view, stage=stage, size=SMALL
    )


def test_same_inputs_give_the_same_pixels() -> None:
    assert ImageChops.difference(_photo(2), _photo(2)).getbbox() is None

    def with_card() -> Image.Image:
        return render_area_photo(
            seed=11, visit_index=2, n_visits=6, view="front", stage="rubra", size=SMALL, card=True
        )

    assert ImageChops.difference(with_card(), with_card()).getbbox() is None
    assert ImageChops.difference(with_card(), _photo(2, view="front")).getbbox() is not None


def test_each_visit_is_framed_and_lit_differently() -> None:
    assert ImageChops.difference(_photo(1), _photo(2)).getbbox() is not None
    assert _photo(0).size == SMALL


def test_rubra_marks_fade_over_the_course() -> None:
    # Red-violet marks pull the green channel down against the skin: less so at the end.
    def spread(image: Image.Image) -> float:
        return ImageStat.Stat(image.getchannel("G")).stddev[0]

    assert spread(_photo(5)) < spread(_photo(0)) * 0.8


def test_refuses_a_visit_outside_the_course() -> None:
    with pytest.raises(ValueError, match="outside"):
        render_area_photo(seed=1, visit_index=6, n_visits=6, view="front", stage="alba", size=SMALL)
    with pytest.raises(ValueError, match="view"):
        render_area_photo(seed=1, visit_index=0, n_visits=6, view="side", stage="alba", size=SMALL)


def test_the_card_is_drawn_in_the_wide_view_only() -> None:
    with pytest.raises(ValueError, match="front view only"):
        render_area_photo(
            seed=1, visit_index=0, n_visits=6, view="close-up", stage="alba", size=SMALL, card=True
        )


def test_an_evening_photo_is_warmer() -> None:
    evening = render_area_photo(
        seed=11, visit_index=4, n_visits=6, view="close-up", stage="rubra", size=SMALL, evening=True
    )
    r, _g, b = ImageStat.Stat(evening).mean
    r0, _g0, b0 = ImageStat.Stat(_photo(4)).mean
    assert r / b > 1.1 * r0 / b0


def test_demo_library_holds_a_whole_course(sample: dict[str, Any]) -> None:
    retests = sum(spec.retest for spec in AREAS)
    assert sample["photos"] == sum(len(s.views) for s in AREAS) * len(SESSION_DAYS) + retests
    assert sample["ratings"] > 0
    with Library.open(Path(sample["library"])) as lib:
        visits = h.list_visits(lib, client=None)
        assert len(visits) == len(SESSION_DAYS)
        assert visits[0]["kind"] == "baseline"
        assert all(v["kind"] == "treatment" for v in visits[1:])
        assert dt.date.fromisoformat(visits[-1]["date"]) == TODAY - dt.timedelta(days=14)
        photos = h.list_photos(lib, client=None, area=None)
        assert {p["date_source"] for p in photos} == {"exif"}
        assert h.check(lib).ok


def test_demo_refuses_a_folder_with_a_library(tmp_path) -> None:
    with Library.open(tmp_path / "lib", create=True):
        pass
    with pytest.raises(LibraryError, match="already holds a library"):
        create_demo(tmp_path / "lib")


# The marks' drawn width at the last visit as a share of the first's (``images._stria_mask``:
# they narrow by 45 % over the course).
NARROWED = 0.55


def test_the_sample_is_measured_and_its_marks_fall_with_the_fade(sample: dict[str, Any]) -> None:
    with Library.open(Path(sample["library"])) as lib:
        areas = {a.name: a.id for a in browse.areas(lib, h.only_client(lib))}
        assert list(areas) == [spec.name for spec in AREAS]  # the control sorts last
        assert measure.stale_photo_ids(lib) == []  # the close-ups too: nothing waits
        report = []
        for spec in AREAS:
            area = areas[spec.name]
            assert measure.regions(lib, area, MEASURED).marks is not None
            data = area_measures(lib, area)
            assert (data.view, data.stale, data.unmeasured, data.scale_known) == (
                MEASURED,
                0,
                0,
                True,
            ), spec.name
            assert all(p.values is not None and p.values["marks_found"] for p in data.photos)
            for key in ("mean_width_mm", "area_mm2", "delta_e00"):
                series = data.series[key]
                values = [p.value for p in series.points if p.value is not None]
                report.append((spec.name, key, [round(v, 2) for v in values]))
                assert len(values) == len(series.points) == len(SESSION_DAYS)
                assert series.band is not None and series.change is not None
                if spec.treated:
                    # Falling at every visit, by more than the band over the course.
                    assert all(b < a for a, b in itertools.pairwise(values)), report
                    assert -series.change > series.band and series.words.startswith("Fell by ")
                else:  # the untreated control stays within its band
                    assert max(values) - min(values) <= series.band, report
                    assert series.words.startswith("No measurable change"), series.words
            width = [p.value for p in data.series["mean_width_mm"].points]
            assert width[0] is not None and width[-1] is not None
            ratio = width[-1] / width[0]
            expected = NARROWED if spec.treated else 1.0
            assert abs(ratio - expected) < 0.06, (spec.name, ratio)
            # The retest pair sets the abdomen's band; the thigh's is the default.
            assert (data.retest is not None) == spec.retest
            assert data.series["delta_e00"].band_source == ("retest" if spec.retest else "default")
        # The right thigh is compared with its untreated control, visit by visit.
        thigh = area_measures(lib, areas["Right thigh"], subtract_control=True)
        assert thigh.control_name == "Untreated left thigh"
        assert all(p.control is not None for p in thigh.series["delta_e00"].points)
        taken_out = thigh.series["delta_e00"]
        assert taken_out.change is not None and taken_out.band is not None
        assert -taken_out.change > taken_out.band


# The marks' true length tip to tip in the abdomen's wide view (``images._striae``: their
# centre lines plus a width for the two round ends, at each visit's scale) is 1389 → 1386 →
# 1380 → 1381 → 1386 → 1371 mm: it holds. Measured, it rose 1442 → 1463 → 1490 → 1520 → 1512
# → 1574 mm (engine 2: ``marks_bones.parallel`` read a band's marks against the typical width
# of all the photo's marks, and counted the widest mark, alone, as two and beside another as
# three); engine 3 reads them against the mark running on beside them: 1265 → 1238 → 1306 →
# 1322 → 1306 → 1315 mm, band ±38. Still a rise beyond the band: at the first visits two of
# the eight marks lie so nearly on one another (under 1.4 times one's width together) that
# they read as one; see issue 18.
@pytest.mark.xfail(
    strict=True, reason="issue 18: two marks nearly on one another read as one at the first visits"
)
def test_the_abdomens_marks_do_not_grow_longer_over_the_course(sample: dict[str, Any]) -> None:
    with Library.open(Path(sample["library"])) as lib:
        areas = {a.name: a.id for a in browse.areas(lib, h.only_client(lib))}
        series = area_measures(lib, areas["Lower abdomen"]).series["length_mm"]
        values = [p.value for p in series.points]
        assert all(v is not None for v in values) and series.band is not None
        figures = " → ".join(f"{v:.0f}" for v in values if v is not None)
        first = values[0]
        assert first is not None
        assert max(v for v in values if v is not None) - first <= series.band, (
            f"{figures} mm, band ±{series.band:.0f}"
        )
