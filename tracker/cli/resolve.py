"""The command line's adapter: the names and dates a person types, turned into the ids that
the services and queries take. Nothing else is decided here.

Its rules are the command line's own (docs/CLI.md): ``--client`` may be left out when the
library has one client; ``import`` makes the client and the area it names when they do not
exist yet (with its first photo); every other command refuses an unknown name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tracker.core.errors import NotFoundError, UsageError
from tracker.core.queries import lookup
from tracker.core.services.import_report import NewArea
from tracker.core.store.library import DEFAULT_CLIENT, Library
from tracker.core.text import check_name, parse_id


def client(lib: Library, name: str | None) -> int:
    """The named client, or the only one when no name is given."""
    if name is None:
        found = lookup.client_ids(lib)
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFoundError("The library has no clients yet.")
        raise UsageError("The library has several clients; say which one with --client NAME.")
    name = check_name(name, "client name")
    ident = lookup.client_named(lib, name)
    if ident is None:
        known = _some(lookup.client_names(lib), "'tracker list clients' shows them all")
        raise NotFoundError(f"There is no client named '{name}'. The clients are: {known}.")
    return ident


def _some(names: list[str], more: str, most: int = 8) -> str:
    """A list short enough for one line of an error message."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more ({more})"


def optional_client(lib: Library, name: str | None) -> int | None:
    """For commands over the whole library unless a client is named (list, export csv)."""
    return client(lib, name) if name is not None else None


def import_client(lib: Library, name: str | None) -> int | str:
    """For ``import``: the client's id, or the name of a client it will make."""
    if name is None:
        found = lookup.client_ids(lib)
        if len(found) == 1:
            return found[0]
        if not found:
            return DEFAULT_CLIENT
        raise UsageError("The library has several clients; say which one with --client NAME.")
    name = check_name(name, "client name")
    ident = lookup.client_named(lib, name)
    return ident if ident is not None else name


def area(lib: Library, client_id: int, name: str) -> int:
    name = check_name(name, "area name")
    ident = lookup.area_named(lib, client_id, name)
    if ident is None:
        who = lookup.client_name(lib, client_id) or "the client"
        known = ", ".join(lookup.area_names(lib, client_id))
        hint = f" The areas of {who} are: {known}." if known else f" {who} has no areas yet."
        raise NotFoundError(f"There is no area named '{name}' for {who}.{hint}")
    return ident


def import_area(lib: Library, client: int | str, name: str) -> int | NewArea:
    """For ``import``: the area's id, or the area it will make with its first photo."""
    name = check_name(name, "area name")
    if isinstance(client, int):
        ident = lookup.area_named(lib, client, name)
        if ident is not None:
            return ident
    return NewArea(name, client)


def visit(lib: Library, client_id: int, day: dt.date) -> int:
    ident = lookup.visit_on(lib, client_id, day)
    if ident is None:
        who = lookup.client_name(lib, client_id) or "The client"
        days = [d.isoformat() for d in reversed(lookup.visit_days(lib, client_id))]
        known = (
            f" The visits are on {_some(days, 'tracker list visits shows them all')}."
            if days
            else f" {who} has no visits yet."
        )
        raise NotFoundError(
            f"{who} has no visit on {day.isoformat()}; add it with 'tracker visit add'.{known}"
        )
    return ident


def photo_ids(raw: Sequence[str]) -> list[int]:
    """Photo ids as typed (``tracker list photos`` shows them)."""
    ids = []
    for text in raw:
        try:
            ids.append(parse_id(text, "a photo id"))
        except UsageError as exc:
            raise UsageError(f"{exc} 'tracker list photos' shows them.") from None
    return ids
