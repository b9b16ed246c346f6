"""Finding clients, areas and visits by what a person types: names and dates.

For the command line's adapter (``tracker.cli.resolve``), which turns names into the ids that
the services and the other queries take. Nothing here decides anything; a name not found is
None, and the caller words the refusal.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tracker.core.db.models import Area, Client, Photo, Visit
from tracker.core.store.library import Library


def client_named(lib: Library, name: str) -> int | None:
    with lib.session() as s:
        return s.scalar(select(Client.id).where(Client.name == name))


def client_name(lib: Library, client_id: int) -> str | None:
    with lib.session() as s:
        return s.scalar(select(Client.name).where(Client.id == client_id))


def client_ids(lib: Library, limit: int = 2) -> list[int]:
    """Up to ``limit`` client ids, by name: enough to tell none, one and several apart."""
    with lib.session() as s:
        return list(s.scalars(select(Client.id).order_by(Client.name).limit(limit)))


def area_named(lib: Library, client_id: int, name: str) -> int | None:
    with lib.session() as s:
        return s.scalar(select(Area.id).where(Area.client_id == client_id, Area.name == name))


def area_names(lib: Library, client_id: int) -> list[str]:
    with lib.session() as s:
        return list(
            s.scalars(select(Area.name).where(Area.client_id == client_id).order_by(Area.name))
        )


def visit_on(lib: Library, client_id: int, day: dt.date) -> int | None:
    with lib.session() as s:
        return s.scalar(select(Visit.id).where(Visit.client_id == client_id, Visit.date == day))


def client_names(lib: Library) -> list[str]:
    with lib.session() as s:
        return list(s.scalars(select(Client.name).order_by(Client.name)))


def visit_days(lib: Library, client_id: int) -> list[dt.date]:
    with lib.session() as s:
        return list(
            s.scalars(select(Visit.date).where(Visit.client_id == client_id).order_by(Visit.date))
        )


def photo_clients(lib: Library, photo_ids: list[int]) -> set[int]:
    """The clients whose photos these are (of the ids that exist)."""
    with lib.session() as s:
        return set(
            s.scalars(
                select(Area.client_id)
                .join(Photo, Photo.area_id == Area.id)
                .where(Photo.id.in_(photo_ids))
            )
        )
