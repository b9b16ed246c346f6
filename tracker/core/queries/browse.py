"""What the window shows, by database id: clients, areas, the timeline, a visit, photos to
compare.

Each function costs a fixed number of statements however many areas, visits, photos and
ratings there are (``tests/core/queries/test_query_counts.py`` counts them): rows are loaded
with one query per table and joined in Python, never one query per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    RaterRole,
    Rating,
    ReferencePhoto,
    TreatmentRecord,
    Visit,
    VisitKind,
)
from tracker.core.domain import rules
from tracker.core.errors import NotFoundError
from tracker.core.imaging.geometry import Alignment, check_gains, check_matrix
from tracker.core.queries import client_data, ratings
from tracker.core.queries import search as search_rows
from tracker.core.queries.convert import capture_warnings as capture_warnings
from tracker.core.queries.convert import get, photo_row, record_fields
from tracker.core.queries.course import Course, course, courses
from tracker.core.queries.ratings import ratings_with_values
from tracker.core.queries.rows import (
    AreaRow,
    ClientFields,
    ClientRow,
    ComparePhoto,
    PhotoRow,
    VisitDetail,
    VisitRow,
)
from tracker.core.store.library import Library

# -- clients and areas ------------------------------------------------------------------------


def clients(lib: Library, search: str = "") -> list[ClientRow]:
    """The clients that ``search`` finds (by name, any case or accents, or by date of birth:
    ``search.client_matches``), by name; every client when it is empty."""
    with lib.session() as s:
        rows = [ClientRow(*row) for row in s.execute(client_data.clients_query())]
    return search_rows.matching(rows, search)


def client_fields(lib: Library, client_id: int) -> ClientFields:
    with lib.session() as s:
        c = get(s, Client, client_id, "client")
        return ClientFields(c.name, c.date_of_birth, c.fitzpatrick, c.notes, c.version)


def areas(lib: Library, client_id: int) -> list[AreaRow]:
    with lib.session() as s:
        return _areas(s, client_id)


def _areas(s: Session, client_id: int) -> list[AreaRow]:
    n_photos = (
        select(func.count(Photo.id))
        .where(Photo.area_id == Area.id, Photo.deleted_at.is_(None))
        .scalar_subquery()
    )
    q = select(Area, n_photos).where(Area.client_id == client_id).order_by(func.lower(Area.name))
    return [
        AreaRow(a.id, a.name, a.body_site, a.stage, a.default_scale, n, a.version)
        for a, n in s.execute(q)
    ]


# -- visits -----------------------------------------------------------------------------------


def _client_visits(s: Session, client_id: int) -> list[Visit]:
    return list(s.scalars(select(Visit).where(Visit.client_id == client_id).order_by(Visit.date)))


def visit_dates(lib: Library, client_id: int) -> set[dt.date]:
    """The days on which the client already has a visit (a new one cannot go there)."""
    with lib.session() as s:
        return set(s.scalars(select(Visit.date).where(Visit.client_id == client_id)))


def suggested_visit_kind(lib: Library, client_id: int) -> VisitKind:
    """The kind a new visit of the client gets unless the user chooses another."""
    with lib.session() as s:
        return rules.new_visit_kind(None, has_baseline=has_baseline(s, client_id))


def has_baseline(s: Session, client_id: int) -> bool:
    q = select(Visit.id).where(Visit.client_id == client_id, Visit.kind == VisitKind.BASELINE)
    return s.scalar(q.limit(1)) is not None


def timeline(lib: Library, client_id: int, area_id: int | None = None) -> list[VisitRow]:
    """The client's visits by date, each with its photos (of one area, if given) and, for one
    area, its ratings on every scale, whether it was a session of the area and the days since
    the area's baseline (since the client's, for no one area): ``ClientData.timeline``."""
    return client_data.read(lib, client_id).timeline(area_id)


def visit_detail(lib: Library, visit_id: int) -> VisitDetail:
    """A visit with, for each of the client's areas, its treatment record, photos, every
    rating there, and where the visit stands in the area's course: ``ClientData.detail``."""
    return client_data.of_visit(lib, visit_id).detail(visit_id)


def treatment(lib: Library, visit_id: int, area_id: int) -> dict[str, Any] | None:
    with lib.session() as s:
        record = s.scalar(
            select(TreatmentRecord).where(
                TreatmentRecord.visit_id == visit_id, TreatmentRecord.area_id == area_id
            )
        )
        return record_fields(record) if record is not None else None


# -- photos -----------------------------------------------------------------------------------


def photo(lib: Library, photo_id: int) -> PhotoRow:
    with lib.session() as s:
        return photo_row(get(s, Photo, photo_id, "photo"))


def area_photos(lib: Library, area_id: int) -> list[tuple[dt.date, PhotoRow]]:
    """Every (not removed) photo of an area with its visit date, oldest first: for choosing
    photos to compare."""
    with lib.session() as s:
        q = (
            select(Photo, Visit.date)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(Photo.area_id == area_id, Photo.deleted_at.is_(None))
            .order_by(Visit.date, Photo.taken_at, Photo.id)
        )
        return [(day, photo_row(p)) for p, day in s.execute(q)]


def client_photos(lib: Library, client_id: int) -> list[tuple[dt.date, str, PhotoRow]]:
    """Every (not removed) photo of a client with its visit date and area name, oldest first."""
    with lib.session() as s:
        q = (
            select(Photo, Visit.date, Area.name)
            .join(Visit, Photo.visit_id == Visit.id)
            .join(Area, Photo.area_id == Area.id)
            .where(Visit.client_id == client_id, Photo.deleted_at.is_(None))
            .order_by(Visit.date, Area.name, Photo.taken_at, Photo.id)
        )
        return [(day, area, photo_row(p)) for p, day, area in s.execute(q)]


def reference_photo(lib: Library, area_id: int, view: str) -> int | None:
    with lib.session() as s:
        ref = s.get(ReferencePhoto, (area_id, view))
        return ref.photo_id if ref is not None else None


def baseline_partner(lib: Library, photo_id: int) -> int | None:
    """The photo of the same area and view (else another view) on the first day the area was
    photographed (its baseline, unless it was rated or treated before any photo)."""
    with lib.session() as s:
        p = get(s, Photo, photo_id, "photo")
        client_id = p.visit.client_id
        base = course(s, p.area_id, _client_visits(s, client_id)).first_photos
        q = (
            select(Photo.id)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(
                Visit.client_id == client_id,
                Visit.date == base,
                Photo.area_id == p.area_id,
                Photo.deleted_at.is_(None),
            )
            .order_by((Photo.view != p.view), Photo.taken_at, Photo.id)
            .limit(1)
        )
        found = s.scalar(q)
        return found if found != photo_id else None


def card_outlines(lib: Library, photo_ids: Sequence[int]) -> dict[int, list[tuple[float, float]]]:
    """The calibration card's corners (upright full-resolution pixels) of each photo that shows
    one, in one statement: the automatic alignment leaves the card out."""
    with lib.session() as s:
        rows = s.execute(
            select(Photo.id, Photo.card).where(Photo.id.in_(photo_ids), Photo.card.is_not(None))
        )
        return {
            pid: [(float(x), float(y)) for x, y in card["corners"]]
            for pid, card in rows
            if isinstance(card, dict) and len(card.get("corners") or ()) == 4
        }


def compare_photos(lib: Library, photo_ids: Sequence[int]) -> list[ComparePhoto]:
    """The photos as the compare window and its exports show them, in the order given: five
    statements however many photos."""
    with lib.session() as s:
        rows = {
            p.id: (p, v, a, c)
            for p, v, a, c in s.execute(
                select(Photo, Visit, Area, Client)
                .join(Visit, Photo.visit_id == Visit.id)
                .join(Area, Photo.area_id == Area.id)
                .join(Client, Visit.client_id == Client.id)
                .where(Photo.id.in_(photo_ids))
            )
        }
        for pid in photo_ids:
            if pid not in rows:
                raise NotFoundError(f"There is no photo with id {pid} in the library.")
        client_ids = {c.id for _p, _v, _a, c in rows.values()}
        visits: dict[int, list[Visit]] = defaultdict(list)
        for v in s.scalars(
            select(Visit).where(Visit.client_id.in_(client_ids)).order_by(Visit.date)
        ):
            visits[v.client_id].append(v)
        refs = {
            (r.area_id, r.view): r.photo_id
            for r in s.scalars(
                select(ReferencePhoto).where(
                    ReferencePhoto.area_id.in_({a.id for _p, _v, a, _c in rows.values()})
                )
            )
        }
        lines: dict[tuple[int, int], tuple[str, ...]] = {}
        for client_id in client_ids:
            pairs = [(v.id, a.id) for _p, v, a, c in rows.values() if c.id == client_id]
            lines |= ratings.summaries(
                s, pairs, next(c.name for *_, c in rows.values() if c.id == client_id)
            )
        paths: dict[int, Course] = {}
        for client_id in client_ids:
            wanted = {a.id for _p, _v, a, c in rows.values() if c.id == client_id}
            paths |= courses(s, wanted, visits[client_id])
        out = []
        for pid in photo_ids:
            p, visit, area, client = rows[pid]
            mine = visits[client.id]
            out.append(
                ComparePhoto(
                    id=p.id,
                    sha256=p.sha256,
                    width=p.width,
                    height=p.height,
                    view=p.view,
                    area_id=area.id,
                    area=area.name,
                    client=client.name,
                    visit_date=visit.date,
                    visit_kind=visit.kind,
                    visit_number=[v.id for v in mine].index(visit.id) + 1,
                    days_since_baseline=paths[area.id].days(visit.date),
                    alignment=alignment_of(p),
                    colour_gains=check_gains(p.colour_gains) if p.colour_gains else None,
                    px_per_mm=p.px_per_mm,
                    is_reference=refs.get((area.id, p.view)) == p.id,
                    ratings=lines.get((visit.id, area.id), ()),
                    version=p.version,
                )
            )
        return out


def alignment_of(p: Photo) -> Alignment | None:
    """A photo's stored alignment with how it was made (None when it has none)."""
    if not p.alignment:
        return None
    return Alignment(
        matrix=check_matrix(p.alignment),
        method=p.alignment_method or "landmarks",
        model=p.alignment_model or "affine",
        points=p.alignment_points,
        residual_px=p.alignment_residual_px,
    )


def rating(
    lib: Library,
    visit_id: int,
    area_id: int,
    role: RaterRole,
    scale_key: str,
    rater_name: str = "",
) -> dict[str, float]:
    """The values of one rating (empty when there is none)."""
    with lib.session() as s:
        q = select(Rating).where(
            Rating.visit_id == visit_id,
            Rating.area_id == area_id,
            Rating.rater_role == role,
            Rating.rater_name == rater_name,
            Rating.scale_key == scale_key,
        )
        found = ratings_with_values(s, q)
        return found[0][1] if found else {}
