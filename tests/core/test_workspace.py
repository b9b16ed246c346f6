"""The window's reads and edits by id; each edit returns what an undo needs to put it back."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from tracker.core.db.models import RaterRole, Stage, VisitKind
from tracker.core.errors import UsageError, ValidationError
from tracker.core.queries import workspace as ws
from tracker.core.services.imports import plan_import
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
    return ws.clients(library)[0].id


def test_clients_are_searched_by_any_part_of_the_name(library: Library) -> None:
    ws.add_client(library, "Ana Lima")
    ws.add_client(library, "Bo Olsen")
    assert [c.name for c in ws.clients(library, "li")] == ["Ana Lima"]
    assert [c.name for c in ws.clients(library, "")] == ["Ana Lima", "Bo Olsen", "Me"]
    with pytest.raises(ValidationError, match="already a client named 'Bo Olsen'"):
        ws.add_client(library, " Bo Olsen ")


def test_client_edit_returns_old_values_and_checks_them(library: Library, me: int) -> None:
    old = ws.update_client(library, me, name="Sam", fitzpatrick=3)
    assert old == {"name": "Me", "fitzpatrick": None}
    assert ws.client_fields(library, me)["name"] == "Sam"
    with pytest.raises(ValidationError, match="Fitzpatrick"):
        ws.update_client(library, me, fitzpatrick=7)
    ws.update_client(library, me, **old)
    assert ws.client_fields(library, me) == {
        "name": "Me",
        "date_of_birth": None,
        "fitzpatrick": None,
        "notes": "",
    }


def test_visit_add_edit_remove_and_restore_keeps_records_and_ratings(
    library: Library, me: int
) -> None:
    area = ws.add_area(library, me, "Hips", stage=Stage.ALBA)
    vid = ws.add_visit(library, me, D1, VisitKind.BASELINE, "first")
    with pytest.raises(ValidationError, match="already has a visit on 2025-03-01"):
        ws.add_visit(library, me, D1, VisitKind.TREATMENT)
    assert ws.set_treatment(library, vid, area, {"device": "pen", "needle_depth_mm": 1.0}) is None
    assert (
        ws.set_rating(library, vid, area, RaterRole.PATIENT, "ctd", {"colour": 7, "depth": 5}) == {}
    )
    assert ws.update_visit(library, vid, notes="changed") == {"notes": "first"}

    snapshot = ws.remove_visit(library, vid)
    assert ws.timeline(library, me) == []
    assert ws.restore_visit(library, snapshot) == vid
    detail = ws.visit_detail(library, vid)
    assert detail.notes == "changed"
    assert detail.areas[0].treatment is not None and detail.areas[0].treatment["device"] == "pen"
    assert detail.areas[0].ratings[RaterRole.PATIENT] == {"colour": 7, "depth": 5}


def test_treatment_is_replaced_whole_and_cleared_when_empty(library: Library, me: int) -> None:
    area = ws.add_area(library, me, "Thigh")
    vid = ws.add_visit(library, me, D1, VisitKind.TREATMENT)
    ws.set_treatment(library, vid, area, {"device": "roller", "passes": 4})
    old = ws.set_treatment(library, vid, area, {"device": "pen"})
    assert old is not None and old["passes"] == 4 and old["device"] == "roller"
    assert ws.treatment(library, vid, area) == {
        **dict.fromkeys(ws.TREATMENT_FIELDS),
        "device": "pen",
    }
    with pytest.raises(ValidationError, match="needle depth"):
        ws.set_treatment(library, vid, area, {"needle_depth_mm": 5})
    assert ws.treatment(library, vid, area) is not None  # unchanged by the refusal
    ws.set_treatment(library, vid, area, {})
    assert ws.treatment(library, vid, area) is None


def test_rating_is_exactly_the_values_given(library: Library, me: int) -> None:
    area = ws.add_area(library, me, "Thigh")
    vid = ws.add_visit(library, me, D1, VisitKind.TREATMENT)
    ws.set_rating(library, vid, area, RaterRole.PRACTITIONER, "ctd", {"colour": 5, "texture": 4})
    old = ws.set_rating(library, vid, area, RaterRole.PRACTITIONER, "ctd", {"colour": 6})
    assert old == {"colour": 5, "texture": 4}
    assert ws.rating(library, vid, area, RaterRole.PRACTITIONER, "ctd") == {"colour": 6}
    with pytest.raises(ValidationError, match="between 1 and 10"):
        ws.set_rating(library, vid, area, RaterRole.PRACTITIONER, "ctd", {"colour": 11})
    assert ws.rating(library, vid, area, RaterRole.PRACTITIONER, "ctd") == {"colour": 6}
    ws.set_rating(library, vid, area, RaterRole.PRACTITIONER, "ctd", {})
    assert ws.rating(library, vid, area, RaterRole.PRACTITIONER, "ctd") == {}


def test_timeline_counts_days_from_baseline_and_summarises_ratings(
    library: Library, me: int, tmp_path: Path
) -> None:
    files = [
        _photo(tmp_path / "a.jpg", "2025:03:01 10:00:00", 1),
        _photo(tmp_path / "b.jpg", "2025:04:02 10:00:00", 2),
    ]
    library.import_files(files, area="Belly")
    area = ws.areas(library, me)[0]
    assert area.photos == 2
    rows = ws.timeline(library, me, area.id)
    assert [(r.date, r.kind, r.days_since_baseline) for r in rows] == [
        (D1, VisitKind.BASELINE, 0),
        (D2, VisitKind.CHECK_IN, 32),
    ]
    ws.set_rating(
        library, rows[1].id, area.id, RaterRole.PATIENT, "ctd", {"colour": 6, "texture": 5}
    )
    assert ws.timeline(library, me, area.id)[1].rating_summary == "Patient 6 · 5 · –"


def test_photo_view_and_removal_are_reversible_and_reimport_brings_back(
    library: Library, me: int, tmp_path: Path
) -> None:
    path = _photo(tmp_path / "a.jpg", "2025:03:01 10:00:00")
    pid = library.import_files([path], area="Belly").imported[0].photo_id
    assert ws.set_photo_view(library, pid, "left") == "front"
    with pytest.raises(ValidationError, match="view name is empty"):
        ws.set_photo_view(library, pid, "  ")
    ws.remove_photos(library, [pid])
    assert ws.timeline(library, me)[0].photos == ()
    # The original stays: removal only hides it.
    assert library.check().ok
    report = library.import_files([path], area="Belly")
    assert report.duplicates[0].restored is True
    assert ws.timeline(library, me)[0].photos[0].view == "left"


def test_a_visit_with_photos_cannot_be_removed(library: Library, me: int, tmp_path: Path) -> None:
    library.import_files([_photo(tmp_path / "a.jpg", "2025:03:01 10:00:00")], area="Belly")
    vid = ws.timeline(library, me)[0].id
    with pytest.raises(UsageError, match="holds 1 photo;"):
        ws.remove_visit(library, vid)


def test_plan_shows_where_each_file_lands_without_importing(
    library: Library, me: int, tmp_path: Path
) -> None:
    ws.add_visit(library, me, D2, VisitKind.TREATMENT)
    a = _photo(tmp_path / "a.jpg", "2025:04:02 09:00:00", 1)
    b = _photo(tmp_path / "b.jpg", "2025:03:01 09:00:00", 2)
    c = _photo(tmp_path / "c.jpg", None, 3)
    os.utime(c, (dt.datetime(2025, 5, 6, 12).timestamp(),) * 2)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    plan = {Path(p.file).name: p for p in plan_import(library, [tmp_path])}
    assert (plan["a.jpg"].visit_date, plan["a.jpg"].visit) == (D2, "existing")
    assert (plan["b.jpg"].visit_date, plan["b.jpg"].visit) == (D1, "new baseline")
    assert (plan["c.jpg"].visit_date, plan["c.jpg"].visit, plan["c.jpg"].date_source.value) == (
        D3,
        "new check-in",
        "file",
    )
    assert "notes.jpg" in plan["notes.jpg"].problem and plan["notes.jpg"].visit == ""
    assert library.counts()["photos"] == 0
    given = plan_import(library, [a, b, bad], date=D3)
    assert [p.visit_date for p in given] == [D3, D3, None]
    assert "notes.jpg" in given[2].problem


def test_previews_can_be_made_ahead_of_their_first_view(library: Library, tmp_path: Path) -> None:
    paths = [_photo(tmp_path / f"{i}.jpg", None, i) for i in range(3)]
    shas = [i.sha256 for i in library.import_files(paths, area="Belly").imported]
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

    sha = library.import_files([_photo(tmp_path / "a.jpg", None)], area="Belly").imported[0].sha256

    def full(*_args: object) -> None:
        raise LibraryError("The disk holding the library is full.")

    monkeypatch.setattr(library.store, "write_cache", full)
    assert library.derived("previews", sha)[:2] == b"\xff\xd8"
    assert not library.store.has_cache("previews", sha)


def test_plan_names_duplicates_before_the_import(library: Library, tmp_path: Path) -> None:
    kept = _photo(tmp_path / "kept.jpg", "2025:03:01 09:00:00", 1)
    gone = _photo(tmp_path / "gone.jpg", "2025:03:01 09:10:00", 2)
    imported = library.import_files([kept, gone], area="Belly").imported
    ws.remove_photos(library, [imported[1].photo_id])
    folder = tmp_path / "card"
    folder.mkdir()
    for name, source in (("IMG_1.jpg", kept), ("IMG_2.jpg", gone), ("new.jpg", None)):
        if source is None:
            _photo(folder / name, "2025:04:02 09:00:00", 3)
        else:
            (folder / name).write_bytes(source.read_bytes())
    (folder / "new copy.jpg").write_bytes((folder / "new.jpg").read_bytes())
    plan = {Path(p.file).name: p for p in plan_import(library, [folder])}
    assert plan["IMG_1.jpg"].duplicate == "already in the library"
    assert plan["IMG_1.jpg"].visit == "" and plan["IMG_1.jpg"].visit_date is None
    assert plan["IMG_2.jpg"].duplicate == "brought back"
    first, second = sorted(["new.jpg", "new copy.jpg"])  # the order the folder is read in
    assert plan[first].duplicate == "" and plan[first].visit == "new check-in"
    assert plan[second].duplicate == f"the same photo as {first}"
    # The same file given twice is a copy of itself, as the import sees it.
    again = plan_import(library, [folder / first, folder / first])
    assert [p.duplicate for p in again] == ["", f"the same photo as {first}"]
    # What the plan said is what the import does.
    report = library.import_files([folder], area="Belly")
    assert [Path(i.file).name for i in report.imported] == [first]
    assert sorted(Path(d.file).name for d in report.duplicates) == sorted(
        ["IMG_1.jpg", "IMG_2.jpg", second]
    )


def test_lost_thumbnails_and_previews_are_rebuilt_from_the_original(
    library: Library, tmp_path: Path
) -> None:
    sha = library.import_files([_photo(tmp_path / "a.jpg", None)], area="Belly").imported[0].sha256
    thumb = library.derived("thumbs", sha)
    import shutil

    shutil.rmtree(library.root / "cache")
    assert library.derived("previews", sha)[:2] == b"\xff\xd8"
    assert library.derived("thumbs", sha)[:2] == thumb[:2]
    assert library.store.has_cache("thumbs", sha)


def test_a_jpeg_preview_is_made_on_first_view_and_kept(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.effect_noise((2400, 1800), 30).convert("RGB").save(path, "JPEG", quality=80)
    sha = library.import_files([path], area="Belly").imported[0].sha256
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
