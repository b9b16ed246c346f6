"""The sample library's photos show off what the app measures, against the truth they were
made with: the card at the scale it was drawn, each view aligned automatically to its first
photo by the transform the phone's framing made, and a shaken photo clearly less sharp.

The photos are read back from the library (as imported), once for the module; the retest
pair's second photo is left out here (``test_demo`` looks at it)."""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from tests import helpers as h
from tracker.core.demo import card_art
from tracker.core.demo.images import OVERSCAN, framing
from tracker.core.demo.sample import AREAS, EVENING, SHAKEN, DemoArea
from tracker.core.imaging import register
from tracker.core.imaging.card import CARD, CardNotFound, find_card, local_scale
from tracker.core.queries import browse
from tracker.core.store.library import Library

Matrix3 = NDArray[np.float64]


@dataclass(frozen=True)
class SamplePhoto:
    area: DemoArea
    view: str
    index: int
    image: Image.Image
    card: list[tuple[float, float]] | None  # its outline as the import found it

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def to_photo(self) -> Matrix3:
        """The canvas it was cut from → this photo (its framing, as generated)."""
        frame = framing(seed=self.area.seed, visit_index=self.index, view=self.view)
        return np.array(frame.to_photo(self.size), dtype=np.float64).reshape(3, 3)


Photos = dict[tuple[str, str, int], SamplePhoto]


@pytest.fixture(scope="module")
def photos(sample: dict[str, Any]) -> Photos:
    areas = {spec.name: spec for spec in AREAS}
    out: Photos = {}
    with Library.open(Path(sample["library"])) as lib:
        rows = h.list_photos(lib)
        cards = browse.card_outlines(lib, [row["id"] for row in rows])
        for row in rows:
            area = areas[row["area"]]
            stem = Path(row["original_name"]).stem
            if stem.endswith("_retest"):
                continue
            index = int(stem.rsplit("_", 1)[1])
            image = lib.original_image(row["sha256"])
            out[area.name, row["view"], index] = SamplePhoto(
                area, row["view"], index, image, cards.get(row["id"])
            )
    assert len(out) == sum(len(spec.views) for spec in AREAS) * 6
    return out


@pytest.fixture(scope="module")
def features(photos: Photos) -> dict[tuple[str, str, int], register.Features]:
    """Each photo's features, found once (on every core: OpenCV lets go of the GIL), none on
    the card, as the automatic alignment finds them."""

    def find(photo: SamplePhoto) -> register.Features:
        return register.features(photo.image, exclude=photo.card, full_size=photo.size)

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        found = pool.map(find, photos.values())
        return dict(zip(photos, found, strict=True))


def corner_error(found: Matrix3, truth: Matrix3, size: tuple[int, int]) -> float:
    """The largest distance (reference pixels) between where the two put the photo's corners."""
    w, h = size
    corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=np.float64).T

    def put(m: Matrix3) -> Matrix3:
        p = m @ corners
        return np.asarray(p[:2] / p[2])

    return float(np.max(np.linalg.norm(put(found) - put(truth), axis=0)))


def test_the_card_is_found_at_the_scale_it_was_drawn(photos: Photos) -> None:
    errors = []
    for (_name, view, index), photo in sorted(photos.items()):
        if not (photo.area.card and view == "front"):
            with pytest.raises(CardNotFound):
                find_card(photo.image)
            continue
        canvas = (round(photo.size[0] * OVERSCAN), round(photo.size[1] * OVERSCAN))
        where = card_art.placement(seed=photo.area.seed, visit_index=index, canvas=canvas)
        truth = local_scale(
            photo.to_photo() @ where.to_canvas(), CARD.width_mm / 2, CARD.height_mm / 2
        )
        found = find_card(photo.image)
        assert found.markers == 4
        errors.append(found.px_per_mm / truth - 1)
    assert len(errors) == 6 * sum(spec.card for spec in AREAS)
    worst = max(abs(e) for e in errors)
    assert worst < 0.01, f"px/mm errors (%): {[round(100 * e, 3) for e in errors]}"


def test_each_view_aligns_automatically_with_its_first_photo(
    photos: Photos, features: dict[tuple[str, str, int], register.Features]
) -> None:
    report = []
    for spec in AREAS:
        for view in spec.views:
            reference = photos[spec.name, view, 0]
            for index in range(1, 6):
                photo = photos[spec.name, view, index]
                found = register.register_features(
                    features[spec.name, view, index],
                    photo.size,
                    features[spec.name, view, 0],
                    reference.size,
                    "sift",
                )
                truth = reference.to_photo() @ np.linalg.inv(photo.to_photo())
                m = np.array(found.matrix, dtype=np.float64).reshape(3, 3)
                error = corner_error(m, truth, photo.size)
                report.append((spec.name, view, index, found.inliers, round(error, 2)))
    worst = max(r[-1] for r in report)
    diagonal = math.hypot(*photos[AREAS[0].name, "front", 0].size)
    assert worst < 0.001 * diagonal, f"(area, view, visit, inliers, corner error px): {report}"


def test_an_area_is_never_aligned_to_another_areas_photo(
    features: dict[tuple[str, str, int], register.Features], photos: Photos
) -> None:
    # Every area against every other in each view they share (the untreated thigh has the
    # right thigh's skin tone and stage: the likeliest to be taken for it).
    for one, other in itertools.permutations(AREAS, 2):
        for view in set(one.views) & set(other.views):
            photo, reference = (one.name, view, 3), (other.name, view, 0)
            with pytest.raises(register.RegistrationRefused):
                register.register_features(
                    features[photo],
                    photos[photo].size,
                    features[reference],
                    photos[reference].size,
                    "sift",
                )


def _sharpness(image: Image.Image, side: int) -> float:
    """The variance of the Laplacian of the photo in grey at ``side`` px on its long side."""
    grey = image.convert("L")
    k = side / max(grey.size)
    if k < 1:
        grey = grey.resize((round(grey.width * k), round(grey.height * k)), Image.Resampling.BOX)
    return float(cv2.Laplacian(np.asarray(grey, dtype=np.float64), cv2.CV_64F).var())


def test_the_shaken_photo_is_clearly_less_sharp_than_its_reference(photos: Photos) -> None:
    name, view = SHAKEN
    for side in (400, 1024, 1600):  # whatever size the sharpness is measured at
        first = _sharpness(photos[name, view, 0].image, side)
        ratios = {i: _sharpness(photos[name, view, i].image, side) / first for i in range(1, 6)}
        assert ratios[EVENING] < 0.3, f"at {side} px: {ratios}"
        # The others stay as sharp as the first: only the shaken photo is warned about.
        assert all(0.75 < r < 1.35 for i, r in ratios.items() if i != EVENING), ratios


def test_the_listing_shows_the_cards_scale_and_warns_of_the_shaken_photo_only(
    sample: dict[str, Any],
) -> None:
    """What the import measured, as ``tracker list photos --json`` shows it."""
    with Library.open(Path(sample["library"])) as lib:
        rows = h.list_photos(lib)
    carded = {spec.name for spec in AREAS if spec.card}
    for row in rows:
        has_card = row["area"] in carded and row["view"] == "front"
        assert (row["px_per_mm"] is not None) == has_card, row["original_name"]
    warned = {
        (row["area"], row["view"], Path(row["original_name"]).stem.rsplit("_", 1)[1]): [
            check["check"] for check in row["quality"]["checks"] if check["warned"]
        ]
        for row in rows
    }
    assert {key: checks for key, checks in warned.items() if checks} == {
        (*SHAKEN, str(EVENING)): ["sharpness"]
    }
