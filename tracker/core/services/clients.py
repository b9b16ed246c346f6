"""Clients and their treated areas: adding, editing, and removing ones that hold nothing.

An edit names the version of the client or area its editor saw (``seen``, issue 21) and is
refused with ``StaleEdit`` when another workstation changed it since; an undo or a redo names
the values the step before left (``expect``), as a visit's edit does (``services.versions``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    Rating,
    Stage,
    TreatmentRecord,
    Visit,
    row_dict,
)
from tracker.core.domain.scales import DEFAULT_SCALE, get_scale
from tracker.core.errors import UsageError, ValidationError
from tracker.core.queries.browse import get
from tracker.core.services import versions
from tracker.core.store.library import Library
from tracker.core.text import check_name

CLIENT_FIELDS = ("name", "date_of_birth", "fitzpatrick", "notes")
AREA_FIELDS = ("name", "body_site", "stage", "default_scale", "notes", "interval_days")


def _check_client_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise UsageError(f"A client has no field {sorted(unknown)[0]!r}.")
    out = dict(fields)
    if "name" in out:
        out["name"] = check_name(out["name"], "client name")
    fitz = out.get("fitzpatrick")
    if fitz is not None and (isinstance(fitz, bool) or fitz not in range(1, 7)):
        raise ValidationError(
            f"The Fitzpatrick skin type must be I to VI (1–6); {fitz} is not one."
        )
    dob = out.get("date_of_birth")
    if dob is not None:
        if not isinstance(dob, dt.date):
            raise ValidationError(f"The date of birth {dob!r} is not a date.")
        if dob > dt.date.today():
            raise ValidationError(f"The date of birth {dob.isoformat()} is in the future.")
    if "notes" in out:
        out["notes"] = str(out["notes"] or "")
    return out


def _refuse_taken_client_name(s: Session, name: str, other_than: int | None = None) -> None:
    q = select(Client.id).where(Client.name == name)
    if other_than is not None:
        q = q.where(Client.id != other_than)
    if s.scalar(q) is not None:
        raise ValidationError(f"There is already a client named '{name}'.")


def create_client(
    s: Session, name: str, fields: Mapping[str, Any] | None = None, *, ident: int | None = None
) -> Client:
    """Within a session: a new client (for an import that creates one with its first photo)."""
    checked = _check_client_fields({**(fields or {}), "name": name})
    _refuse_taken_client_name(s, checked["name"])
    client = Client(**checked) if ident is None else Client(id=ident, **checked)
    s.add(client)
    s.flush()
    return client


def add_client(
    lib: Library,
    name: str,
    fields: Mapping[str, Any] | None = None,
    *,
    client_id: int | None = None,
) -> int:
    """A new client with its details (date of birth, Fitzpatrick type, notes) in one step;
    ``client_id`` recreates one that an undo removed, under its old id."""
    with lib.session() as s:
        return create_client(s, name, fields, ident=client_id).id


def update_client(
    lib: Library,
    client_id: int,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Change a client's name, date of birth, Fitzpatrick type or notes; returns the old ones.
    ``seen``: the client's version its editor showed (None: no check, as when read and
    written in one go); ``expect``: refused unless the fields changed hold the values an undo
    or a redo expects. The client's version counts the change (``services.versions``)."""
    checked = _check_client_fields(fields)
    with lib.session() as s:
        named = _client_named(s, client_id)
        versions.check(s, Client, Client.id == client_id, seen, lambda: named)
        c = get(s, Client, client_id, "client")
        # the values as the edit stores them (checked as its own fields are)
        if expect is not None and {k: getattr(c, k) for k in checked} != _check_client_fields(
            expect.values
        ):
            raise versions.conflict(named, c.version - 1)
        if "name" in checked:
            _refuse_taken_client_name(s, checked["name"], other_than=client_id)
        old = {k: getattr(c, k) for k in checked}
        for k, v in checked.items():
            setattr(c, k, v)
        return old


def _client_named(s: Session, client_id: int) -> str:
    name = s.scalar(select(Client.name).where(Client.id == client_id))
    return f"the client {name}" if name is not None else "the client"


def area_named(s: Session, area_id: int) -> str:
    """An area as a refusal names it: "the area 'Belly' of Ana"."""
    row = s.execute(
        select(Area.name, Client.name)
        .join(Client, Area.client_id == Client.id)
        .where(Area.id == area_id)
    ).first()
    return f"the area '{row[0]}' of {row[1]}" if row is not None else "the area"


def remove_empty_client(lib: Library, client_id: int) -> dict[str, Any]:
    """Remove a client with no areas or visits (the undo of adding one, or the window's
    Remove client); returns its row, for ``restore_row`` to put back."""
    with lib.session() as s:
        c = get(s, Client, client_id, "client")
        n_areas = s.scalar(select(func.count(Area.id)).where(Area.client_id == client_id))
        n_visits = s.scalar(select(func.count(Visit.id)).where(Visit.client_id == client_id))
        if n_areas or n_visits:
            raise UsageError(
                f"{c.name} has areas or visits, so the client cannot be removed; "
                "erase the client for good instead, if that is what you mean."
            )
        row = row_dict(c)
        s.delete(c)
        return row


# -- areas ------------------------------------------------------------------------------------


def _check_area_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(AREA_FIELDS)
    if unknown:
        raise UsageError(f"An area has no field {sorted(unknown)[0]!r}.")
    out = dict(fields)
    if "interval_days" in out:
        days = out["interval_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            raise ValidationError(f"The interval between sessions is 1 to 365 days; {days} is not.")
    if "name" in out:
        out["name"] = check_name(out["name"], "area name")
    if "body_site" in out:
        out["body_site"] = str(out["body_site"] or "").strip()
    if "default_scale" in out:
        get_scale(out["default_scale"])
    if "stage" in out:
        out["stage"] = Stage(out["stage"])
    return out


def _refuse_taken_area_name(
    s: Session, client: Client, name: str, other_than: int | None = None
) -> None:
    q = select(Area.id).where(Area.client_id == client.id, Area.name == name)
    if other_than is not None:
        q = q.where(Area.id != other_than)
    if s.scalar(q) is not None:
        raise ValidationError(f"{client.name} already has an area named '{name}'.")


def create_area(
    s: Session, client: Client, name: str, *, ident: int | None = None, **fields: Any
) -> Area:
    """Within a session: a new area of ``client``."""
    checked = _check_area_fields({"default_scale": DEFAULT_SCALE, **fields, "name": name})
    _refuse_taken_area_name(s, client, checked["name"])
    area = Area(client_id=client.id, **checked)
    if ident is not None:
        area.id = ident
    s.add(area)
    s.flush()
    return area


def add_area(
    lib: Library,
    client_id: int,
    name: str,
    *,
    body_site: str = "",
    stage: Stage = Stage.UNKNOWN,
    default_scale: str = DEFAULT_SCALE,
    area_id: int | None = None,
) -> int:
    """A new treated area of a client; ``area_id`` recreates one an undo removed."""
    with lib.session() as s:
        client = get(s, Client, client_id, "client")
        return create_area(
            s,
            client,
            name,
            ident=area_id,
            body_site=body_site,
            stage=stage,
            default_scale=default_scale,
        ).id


def update_area(lib: Library, area_id: int, **fields: Any) -> dict[str, Any]:
    """Change an area's name, body site, stage, scale, notes or session interval, checking
    no version; returns the old values."""
    return edit_area(lib, area_id, fields)


def edit_area(
    lib: Library,
    area_id: int,
    fields: Mapping[str, Any],
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> dict[str, Any]:
    """``update_area`` from an editor, ``seen`` and ``expect`` checked as ``update_client``
    checks them; the area's version counts the change. The fields come as a mapping: a
    caller's fields given as ``**dict`` could fill ``seen`` as keywords."""
    checked = _check_area_fields(fields)
    with lib.session() as s:
        named = area_named(s, area_id)
        versions.check(s, Area, Area.id == area_id, seen, lambda: named)
        a = get(s, Area, area_id, "area")
        if expect is not None and {k: getattr(a, k) for k in checked} != _check_area_fields(
            expect.values
        ):
            raise versions.conflict(named, a.version - 1)
        if "name" in checked:
            _refuse_taken_area_name(s, a.client, checked["name"], other_than=area_id)
        old = {k: getattr(a, k) for k in checked}
        for k, v in checked.items():
            setattr(a, k, v)
        return old


def remove_empty_area(lib: Library, area_id: int) -> dict[str, Any]:
    """Remove an area with no photos, records or ratings (the undo of adding one, or the
    window's Remove area); returns its row, for ``restore_row`` to put back."""
    with lib.session() as s:
        a = get(s, Area, area_id, "area")
        photos = s.scalar(select(func.count(Photo.id)).where(Photo.area_id == area_id)) or 0
        used = (
            photos
            or s.scalar(
                select(func.count(TreatmentRecord.id)).where(TreatmentRecord.area_id == area_id)
            )
            or s.scalar(select(func.count(Rating.id)).where(Rating.area_id == area_id))
        )
        if used:
            raise UsageError(
                f"The area '{a.name}' holds photos, treatment records or ratings, "
                "so it cannot be removed; erase the area for good instead, if that is what "
                "you mean."
            )
        row = row_dict(a)
        s.delete(a)
        return row


def restore_row(lib: Library, model: type[Client] | type[Area], row: dict[str, Any]) -> None:
    """Put back a client or an area ``remove_empty_*`` took away, under its id."""
    with lib.session() as s:
        s.execute(insert(model).values(**row))
