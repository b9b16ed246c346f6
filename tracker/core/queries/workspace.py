"""What the window shows and changes, by database id.

The window works with ids (a selected client, area, visit or photo) rather than the names the
command line takes. Every change here returns what was there before, so that an undo command
can put it back by calling this module again: the undo stack never needs to know the tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select

from tracker.core.db.models import (
    Area,
    Client,
    DateSource,
    Photo,
    RaterRole,
    Rating,
    RatingItem,
    RatingMethod,
    ReferencePhoto,
    Stage,
    TreatmentRecord,
    Visit,
    VisitKind,
    row_dict,
    utc_now,
)
from tracker.core.domain.scales import get_scale
from tracker.core.errors import NotFoundError, UsageError, ValidationError
from tracker.core.imaging.decode import CaptureTime
from tracker.core.imaging.geometry import (
    IDENTITY,
    Fit,
    Gains,
    Matrix,
    Point,
    check_gains,
    check_matrix,
    compose,
)
from tracker.core.imaging.geometry import fit as fit_landmarks
from tracker.core.store.library import Library, TreatmentInput
from tracker.core.text import check_name

TREATMENT_FIELDS = tuple(f for f in TreatmentInput.__dataclass_fields__)


# -- read models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    areas: int
    visits: int
    last_visit: dt.date | None


@dataclass(frozen=True)
class AreaRow:
    id: int
    name: str
    body_site: str
    stage: Stage
    default_scale: str
    photos: int


@dataclass(frozen=True)
class PhotoRow:
    id: int
    sha256: str
    view: str
    area_id: int
    taken_at: str
    date_source: DateSource
    width: int
    height: int
    original_name: str
    format: str


@dataclass(frozen=True)
class VisitRow:
    id: int
    date: dt.date
    kind: VisitKind
    notes: str
    days_since_baseline: int | None
    photos: tuple[PhotoRow, ...]
    rating_summary: str


@dataclass
class AreaAtVisit:
    area: AreaRow
    treatment: dict[str, Any] | None
    photos: list[PhotoRow]
    # Per rater role, the values of the area's default scale (empty when not rated).
    ratings: dict[RaterRole, dict[str, float]] = field(default_factory=dict)


@dataclass
class VisitDetail:
    id: int
    client_id: int
    date: dt.date
    kind: VisitKind
    notes: str
    days_since_baseline: int | None
    areas: list[AreaAtVisit]


def _photo_row(p: Photo) -> PhotoRow:
    return PhotoRow(
        id=p.id,
        sha256=p.sha256,
        view=p.view,
        area_id=p.area_id,
        taken_at=CaptureTime(p.taken_at, p.utc_offset_min).isoformat(),
        date_source=p.date_source,
        width=p.width,
        height=p.height,
        original_name=p.original_name,
        format=p.format,
    )


def clients(lib: Library, search: str = "") -> list[ClientRow]:
    """Clients whose name contains ``search`` (any case), by name."""
    with lib.session() as s:
        n_areas = select(func.count(Area.id)).where(Area.client_id == Client.id).scalar_subquery()
        n_visits = (
            select(func.count(Visit.id)).where(Visit.client_id == Client.id).scalar_subquery()
        )
        last = select(func.max(Visit.date)).where(Visit.client_id == Client.id).scalar_subquery()
        q = select(Client.id, Client.name, n_areas, n_visits, last).order_by(
            func.lower(Client.name)
        )
        rows = [ClientRow(*row) for row in s.execute(q)]
    needle = search.strip().casefold()
    return [r for r in rows if needle in r.name.casefold()] if needle else rows


def areas(lib: Library, client_id: int) -> list[AreaRow]:
    with lib.session() as s:
        n_photos = (
            select(func.count(Photo.id))
            .where(Photo.area_id == Area.id, Photo.deleted_at.is_(None))
            .scalar_subquery()
        )
        q = (
            select(Area, n_photos)
            .where(Area.client_id == client_id)
            .order_by(func.lower(Area.name))
        )
        return [
            AreaRow(a.id, a.name, a.body_site, a.stage, a.default_scale, n) for a, n in s.execute(q)
        ]


def _baseline_date(visits: Iterable[Visit]) -> dt.date | None:
    dates = [v.date for v in visits]
    baselines = [v.date for v in visits if v.kind == VisitKind.BASELINE]
    if baselines:
        return min(baselines)
    return min(dates) if dates else None


def timeline(lib: Library, client_id: int, area_id: int | None = None) -> list[VisitRow]:
    """The client's visits by date, each with its photos (of one area, if given) and ratings."""
    with lib.session() as s:
        visits = list(
            s.scalars(select(Visit).where(Visit.client_id == client_id).order_by(Visit.date))
        )
        base = _baseline_date(visits)
        pq = (
            select(Photo)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(Visit.client_id == client_id, Photo.deleted_at.is_(None))
            .order_by(Photo.taken_at, Photo.id)
        )
        if area_id is not None:
            pq = pq.where(Photo.area_id == area_id)
        photos: dict[int, list[PhotoRow]] = {}
        for p in s.scalars(pq):
            photos.setdefault(p.visit_id, []).append(_photo_row(p))
        summaries = _rating_summaries(s, client_id, area_id) if area_id is not None else {}
        return [
            VisitRow(
                id=v.id,
                date=v.date,
                kind=v.kind,
                notes=v.notes,
                days_since_baseline=(v.date - base).days if base is not None else None,
                photos=tuple(photos.get(v.id, ())),
                rating_summary=summaries.get(v.id, ""),
            )
            for v in visits
        ]


def _rating_summaries(s: Any, client_id: int, area_id: int) -> dict[int, str]:
    """Per visit, e.g. "Patient 6 · 5 · 5   Practitioner 7 · 6 · 6" for the area's scale."""
    area = s.get(Area, area_id)
    if area is None:
        return {}
    scale = get_scale(area.default_scale)
    q = (
        select(Rating)
        .join(Visit, Rating.visit_id == Visit.id)
        .where(
            Visit.client_id == client_id, Rating.area_id == area_id, Rating.scale_key == scale.key
        )
        .order_by(Rating.rater_role)
    )
    parts: dict[int, list[str]] = {}
    for rating in s.scalars(q):
        values = {i.item_key: i.value for i in rating.items}
        shown = " · ".join(f"{values[i.key]:g}" if i.key in values else "–" for i in scale.items)
        parts.setdefault(rating.visit_id, []).append(
            f"{rating.rater_role.value.capitalize()} {shown}"
        )
    return {vid: "   ".join(p) for vid, p in parts.items()}


def visit_detail(lib: Library, visit_id: int) -> VisitDetail:
    """A visit with, for each of the client's areas, its treatment record, photos and ratings."""
    with lib.session() as s:
        visit = _get(s, Visit, visit_id, "visit")
        all_visits = list(s.scalars(select(Visit).where(Visit.client_id == visit.client_id)))
        base = _baseline_date(all_visits)
        out = []
        for area in areas(lib, visit.client_id):
            record = s.scalar(
                select(TreatmentRecord).where(
                    TreatmentRecord.visit_id == visit_id, TreatmentRecord.area_id == area.id
                )
            )
            treatment = (
                {k: getattr(record, k) for k in TREATMENT_FIELDS} if record is not None else None
            )
            photos = [
                _photo_row(p)
                for p in s.scalars(
                    select(Photo)
                    .where(
                        Photo.visit_id == visit_id,
                        Photo.area_id == area.id,
                        Photo.deleted_at.is_(None),
                    )
                    .order_by(Photo.taken_at, Photo.id)
                )
            ]
            ratings: dict[RaterRole, dict[str, float]] = {}
            for role in RaterRole:
                found = s.scalar(_rating_query(visit_id, area.id, role, area.default_scale))
                if found is not None:
                    ratings[role] = {i.item_key: i.value for i in found.items}
            out.append(AreaAtVisit(area, treatment, photos, ratings))
        return VisitDetail(
            id=visit.id,
            client_id=visit.client_id,
            date=visit.date,
            kind=visit.kind,
            notes=visit.notes,
            days_since_baseline=(visit.date - base).days if base is not None else None,
            areas=out,
        )


def photo(lib: Library, photo_id: int) -> PhotoRow:
    with lib.session() as s:
        return _photo_row(_get(s, Photo, photo_id, "photo"))


def _get(s: Any, model: type, ident: int, what: str) -> Any:
    obj = s.get(model, ident)
    if obj is None:
        raise NotFoundError(f"There is no {what} with id {ident} in the library.")
    return obj


# -- clients and areas ------------------------------------------------------------------------


def add_client(lib: Library, name: str, *, client_id: int | None = None) -> int:
    """A new client; ``client_id`` recreates one that an undo removed, under its old id."""
    name = check_name(name, "client name")
    with lib.session() as s:
        if s.scalar(select(Client.id).where(Client.name == name)) is not None:
            raise ValidationError(f"There is already a client named '{name}'.")
        client = Client(name=name) if client_id is None else Client(id=client_id, name=name)
        s.add(client)
        s.flush()
        return client.id


def client_fields(lib: Library, client_id: int) -> dict[str, Any]:
    with lib.session() as s:
        c = _get(s, Client, client_id, "client")
        return {
            "name": c.name,
            "date_of_birth": c.date_of_birth,
            "fitzpatrick": c.fitzpatrick,
            "notes": c.notes,
        }


def update_client(lib: Library, client_id: int, **fields: Any) -> dict[str, Any]:
    """Change a client's name, date of birth, Fitzpatrick type or notes; returns the old ones."""
    unknown = set(fields) - {"name", "date_of_birth", "fitzpatrick", "notes"}
    if unknown:
        raise UsageError(f"A client has no field {sorted(unknown)[0]!r}.")
    if "name" in fields:
        fields["name"] = check_name(fields["name"], "client name")
    fitz = fields.get("fitzpatrick")
    if fitz is not None and fitz not in range(1, 7):
        raise ValidationError(
            f"The Fitzpatrick skin type must be I to VI (1–6); {fitz} is not one."
        )
    dob = fields.get("date_of_birth")
    if dob is not None and dob > dt.date.today():
        raise ValidationError(f"The date of birth {dob.isoformat()} is in the future.")
    with lib.session() as s:
        c = _get(s, Client, client_id, "client")
        if (
            "name" in fields
            and fields["name"] != c.name
            and s.scalar(select(Client.id).where(Client.name == fields["name"])) is not None
        ):
            raise ValidationError(f"There is already a client named '{fields['name']}'.")
        old = {k: getattr(c, k) for k in fields}
        for k, v in fields.items():
            setattr(c, k, v)
        return old


def remove_empty_client(lib: Library, client_id: int) -> None:
    """Remove a client with no areas or visits (the undo of adding one)."""
    with lib.session() as s:
        c = _get(s, Client, client_id, "client")
        if c.areas or c.visits:
            raise UsageError(f"{c.name} has areas or visits, so the client cannot be removed.")
        s.delete(c)


def add_area(
    lib: Library,
    client_id: int,
    name: str,
    *,
    body_site: str = "",
    stage: Stage = Stage.UNKNOWN,
    default_scale: str = "ctd",
    area_id: int | None = None,
) -> int:
    name = check_name(name, "area name")
    get_scale(default_scale)
    with lib.session() as s:
        client = _get(s, Client, client_id, "client")
        if s.scalar(select(Area.id).where(Area.client_id == client_id, Area.name == name)):
            raise ValidationError(f"{client.name} already has an area named '{name}'.")
        area = Area(
            client_id=client_id,
            name=name,
            body_site=body_site.strip(),
            stage=stage,
            default_scale=default_scale,
        )
        if area_id is not None:
            area.id = area_id
        s.add(area)
        s.flush()
        return area.id


def update_area(lib: Library, area_id: int, **fields: Any) -> dict[str, Any]:
    """Change an area's name, body site, stage, scale or notes; returns the old values."""
    unknown = set(fields) - {
        "name",
        "body_site",
        "stage",
        "default_scale",
        "notes",
        "interval_days",
    }
    if unknown:
        raise UsageError(f"An area has no field {sorted(unknown)[0]!r}.")
    if "interval_days" in fields:
        days = fields["interval_days"]
        if not isinstance(days, int) or not 1 <= days <= 365:
            raise ValidationError(f"The interval between sessions is 1 to 365 days; {days} is not.")
    if "name" in fields:
        fields["name"] = check_name(fields["name"], "area name")
    if "default_scale" in fields:
        get_scale(fields["default_scale"])
    with lib.session() as s:
        a = _get(s, Area, area_id, "area")
        if (
            "name" in fields
            and fields["name"] != a.name
            and s.scalar(
                select(Area.id).where(Area.client_id == a.client_id, Area.name == fields["name"])
            )
        ):
            raise ValidationError(f"There is already an area named '{fields['name']}'.")
        old = {k: getattr(a, k) for k in fields}
        for k, v in fields.items():
            setattr(a, k, v)
        return old


def remove_empty_area(lib: Library, area_id: int) -> None:
    """Remove an area with no photos, records or ratings (the undo of adding one)."""
    with lib.session() as s:
        a = _get(s, Area, area_id, "area")
        used = (
            s.scalar(select(func.count(Photo.id)).where(Photo.area_id == area_id))
            or s.scalar(
                select(func.count(TreatmentRecord.id)).where(TreatmentRecord.area_id == area_id)
            )
            or s.scalar(select(func.count(Rating.id)).where(Rating.area_id == area_id))
        )
        if used:
            raise UsageError(
                f"The area '{a.name}' holds photos or records, so it cannot be removed."
            )
        s.delete(a)


# -- visits ---------------------------------------------------------------------------------


def add_visit(
    lib: Library,
    client_id: int,
    day: dt.date,
    kind: VisitKind,
    notes: str = "",
    *,
    visit_id: int | None = None,
) -> int:
    with lib.session() as s:
        client = _get(s, Client, client_id, "client")
        _refuse_taken_date(s, client, day)
        visit = Visit(client_id=client_id, date=day, kind=kind, notes=notes)
        if visit_id is not None:
            visit.id = visit_id
        s.add(visit)
        s.flush()
        return visit.id


def _refuse_taken_date(s: Any, client: Client, day: dt.date, other_than: int | None = None) -> None:
    q = select(Visit.id).where(Visit.client_id == client.id, Visit.date == day)
    if other_than is not None:
        q = q.where(Visit.id != other_than)
    if s.scalar(q) is not None:
        raise ValidationError(
            f"{client.name} already has a visit on {day.isoformat()}; choose another date or open that visit."
        )


def update_visit(lib: Library, visit_id: int, **fields: Any) -> dict[str, Any]:
    """Change a visit's date, kind or notes; returns the old values."""
    unknown = set(fields) - {"date", "kind", "notes"}
    if unknown:
        raise UsageError(f"A visit has no field {sorted(unknown)[0]!r}.")
    with lib.session() as s:
        visit = _get(s, Visit, visit_id, "visit")
        if "date" in fields:
            _refuse_taken_date(s, visit.client, fields["date"], other_than=visit_id)
        if "kind" in fields:
            fields["kind"] = VisitKind(fields["kind"])
        old = {k: getattr(visit, k) for k in fields}
        for k, v in fields.items():
            setattr(visit, k, v)
        return old


@dataclass(frozen=True)
class VisitSnapshot:
    """A removed visit with its treatment records and ratings, enough to put it back."""

    visit: dict[str, Any]
    records: tuple[dict[str, Any], ...]
    ratings: tuple[tuple[dict[str, Any], tuple[dict[str, Any], ...]], ...]


def remove_visit(lib: Library, visit_id: int) -> VisitSnapshot:
    """Remove a visit that holds no photos; the snapshot lets an undo restore it exactly."""
    with lib.session() as s:
        visit = _get(s, Visit, visit_id, "visit")
        n = s.scalar(select(func.count(Photo.id)).where(Photo.visit_id == visit_id))
        if n:
            raise UsageError(
                f"The visit on {visit.date.isoformat()} holds {n} photo{'s' if n != 1 else ''}; "
                "remove or move them first."
            )
        records = tuple(
            row_dict(r)
            for r in s.scalars(select(TreatmentRecord).where(TreatmentRecord.visit_id == visit_id))
        )
        ratings = tuple(
            (row_dict(r), tuple(row_dict(i) for i in r.items))
            for r in s.scalars(select(Rating).where(Rating.visit_id == visit_id))
        )
        snapshot = VisitSnapshot(row_dict(visit), records, ratings)
        s.delete(visit)
        return snapshot


def restore_visit(lib: Library, snapshot: VisitSnapshot) -> int:
    with lib.session() as s:
        s.execute(insert(Visit).values(**snapshot.visit))
        for record in snapshot.records:
            s.execute(insert(TreatmentRecord).values(**record))
        for rating, items in snapshot.ratings:
            s.execute(insert(Rating).values(**rating))
            for item in items:
                s.execute(insert(RatingItem).values(**item))
        return int(snapshot.visit["id"])


# -- treatment records and ratings ----------------------------------------------------------


def treatment(lib: Library, visit_id: int, area_id: int) -> dict[str, Any] | None:
    with lib.session() as s:
        record = s.scalar(
            select(TreatmentRecord).where(
                TreatmentRecord.visit_id == visit_id, TreatmentRecord.area_id == area_id
            )
        )
        return {k: getattr(record, k) for k in TREATMENT_FIELDS} if record is not None else None


def set_treatment(
    lib: Library, visit_id: int, area_id: int, fields: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Replace the treatment record of an area at a visit (None or all-empty removes it).

    Returns the record as it was (None if there was none).
    """
    given = TreatmentInput(**(fields or {}))
    given.validate()
    values = given.given()
    with lib.session() as s:
        _get(s, Visit, visit_id, "visit")
        _get(s, Area, area_id, "area")
        record = s.scalar(
            select(TreatmentRecord).where(
                TreatmentRecord.visit_id == visit_id, TreatmentRecord.area_id == area_id
            )
        )
        old = {k: getattr(record, k) for k in TREATMENT_FIELDS} if record is not None else None
        if not values:
            if record is not None:
                s.delete(record)
            return old
        if record is None:
            record = TreatmentRecord(visit_id=visit_id, area_id=area_id)
            s.add(record)
        for key in TREATMENT_FIELDS:
            setattr(record, key, values.get(key))
        return old


def rating(
    lib: Library, visit_id: int, area_id: int, role: RaterRole, scale_key: str
) -> dict[str, float]:
    with lib.session() as s:
        r = s.scalar(_rating_query(visit_id, area_id, role, scale_key))
        return {i.item_key: i.value for i in r.items} if r is not None else {}


def _rating_query(visit_id: int, area_id: int, role: RaterRole, scale_key: str) -> Any:
    # The window shows one rating per role; a named rater's (from the command line) counts.
    return (
        select(Rating)
        .where(
            Rating.visit_id == visit_id,
            Rating.area_id == area_id,
            Rating.rater_role == role,
            Rating.scale_key == scale_key,
        )
        .order_by(Rating.id)
        .limit(1)
    )


def set_rating(
    lib: Library,
    visit_id: int,
    area_id: int,
    role: RaterRole,
    scale_key: str,
    values: Mapping[str, float],
    *,
    method: RatingMethod = RatingMethod.IN_PERSON,
) -> dict[str, float]:
    """Make one rater's rating exactly ``values`` (empty removes it); returns the old values.

    Values are checked against the scale before anything is written.
    """
    scale = get_scale(scale_key)
    checked = scale.validate(role, values) if values else {}
    with lib.session() as s:
        _get(s, Visit, visit_id, "visit")
        _get(s, Area, area_id, "area")
        r = s.scalar(_rating_query(visit_id, area_id, role, scale_key))
        old = {i.item_key: i.value for i in r.items} if r is not None else {}
        if not checked:
            if r is not None:
                s.delete(r)
            return old
        if r is None:
            r = Rating(
                visit_id=visit_id,
                area_id=area_id,
                rater_role=role,
                rater_name="",
                scale_key=scale_key,
            )
            s.add(r)
        r.scale_version = scale.version
        r.method = method
        s.flush()
        s.execute(delete(RatingItem).where(RatingItem.rating_id == r.id))
        s.expire(r, ["items"])
        for key, value in checked.items():
            s.add(RatingItem(rating_id=r.id, item_key=key, value=value))
        return old


# -- photos ---------------------------------------------------------------------------------


def set_photo_view(lib: Library, photo_id: int, view: str) -> str:
    """Relabel a photo's view (front, left, close-up, …); returns the old label."""
    view = check_name(view, "view name")
    if len(view) > 100:
        raise ValidationError(f"The view name is {len(view)} characters long; the most is 100.")
    with lib.session() as s:
        p = _get(s, Photo, photo_id, "photo")
        old = p.view
        p.view = view
        return old


def remove_photos(lib: Library, photo_ids: Iterable[int]) -> None:
    """Take photos out of view. The originals stay in the library and can be restored."""
    ids = list(photo_ids)
    with lib.session() as s:
        now = utc_now()
        for pid in ids:
            _get(s, Photo, pid, "photo").deleted_at = now


def restore_photos(lib: Library, photo_ids: Iterable[int]) -> None:
    with lib.session() as s:
        for pid in photo_ids:
            _get(s, Photo, pid, "photo").deleted_at = None


# -- comparison: labels, alignment and colour ------------------------------------------------


@dataclass(frozen=True)
class ComparePhoto:
    """A photo as the compare view and its exports show it."""

    id: int
    sha256: str
    width: int
    height: int
    view: str
    area_id: int
    area: str
    client: str
    visit_date: dt.date
    visit_kind: VisitKind
    visit_number: int  # 1 for the client's first visit
    days_since_baseline: int | None
    alignment: Matrix | None  # this photo's upright pixels → its reference photo's
    colour_gains: Gains | None
    is_reference: bool
    ratings: str  # e.g. "Patient 6 · 5 · 5   Practitioner 7 · 6 · 6", may be empty

    def label(self) -> str:
        kind = self.visit_kind.value.replace("-", " ")
        day = (
            ""
            if self.days_since_baseline is None
            or (self.days_since_baseline == 0 and kind == "baseline")
            else "baseline day"
            if self.days_since_baseline == 0
            else f"day {self.days_since_baseline}"
        )
        parts = [
            f"{self.visit_date:%d %b %Y}",
            f"visit {self.visit_number} ({kind})",
            day,
            self.view,
        ]
        return " · ".join(p for p in parts if p)


def compare_photos(lib: Library, photo_ids: Sequence[int]) -> list[ComparePhoto]:
    out = []
    with lib.session() as s:
        for pid in photo_ids:
            p = _get(s, Photo, pid, "photo")
            visit, area = p.visit, p.area
            visits = list(
                s.scalars(
                    select(Visit).where(Visit.client_id == visit.client_id).order_by(Visit.date)
                )
            )
            base = _baseline_date(visits)
            ref = s.get(ReferencePhoto, (area.id, p.view))
            summary = _rating_summaries(s, visit.client_id, area.id).get(visit.id, "")
            out.append(
                ComparePhoto(
                    id=p.id,
                    sha256=p.sha256,
                    width=p.width,
                    height=p.height,
                    view=p.view,
                    area_id=area.id,
                    area=area.name,
                    client=visit.client.name,
                    visit_date=visit.date,
                    visit_kind=visit.kind,
                    visit_number=[v.id for v in visits].index(visit.id) + 1,
                    days_since_baseline=(visit.date - base).days if base is not None else None,
                    alignment=check_matrix(p.alignment) if p.alignment else None,
                    colour_gains=check_gains(p.colour_gains) if p.colour_gains else None,
                    is_reference=ref is not None and ref.photo_id == p.id,
                    ratings=summary,
                )
            )
    return out


def baseline_partner(lib: Library, photo_id: int) -> int | None:
    """The photo of the same area and view at the client's baseline (or first) visit."""
    with lib.session() as s:
        p = _get(s, Photo, photo_id, "photo")
        visits = list(s.scalars(select(Visit).where(Visit.client_id == p.visit.client_id)))
        base = _baseline_date(visits)
        q = (
            select(Photo.id)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(
                Visit.client_id == p.visit.client_id,
                Visit.date == base,
                Photo.area_id == p.area_id,
                Photo.deleted_at.is_(None),
            )
            .order_by((Photo.view != p.view), Photo.taken_at, Photo.id)
            .limit(1)
        )
        found = s.scalar(q)
        return found if found != photo_id else None


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
        return [(day, _photo_row(p)) for p, day in s.execute(q)]


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
        return [(day, area, _photo_row(p)) for p, day, area in s.execute(q)]


def set_alignment(lib: Library, photo_id: int, matrix: Sequence[float] | None) -> Matrix | None:
    """Store (or clear, with None) a photo's transform to its reference; returns the old one."""
    checked = check_matrix(matrix) if matrix is not None else None
    with lib.session() as s:
        p = _get(s, Photo, photo_id, "photo")
        old = check_matrix(p.alignment) if p.alignment else None
        p.alignment = list(checked) if checked is not None else None
        return old


def set_colour_gains(lib: Library, photo_id: int, gains: Sequence[float] | None) -> Gains | None:
    checked = check_gains(gains) if gains is not None else None
    with lib.session() as s:
        p = _get(s, Photo, photo_id, "photo")
        old = check_gains(p.colour_gains) if p.colour_gains else None
        p.colour_gains = list(checked) if checked is not None else None
        return old


def reference_photo(lib: Library, area_id: int, view: str) -> int | None:
    with lib.session() as s:
        ref = s.get(ReferencePhoto, (area_id, view))
        return ref.photo_id if ref is not None else None


def set_reference_photo(lib: Library, area_id: int, view: str, photo_id: int | None) -> int | None:
    """Make ``photo_id`` the photo that others of this area and view are aligned to (None
    clears it); returns the previous one."""
    with lib.session() as s:
        ref = s.get(ReferencePhoto, (area_id, view))
        old = ref.photo_id if ref is not None else None
        if photo_id is None:
            if ref is not None:
                s.delete(ref)
        elif ref is None:
            s.add(ReferencePhoto(area_id=area_id, view=view, photo_id=photo_id))
        else:
            ref.photo_id = photo_id
        return old


@dataclass(frozen=True)
class LandmarkAlignment:
    """What marking the same points on each photo gives: each later photo's transform to the
    reference of its area and view, and the reference to set if there was none yet."""

    matrices: dict[int, Matrix]
    reference: tuple[int, str, int] | None  # (area id, view, photo id)
    fits: tuple[tuple[ComparePhoto, Fit], ...]

    @property
    def worst_error(self) -> float:
        return max((f.max_error for _, f in self.fits), default=0.0)


def align_by_landmarks(
    lib: Library, photos: Sequence[ComparePhoto], marks: Sequence[Sequence[Point]]
) -> LandmarkAlignment:
    """Fit every photo after the first to the first by its landmarks, then express the result
    relative to the reference photo (the first photo becomes it when there is none yet)."""
    first = photos[0]
    reference = None
    if first.alignment is not None:
        first_to_ref = first.alignment
    elif first.is_reference:
        first_to_ref = IDENTITY
    elif reference_photo(lib, first.area_id, first.view) is None:
        first_to_ref, reference = IDENTITY, (first.area_id, first.view, first.id)
    else:
        raise UsageError(
            "The first photo is not aligned to the reference photo of its view yet. "
            "Compare it with the reference (usually the baseline) first, or put the reference first."
        )
    matrices: dict[int, Matrix] = {}
    fits = []
    for i, photo in enumerate(photos[1:], start=1):
        result = fit_landmarks(marks[i], marks[0])
        matrices[photo.id] = compose(first_to_ref, result.matrix)
        fits.append((photo, result))
    return LandmarkAlignment(matrices, reference, tuple(fits))
