"""What the front desk's window shows (issue 21): the clients by name and their appointments.

A front-desk login reads clients, areas and visits by column only (``db.roles``: the ids, the
names, the visits' dates, kinds and versions), and no photo, note, date of birth, rating or
treatment record at all; every statement here names only those columns, so the server has
nothing to refuse. Each function is one statement, whatever the number of clients or visits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from tracker.core.db.models import Client, Visit, VisitKind
from tracker.core.queries.search import client_matches
from tracker.core.store.library import Library


@dataclass(frozen=True)
class DeskClient:
    """A client as the front desk sees one: the name, how many visits, the next one booked
    (today or later) and the last one before today."""

    id: int
    name: str
    visits: int
    next_visit: dt.date | None
    last_visit: dt.date | None


@dataclass(frozen=True)
class DeskVisit:
    """An appointment: its date and kind, and the version an edit of it names
    (``services.versions``)."""

    id: int
    client_id: int
    date: dt.date
    kind: VisitKind
    version: int

    def booked(self, today: dt.date | None = None) -> bool:
        """Whether it is still to come (today or later): the front desk moves those only."""
        return self.date >= (today or dt.date.today())


def clients(lib: Library, today: dt.date | None = None) -> list[DeskClient]:
    """Every client, by name, with the counts and dates of their visits."""
    day = today or dt.date.today()
    q = (
        select(
            Client.id,
            Client.name,
            func.count(Visit.id),
            func.min(Visit.date).filter(Visit.date >= day),
            func.max(Visit.date).filter(Visit.date < day),
        )
        .outerjoin(Visit, Visit.client_id == Client.id)
        .group_by(Client.id, Client.name)
        .order_by(Client.name, Client.id)
    )
    with lib.session() as s:
        return [DeskClient(*row) for row in s.execute(q)]


def visits(lib: Library, client_id: int) -> list[DeskVisit]:
    """The client's visits, the latest first (what is booked comes before what is past)."""
    q = (
        select(Visit.id, Visit.client_id, Visit.date, Visit.kind, Visit.version)
        .where(Visit.client_id == client_id)
        .order_by(Visit.date.desc())
    )
    with lib.session() as s:
        return [DeskVisit(*row) for row in s.execute(q)]


def matching(rows: Sequence[DeskClient], search: str) -> list[DeskClient]:
    """The clients of ``rows`` whose name ``search`` finds (``queries.search``; not by date of
    birth, which the front desk does not read)."""
    return [r for r in rows if client_matches(r.name, None, search)]
