"""The window's reads and edits by id; each edit returns what an undo needs to put it back."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tracker.core.db.models import RaterRole, RatingMethod, Stage, VisitKind
from tracker.core.domain.treatment import TREATMENT_FIELDS
from tracker.core.errors import UsageError, ValidationError
from tracker.core.queries import browse, listing
from tracker.core.queries.rows import ClientFields
from tracker.core.services import clients, photos, ratings, visits
from tracker.core.services.import_plan import DuplicateKind, plan_import
from tracker.core.store.library import Library

D1, D2, D3 = dt.date(2025, 3, 1), dt.date(2025, 4, 2), dt.date(2025, 5, 6)


def _photo(path: Path, taken: str | None, seed: int = 0) -> Path:
    im = Image.effect_noise((64, 48), 20 + seed).convert("RGB")
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    im.save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def me(library: Library) -> int:
    return browse.clients(library)[0].id


def test_clients_are_searched_by_any_part_of_the_name(library: Library) -> None:
    clients.add_client(library, "Ana Lima")
    clients.add_client(library, "Bo Olsen")
    assert [c.name for c in browse.clients(library, "li")] == ["Ana Lima"]
    assert [c.name for c in browse.clients(library, "")] == ["Ana Lima", "Bo Olsen", "Me"]
    with pytest.raises(ValidationError, match="already a client named 'Bo Olsen'"):
        clients.add_client(library, "Bo Olsen")
    # Spaces around a name are refused, not silently dropped (issue 16).
    with pytest.raises(ValidationError, match="begins or ends with a space"):
        clients.add_client(library, " Bo Olsen ")


def test_client_edit_returns_old_values_and_checks_them(library: Library, me: int) -> None:
    old = clients.update_client(library, me, name="Sam", fitzpatrick=3)
    assert old == {"name": "Me", "fitzpatrick": None}
    assert browse.client_fields(library, me).name == "Sam"
    with pytest.raises(ValidationError, match="Fitzpatrick"):
        clients.update_client(library, me, fitzpatrick=7)
    clients.update_client(library, me, **old)
    # as it was, two changes on (the refused one counted none)
    assert browse.client_fields(library, me) == ClientFields("Me", None, None, "", version=3)


def test_visit_add_edit_remove_and_restore_keeps_records_and_ratings(
    library: Library, me: int
) -> None:
    area = clients.add_area(library, me, "Hips", stage=Stage.ALBA)
    vid = visits.add_visit(library, me, D1, VisitKind.BASELINE, "first")
    with pytest.raises(ValidationError, match="already has a visit on 2025-03-01"):
        visits.add_visit(library, me, D1, VisitKind.TREATMENT)
    assert (
        visits.set_treatment(library, vid, area, {"device": "pen", "needle_depth_mm": 1.0}) is None
    )
    assert ratings.rate(library, vid, area, RaterRole.PATIENT, {"colour": 7, "depth": 5}).old == {}
    assert visits.update_visit(library, vid, notes="changed") == {"notes": "first"}

    snapshot = visits.remove_visit(library, vid)
    assert browse.timeline(library, me) == []
    assert visits.restore_visit(library, snapshot) == vid
    detail = browse.visit_detail(library, vid)
    assert detail.notes == "changed"
    assert detail.areas[0].treatment is not None and detail.areas[0].treatment["device"] == "pen"
    assert [(r.role, r.values) for r in detail.areas[0].ratings] == [
        (RaterRole.PATIENT, {"colour": 7, "depth": 5})
    ]


def test_treatment_edits_merge_and_a_record_left_empty_is_removed(
    library: Library, me: int
) -> None:
    """rules.merge: a field given replaces it, None clears it, the rest stays."""
    area = clients.add_area(library, me, "Thigh")
    vid = visits.add_visit(library, me, D1, VisitKind.TREATMENT)
    visits.set_treatment(library, vid, area, {"device": "roller", "passes": 4})
    old = visits.set_treatment(library, vid, area, {"device": "pen"})
    assert old is not None and old["passes"] == 4 and old["device"] == "roller"
    assert browse.treatment(library, vid, area) == {
        **dict.fromkeys(TREATMENT_FIELDS),
        "device": "pen",
        "passes": 4,
    }
    with pytest.raises(ValidationError, match="needle depth"):
        visits.set_treatment(library, vid, area, {"needle_depth_mm": 5})
    assert browse.treatment(library, vid, area) is not None  # unchanged by the refusal
    visits.set_treatment(library, vid, area, {"passes": None})
    assert browse.treatment(library, vid, area) == {
        **dict.fromkeys(TREATMENT_FIELDS),
        "device": "pen",
    }
    visits.put_treatment(library, vid, area, old)  # the undo puts back exactly what was there
    assert browse.treatment(library, vid, area) == old
    visits.set_treatment(library, vid, area, dict.fromkeys(TREATMENT_FIELDS))
    assert browse.treatment(library, vid, area) is None


def test_rating_edits_merge_and_an_undo_puts_back_exactly(library: Library, me: int) -> None:
    """rules.merge again: the same rater's rating is changed item by item, None clears one."""
    area = clients.add_area(library, me, "Thigh")
    vid = visits.add_visit(library, me, D1, VisitKind.TREATMENT)
    role = RaterRole.PRACTITIONER
    ratings.rate(library, vid, area, role, {"colour": 5, "texture": 4})
    change = ratings.rate(library, vid, area, role, {"colour": 6})
    assert change.old == {"colour": 5, "texture": 4}
    assert browse.rating(library, vid, area, role, "ctd") == {"colour": 6, "texture": 4}
    with pytest.raises(ValidationError, match="between 1 and 10"):
        ratings.rate(library, vid, area, role, {"colour": 11})
    assert browse.rating(library, vid, area, role, "ctd") == {"colour": 6, "texture": 4}
    ratings.rate(library, vid, area, role, {"texture": None})
    assert browse.rating(library, vid, area, role, "ctd") == {"colour": 6}
    ratings.put_back(library, vid, area, role, "", "ctd", change.before)
    assert browse.rating(library, vid, area, role, "ctd") == {"colour": 5, "texture": 4}
    gone = ratings.rate(library, vid, area, role, {"colour": None, "texture": None})
    assert gone.rating_id is None and browse.rating(library, vid, area, role, "ctd") == {}
    # Undoing a removal puts the rating back under its id, as made, with its method.
    ratings.put_back(library, vid, area, role, "", "ctd", gone.before)
    assert gone.before is not None
    again = ratings.rate(library, vid, area, role, {"depth": 2})
    assert again.rating_id == gone.before.rating["id"]
    # Another rater's name is another rating.
    ratings.rate(library, vid, area, role, {"colour": 3}, rater_name="Dr A")
    assert browse.rating(library, vid, area, role, "ctd", "Dr A") == {"colour": 3}
    assert browse.rating(library, vid, area, role, "ctd") == {"colour": 5, "texture": 4, "depth": 2}


def test_timeline_counts_days_from_baseline_and_summarises_ratings(
    library: Library, me: int, tmp_path: Path
) -> None:
    files = [
        _photo(tmp_path / "a.jpg", "2025:03:01 10:00:00", 1),
        _photo(tmp_path / "b.jpg", "2025:04:02 10:00:00", 2),
    ]
    h.import_files(library, files, area="Belly")
    area = browse.areas(library, me)[0]
    assert area.photos == 2
    rows = browse.timeline(library, me, area.id)
    assert [(r.date, r.kind, r.days_since_baseline) for r in rows] == [
        (D1, VisitKind.BASELINE, 0),
        (D2, VisitKind.TREATMENT, 32),
    ]
    assert [r.is_session for r in rows] == [False, True]
    ratings.rate(library, rows[1].id, area.id, RaterRole.PATIENT, {"colour": 6, "texture": 5})
    assert browse.timeline(library, me, area.id)[1].ratings == (
        "Me (patient) · Colour/texture/depth: colour 6, texture 5",
    )


def test_photo_view_and_removal_are_reversible_and_reimport_brings_back(
    library: Library, me: int, tmp_path: Path
) -> None:
    path = _photo(tmp_path / "a.jpg", "2025:03:01 10:00:00")
    pid = h.import_files(library, [path], area="Belly").imported[0].photo_id
    assert photos.set_photo_view(library, pid, "left") == "front"
    with pytest.raises(ValidationError, match="view name is empty"):
        photos.set_photo_view(library, pid, "  ")
    photos.remove_photos(library, [pid])
    assert browse.timeline(library, me)[0].photos == ()
    # The original stays: removal only hides it.
    assert h.check(library).ok
    report = h.import_files(library, [path], area="Belly")
    assert report.duplicates[0].restored is True
    assert browse.timeline(library, me)[0].photos[0].view == "left"


def test_a_visit_with_photos_cannot_be_removed(library: Library, me: int, tmp_path: Path) -> None:
    h.import_files(library, [_photo(tmp_path / "a.jpg", "2025:03:01 10:00:00")], area="Belly")
    vid = browse.timeline(library, me)[0].id
    with pytest.raises(UsageError, match="holds 1 photo;"):
        visits.remove_visit(library, vid)


def test_plan_shows_where_each_file_lands_without_importing(
    library: Library, me: int, tmp_path: Path
) -> None:
    visits.add_visit(library, me, D2, VisitKind.TREATMENT)
    a = _photo(tmp_path / "a.jpg", "2025:04:02 09:00:00", 1)
    b = _photo(tmp_path / "b.jpg", "2025:03:01 09:00:00", 2)
    c = _photo(tmp_path / "c.jpg", None, 3)
    os.utime(c, (dt.datetime(2025, 5, 6, 12).timestamp(),) * 2)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    plan = {Path(p.file).name: p for p in plan_import(library, [tmp_path], client_id=me)}
    assert (plan["a.jpg"].visit_date, plan["a.jpg"].new_kind) == (D2, None)  # existing
    # The client's only visit is a treatment, so the earliest new day becomes the baseline.
    assert (plan["b.jpg"].visit_date, plan["b.jpg"].new_kind) == (D1, VisitKind.BASELINE)
    assert plan["c.jpg"].date_source is not None
    assert (plan["c.jpg"].visit_date, plan["c.jpg"].new_kind, plan["c.jpg"].date_source.value) == (
        D3,
        VisitKind.TREATMENT,
        "file",
    )
    assert "a text file" in plan["notes.jpg"].problem and plan["notes.jpg"].visit_date is None
    chosen = plan_import(library, [c], client_id=me, kind=VisitKind.CHECK_IN)
    assert chosen[0].new_kind == VisitKind.CHECK_IN
    assert listing.counts(library)["photos"] == 0
    given = plan_import(library, [a, b, bad], client_id=me, date=D3)
    assert [p.visit_date for p in given] == [D3, D3, None]
    assert given[2].problem.startswith("it is a text file")


@pytest.mark.folder_only(reason="lock")
def test_previews_can_be_made_ahead_of_their_first_view(library: Library, tmp_path: Path) -> None:
    paths = [_photo(tmp_path / f"{i}.jpg", None, i) for i in range(3)]
    shas = [i.sha256 for i in h.import_files(library, paths, area="Belly").imported]
    library.derived("previews", shas[0])
    with Library.open(library.root, allow_read_only=True) as reader:
        assert reader.make_previews(shas) == 0  # nothing kept by a reader
    calls = iter([False, True])
    assert library.make_previews(shas, cancel=lambda: next(calls)) == 0  # first is made already
    assert library.make_previews(shas) == 2
    assert all(library.store.has_cache("previews", sha) for sha in shas)
    assert library.make_previews(shas) == 0


def test_a_first_view_on_a_full_disk_still_shows_the_photo(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.core.errors import LibraryError

    sha = (
        h.import_files(library, [_photo(tmp_path / "a.jpg", None)], area="Belly").imported[0].sha256
    )

    def full(*_args: object) -> None:
        raise LibraryError("The disk holding the library is full.")

    monkeypatch.setattr(library.store, "write_cache", full)
    assert library.derived("previews", sha)[:2] == b"\xff\xd8"
    assert not library.store.has_cache("previews", sha)


def test_plan_names_duplicates_before_the_import(library: Library, tmp_path: Path) -> None:
    kept = _photo(tmp_path / "kept.jpg", "2025:03:01 09:00:00", 1)
    gone = _photo(tmp_path / "gone.jpg", "2025:03:01 09:10:00", 2)
    imported = h.import_files(library, [kept, gone], area="Belly").imported
    photos.remove_photos(library, [imported[1].photo_id])
    folder = tmp_path / "card"
    folder.mkdir()
    for name, source in (("IMG_1.jpg", kept), ("IMG_2.jpg", gone), ("new.jpg", None)):
        if source is None:
            _photo(folder / name, "2025:04:02 09:00:00", 3)
        else:
            (folder / name).write_bytes(source.read_bytes())
    (folder / "new copy.jpg").write_bytes((folder / "new.jpg").read_bytes())
    me = h.only_client(library)
    plan = {Path(p.file).name: p for p in plan_import(library, [folder], client_id=me)}
    assert plan["IMG_1.jpg"].duplicate is DuplicateKind.STORED
    assert not plan["IMG_1.jpg"].lands and plan["IMG_1.jpg"].visit_date is None
    assert plan["IMG_2.jpg"].duplicate is DuplicateKind.BROUGHT_BACK
    first, second = sorted(["new.jpg", "new copy.jpg"])  # the order the folder is read in
    assert plan[first].lands and plan[first].new_kind == VisitKind.TREATMENT
    assert (plan[second].duplicate, plan[second].duplicate_of) == (DuplicateKind.GIVEN_TWICE, first)
    # The same file given twice is a copy of itself, as the import sees it.
    again = plan_import(library, [folder / first, folder / first], client_id=me)
    assert [p.duplicate for p in again] == [DuplicateKind.NO, DuplicateKind.GIVEN_TWICE]
    # What the plan said is what the import does.
    report = h.import_files(library, [folder], area="Belly")
    assert [Path(i.file).name for i in report.imported] == [first]
    assert sorted(Path(d.file).name for d in report.duplicates) == sorted(
        ["IMG_1.jpg", "IMG_2.jpg", second]
    )


@pytest.mark.folder_only(reason="cache")
def test_lost_thumbnails_and_previews_are_rebuilt_from_the_original(
    library: Library, tmp_path: Path
) -> None:
    sha = (
        h.import_files(library, [_photo(tmp_path / "a.jpg", None)], area="Belly").imported[0].sha256
    )
    thumb = library.derived("thumbs", sha)
    import shutil

    shutil.rmtree(library.root / "cache")
    assert library.derived("previews", sha)[:2] == b"\xff\xd8"
    assert library.derived("thumbs", sha)[:2] == thumb[:2]
    assert library.store.has_cache("thumbs", sha)


@pytest.mark.folder_only(reason="lock")
def test_a_jpeg_preview_is_made_on_first_view_and_kept(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.effect_noise((2400, 1800), 30).convert("RGB").save(path, "JPEG", quality=80)
    sha = h.import_files(library, [path], area="Belly").imported[0].sha256
    assert library.store.has_cache("thumbs", sha)
    assert not library.store.has_cache("previews", sha)
    # A reader (the library is open for writing here) may make it, but not store it.
    with Library.open(library.root, allow_read_only=True) as reader:
        assert reader.read_only is not None
        made = reader.derived("previews", sha)
    assert not library.store.has_cache("previews", sha)
    assert library.derived("previews", sha) == made
    assert library.store.has_cache("previews", sha)
    with Image.open(io.BytesIO(made)) as preview:
        assert preview.size == (2048, 1536)


def test_a_rating_keeps_its_method_unless_an_edit_gives_one(library: Library, me: int) -> None:
    area = clients.add_area(library, me, "Thigh")
    vid = visits.add_visit(library, me, D1, VisitKind.TREATMENT)
    role = RaterRole.PATIENT
    first = ratings.rate(library, vid, area, role, {"colour": 4}, method=RatingMethod.PHOTOS)
    assert first.method is RatingMethod.PHOTOS
    assert ratings.rate(library, vid, area, role, {"depth": 6}).method is RatingMethod.PHOTOS
    assert (
        ratings.rate(library, vid, area, role, {"depth": 5}, method=RatingMethod.IN_PERSON).method
        is RatingMethod.IN_PERSON
    )
    other = ratings.rate(library, vid, area, role, {"colour": 4}, rater_name="Ana")
    assert other.method is RatingMethod.IN_PERSON  # a new rating: in person unless it says


def test_a_checked_plan_finds_damage_and_says_what_the_import_then_does(
    library: Library, me: int, tmp_path: Path
) -> None:
    """With check, every file is decoded as the import will: a truncated JPEG is refused in
    the plan (its header alone looks fine), each photo has a thumbnail, and the counts match."""
    good = _photo(tmp_path / "good.jpg", "2025:04:02 09:00:00", 1)
    cut = tmp_path / "cut.jpg"
    whole = _photo(tmp_path / "whole.jpg", "2025:04:02 09:10:00", 2).read_bytes()
    cut.write_bytes(whole[: len(whole) // 2])
    (tmp_path / "whole.jpg").unlink()
    seen: list[int] = []
    quick = plan_import(library, [good, cut], client_id=me)
    assert [p.lands for p in quick] == [True, True]  # the header of the cut file is whole
    plan = plan_import(
        library, [good, cut], client_id=me, check=True, progress=lambda d, t, f: seen.append(d)
    )
    assert [p.lands for p in plan] == [True, False] and seen == [1, 2]
    assert "truncated" in plan[1].problem
    assert plan[0].thumbnail is not None and plan[0].thumbnail[:2] == b"\xff\xd8"
    report = h.import_files(library, [good, cut], area="Belly")
    assert len(report.imported) == sum(p.lands for p in plan)
    assert len(report.rejected) == sum(bool(p.problem) for p in plan)
