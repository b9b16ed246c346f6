"""The front desk's reads and writes (``queries.front_desk``, ``services.front_desk``), by a
real front-desk login on the throwaway server (``tests/postgres.py``), whose column grants
refuse any statement that names a column it may not read: every call here succeeding is the
proof that none does. The rules (a past visit stays, a taken day is refused) on a folder
library too."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from tests import postgres
from tracker.core.db import roles, server
from tracker.core.db.models import VisitKind
from tracker.core.errors import StaleEdit, ValidationError
from tracker.core.queries import browse, front_desk, listing
from tracker.core.services import clients, visits
from tracker.core.services import front_desk as desk
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary

TODAY = dt.date.today()
AHEAD = TODAY + dt.timedelta(days=14)


@pytest.fixture
def pair(pg_server: postgres.Server) -> Iterator[tuple[ServerLibrary, ServerLibrary]]:
    """The owner's library and the front desk's, on one clinic library."""
    name = f"desk_{uuid.uuid4().hex[:8]}"
    with pg_server.clinic() as url:
        engine = server.make_pg_engine(url)
        try:
            roles.add_user(engine, name, roles.FRONT_DESK, "desk password")
        finally:
            engine.dispose()
        owner = ServerLibrary.open_server(url)
        at_desk = ServerLibrary.open_server(url.replace("postgres@", f"{name}@"))
        try:
            yield owner, at_desk
        finally:
            at_desk.close()
            owner.close()
            pg_server.admin(f"DROP OWNED BY {name}")
            pg_server.admin(f"DROP ROLE {name}")


def test_the_front_desk_adds_a_client_books_and_moves_a_visit_the_practitioner_sees(
    pair: tuple[ServerLibrary, ServerLibrary],
) -> None:
    owner, at_desk = pair
    assert at_desk.withheld is not None and owner.withheld is None
    ana = clients.add_client(owner, "Ana Kovács")
    visits.add_visit(owner, ana, TODAY - dt.timedelta(days=30), VisitKind.BASELINE, "private")
    statements: list[str] = []
    event.listen(at_desk.engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
    bea = clients.add_client(at_desk, "Bea Szabó", {"date_of_birth": dt.date(1990, 5, 4)})
    booked = desk.book_visit(at_desk, ana, AHEAD, notes="asks for a morning slot")
    rows = front_desk.clients(at_desk)
    assert [(r.name, r.visits, r.next_visit) for r in rows] == [
        ("Ana Kovács", 2, AHEAD),
        ("Bea Szabó", 0, None),
    ]
    assert rows[0].last_visit == TODAY - dt.timedelta(days=30)
    shown = front_desk.visits(at_desk, ana)
    assert [(v.date, v.kind) for v in shown] == [
        (AHEAD, VisitKind.TREATMENT),  # a baseline is there: the next one is a treatment
        (TODAY - dt.timedelta(days=30), VisitKind.BASELINE),
    ]
    later = AHEAD + dt.timedelta(days=7)
    version = desk.move_visit(at_desk, booked, later, VisitKind.CHECK_IN, seen=shown[0].version)
    assert version == shown[0].version + 1
    read = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert read and not any("photo" in s or "notes" in s for s in read), read
    # The practitioner sees what the front desk did, notes and date of birth included.
    detail = browse.visit_detail(owner, booked)
    assert (detail.date, detail.kind, detail.notes) == (
        later,
        VisitKind.CHECK_IN,
        "asks for a morning slot",
    )
    assert browse.client_fields(owner, bea).date_of_birth == dt.date(1990, 5, 4)
    assert [v["notes"] for v in listing.visits(at_desk, ana)] == [None, None]


def test_an_edit_from_an_old_reading_is_refused_and_nothing_changes(
    pair: tuple[ServerLibrary, ServerLibrary],
) -> None:
    owner, at_desk = pair
    ana = clients.add_client(owner, "Ana")
    booked = visits.add_visit(owner, ana, AHEAD)
    seen = front_desk.visits(at_desk, ana)[0].version
    visits.update_visit(owner, booked, kind=VisitKind.FOLLOW_UP)
    with pytest.raises(StaleEdit, match="someone else"):
        desk.move_visit(
            at_desk, booked, AHEAD + dt.timedelta(days=1), VisitKind.CHECK_IN, seen=seen
        )
    assert [(v.date, v.kind) for v in front_desk.visits(at_desk, ana)] == [
        (AHEAD, VisitKind.FOLLOW_UP)
    ]


def test_a_taken_day_a_past_visit_and_a_move_into_the_past_are_refused(
    library: Library,
) -> None:
    ana = clients.add_client(library, "Ana")
    past = visits.add_visit(library, ana, TODAY - dt.timedelta(days=3))
    booked = desk.book_visit(library, ana, AHEAD)
    with pytest.raises(ValidationError, match="already has a visit on"):
        desk.book_visit(library, ana, AHEAD)
    with pytest.raises(ValidationError, match="is past: it holds the practitioner's record"):
        desk.move_visit(library, past, AHEAD + dt.timedelta(days=1), VisitKind.TREATMENT, seen=1)
    with pytest.raises(ValidationError, match="moved to today or later"):
        desk.move_visit(library, booked, TODAY - dt.timedelta(days=1), VisitKind.TREATMENT, seen=1)
    today = desk.book_visit(library, ana, TODAY)
    with pytest.raises(ValidationError, match="Ana already has a visit on"):
        desk.move_visit(library, today, AHEAD, VisitKind.TREATMENT, seen=1)
    assert [(v.date, v.version) for v in front_desk.visits(library, ana)] == [
        (AHEAD, 1),
        (TODAY, 1),
        (TODAY - dt.timedelta(days=3), 1),
    ]


def test_the_search_finds_clients_by_name_only() -> None:
    rows = [
        front_desk.DeskClient(1, "Chloé Smith", 0, None, None),
        front_desk.DeskClient(2, "Ana Kovács", 0, None, None),
    ]
    assert [r.id for r in front_desk.matching(rows, "smith chloe")] == [1]
    assert [r.id for r in front_desk.matching(rows, "kovacs")] == [2]
    assert [r.id for r in front_desk.matching(rows, "")] == [1, 2]
    assert front_desk.matching(rows, "1988") == []
