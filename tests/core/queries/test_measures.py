"""An area's measures over its course (issue 18), on generated photos with known truth: the same
skin photographed again (re-encoded, shifted a few pixels, 10 % brighter) changes no measure
by more than its band; the band comes from the retest pair; a fading series falls; the control
area's subtraction removes an exposure drift that every photo of a visit shares."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

from tests.core.imaging.marks_synthetic import MarksPhoto, card_gains, marks_photo
from tests.core.queries.test_query_counts import counting
from tests.core.services.measure_fixtures import DAY, add_photo
from tracker.cli import resolve
from tracker.core.queries import measures as q
from tracker.core.services import measure
from tracker.core.store.library import Library

MONTH = dt.timedelta(days=28)


def _area(lib: Library, name: str) -> int:
    return resolve.area(lib, resolve.client(lib, None), name)


def test_the_same_skin_taken_again_changes_no_measure_by_more_than_its_band(
    library: Library, tmp_path: Path
) -> None:
    """Re-encoded (JPEG 80 for 92), shifted 3 px and 10 % brighter, each balanced by its card."""
    for seed, tone in ((301, 0), (302, 3), (303, 5)):
        area = f"Area {seed}"
        ids = [
            add_photo(library, tmp_path, marks_photo(seed, tone=tone, exposure=0.8), area=area),
            add_photo(
                library,
                tmp_path,
                marks_photo(seed, tone=tone, exposure=0.88, shift=(3.0, -2.0), quality=80),
                area=area,
                day=DAY + MONTH,
            ),
        ]
        assert not measure.measure_photos(library, ids).failed
        am = q.area_measures(library, _area(library, area))
        assert am.retest is None and am.scale_known
        for key, series in am.series.items():
            assert series.band_source == "default" and series.change is not None, key
            assert abs(series.change) <= (series.band or 0), (area, key, series.change, series.band)
            assert series.words.startswith("No measurable change: within the "), series.words


def test_a_retest_pair_gives_the_band_and_a_fading_series_reads_as_falling(
    library: Library, tmp_path: Path
) -> None:
    ids = [
        add_photo(library, tmp_path, marks_photo(7, exposure=0.85), area="Hips"),
        add_photo(library, tmp_path, marks_photo(7, exposure=0.85, shift=(2, 1)), area="Hips"),
    ]
    for n, fade in enumerate((0.8, 0.6, 0.4), start=1):
        ids.append(
            add_photo(
                library,
                tmp_path,
                marks_photo(7, exposure=0.85, fade=fade),
                area="Hips",
                day=DAY + n * MONTH,
            )
        )
    measure.measure_photos(library, ids)
    am = q.area_measures(library, _area(library, "Hips"))
    assert am.retest == (ids[0], ids[1]) and am.view == "front"
    assert am.stale == 0 and am.unmeasured == 0 and len(am.photos) == 5
    de = am.series["delta_e00"]
    assert de.band_source == "retest" and [p.photo_id for p in de.points] == [ids[0], *ids[2:]]
    values = [p.value for p in de.points]
    assert all(a is not None and b is not None and b < a for a, b in itertools.pairwise(values))
    assert de.change is not None and de.band is not None and -de.change > de.band
    assert de.words.startswith("Fell by ") and "more than its" in de.words
    assert [p.session for p in de.points] == [0, 1, 2, 3]


def _dimmed(seed: int, exposure: float) -> MarksPhoto:
    """A photo under ``exposure`` whose colour balance corrects the colour only: the card's
    neutral patch balanced at its own level (no reference to match), so the drift stays."""
    shot = marks_photo(seed, exposure=exposure, tone=2)
    r, g, b = card_gains(1.0, (1.0, 1.0, 1.0))
    return dataclasses.replace(shot, gains=(r, g, b))


def test_the_control_area_takes_out_a_drift_of_the_whole_visit(
    library: Library, tmp_path: Path
) -> None:
    """A treated and an untreated area, neither changing; every photo of the second visit 20 %
    darker. Read alone the skin tone angles move by more than their band; with the control
    subtracted, no measure moves by more than its band."""
    ids = []
    for day, exposure in ((DAY, 1.0), (DAY + MONTH, 0.8)):
        for area, seed in (("Hips", 11), ("Arm", 21)):
            shot = _dimmed(seed, exposure)
            ids.append(add_photo(library, tmp_path, shot, area=area, day=day))
    hips, arm = _area(library, "Hips"), _area(library, "Arm")
    measure.set_control(library, hips, arm)
    assert not measure.measure_photos(library, ids).failed

    alone = q.area_measures(library, hips)
    assert alone.control_name == "Arm" and alone.control_area_id == arm
    drifted = [
        k for k, s in alone.series.items() if s.change is not None and abs(s.change) > (s.band or 0)
    ]
    assert {"ita_skin", "ita_marks"} <= set(drifted), drifted
    assert all(p.control is not None for p in alone.series["ita_skin"].points)

    taken_out = q.area_measures(library, hips, subtract_control=True)
    for key, series in taken_out.series.items():
        assert series.change is not None and series.band is not None, key
        assert abs(series.change) <= series.band, (key, series.change, series.band)
        assert series.words.startswith("No measurable change"), series.words


def test_the_measures_of_an_area_cost_the_same_statements_whatever_it_holds(
    library: Library, tmp_path: Path
) -> None:
    few = [add_photo(library, tmp_path, marks_photo(1), area="Few")]
    many = [
        add_photo(library, tmp_path, marks_photo(40 + i), area="Many", day=DAY + i * MONTH)
        for i in range(6)
    ]
    add_photo(library, tmp_path, marks_photo(9), area="Beside")
    measure.set_control(library, _area(library, "Many"), _area(library, "Beside"))
    measure.set_control(library, _area(library, "Few"), _area(library, "Beside"))
    measure.measure_photos(library, few + many)
    costs = []
    for name, pid in (("Few", few[0]), ("Many", many[-1])):
        with counting(library) as statements:
            q.area_measures(library, _area(library, name), subtract_control=True)
        with counting(library) as one:
            q.photo_measure(library, pid)
        costs.append((len(statements), len(one)))
    assert costs[0] == costs[1] and costs[0][0] <= 12 and costs[0][1] <= 6, costs
