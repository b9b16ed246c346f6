"""What the front desk changes (issue 21): it books visits and moves the ones still to come.

The front desk's login reads and writes by column only (``db.roles``), so nothing here loads a
whole row: the client is read as its id and name, a visit as its columns, and a change is an
``UPDATE`` of the date and kind. Booking is ``visits.create_visit`` (the same date rules and
the same refusal of a day that already has a visit as everywhere else); a new client is
``clients.add_client``, which writes its row and reads back only the id.

A visit that is past holds the practitioner's record of the day (photos, treatment records,
ratings): the front desk does not move it, and moves a booked one only to today or later.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tracker.core.db.models import Client, Visit, VisitKind
from tracker.core.domain import rules
from tracker.core.errors import NotFoundError, ValidationError
from tracker.core.services import versions
from tracker.core.services.visits import create_visit
from tracker.core.store.library import Library
from tracker.core.text import written_date


def book_visit(
    lib: Library,
    client_id: int,
    day: dt.date,
    kind: VisitKind | None = None,
    notes: str = "",
) -> int:
    """A new visit of the client on ``day`` (refused, nothing written, when the client has
    one that day); its id. ``notes`` are written for the practitioners (the front desk does
    not read them back)."""
    with lib.session() as s:
        client = s.execute(select(Client.id, Client.name).where(Client.id == client_id)).first()
        if client is None:
            raise NotFoundError(f"There is no client with id {client_id} in the library.")
        return create_visit(s, client, day, kind, notes).id


def move_visit(
    lib: Library,
    visit_id: int,
    day: dt.date,
    kind: VisitKind,
    *,
    seen: int | None,
    today: dt.date | None = None,
) -> int:
    """Give a booked visit another date and kind; its new version. ``seen``: the version
    the person saw (``services.versions``): refused with ``StaleEdit`` when someone changed
    or removed the visit since. A past visit, a move into the past, and a day the client
    already has a visit on are refused with a sentence, nothing changed."""
    now = today or dt.date.today()
    with lib.session() as s:
        found = s.execute(
            select(Visit.date, Client.id, Client.name)
            .join(Client, Visit.client_id == Client.id)
            .where(Visit.id == visit_id)
        ).first()
        if found is None:
            if seen is not None:
                raise versions.conflict("the visit", 0)
            raise NotFoundError(f"There is no visit with id {visit_id} in the library.")
        was = found.date
        named = f"the visit of {found.name} on {written_date(was)}"
        if was < now:
            raise ValidationError(
                f"The visit of {found.name} on {written_date(was)} is past: it holds the "
                "practitioner's record of that day, so only a practitioner changes it."
            )
        if day < now:
            raise ValidationError(
                f"{written_date(day)} is past; a booked visit is moved to today or later."
            )
        rules.check_visit_date(day, now)
        claimed = versions.check(s, Visit, Visit.id == visit_id, seen, lambda: named)
        if claimed is None:  # removed since it was read, and no version was seen
            raise NotFoundError(f"There is no visit with id {visit_id} in the library.")
        if day != was:
            taken = s.scalar(
                select(Visit.id).where(
                    Visit.client_id == found.id, Visit.date == day, Visit.id != visit_id
                )
            )
            if taken is not None:
                raise ValidationError(
                    f"{found.name} already has a visit on {written_date(day)}; choose another date."
                )
        s.execute(
            update(Visit)
            .where(Visit.id == visit_id)
            .values(date=day, kind=VisitKind(kind))
            .execution_options(synchronize_session=False)
        )
        return claimed
