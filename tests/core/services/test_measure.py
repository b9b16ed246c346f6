"""Measuring photos in a library (issue 18): regions checked and following each photo through
its alignment, the control area and the sensitivity, measures stored with their inputs and
found stale when those change, cancelling, and measuring in processes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event

from tests import helpers as h
from tests.core.imaging.marks_synthetic import ALBA, MarksPhoto, marks_photo
from tests.core.services.measure_fixtures import DAY, add_photo
from tracker.cli import resolve
from tracker.core.care import backups, restore
from tracker.core.db.models import Measure, Stage
from tracker.core.errors import ValidationError
from tracker.core.imaging import geometry as al
from tracker.core.imaging import marks
from tracker.core.queries import measures as q
from tracker.core.services import clients, erase, measure, move, photos
from tracker.core.store.library import Library

BOX = [(40.0, 40.0), (560.0, 40.0), (560.0, 410.0), (40.0, 410.0)]


def _area(lib: Library, name: str = "Hips") -> int:
    return resolve.area(lib, resolve.client(lib, None), name)


def _stored(lib: Library, photo_id: int) -> Measure | None:
    with lib.session() as s:
        return s.get(Measure, photo_id)


def test_a_region_is_refused_with_a_sentence_for_each_fault(
    library: Library, tmp_path: Path
) -> None:
    add_photo(library, tmp_path, marks_photo(1))
    area = _area(library)
    cases = [
        ([(1.0, 1.0), (50.0, 1.0)], "at least three corners; it has 2"),
        (
            [(1.0, 1.0), (700.0, 1.0), (300.0, 300.0)],
            "outside the reference photo, which is 600 × 450",
        ),
        ([(10.0, 10.0), (200.0, 200.0), (200.0, 10.0), (10.0, 200.0)], "crosses itself"),
        ([(10.0, 10.0), (20.0, 10.0), (20.0, 20.0)], "covers 50 pixels"),
    ]
    for points, said in cases:
        with pytest.raises(ValidationError, match=said):
            measure.set_region(library, area, "front", "marks", points)
    with pytest.raises(ValidationError, match="no photo of the view 'back'"):
        measure.set_region(library, area, "back", "marks", BOX)
    assert measure.regions(library, area, "front").marks is None


def test_regions_count_their_changes_and_hand_back_what_was_there(
    library: Library, tmp_path: Path
) -> None:
    pid = add_photo(library, tmp_path, marks_photo(1))
    area = _area(library)
    before = measure.set_region(library, area, "front", "marks", BOX)
    assert before.marks is None and before.marks_version == 0
    measure.set_region(library, area, "front", "skin", [(10, 10), (100, 10), (100, 100)])
    before = measure.set_region(library, area, "front", "marks", BOX[:3])
    assert before.marks == BOX and before.marks_version == 1
    now = measure.regions(library, area, "front")
    assert (now.marks, now.marks_version, now.skin_version) == (BOX[:3], 2, 1)
    assert now.reference_photo_id == pid
    measure.set_region(library, area, "front", "skin", None)
    assert measure.regions(library, area, "front").skin is None


def test_the_control_is_another_area_of_the_same_person_and_never_a_loop(
    library: Library, tmp_path: Path
) -> None:
    add_photo(library, tmp_path, marks_photo(1), area="Hips")
    add_photo(library, tmp_path, marks_photo(2), area="Arm")
    hips, arm = _area(library, "Hips"), _area(library, "Arm")
    other = clients.add_client(library, "Bea")
    theirs = clients.add_area(library, other, "Belly")
    with pytest.raises(ValidationError, match="its own control"):
        measure.set_control(library, hips, hips)
    with pytest.raises(ValidationError, match="another person's"):
        measure.set_control(library, hips, theirs)
    assert measure.set_control(library, hips, arm) is None
    with pytest.raises(ValidationError, match="two areas cannot be each other's control"):
        measure.set_control(library, arm, hips)
    assert measure.set_control(library, hips, None) == arm
    assert measure.set_is_control(library, arm, False) is True
    with pytest.raises(ValidationError, match=r"from 1\.5"):
        measure.set_sensitivity(library, hips, 9.0)
    assert measure.set_sensitivity(library, hips, 3.0) is None
    assert measure.sensitivity(library, hips) == 3.0
    assert measure.set_sensitivity(library, hips, None) == 3.0


def test_measures_are_stored_with_their_inputs_and_go_stale_when_one_changes(
    library: Library, tmp_path: Path
) -> None:
    a = add_photo(library, tmp_path, marks_photo(1))
    b = add_photo(library, tmp_path, marks_photo(1, exposure=0.9), day=DAY + dt.timedelta(days=28))
    area = _area(library)
    assert measure.stale_photo_ids(library) == [a, b]
    out = measure.measure_photos(library, [a, b, 999])
    assert out.failed == [(999, "There is no photo with id 999 in the library.")]
    assert [m.photo_id for m in out.measured] == [a, b] and not out.cancelled
    m = out.measured[0].measures
    assert m.marks_found and abs(m.mean_width_mm - 2.0) < 0.2  # type: ignore[operator]
    row = _stored(library, a)
    assert row is not None and row.values == m.as_dict() and row.error is None
    assert row.inputs["px_per_mm"] == 10.0 and row.inputs["stage_used"] == "rubra"
    assert measure.stale_photo_ids(library) == []

    measure.set_sensitivity(library, area, 5.0)
    assert measure.stale_photo_ids(library, area) == [a, b]
    measure.measure_photos(library, [a, b])
    photos.set_colour_gains(library, {b: (1.0, 1.0, 1.0)})
    assert measure.stale_photo_ids(library) == [b]
    measure.measure_photos(library, [b])
    measure.set_region(library, area, "front", "marks", BOX)  # b is not aligned: it must say so
    assert measure.stale_photo_ids(library) == [a, b]
    out = measure.measure_photos(library, [a, b])
    assert [m.photo_id for m in out.measured] == [a]
    ((pid, error),) = out.failed
    assert pid == b and error == (
        f"Photo {b} is not aligned to the reference photo of its view (photo {a}); align it "
        "first, so that the regions drawn on the reference can follow it."
    )
    stored = _stored(library, b)
    assert stored is not None and stored.values is None and stored.error == error
    assert measure.stale_photo_ids(library) == []  # told once; aligned, it is measured again
    photos.set_alignments(
        library, {b: al.Alignment(al.IDENTITY, "landmarks", "similarity", 2, 0.0)}
    )
    assert measure.stale_photo_ids(library) == [b]


def test_a_moved_photo_is_stale_until_measured_again_and_the_undo_puts_it_back(
    library: Library, tmp_path: Path
) -> None:
    a = add_photo(library, tmp_path, marks_photo(1))
    add_photo(library, tmp_path, marks_photo(2), area="Arm")
    measure.measure_photos(library, [a])
    undo = move.move_photos(library, [a], area_id=_area(library, "Arm"))
    assert a in measure.stale_photo_ids(library)
    pm = q.photo_measure(library, a)
    assert pm is not None and pm.stale
    move.unmove(library, undo)
    assert a not in measure.stale_photo_ids(library)


def test_an_unknown_stage_is_measured_as_both_and_says_which_it_kept(
    library: Library, tmp_path: Path
) -> None:
    a = add_photo(library, tmp_path, marks_photo(3, offset=ALBA, tone=1), stage=Stage.UNKNOWN)
    (done,) = measure.measure_photos(library, [a]).measured
    assert done.stage == "alba" and done.measures.marks_found
    pm = q.photo_measure(library, a)
    assert pm is not None and pm.stage == "alba"


def test_a_cancelled_run_stores_only_what_finished(library: Library, tmp_path: Path) -> None:
    ids = [
        add_photo(library, tmp_path, marks_photo(i), day=DAY + dt.timedelta(days=i))
        for i in range(4)
    ]
    seen: list[int] = []

    def progress(done: int, _total: int) -> None:
        seen.append(done)

    out = measure.measure_photos(
        library, ids, progress=progress, cancelled=lambda: len(seen) >= 2, processes=None
    )
    assert out.cancelled
    done = [m.photo_id for m in out.measured]
    assert 2 <= len(done) < 4
    assert [pid for pid in ids if _stored(library, pid) is not None] == done
    assert measure.stale_photo_ids(library) == [pid for pid in ids if pid not in done]


def test_in_processes_the_measures_are_the_same_as_in_threads(
    library: Library, tmp_path: Path
) -> None:
    ids = [
        add_photo(library, tmp_path, marks_photo(i), day=DAY + dt.timedelta(days=i))
        for i in range(2)
    ]
    here = measure.measure_photos(library, ids)
    there = measure.measure_photos(library, ids, processes=2)
    assert [m.measures for m in here.measured] == [m.measures for m in there.measured]


def _warped(shot: MarksPhoto, m: al.Matrix, tmp: Path) -> MarksPhoto:
    """``shot`` photographed again through ``m`` (the reference's pixels to the new photo's)."""
    pixels = np.asarray(shot.image)
    to = np.array(m, np.float64).reshape(3, 3)
    # continuous coordinates (a pixel's corner at whole numbers) to OpenCV's centres
    c = (
        np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
        @ to
        @ np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    )
    out = cv2.warpPerspective(
        pixels, c, shot.image.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    path = tmp / "warped.jpg"
    Image.fromarray(out).save(path, quality=92)
    return dataclasses.replace(shot, image=Image.open(path).convert("RGB"))


def test_regions_drawn_on_the_reference_follow_a_photo_through_its_alignment(
    library: Library, tmp_path: Path
) -> None:
    shot = marks_photo(5, size=(640, 480))
    ref = add_photo(library, tmp_path, shot)
    area = _area(library)
    region = [(110.0, 90.0), (530.0, 90.0), (530.0, 390.0), (110.0, 390.0)]
    measure.set_region(library, area, "front", "marks", region)
    turn = math.radians(4.0)
    cos, sin = math.cos(turn), math.sin(turn)
    cx, cy = 320.0, 240.0
    # the reference's pixels to the new photo's: turned 4° about the centre and moved (18, -11)
    to_new: al.Matrix = (
        cos, -sin, cx - cos * cx + sin * cy + 18.0,
        sin, cos, cy - sin * cx - cos * cy - 11.0,
        0.0, 0.0, 1.0,
    )  # fmt: skip
    moved = add_photo(
        library, tmp_path, _warped(shot, to_new, tmp_path), day=DAY + dt.timedelta(days=28)
    )
    photos.set_alignments(
        library, {moved: al.Alignment(al.invert(to_new), "landmarks", "similarity", 3, 0.0)}
    )
    out = measure.measure_photos(library, [ref, moved])
    assert not out.failed, out.failed
    first, second = (m.measures for m in out.measured)
    band = marks.default_band(first)
    for key, limit in band.items():
        a, b = first.as_dict()[key], second.as_dict()[key]
        assert limit is not None and a is not None and b is not None
        assert abs(float(a) - float(b)) <= limit, (key, a, b, limit)
    overlay = measure.marks_overlay(library, moved)
    assert overlay.region is not None
    assert all(
        abs(p - q_) < 1e-6
        for pt, want in zip(overlay.region, region, strict=True)
        for p, q_ in zip(al.apply(al.invert(to_new), pt), want, strict=True)
    )
    assert overlay.size == (640, 480) and overlay.mask_png.startswith(b"\x89PNG")
    mask = np.asarray(Image.open(io.BytesIO(overlay.mask_png)))
    assert 0.02 < mask.mean() < 0.2


def test_erasing_the_reference_hands_its_regions_to_the_next_and_measures_go_with_photos(
    library: Library, tmp_path: Path
) -> None:
    shot = marks_photo(5, size=(640, 480))
    ref = add_photo(library, tmp_path, shot)
    area = _area(library)
    to_new: al.Matrix = (1.0, 0.0, 14.0, 0.0, 1.0, -9.0, 0.0, 0.0, 1.0)  # moved (14, -9)
    heir = add_photo(
        library, tmp_path, _warped(shot, to_new, tmp_path), day=DAY + dt.timedelta(days=28)
    )
    photos.set_alignments(
        library, {heir: al.Alignment(al.invert(to_new), "landmarks", "similarity", 2, 0.0)}
    )
    region = [(110.0, 90.0), (530.0, 90.0), (530.0, 390.0), (110.0, 390.0)]
    measure.set_region(library, area, "front", "marks", region)
    (before,) = measure.measure_photos(library, [heir]).measured
    erase.erase(library, erase.Target.PHOTO, ref)
    now = measure.regions(library, area, "front")
    assert now.reference_photo_id == heir and now.marks_version == 2
    assert now.marks == [al.apply(to_new, p) for p in region]
    assert measure.stale_photo_ids(library) == [heir]  # measured again from the carried region
    (after,) = measure.measure_photos(library, [heir]).measured
    assert after.measures == before.measures
    erase.erase(library, erase.Target.PHOTO, heir)
    assert _stored(library, heir) is None
    assert h.check(library).ok


@pytest.mark.folder_only(reason="backup")
def test_a_backup_carries_the_regions_and_measures_and_its_restore_checks_clean(
    library: Library, tmp_path: Path
) -> None:
    a = add_photo(library, tmp_path, marks_photo(1))
    area = _area(library)
    measure.set_region(library, area, "front", "marks", BOX)
    measure.set_sensitivity(library, area, 3.5)
    measure.measure_photos(library, [a])
    backups.backup(library, tmp_path / "b.zip")
    restore.restore(tmp_path / "b.zip", tmp_path / "again")
    with Library.open(tmp_path / "again") as again:
        assert measure.regions(again, area, "front").marks == BOX
        assert measure.stale_photo_ids(again) == []
        row = _stored(again, a)
        assert row is not None and row.inputs["sensitivity"] == 3.5
        assert h.check(again).ok


def test_a_visits_photos_measures_are_read_in_one_session_as_each_alone(
    library: Library, tmp_path: Path
) -> None:
    ids = [add_photo(library, tmp_path, marks_photo(i), day=DAY) for i in range(3)]
    ids.append(add_photo(library, tmp_path, marks_photo(9), area="Arm", day=DAY))
    measure.measure_photos(library, ids[:2] + ids[3:])  # the third never measured
    move.move_photos(library, [ids[0]], area_id=_area(library, "Arm"))  # stale now
    checkouts: list[object] = []

    def checked_out(*_args: object) -> None:
        checkouts.append(_args)

    event.listen(library.engine, "checkout", checked_out)
    try:
        together = q.photo_measures(library, ids)
    finally:
        event.remove(library.engine, "checkout", checked_out)
    assert len(checkouts) == 1  # one session for the four
    assert together == {i: q.photo_measure(library, i) for i in ids}
    moved = together[ids[0]]
    assert together[ids[2]] is None and moved is not None and moved.stale
    assert q.photo_measures(library, []) == {}
