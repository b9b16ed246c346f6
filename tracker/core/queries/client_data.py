"""One client's areas, visits, photos, ratings and treatment records, read together, and what
the window shows from them: the timeline of an area, a visit's panel, and, for a choice of
client, area and visit, all of it with the client list (``shown``).

Issue 21 (works over a slow link): the window's switch to another client read these in nine
sessions of 27 statements, 54 round trips to a clinic's server. Here the seven statements,
each keyed by the client alone, go in one (``db.together``; on a folder library they are
seven statements of one session), and the timeline, the visit and the areas' courses are
made from their rows in Python, as ``course.build`` and ``ratings.rows_from`` make them from
their own queries' rows. A client with 50 visits of 5 areas and 4 photos each is about a
thousand small rows: read in one go, that is less than the round trips it saves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, func, select

from tracker.core.db import together
from tracker.core.db.models import Area, Client, Photo, Rating, RatingItem, TreatmentRecord, Visit
from tracker.core.domain import rules
from tracker.core.domain.treatment import repeated
from tracker.core.errors import NotFoundError
from tracker.core.queries import ratings
from tracker.core.queries.convert import photo_row, record_fields
from tracker.core.queries.course import Course, build
from tracker.core.queries.rows import (
    AreaAtVisit,
    AreaRow,
    ClientRow,
    PhotoRow,
    PreviousTreatment,
    RatingRow,
    VisitDetail,
    VisitRow,
)
from tracker.core.store.library import Library

M = TypeVar("M", Area, Photo, Rating, TreatmentRecord, Visit)
ClientKey = int | ColumnElement[int]


def clients_query() -> Select[Any]:
    """Every client (id, name, areas, visits, last visit, date of birth), by name."""
    n_areas = select(func.count(Area.id)).where(Area.client_id == Client.id).scalar_subquery()
    n_visits = select(func.count(Visit.id)).where(Visit.client_id == Client.id).scalar_subquery()
    last = select(func.max(Visit.date)).where(Visit.client_id == Client.id).scalar_subquery()
    return select(Client.id, Client.name, n_areas, n_visits, last, Client.date_of_birth).order_by(
        func.lower(Client.name)
    )


def statements(client: ClientKey) -> list[Select[Any]]:
    """What ``ClientData`` is made from: its name; its areas, with their photos' count, by
    name; its visits by date; its photos not erased, by time taken; its ratings; their values;
    its treatment records with their visits' days."""
    of_client = Visit.client_id == client
    n_photos = (
        select(func.count(Photo.id))
        .where(Photo.area_id == Area.id, Photo.deleted_at.is_(None))
        .scalar_subquery()
    )
    return [
        select(Client.id, Client.name).where(Client.id == client),
        select(*Area.__table__.c, n_photos)
        .where(Area.client_id == client)
        .order_by(func.lower(Area.name), Area.id),
        select(*Visit.__table__.c).where(of_client).order_by(Visit.date, Visit.id),
        select(*Photo.__table__.c)
        .join(Visit, Photo.visit_id == Visit.id)
        .where(of_client, Photo.deleted_at.is_(None))
        .order_by(Photo.taken_at, Photo.id),
        select(*Rating.__table__.c).join(Visit, Rating.visit_id == Visit.id).where(of_client),
        select(RatingItem.rating_id, RatingItem.item_key, RatingItem.value)
        .join(Rating, RatingItem.rating_id == Rating.id)
        .join(Visit, Rating.visit_id == Visit.id)
        .where(of_client)
        .order_by(RatingItem.id),
        select(*TreatmentRecord.__table__.c, Visit.date.label("visit_date"))
        .join(Visit, TreatmentRecord.visit_id == Visit.id)
        .where(of_client)
        .order_by(Visit.date.desc(), Visit.id.desc()),
    ]


def _made(model: type[M], row: together.Row) -> M:
    """A row of ``model``'s table with its columns as attributes, read and never saved: a plain
    namespace standing in for the model (the builders read its columns only), as the ORM's
    instrumented constructor cost about 0.2 ms a row, 8 ms of a client of 40 photos."""
    return cast(M, SimpleNamespace(**dict(zip(model.__table__.c.keys(), row, strict=True))))


@dataclass(frozen=True)
class ClientData:
    """One client's rows (see ``statements``); ``client`` is None when there is no such."""

    client_id: int | None
    client: str | None = None
    areas: list[tuple[Area, int]] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    ratings: list[tuple[Rating, dict[str, float]]] = field(default_factory=list)
    records: list[tuple[TreatmentRecord, dt.date]] = field(default_factory=list)

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence[together.Row]]) -> ClientData:
        name, areas, visits, photos, rated, items, records = rows
        if not name:
            return cls(None)
        values: dict[int, dict[str, float]] = defaultdict(dict)
        for rating_id, key, value in items:
            values[rating_id][key] = value
        found = [_made(Rating, r) for r in rated]
        return cls(
            client_id=name[0][0],
            client=name[0][1],
            areas=[(_made(Area, r[:-1]), r[-1]) for r in areas],
            visits=[_made(Visit, r) for r in visits],
            photos=[_made(Photo, r) for r in photos],
            ratings=[(r, values[r.id]) for r in found],
            records=[(_made(TreatmentRecord, r[:-1]), r[-1]) for r in records],
        )

    # -- what the window shows -------------------------------------------------------------

    def area_rows(self) -> list[AreaRow]:
        return [
            AreaRow(a.id, a.name, a.body_site, a.stage, a.default_scale, n, a.version)
            for a, n in self.areas
        ]

    def courses(self, area_ids: Sequence[int]) -> dict[int, Course]:
        """As ``course.courses`` reads them: an area is a control only with rows of its own."""
        shot: dict[int, set[int]] = defaultdict(set)
        for p in self.photos:
            shot[p.area_id].add(p.visit_id)
        scored: dict[int, set[int]] = defaultdict(set)
        for r, _values in self.ratings:
            scored[r.area_id].add(r.visit_id)
        done: dict[int, set[int]] = defaultdict(set)
        for record, _day in self.records:
            done[record.area_id].add(record.visit_id)
        with_rows = shot.keys() | scored.keys() | done.keys()
        controls = {a.id for a, _n in self.areas if a.is_control and a.id in with_rows}
        return build(area_ids, self.visits, shot, scored, done, controls)

    def _photo_rows(self) -> list[tuple[Photo, PhotoRow]]:
        return [(p, photo_row(p)) for p in self.photos]

    def timeline(self, area_id: int | None = None) -> list[VisitRow]:
        """``browse.timeline``: the visits by date, each with its photos (of one area, if
        given) and, for one area, its ratings' lines, whether it was a session of the area and
        the days since the area's baseline (since the client's, for no one area)."""
        base = rules.baseline_date((v.date, v.kind) for v in self.visits)
        photos: dict[int, list[PhotoRow]] = defaultdict(list)
        for p, row in self._photo_rows():
            if area_id is None or p.area_id == area_id:
                photos[p.visit_id].append(row)
        lines: dict[tuple[int, int], tuple[RatingRow, ...]] = {}
        sessions: tuple[int, ...] = ()
        if area_id is not None:
            if area_id not in {a.id for a, _n in self.areas}:
                raise NotFoundError(f"There is no area with id {area_id} in the library.")
            pairs = [(v.id, area_id) for v in self.visits]
            lines = ratings.rows_from(self.ratings, pairs, self.client or "")
            mine = self.courses([area_id])[area_id]
            sessions, base = mine.sessions, mine.baseline
        return [
            VisitRow(
                id=v.id,
                date=v.date,
                kind=v.kind,
                notes=v.notes,
                days_since_baseline=(v.date - base).days if base is not None else None,
                photos=tuple(photos.get(v.id, ())),
                ratings=tuple(r.summary for r in lines.get((v.id, area_id), ()))
                if area_id is not None
                else (),
                is_session=v.id in sessions,
            )
            for v in self.visits
        ]

    def detail(self, visit_id: int) -> VisitDetail:
        """``browse.visit_detail``: the visit with, for each of the client's areas, its
        treatment record, photos, every rating there, and where the visit stands in the
        area's course."""
        visit = next((v for v in self.visits if v.id == visit_id), None)
        if visit is None or self.client is None:
            raise NotFoundError(f"There is no visit with id {visit_id} in the library.")
        base = rules.baseline_date((v.date, v.kind) for v in self.visits)
        area_rows = self.area_rows()
        records, before, record_versions = self._treatments(visit)
        photos: dict[int, list[PhotoRow]] = defaultdict(list)
        for p, row in self._photo_rows():
            if p.visit_id == visit_id:
                photos[p.area_id].append(row)
        shown = ratings.rows_from(self.ratings, [(visit_id, a.id) for a in area_rows], self.client)
        paths = self.courses([a.id for a in area_rows])
        return VisitDetail(
            id=visit.id,
            client_id=visit.client_id,
            client=self.client,
            date=visit.date,
            kind=visit.kind,
            notes=visit.notes,
            days_since_baseline=(visit.date - base).days if base is not None else None,
            areas=[
                AreaAtVisit(
                    a,
                    records.get(a.id),
                    photos.get(a.id, []),
                    shown.get((visit_id, a.id), ()),
                    days_since_baseline=paths[a.id].days(visit.date),
                    session=paths[a.id].session_number(visit_id),
                    previous=before.get(a.id),
                    treatment_version=record_versions.get(a.id, 0),
                )
                for a in area_rows
            ],
            version=visit.version,
        )

    def _treatments(
        self, visit: Visit
    ) -> tuple[dict[int, dict[str, Any]], dict[int, PreviousTreatment], dict[int, int]]:
        """The visit's treatment records by area, for each area its latest record before the
        visit that says how it was treated, and the visit's records' versions by area."""
        records: dict[int, dict[str, Any]] = {}
        before: dict[int, PreviousTreatment] = {}
        record_versions: dict[int, int] = {}
        for record, day in self.records:  # latest first
            if day > visit.date:
                continue
            fields = record_fields(record)
            if record.visit_id == visit.id:
                records[record.area_id] = fields
                record_versions[record.area_id] = record.version
            elif day < visit.date and record.area_id not in before and repeated(fields):
                before[record.area_id] = PreviousTreatment(record.visit_id, day, repeated(fields))
        return records, before, record_versions


def read(lib: Library, client: ClientKey) -> ClientData:
    """The client's rows, in one round trip to a server (``client``: its id, or a scalar
    subquery giving it)."""
    with lib.reading() as conn:
        return ClientData.of_rows(together.read(conn, statements(client)))


def of_visit(lib: Library, visit_id: int) -> ClientData:
    """The rows of the client of the visit ``visit_id`` (none when there is no such visit)."""
    return read(lib, select(Visit.client_id).where(Visit.id == visit_id).scalar_subquery())


# -- the window's view --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """What the main window shows for a choice of client, area and visit: every client; the
    client chosen (the first one when the choice is not there); its areas and the area
    chosen (the first); the area's timeline and the visit chosen (the last); the visit's
    panel (None without a visit)."""

    clients: list[ClientRow]
    client_id: int | None = None
    areas: list[AreaRow] = field(default_factory=list)
    area_id: int | None = None
    timeline: list[VisitRow] = field(default_factory=list)
    visit_id: int | None = None
    detail: VisitDetail | None = None


def shown(
    lib: Library, client_id: int | None, area_id: int | None = None, visit_id: int | None = None
) -> Shown:
    """``Shown`` for the choice given, in one round trip to a server (two when the client
    chosen is not there: the first one's rows are read then)."""
    wanted = [clients_query()]
    if client_id is not None:
        wanted += statements(client_id)
    with lib.reading() as conn:
        found = together.read(conn, wanted)
    clients = [ClientRow(*r) for r in found[0]]
    if client_id in {c.id for c in clients}:
        data = ClientData.of_rows(found[1:])
    elif clients:
        client_id = clients[0].id
        data = read(lib, client_id)
    else:
        return Shown(clients)
    areas = data.area_rows()
    if area_id not in {a.id for a in areas}:
        area_id = areas[0].id if areas else None
    timeline = data.timeline(area_id) if data.client is not None else []
    if visit_id not in {r.id for r in timeline}:
        visit_id = timeline[-1].id if timeline else None
    detail = data.detail(visit_id) if visit_id is not None else None
    return Shown(clients, client_id, areas, area_id, timeline, visit_id, detail)
