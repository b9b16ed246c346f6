"""A visit knows each area's last treatment record before it, for a new session to start from."""

from __future__ import annotations

import datetime as dt

from tests import helpers as h
from tracker.core.db.models import VisitKind
from tracker.core.domain.treatment import TreatmentInput, repeated, summary
from tracker.core.queries import browse
from tracker.core.services import clients
from tracker.core.store.library import Library

D = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3), dt.date(2025, 3, 31)]


def test_the_previous_record_is_the_last_one_before_the_visit_that_says_how_it_was_treated(
    library: Library,
) -> None:
    me = browse.clients(library)[0].id
    clients.add_area(library, me, "Hips")
    clients.add_area(library, me, "Thighs")
    first = TreatmentInput(device="pen", needle_depth_mm=1.5, passes=3, topical="PRP", pain=4)
    h.add_visit(library, day=D[0], kind=VisitKind.BASELINE, area="Hips", treatment=first)
    # Only a reaction: it says nothing of how the area was treated, and is passed over.
    h.add_visit(library, day=D[1], area="Hips", treatment=TreatmentInput(reaction="redness"))
    h.add_visit(library, day=D[2], area="Thighs", treatment=TreatmentInput(device="roller"))
    last = h.add_visit(library, day=D[3], kind=VisitKind.TREATMENT)
    detail = browse.visit_detail(library, last.visit_id)
    by_name = {a.area.name: a for a in detail.areas}
    hips = by_name["Hips"].previous
    assert hips is not None and hips.date == D[0]
    # The repeated fields only: pain and the reaction are the visit's own.
    assert hips.fields == {"device": "pen", "needle_depth_mm": 1.5, "passes": 3, "topical": "PRP"}
    thighs = by_name["Thighs"].previous
    assert thighs is not None and thighs.fields == {"device": "roller"} and thighs.date == D[2]
    # Nothing before the first visit.
    baseline = browse.visit_detail(library, browse.timeline(library, me)[0].id)
    assert all(a.previous is None for a in baseline.areas)


def test_the_summary_names_what_would_be_repeated() -> None:
    record = {"device": "pen", "needle_depth_mm": 1.25, "passes": 1, "topical": None, "pain": 3}
    assert repeated(record) == {"device": "pen", "needle_depth_mm": 1.25, "passes": 1}
    assert summary(repeated(record)) == "pen, 1.25 mm, 1 pass"
    assert repeated(None) == {}
