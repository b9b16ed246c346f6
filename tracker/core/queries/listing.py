"""The rows of ``tracker list KIND --json`` (their shapes are part of the command-line
contract, ``docs/CLI.md``) and the library's counts."""

from __future__ import annotations

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


def clients(lib: Library) -> list[dict[str, Any]]:
    with lib.session() as s:
        return [
            {
                "id": c.id,
                "name": c.name,
                "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
                "fitzpatrick": c.fitzpatrick,
            }
            for c in s.scalars(select(Client).order_by(Client.name))
        ]


def areas(lib: Library, client_id: int | None = None) -> list[dict[str, Any]]:
    with lib.session() as s:
        q = select(Area, Client.name).join(Client).order_by(Client.name, Area.name)
        if client_id is not None:
            q = q.where(Area.client_id == client_id)
        found = list(s.execute(q))
        names = {a.id: a.name for a, _c in found}
        if any(a.control_area_id not in (None, *names) for a, _c in found):
            names |= {a.id: a.name for a in s.scalars(select(Area))}
        return [
            {
                "id": a.id,
                "name": a.name,
                "client": cname,
                "body_site": a.body_site,
                "stage": a.stage.value,
                "default_scale": a.default_scale,
                # issue 18: how its marks are measured
                "is_control": bool(a.is_control),
                "control": names.get(a.control_area_id) if a.control_area_id else None,
                "mark_sensitivity": a.mark_sensitivity,
            }
            for a, cname in found
        ]


def visits(lib: Library, client_id: int | None = None) -> list[dict[str, Any]]:
    with lib.session() as s:
        q = select(Visit, Client.name).join(Client).order_by(Client.name, Visit.date)
        if client_id is not None:
            q = q.where(Visit.client_id == client_id)
        return [
            {
                "id": v.id,
                "date": v.date.isoformat(),
                "kind": v.kind.value,
                "client": cname,
                "notes": v.notes,
            }
            for v, cname in s.execute(q)
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
