"""The rows of ``tracker list KIND --json`` (their shapes are part of the command-line
contract, ``docs/CLI.md``) and the library's counts.

Clients, areas and visits are read by their columns, never as whole rows: a clinic login with
column grants only (the front desk, ``db.roles``) may read the ids, names, dates and kinds but
no notes or dates of birth, and the server refuses a statement naming any other column. For
such a login (``withheld``: the library's sentence saying so) the statement names only those
columns and the fields it may not read are null (``HIDDEN``); every other login gets the same
rows as ever, in the same one statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from tracker.core.db.models import Area, Client, Photo, Visit
from tracker.core.imaging.facts import CaptureTime
from tracker.core.store.library import Library


def counts(lib: Library) -> dict[str, int]:
    """How many clients, areas, visits and (not removed) photos the library holds."""
    with lib.session() as s:
        return {
            "clients": s.scalar(select(func.count(Client.id))) or 0,
            "areas": s.scalar(select(func.count(Area.id))) or 0,
            "visits": s.scalar(select(func.count(Visit.id))) or 0,
            "photos": s.scalar(select(func.count(Photo.id)).where(Photo.deleted_at.is_(None))) or 0,
        }


# The fields of each kind a login that reads only names, dates and kinds is not shown (null).
HIDDEN: Mapping[str, tuple[str, ...]] = {
    "clients": ("date_of_birth", "fitzpatrick"),
    "areas": (
        "body_site",
        "stage",
        "default_scale",
        "is_control",
        "control",
        "mark_sensitivity",
    ),
    "visits": ("notes",),
}


def withheld(lib: Library) -> str | None:
    """The sentence saying what this library's login is not shown (a clinic library's, see
    ``ServerLibrary.withheld``); None when it reads everything (every folder library)."""
    said = getattr(lib, "withheld", None)
    return said if isinstance(said, str) else None


def _nulls(kind: str) -> dict[str, Any]:
    return dict.fromkeys(HIDDEN[kind])


def clients(lib: Library) -> list[dict[str, Any]]:
    if withheld(lib) is not None:
        with lib.session() as s:
            names = select(Client.id, Client.name).order_by(Client.name)
            return [{"id": i, "name": name, **_nulls("clients")} for i, name in s.execute(names)]
    with lib.session() as s:
        q = select(Client.id, Client.name, Client.date_of_birth, Client.fitzpatrick)
        return [
            {
                "id": i,
                "name": name,
                "date_of_birth": born.isoformat() if born else None,
                "fitzpatrick": fitzpatrick,
            }
            for i, name, born, fitzpatrick in s.execute(q.order_by(Client.name))
        ]


def areas(lib: Library, client_id: int | None = None) -> list[dict[str, Any]]:
    limited = withheld(lib) is not None
    columns: tuple[Any, ...] = (Area.id, Area.name, Client.name.label("client"))
    if not limited:
        columns += (
            Area.body_site,
            Area.stage,
            Area.default_scale,
            Area.is_control,
            Area.control_area_id,
            Area.mark_sensitivity,
        )
    q = select(*columns).join(Client, Area.client_id == Client.id)
    if client_id is not None:
        q = q.where(Area.client_id == client_id)
    with lib.session() as s:
        found = list(s.execute(q.order_by(Client.name, Area.name)))
        if limited:
            return [
                {"id": r.id, "name": r.name, "client": r.client, **_nulls("areas")} for r in found
            ]
        names = {r.id: r.name for r in found}
        if any(r.control_area_id not in (None, *names) for r in found):
            names |= {i: name for i, name in s.execute(select(Area.id, Area.name))}
    return [
        {
            "id": r.id,
            "name": r.name,
            "client": r.client,
            "body_site": r.body_site,
            "stage": r.stage.value,
            "default_scale": r.default_scale,
            # issue 18: how its marks are measured
            "is_control": bool(r.is_control),
            "control": names.get(r.control_area_id) if r.control_area_id else None,
            "mark_sensitivity": r.mark_sensitivity,
        }
        for r in found
    ]


def visits(lib: Library, client_id: int | None = None) -> list[dict[str, Any]]:
    limited = withheld(lib) is not None
    columns: tuple[Any, ...] = (Visit.id, Visit.date, Visit.kind, Client.name.label("client"))
    if not limited:
        columns += (Visit.notes,)
    q = select(*columns).join(Client, Visit.client_id == Client.id)
    if client_id is not None:
        q = q.where(Visit.client_id == client_id)
    with lib.session() as s:
        found = list(s.execute(q.order_by(Client.name, Visit.date)))
    return [
        {
            "id": r.id,
            "date": r.date.isoformat(),
            "kind": r.kind.value,
            "client": r.client,
            "notes": None if limited else r.notes,
        }
        for r in found
    ]


def photos(
    lib: Library, client_id: int | None = None, area_id: int | None = None
) -> list[dict[str, Any]]:
    with lib.session() as s:
        q = (
            select(Photo, Area.name, Client.name, Visit.date)
            .join(Area, Photo.area_id == Area.id)
            .join(Client, Area.client_id == Client.id)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(Photo.deleted_at.is_(None))
            .order_by(Client.name, Area.name, Photo.taken_at, Photo.id)
        )
        if client_id is not None:
            q = q.where(Area.client_id == client_id)
        if area_id is not None:
            q = q.where(Photo.area_id == area_id)
        return [
            {
                "id": p.id,
                "visit_id": p.visit_id,
                "visit_date": vdate.isoformat(),
                "client": cname,
                "area": aname,
                "view": p.view,
                "taken_at": CaptureTime(p.taken_at, p.utc_offset_min).isoformat(),
                "date_source": p.date_source.value,
                "sha256": p.sha256,
                "width": p.width,
                "height": p.height,
                "format": p.format,
                "original_name": p.original_name,
                # Its alignment to the reference photo of its area and view (nine numbers,
                # row-major 3x3), the calibration card's scale, and the capture checks.
                "alignment": [float(v) for v in p.alignment] if p.alignment else None,
                "px_per_mm": p.px_per_mm,
                "quality": p.quality,
            }
            for p, aname, cname, vdate in s.execute(q)
        ]
