"""The sample library: generated photos and the course recorded around them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from tests import helpers as h
from tests.core.demo.conftest import TODAY
from tracker.core.demo.images import render_area_photo
from tracker.core.demo.sample import AREAS, SESSION_DAYS, VIEWS, create_demo
from tracker.core.errors import LibraryError
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
    assert sample["photos"] == len(AREAS) * len(VIEWS) * len(SESSION_DAYS)
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
