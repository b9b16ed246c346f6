"""Progress of an area over time, and the CSV of every rating."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import UsageError, ValidationError
from tracker.core.exports import ratings_csv as export_csv
from tracker.core.queries import browse
from tracker.core.queries.progress import progress
from tracker.core.services import clients
from tracker.core.store.library import Library

D = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3), dt.date(2025, 3, 20)]


@pytest.fixture
def course(library: Library) -> int:
    h.add_visit(library, client=None, day=D[0], kind=VisitKind.BASELINE)
    for day in D[1:3]:
        h.add_visit(library, client=None, day=day, kind=VisitKind.TREATMENT)
    h.add_visit(library, client=None, day=D[3], kind=VisitKind.CHECK_IN)
    me = browse.clients(library)[0].id
    area = clients.add_area(library, me, "Hips")
    h.add_visit(
        library,
        client=None,
        day=D[1],
        area="Hips",
        treatment=TreatmentInput(device="pen", needle_depth_mm=1.0),
    )
    h.add_visit(library, client=None, day=D[2], area="Hips", treatment=TreatmentInput(passes=2))
    for day, (c, t, d) in zip(D, [(8, 7, 6), (7, 7, 6), (5, 6, 5), (4, 5, 5)], strict=True):
        h.rate(
            library,
            client=None,
            area="Hips",
            day=day,
            role=RaterRole.PATIENT,
            values={"colour": c, "texture": t, "depth": d},
        )
    # Two practitioners at the last visit: two series, averaged into the role's change.
    h.rate(
        library,
        client=None,
        area="Hips",
        day=D[0],
        role=RaterRole.PRACTITIONER,
        values={"colour": 9},
    )
    h.rate(
        library,
        client=None,
        area="Hips",
        day=D[3],
        role=RaterRole.PRACTITIONER,
        values={"colour": 6},
        rater_name="Dr A",
    )
    h.rate(
        library,
        client=None,
        area="Hips",
        day=D[3],
        role=RaterRole.PRACTITIONER,
        values={"colour": 5},
        rater_name="Dr B",
    )
    return area


def test_series_changes_and_summary(library: Library, course: int) -> None:
    p = progress(library, course, today=dt.date(2025, 4, 1))
    assert [v.session for v in p.visits] == [None, 1, 2, None]
    assert [v.position for v in p.visits] == [0, 1, 2, 2.5]
    assert p.visits[1].treatment is not None and p.visits[1].treatment["device"] == "pen"
    ctd = p.instrument("ctd")
    assert ctd is not None and ctd.ratings == 7 and p.rated == [ctd]
    colour = [s for s in ctd.series if s.item == "colour"]
    assert [(s.rater.role, s.rater.name) for s in colour] == [
        (RaterRole.PATIENT, ""),
        (RaterRole.PRACTITIONER, ""),
        (RaterRole.PRACTITIONER, "Dr A"),
        (RaterRole.PRACTITIONER, "Dr B"),
    ]
    assert [pt.value for pt in colour[0].points] == [8, 7, 5, 4]
    practitioner = next(c for c in ctd.changes if c.role is RaterRole.PRACTITIONER)
    assert (practitioner.baseline, practitioner.latest, practitioner.change) == (9, 5.5, -3.5)
    assert (practitioner.baseline_date, practitioner.latest_date) == (D[0], D[3])
    patient = next(c for c in ctd.changes if c.item == "colour" and c.role is RaterRole.PATIENT)
    assert patient.percent == pytest.approx(-50) and patient.improved is True
    assert p.sessions_done == 2
    assert p.baseline == D[0] and p.days_since_baseline == 85
    assert p.next_session == D[2] + dt.timedelta(days=28)  # the default interval
    clients.update_area(library, course, interval_days=42)
    assert progress(library, course).next_session == D[2] + dt.timedelta(days=42)


def test_interval_is_checked(library: Library, course: int) -> None:
    with pytest.raises(ValidationError, match="1 to 365 days"):
        clients.update_area(library, course, interval_days=0)


def test_an_area_added_today_has_not_started(library: Library, course: int) -> None:
    """The client has four visits, two of them treatments; an area added since has no
    baseline, no sessions and no visits of its own (not "4 sessions, 773 days")."""
    area = clients.add_area(library, browse.clients(library)[0].id, "Arms")
    p = progress(library, area, today=dt.date(2027, 1, 1))
    assert p.visits == [] and p.rated == [] and p.instruments[0].scale.key == "ctd"
    assert (p.baseline, p.sessions_done, p.days_since_baseline, p.next_session) == (
        None,
        0,
        None,
        None,
    )


def test_csv_has_a_row_per_rating_item_with_the_treatment_record(
    library: Library, course: int, tmp_path: Path
) -> None:
    out = tmp_path / "ratings.csv"
    result = export_csv.export(library, out)
    text = out.read_bytes().decode("utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert result["rows"] == len(table) == 4 * 3 + 3
    assert tuple(table[0]) == export_csv.COLUMNS
    treated = [r for r in table if r["visit_date"] == "2025-02-03"]
    assert {r["device"] for r in treated} == {"pen"} and {
        r["needle_depth_mm"] for r in treated
    } == {"1.0"}
    assert {r["rater_name"] for r in table if r["rater_role"] == "practitioner"} == {
        "",
        "Dr A",
        "Dr B",
    }


def test_csv_neutralises_formulas(library: Library, tmp_path: Path) -> None:
    me = browse.clients(library)[0].id
    clients.update_client(library, me, name='=HYPERLINK("http://x")')
    clients.add_area(library, me, "+SUM(A1)")
    h.add_visit(
        library,
        client=None,
        day=D[0],
        area="+SUM(A1)",
        treatment=TreatmentInput(device="@cmd", topical="-2+3"),
    )
    h.rate(
        library,
        client=None,
        area="+SUM(A1)",
        day=D[0],
        role=RaterRole.PATIENT,
        values={"colour": 3},
    )
    out = tmp_path / "r.csv"
    export_csv.export(library, out)
    row = next(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert row["client"] == '\'=HYPERLINK("http://x")'
    assert row["area"] == "'+SUM(A1)" and row["device"] == "'@cmd" and row["topical"] == "'-2+3"
    assert row["value"] == "3"


def test_csv_refuses_other_names(library: Library, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.csv"):
        export_csv.export(library, tmp_path / "r.xlsx")


def test_sessions_and_baselines_are_counted_per_area(library: Library, tmp_path: Path) -> None:
    """Belly is photographed at the baseline and both treatments; Hips at the baseline only,
    rated at the first treatment (not treated there) and given a record at the second."""

    def shot(name: str, day: dt.date) -> Path:
        path = tmp_path / name
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
        Image.new("RGB", (64, 48), (len(name) * 20 % 255, 90, 80)).save(path, exif=exif)
        return path

    h.import_files(library, [shot("b0.jpg", D[0]), shot("b1.jpg", D[1])], area="Belly")
    h.import_files(library, [shot("belly-2.jpg", D[2])], area="Belly")
    h.import_files(library, [shot("hips-0.jpg", D[0])], area="Hips")
    h.rate(library, area="Hips", day=D[1], role=RaterRole.PATIENT, values={"colour": 5})
    h.add_visit(library, day=D[2], area="Hips", treatment=TreatmentInput(passes=2))
    me = h.only_client(library)
    ids = {a.name: a.id for a in browse.areas(library, me)}
    arms = clients.add_area(library, me, "Arms")
    today = dt.date(2025, 4, 1)
    belly, hips, none = (
        progress(library, a, today=today) for a in (ids["Belly"], ids["Hips"], arms)
    )
    assert [v.kind for v in belly.visits] == [
        VisitKind.BASELINE,
        VisitKind.TREATMENT,
        VisitKind.TREATMENT,
    ]
    assert [v.session for v in belly.visits] == [None, 1, 2] and belly.sessions_done == 2
    assert [v.session for v in hips.visits] == [None, None, 1] and hips.sessions_done == 1
    assert hips.next_session == D[2] + dt.timedelta(days=28)
    assert belly.baseline == hips.baseline == D[0] and belly.days_since_baseline == 85
    assert none.visits == [] and none.sessions_done == 0 and none.days_since_baseline is None
    # The timeline and the visit panel count the same way.
    rows = browse.timeline(library, me, ids["Hips"])
    assert [r.is_session for r in rows] == [False, False, True]
    detail = browse.visit_detail(library, rows[2].id)
    at = {a.area.name: a for a in detail.areas}
    assert (at["Hips"].session, at["Belly"].session, at["Arms"].session) == (1, 2, None)
    assert (at["Hips"].days_since_baseline, at["Arms"].days_since_baseline) == (56, None)


def test_csv_marks_a_posas_total_as_a_row_of_its_own(library: Library, tmp_path: Path) -> None:
    me = h.only_client(library)
    clients.add_area(library, me, "Thigh")
    h.add_visit(library, day=D[0], area="Thigh")
    values = dict(
        vascularity=6, pigmentation=7, thickness=5, relief=6, pliability=4, surface_area=5
    )
    h.rate(
        library,
        area="Thigh",
        day=D[0],
        role=RaterRole.PRACTITIONER,
        values={**values, "overall": 7},
        scale="posas2-observer",
        rater_name="Dr Lee",
    )
    h.rate(  # one item short: no total
        library,
        area="Thigh",
        day=D[0],
        role=RaterRole.PATIENT,
        values={"pain": 2, "itching": 3},
        scale="posas2-patient",
    )
    out = tmp_path / "r.csv"
    export_csv.export(library, out)
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    totals = [r for r in table if r["row"] == "total"]
    assert [(r["scale"], r["item"], r["item_label"], r["value"]) for r in totals] == [
        ("posas2-observer", "total", "Total (6–60)", "33")
    ]
    assert {r["row"] for r in table} == {"item", "total"} and len(table) == 7 + 1 + 2


def test_a_session_before_the_first_photo_begins_the_course_and_the_pair_is_photographed(
    library: Library, tmp_path: Path
) -> None:
    """Found in review: a record before the first photo made session 1 land on "day -28", and
    a rating before any photo left Compare with baseline without a partner."""
    me = h.only_client(library)
    clients.add_area(library, me, "Calf")
    h.add_visit(library, day=D[0], area="Calf", treatment=TreatmentInput(passes=2))
    h.add_visit(library, day=D[1])
    h.rate(library, area="Calf", day=D[1], role=RaterRole.PATIENT, values={"colour": 5})
    files = []
    for n, day in enumerate(D[2:]):
        path = tmp_path / f"c{n}.jpg"
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
        Image.new("RGB", (64, 48), (200, 150 + 20 * n, 140)).save(path, exif=exif)
        files.append(path)
    h.import_files(library, files, area="Calf")
    area = next(a.id for a in browse.areas(library, me) if a.name == "Calf")
    p = progress(library, area)
    assert p.baseline == D[0] and p.visits[0].days_since_baseline == 0
    assert all(d is not None and d >= 0 for d in (v.days_since_baseline for v in p.visits))
    first, latest = (row.id for _day, row in browse.area_photos(library, area))
    assert browse.baseline_partner(library, latest) == first
