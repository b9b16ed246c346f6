"""Moving photos to another visit, area or view (undoable, alignment following), and erasing a
photo, a visit, an area or a client for good (nothing of it left in the library folder)."""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests import helpers as h
from tracker.core.care import backups
from tracker.core.db import snapshots
from tracker.core.db.models import Photo, RaterRole, ReferencePhoto, Region, VisitKind, row_dict
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import UsageError
from tracker.core.imaging import geometry as al
from tracker.core.queries import browse, listing
from tracker.core.services import clients, erase, measure, move, photos
from tracker.core.store.library import Library

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 4, 6), dt.date(2026, 5, 11)


def _photo(folder: Path, name: str, day: dt.date, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
    path = folder / name
    Image.effect_noise((96, 72), 20 + seed).convert("RGB").save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def course(library: Library, tmp_path: Path) -> dict[str, int]:
    """Belly: three photos (D1, D2, D3) of the front view; Thigh: one photo on D2."""
    files = [_photo(tmp_path / "in", f"b{i}.jpg", d, i) for i, d in enumerate((D1, D2, D3))]
    belly = h.import_files(library, files, area="Belly")
    thigh = h.import_files(library, [_photo(tmp_path / "in", "t.jpg", D2, 9)], area="Thigh")
    ids = {f"b{i}": r.photo_id for i, r in enumerate(belly.imported)}
    ids["t"] = thigh.imported[0].photo_id
    assert belly.area_id is not None and thigh.area_id is not None
    ids["belly"], ids["thigh"] = belly.area_id, thigh.area_id
    return ids


def _rows(lib: Library) -> list[dict[str, object]]:
    with lib.session() as s:
        return [row_dict(p) for p in s.scalars(select(Photo).order_by(Photo.id))]


def _refs(lib: Library) -> dict[tuple[int, str], int]:
    with lib.session() as s:
        return {(r.area_id, r.view): r.photo_id for r in s.scalars(select(ReferencePhoto))}


def _align(lib: Library, c: dict[str, int]) -> tuple[al.Matrix, al.Matrix]:
    """b0 the reference of Belly's front view, b1 aligned to it by landmarks (affine), b2
    automatically (a homography)."""
    m1 = al.affine_matrix(1.0, 0.01, 5.0, 0.0, 1.0, -3.0)
    m2: al.Matrix = (0.98, -0.05, 12.0, 0.05, 0.98, 4.0, 2e-5, -1e-5, 1.0)
    photos.set_alignments(
        lib,
        {
            c["b1"]: al.Alignment(m1, "landmarks", "affine", 3, 0.0),
            c["b2"]: al.Alignment(m2, "auto", "homography", 640, 0.8),
        },
        [(c["belly"], "front", c["b0"])],
    )
    return m1, m2


def _framing(lib: Library, photo_id: int) -> dict[str, object] | None:
    with lib.session() as s:
        p = s.get(Photo, photo_id)
        assert p is not None
        checks = (p.quality or {}).get("checks", [])
        return next((c for c in checks if c["check"] == "framing"), None)


def _matrix(lib: Library, photo_id: int) -> al.Matrix | None:
    alignment = browse.compare_photos(lib, [photo_id])[0].alignment
    return alignment.matrix if alignment is not None else None


def test_a_photo_moved_to_another_visit_keeps_its_alignment_and_comes_back(
    library: Library, course: dict[str, int]
) -> None:
    m1, _ = _align(library, course)
    before = _rows(library)
    visits = {v["date"]: v["id"] for v in listing.visits(library)}
    undo = move.move_photos(library, [course["b1"]], visit_id=visits[D3.isoformat()])
    moved = browse.photo(library, course["b1"])
    assert _matrix(library, moved.id) == m1
    assert [
        r.id for r in browse.timeline(library, h.only_client(library), course["belly"])[1].photos
    ] == []
    move.unmove(library, undo)
    after = _rows(library)
    # as they were, but for the moved photo's version: the move and its undo are two changes
    was, now = (
        next(r["version"] for r in rows if r["id"] == course["b1"]) for rows in (before, after)
    )
    assert isinstance(was, int) and now == was + 2
    assert [{**r, "version": 0} if r["id"] == course["b1"] else r for r in after] == [
        {**r, "version": 0} if r["id"] == course["b1"] else r for r in before
    ]


def test_a_move_to_a_new_date_makes_its_visit_and_the_undo_takes_it_away(
    library: Library, course: dict[str, int]
) -> None:
    day = dt.date(2026, 6, 1)
    undo = move.move_photos(library, [course["b2"]], day=day, view="close-up")
    new = [v for v in listing.visits(library) if v["date"] == day.isoformat()]
    assert [v["kind"] for v in new] == [VisitKind.TREATMENT.value]  # rules.new_visit_kind
    assert browse.photo(library, course["b2"]).view == "close-up"
    move.unmove(library, undo)
    assert day.isoformat() not in {v["date"] for v in listing.visits(library)}
    assert browse.photo(library, course["b2"]).view == "front"


def test_a_reference_photo_that_moves_away_hands_over_without_losing_an_alignment(
    library: Library, course: dict[str, int]
) -> None:
    m1, m2 = _align(library, course)
    where_before = {
        pid: al.apply(m, (100.0, 50.0)) for pid, m in ((course["b1"], m1), (course["b2"], m2))
    }
    undo = move.move_photos(library, [course["b0"]], area_id=course["thigh"])
    refs = _refs(library)
    assert refs[(course["belly"], "front")] == course["b1"]  # the earliest aligned one
    shown = {p.id: p for p in browse.compare_photos(library, [course["b1"], course["b2"]])}
    assert shown[course["b1"]].alignment is None  # it is the reference now
    # b2 in b1's frame is where b2 was in b0's frame, brought into b1's: nothing lost.
    new_b2 = shown[course["b2"]].alignment
    assert new_b2 is not None and new_b2.model == "homography" and new_b2.method == "auto"
    assert new_b2.matrix[8] == 1.0 and new_b2.points == 640
    expected = al.apply(al.invert(m1), where_before[course["b2"]])
    assert all(
        math.isclose(a, b, abs_tol=1e-9)
        for a, b in zip(al.apply(new_b2.matrix, (100.0, 50.0)), expected, strict=True)
    )
    # Their framing checks follow: b2's is against b1 now, b1 (the reference) has none.
    framing = {pid: _framing(library, pid) for pid in (course["b1"], course["b2"])}
    assert framing[course["b1"]] is None
    b2_framing = framing[course["b2"]]
    assert b2_framing is not None and b2_framing["check"] == "framing"
    # The moved photo is unaligned among the thigh's photos (the group had no reference).
    assert browse.compare_photos(library, [course["b0"]])[0].alignment is None
    move.unmove(library, undo)
    assert _refs(library)[(course["belly"], "front")] == course["b0"]
    back = {p.id: p.alignment for p in browse.compare_photos(library, [course["b1"], course["b2"]])}
    assert back == {
        course["b1"]: al.Alignment(m1, "landmarks", "affine", 3, 0.0),
        course["b2"]: al.Alignment(m2, "auto", "homography", 640, 0.8),
    }


def test_a_photo_alone_in_its_new_view_becomes_its_reference(
    library: Library, course: dict[str, int]
) -> None:
    move.move_photos(library, [course["t"]], view="left")
    assert _refs(library)[(course["thigh"], "left")] == course["t"]


def test_moving_to_another_clients_area_needs_a_visit_of_that_client(
    library: Library, course: dict[str, int]
) -> None:
    other = clients.add_client(library, "Ana")
    area = clients.add_area(library, other, "Arm")
    with pytest.raises(UsageError, match="belongs to Ana"):
        move.move_photos(library, [course["t"]], area_id=area)
    move.move_photos(library, [course["t"]], area_id=area, day=D1)
    assert [p["client"] for p in listing.photos(library, other)] == ["Ana"]


def _holds(root: Path, needle: bytes) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and needle in p.read_bytes()
    )


@pytest.mark.folder_only(reason="files")
def test_erasing_a_client_leaves_nothing_of_it_in_the_library_folder(
    library: Library, tmp_path: Path
) -> None:
    """The bytes of its photos, their names and its notes are nowhere in the folder after."""
    ana = clients.add_client(library, "Ana Zzyzx-Quill", {"notes": "NOTE-7f3a9 allergic"})
    photo = _photo(tmp_path / "ana", "ANA-PRIVATE-0001.jpg", D1, 3)
    report = h.import_files(library, [photo], area="Hip", client="Ana Zzyzx-Quill")
    h.add_visit(
        library,
        client="Ana Zzyzx-Quill",
        day=D1,
        area="Hip",
        treatment=TreatmentInput(reaction="REACT-5c1e"),
    )
    h.rate(
        library,
        client="Ana Zzyzx-Quill",
        area="Hip",
        day=D1,
        role=RaterRole.PATIENT,
        values={"colour": 4},
    )
    keep = h.import_files(
        library, [_photo(tmp_path / "me", "mine.jpg", D2, 5)], area="Belly", client="Me"
    )
    library.derived("previews", report.imported[0].sha256)
    # Make every page written: a checkpoint, so the old content is in the main file too.
    library.checkpoint()
    body = photo.read_bytes()[-4000:-2000]  # a stretch of the JPEG's compressed data
    needles = (
        body,
        b"Zzyzx",
        b"NOTE-7f3a9",
        b"REACT-5c1e",
        b"ANA-PRIVATE",
        report.imported[0].sha256.encode(),
    )
    assert all(_holds(library.root, n) for n in needles)  # the search finds them before
    plan = erase.plan(library, erase.Target.CLIENT, ana)
    assert (plan.clients, plan.areas, plan.visits, plan.photos, plan.ratings, plan.records) == (
        1,
        1,
        1,
        1,
        1,
        1,
    )
    assert plan.summary() == "1 area, 1 visit, 1 photo, 1 rating and 1 treatment record"
    erase.erase(library, erase.Target.CLIENT, ana)
    found = {
        needle: _holds(library.root, needle)
        for needle in (
            body,
            b"Zzyzx",
            b"NOTE-7f3a9",
            b"REACT-5c1e",
            b"ANA-PRIVATE",
            report.imported[0].sha256.encode(),
        )
    }
    # Snapshots in backups/ were made before: the plan names them; nothing else may hold it.
    found = {k: [f for f in v if not f.startswith("backups/")] for k, v in found.items()}
    assert found == {key: [] for key in found}, found
    assert [c["name"] for c in listing.clients(library)] == ["Me"]
    assert [p["id"] for p in h.list_photos(library)] == [keep.imported[0].photo_id]
    assert h.check(library).ok


def test_erasing_a_photo_keeps_the_rest_of_its_view_aligned(
    library: Library, course: dict[str, int]
) -> None:
    m1, m2 = _align(library, course)
    plan = erase.plan(library, erase.Target.PHOTO, course["b0"])
    assert plan.photos == 1 and plan.visits == 0 and "b0.jpg" in plan.what
    erase.erase(library, erase.Target.PHOTO, course["b0"])
    assert _refs(library)[(course["belly"], "front")] == course["b1"]
    assert browse.compare_photos(library, [course["b1"]])[0].alignment is None
    kept = _matrix(library, course["b2"])  # b2 now through b1: the same point of b0's frame
    assert kept is not None and not al.is_affine(kept)
    assert al.apply(kept, (300.0, 200.0)) == pytest.approx(
        al.apply(al.invert(m1), al.apply(m2, (300.0, 200.0))), abs=1e-9
    )
    assert h.check(library).ok


@pytest.mark.folder_only(reason="files")
def test_an_erase_the_database_refuses_puts_every_file_back(
    library: Library, course: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.core.db.models import Area
    from tracker.core.errors import DiskFull

    before = sorted(p.name for p in (library.root / "originals").rglob("*.jpg"))
    real_delete = erase.delete

    def failing_delete(model: object) -> object:
        if model is Area:  # the photos' rows are deleted, then the disk fills up
            raise DiskFull("The disk holding the library is full; the change was not saved.")
        return real_delete(model)  # type: ignore[arg-type]

    monkeypatch.setattr(erase, "delete", failing_delete)
    with pytest.raises(DiskFull):
        erase.erase(library, erase.Target.AREA, course["belly"])
    monkeypatch.undo()
    assert sorted(p.name for p in (library.root / "originals").rglob("*.jpg")) == before
    assert len(h.list_photos(library)) == 4 and h.check(library).ok


@pytest.mark.folder_only(reason="backup")
def test_the_plan_names_the_backup_archives_that_still_hold_it(
    library: Library, course: dict[str, int], tmp_path: Path
) -> None:
    out = tmp_path / "backup.zip"
    backups.backup(library, out)
    assert (out.stat().st_mode & 0o777) == 0o600
    plan = erase.plan(library, erase.Target.AREA, course["thigh"])
    assert plan.archives == (out.resolve(),)
    assert str(out.resolve()) in plan.backups_note()
    out.unlink()
    assert erase.plan(library, erase.Target.AREA, course["thigh"]).archives == ()


@pytest.mark.folder_only(reason="snapshots")
def test_the_plan_names_only_the_copies_made_since_it_came_into_the_library(
    library: Library, course: dict[str, int], tmp_path: Path
) -> None:
    folder = library.root / "backups"
    folder.mkdir(exist_ok=True)
    older, newer = folder / "library-older-auto.sqlite3", folder / "library-newer-auto.sqlite3"
    for copy in (older, newer):
        copy.write_bytes(b"a database copy")
    long_ago = dt.datetime(2020, 1, 1).timestamp()
    os.utime(older, (long_ago, long_ago))
    archive = tmp_path / "old.zip"
    archive.write_bytes(b"an archive")
    # An archive noted before any of it was imported (in local time, as the first archive log
    # wrote it) holds none of it.
    snapshots.record_archive(folder, archive, dt.datetime(2020, 1, 1))
    plan = erase.plan(library, erase.Target.AREA, course["thigh"])
    assert newer in plan.snapshots and older not in plan.snapshots
    assert plan.archives == ()


# -- the marks' regions when the photo they were drawn on leaves -------------------------------

MARKS = [(5.0, 5.0), (90.0, 5.0), (90.0, 65.0), (5.0, 65.0)]
SKIN = [(2.0, 2.0), (30.0, 2.0), (30.0, 30.0)]


def _draw(lib: Library, c: dict[str, int]) -> None:
    measure.set_region(lib, c["belly"], "front", "marks", MARKS)
    measure.set_region(lib, c["belly"], "front", "skin", SKIN)


def _flat(points: list[tuple[float, float]] | None) -> list[float]:
    return [v for p in points or [] for v in p]


def _region_rows(lib: Library) -> list[dict[str, object]]:
    with lib.session() as s:
        return [row_dict(r) for r in s.scalars(select(Region).order_by(Region.kind))]


def test_regions_follow_the_heir_when_the_reference_moves_away_and_come_back_with_the_undo(
    library: Library, course: dict[str, int]
) -> None:
    m1, _ = _align(library, course)
    _draw(library, course)
    before = _region_rows(library)
    undo = move.move_photos(library, [course["b0"]], area_id=course["thigh"])
    now = measure.regions(library, course["belly"], "front")
    assert now.reference_photo_id == course["b1"] and now.redraw == ()
    back = al.invert(m1)  # b0's pixels to b1's
    assert _flat(now.marks) == pytest.approx(_flat([al.apply(back, p) for p in MARKS]))
    assert _flat(now.skin) == pytest.approx(_flat([al.apply(back, p) for p in SKIN]))
    assert (now.marks_version, now.skin_version) == (2, 2)
    (note,) = undo.notes
    assert f"drawn on photo {course['b0']}, now follow photo {course['b1']}" in note, note
    assert note.count(".") == 1 and "Belly" in note
    move.unmove(library, undo)
    assert _region_rows(library) == before


def test_regions_are_kept_to_be_drawn_again_when_nothing_aligned_can_carry_them(
    library: Library, course: dict[str, int]
) -> None:
    _draw(library, course)  # on b0, the view's reference; b1 and b2 are not aligned
    before = _region_rows(library)
    undo = move.move_photos(library, [course["b0"]], area_id=course["thigh"])
    now = measure.regions(library, course["belly"], "front")
    assert (now.marks, now.skin) == (MARKS, SKIN)  # kept as drawn, never dropped
    assert now.reference_photo_id is None and now.redraw == ("marks", "skin")
    assert (now.marks_version, now.skin_version) == (2, 2)  # so their measures go stale
    (note,) = undo.notes
    assert "kept but must be drawn again" in note and f"photo {course['b0']}" in note, note
    assert note.count(".") == 1
    # Not silently wrong: the photos staying are not measured in the old photo's outline.
    failed = measure.measure_photos(library, [course["b1"]]).failed
    assert failed and "draw them again" in failed[0][1], failed
    # Drawing the marks' region again leaves the skin patch to do, and still nothing measured.
    measure.set_region(library, course["belly"], "front", "marks", MARKS)
    again = measure.regions(library, course["belly"], "front")
    assert again.reference_photo_id == course["b1"] and again.redraw == ("skin",)
    failed = measure.measure_photos(library, [course["b1"]]).failed
    assert failed and "draw them again" in failed[0][1], failed
    measure.set_region(library, course["belly"], "front", "marks", None)
    move.unmove(library, undo)
    assert _region_rows(library) == before


def test_a_move_that_leaves_the_reference_in_place_says_nothing_of_regions(
    library: Library, course: dict[str, int]
) -> None:
    _align(library, course)
    _draw(library, course)
    before = _region_rows(library)
    undo = move.move_photos(library, [course["b2"]], area_id=course["thigh"])
    assert undo.notes == () and _region_rows(library) == before


def test_erasing_the_reference_carries_its_regions_or_keeps_them_to_be_drawn_again(
    library: Library, course: dict[str, int]
) -> None:
    m1, _ = _align(library, course)
    _draw(library, course)
    done = erase.erase(library, erase.Target.PHOTO, course["b0"])
    now = measure.regions(library, course["belly"], "front")
    assert now.reference_photo_id == course["b1"] and now.redraw == ()
    assert _flat(now.marks) == pytest.approx(_flat([al.apply(al.invert(m1), p) for p in MARKS]))
    (note,) = done.notes
    assert f"now follow photo {course['b1']}" in note, note
    # b1, the reference now, goes too, and b2 was aligned to it: carried again, to b2.
    done = erase.erase(library, erase.Target.PHOTO, course["b1"])
    assert measure.regions(library, course["belly"], "front").reference_photo_id == course["b2"]
    assert len(done.notes) == 1
    # b2 goes, and nothing is left in the view: kept, to be drawn again.
    kept = measure.regions(library, course["belly"], "front")
    done = erase.erase(library, erase.Target.PHOTO, course["b2"])
    now = measure.regions(library, course["belly"], "front")
    assert (now.marks, now.skin) == (kept.marks, kept.skin)
    assert now.redraw == ("marks", "skin") and now.reference_photo_id is None
    (note,) = done.notes
    assert "kept but must be drawn again" in note, note
    assert h.check(library).ok


def test_erasing_a_visit_with_the_reference_keeps_unaligned_regions_to_be_drawn_again(
    library: Library, course: dict[str, int]
) -> None:
    _draw(library, course)
    visit = next(v["id"] for v in listing.visits(library) if v["date"] == D1.isoformat())
    done = erase.erase(library, erase.Target.VISIT, visit)
    now = measure.regions(library, course["belly"], "front")
    assert now.marks == MARKS and now.redraw == ("marks", "skin")
    assert len(done.notes) == 1 and "kept but must be drawn again" in done.notes[0]
    assert erase.erase(library, erase.Target.PHOTO, course["t"]).notes == ()
