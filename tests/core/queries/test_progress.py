"""Progress of an area over time, and the CSV of every rating."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

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
    for day, (c, t, d) in zip(D, [(8, 7, 6), (7, 7, 6), (5, 6, 5), (4, 5, 5)], strict=True):
        h.rate(
            library,
            client=None,
            area="Hips",
            day=day,
            role=RaterRole.PATIENT,
            values={"colour": c, "texture": t, "depth": d},
        )
    # Two practitioners at the last visit: their values are averaged.
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
    colour_patient = next(s for s in p.series if s.item == "colour" and s.role is RaterRole.PATIENT)
    assert [pt.value for pt in colour_patient.points] == [8, 7, 5, 4]
    practitioner = next(c for c in p.changes if c.role is RaterRole.PRACTITIONER)
    assert (practitioner.baseline, practitioner.latest, practitioner.change) == (9, 5.5, -3.5)
    patient = next(c for c in p.changes if c.item == "colour" and c.role is RaterRole.PATIENT)
    assert patient.percent == pytest.approx(-50) and patient.improved is True
    assert p.sessions_done == 2
    assert p.days_since_baseline == 85
    assert p.next_session == D[2] + dt.timedelta(days=28)  # the default interval
    clients.update_area(library, course, interval_days=42)
    assert progress(library, course).next_session == D[2] + dt.timedelta(days=42)
    assert p.mean_change["colour"] == pytest.approx((-4 - 3.5) / 2)


def test_interval_is_checked(library: Library, course: int) -> None:
    with pytest.raises(ValidationError, match="1 to 365 days"):
        clients.update_area(library, course, interval_days=0)


def test_an_area_without_ratings_has_an_empty_progress(library: Library) -> None:
    area = clients.add_area(library, browse.clients(library)[0].id, "Arms")
    p = progress(library, area)
    assert p.series == [] and p.changes == [] and p.next_session is None


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
