"""Library operations: visits, treatment records, ratings, and grouping imports into visits."""

from __future__ import annotations

import datetime as dt
import stat
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests import helpers as h
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import Client, RaterRole, Rating, RatingItem, VisitKind
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import NotFoundError, UsageError, ValidationError
from tracker.core.queries import listing
from tracker.core.services import clients
from tracker.core.services.import_plan import plan_import
from tracker.core.store.library import Library

D1, D2 = dt.date(2025, 1, 10), dt.date(2025, 2, 7)


def _photo(path: Path, taken: str | None, seed: int = 0) -> Path:
    im = Image.effect_noise((80, 60), 30 + seed).convert("RGB")
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    im.save(path, "JPEG", exif=exif)
    return path


def _rating_rows(lib: Library) -> int:
    with lib.session() as s:
        return (s.scalar(select(func.count(Rating.id))) or 0) + (
            s.scalar(select(func.count(RatingItem.id))) or 0
        )


@pytest.fixture
def course(library: Library) -> Library:
    h.add_visit(library, client=None, day=D1, area=None)
    clients.add_area(library, h.only_client(library), "Thigh")
    return library


def test_first_visit_is_the_baseline_and_later_ones_treatments(library: Library) -> None:
    assert h.add_visit(library, client=None, day=D1).kind == VisitKind.BASELINE
    assert h.add_visit(library, client=None, day=D2).kind == VisitKind.TREATMENT
    again = h.add_visit(
        library, client=None, day=D2, kind=VisitKind.FOLLOW_UP, notes="Healing well"
    )
    assert again.created is False and again.kind == VisitKind.FOLLOW_UP
    assert [(v["date"], v["kind"], v["notes"]) for v in h.list_visits(library)] == [
        ("2025-01-10", "baseline", ""),
        ("2025-02-07", "follow-up", "Healing well"),
    ]


def test_treatment_record_is_stored_and_validated(course: Library) -> None:
    record = TreatmentInput(device="pen", needle_depth_mm=1.5, passes=3, topical="PRP", pain=4)
    result = h.add_visit(course, client=None, day=D2, area="Thigh", treatment=record)
    assert result.treatment_record_id is not None
    with pytest.raises(ValidationError, match=r"needle depth must be between 0\.1 and 3\.5 mm"):
        h.add_visit(
            course, client=None, day=D2, area="Thigh", treatment=TreatmentInput(needle_depth_mm=4)
        )
    with pytest.raises(ValidationError, match="pain"):
        h.add_visit(course, client=None, day=D2, area="Thigh", treatment=TreatmentInput(pain=11))
    with pytest.raises(UsageError, match="--area"):
        h.add_visit(course, client=None, day=D2, treatment=TreatmentInput(passes=2))
    with pytest.raises(NotFoundError, match=r"no area named 'Arm'.*Thigh"):
        h.add_visit(course, client=None, day=D2, area="Arm", treatment=TreatmentInput(passes=2))


def test_rating_is_stored_and_a_second_rating_replaces_values(course: Library) -> None:
    first = h.rate(
        course,
        client=None,
        area="Thigh",
        day=D1,
        role=RaterRole.PATIENT,
        values={"colour": 7, "texture": 6, "depth": 5},
    )
    assert first.values == {"colour": 7, "texture": 6, "depth": 5}
    again = h.rate(
        course, client=None, area="Thigh", day=D1, role=RaterRole.PATIENT, values={"colour": 6}
    )
    assert again.rating_id == first.rating_id
    assert again.values == {"colour": 6, "texture": 6, "depth": 5}
    other = h.rate(
        course,
        client=None,
        area="Thigh",
        day=D1,
        role=RaterRole.PRACTITIONER,
        values={"overall": 3},
        scale="gais",
        rater_name="Dr Ana",
    )
    assert other.rating_id != first.rating_id and other.scale.key == "gais"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": {"colour": 11}}, "between 1 and 10"),
        ({"values": {"colour": 0}}, "between 1 and 10"),
        ({"values": {"colour": 5.5}}, "whole numbers"),
        ({"values": {"redness": 5}}, "no item 'redness'"),
        ({"values": {"colour": float("nan")}}, "must be a number"),
        ({"values": {}}, "at least one value"),
        ({"values": {"vascularity": 3}, "scale": "posas2-observer"}, "rated by the practitioner"),
        ({"values": {"overall": 3}, "scale": "nope"}, "no rating scale 'nope'"),
        ({"values": {"colour": 3}, "area": "Arm"}, "no area named 'Arm'"),
        ({"values": {"colour": 3}, "day": D2}, "no visit on 2025-02-07"),
    ],
)
def test_a_bad_rating_is_refused_and_nothing_is_stored(
    course: Library, kwargs: dict, message: str
) -> None:
    call = {"client": None, "area": "Thigh", "day": D1, "role": RaterRole.PATIENT, **kwargs}
    with pytest.raises(UsageError, match=message):
        h.rate(course, **call)
    assert _rating_rows(course) == 0


def test_vas_accepts_decimals_within_range(course: Library) -> None:
    result = h.rate(
        course,
        client=None,
        area="Thigh",
        day=D1,
        role=RaterRole.PATIENT,
        values={"overall": 6.5},
        scale="improvement-vas",
    )
    assert result.values == {"overall": 6.5}


def test_several_clients_need_a_name(library: Library) -> None:
    with library.session() as s:
        s.add(Client(name="Bea"))
    with pytest.raises(UsageError, match="several clients"):
        h.add_visit(library, client=None, day=D1)
    h.add_visit(library, client="Bea", day=D1)
    assert [v["client"] for v in h.list_visits(library)] == ["Bea"]
    with pytest.raises(NotFoundError, match="no client named 'Zed'"):
        h.add_visit(library, client="Zed", day=D1)


def test_import_groups_by_date_and_the_earliest_visit_is_the_baseline(
    library: Library, tmp_path: Path
) -> None:
    files = [
        _photo(tmp_path / "late.jpg", "2025:03:01 09:00:00", 1),
        _photo(tmp_path / "early.jpg", "2025:01:05 09:00:00", 2),
        _photo(tmp_path / "early2.jpg", "2025:01:05 17:30:00", 3),
    ]
    report = h.import_files(library, files, area="Hips")
    assert [r.file for r in report.imported] == [str(f) for f in files]  # given order kept
    assert report.imported[1].visit_id == report.imported[2].visit_id != report.imported[0].visit_id
    # The rule of every new visit (rules.new_visit_kind): the first is the baseline, the
    # later ones treatments; the import's earliest day takes the baseline from a later one.
    assert [(v["date"], v["kind"]) for v in h.list_visits(library)] == [
        ("2025-01-05", "baseline"),
        ("2025-03-01", "treatment"),
    ]


def test_given_date_puts_every_photo_in_that_visit(library: Library, tmp_path: Path) -> None:
    files = [_photo(tmp_path / f"{i}.jpg", f"2025:0{i + 1}:01 09:00:00", i) for i in range(3)]
    report = h.import_files(library, files, area="Hips", date=D2, view="close-up")
    assert {r.visit_id for r in report.imported} == {report.imported[0].visit_id}
    assert {r.date_source for r in report.imported} == {"given"}
    assert {p["view"] for p in h.list_photos(library)} == {"close-up"}


@pytest.mark.folder_only(reason="files")
def test_progress_is_reported_for_every_file_and_cancel_stops_cleanly(
    library: Library, tmp_path: Path
) -> None:
    files = [_photo(tmp_path / f"{i}.jpg", "2025:01:01 09:00:00", i) for i in range(8)]
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def progress(done: int, total: int, _file: str) -> None:
        seen.append((done, total))
        if done == 3:
            stop.set()

    report = h.import_files(library, files, area="Hips", progress=progress, cancel=stop.is_set)
    assert report.cancelled
    assert seen[:3] == [(1, 8), (2, 8), (3, 8)]
    assert len(report.imported) == 3 == len(h.list_photos(library))
    assert list((library.root / "tmp").iterdir()) == []
    assert h.check(library).ok


def test_same_bytes_within_one_batch_are_stored_once(library: Library, tmp_path: Path) -> None:
    a = _photo(tmp_path / "a.jpg", "2025:01:01 09:00:00")
    b = tmp_path / "b.jpg"
    b.write_bytes(a.read_bytes())
    report = h.import_files(library, [a, b, a], area="Hips")
    assert len(report.imported) == 1
    assert [(d.file, d.photo_id, d.copy_of) for d in report.duplicates] == [
        (str(b), report.imported[0].photo_id, str(a)),
        (str(a), report.imported[0].photo_id, str(a)),
    ]
    again = h.import_files(library, [b], area="Hips")
    assert [(d.file, d.copy_of) for d in again.duplicates] == [(str(b), "")]  # stored before


def test_nothing_is_created_when_every_file_is_refused(library: Library, tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    report = h.import_files(library, [bad], area="Brand new area", client="Brand new client")
    assert len(report.rejected) == 1
    assert listing.areas(library) == []
    assert [c["name"] for c in listing.clients(library)] == ["Me"]


@pytest.mark.folder_only(reason="permissions")
def test_a_new_library_is_private_to_its_owner(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib", create=True):
        pass
    assert stat.S_IMODE((tmp_path / "lib").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "lib" / DB_NAME).stat().st_mode) == 0o600


def test_a_creation_cut_off_after_its_first_step_is_finished_next_time(tmp_path: Path) -> None:
    # What a crash right after creating the empty database file leaves behind.
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / DB_NAME).touch()
    with Library.open(tmp_path / "lib", create=True) as lib:
        assert [c["name"] for c in listing.clients(lib)] == ["Me"]


@pytest.mark.folder_only(reason="files")
def test_an_unexpected_failure_with_one_file_refuses_that_file_and_goes_on(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.core.imaging import decode as imaging

    files = [_photo(tmp_path / f"{i}.jpg", "2025:01:01 09:00:00", i) for i in range(3)]
    real = imaging.decode

    def flaky(data: bytes, **kwargs: bool) -> imaging.DecodedPhoto:
        if data == files[1].read_bytes():
            raise RuntimeError("a decoder bug")
        return real(data, **kwargs)

    monkeypatch.setattr(imaging, "decode", flaky)
    report = h.import_files(library, files, area="Hips")
    assert [Path(i.file).name for i in report.imported] == ["0.jpg", "2.jpg"]
    assert len(report.rejected) == 1 and "1.jpg was not imported" in report.rejected[0].error
    assert "RuntimeError" in report.rejected[0].error and "log" in report.rejected[0].error
    assert list((library.root / "tmp").iterdir()) == []
    assert h.check(library).ok


def test_a_photo_dated_far_ahead_or_before_1900_is_named_in_the_preview_as_the_import_refuses_it(
    library: Library, tmp_path: Path
) -> None:
    """Found in review: the preview said such a photo would land, then the import refused it."""
    files = []
    dates = {"future": "2035:05:01", "old": "1899:12:31", "ok": "2025:01:06"}
    for stem, day in dates.items():
        name, taken = f"{stem}.jpg", f"{day} 10:00:00"
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = taken
        Image.new("RGB", (64, 48), (len(name) * 20, 150, 140)).save(tmp_path / name, exif=exif)
        files.append(tmp_path / name)
    client = h.only_client(library)
    planned = plan_import(library, files, client_id=client, check=True)
    plan = {Path(p.file).name: p for p in planned}
    assert "more than a year from today" in plan["future.jpg"].problem
    assert "before 1900" in plan["old.jpg"].problem
    assert plan["ok.jpg"].problem == "" and plan["ok.jpg"].new_kind is VisitKind.BASELINE
    report = h.import_files(library, files, area="Hips")
    assert sorted(Path(r.file).name for r in report.rejected) == ["future.jpg", "old.jpg"]
