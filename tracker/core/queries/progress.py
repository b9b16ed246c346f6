"""Progress of one area: its course (baseline, sessions, the next suggested session), its visits,
and every instrument it was rated on, each analysed as it is reported
(``domain/instruments.py``). The progress tab, the chart and the PDF report show this."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from tracker.core.db.models import Area, Photo, TreatmentRecord, Visit, VisitKind
from tracker.core.domain import rules
from tracker.core.domain.instruments import Instrument, analyse
from tracker.core.domain.scales import SCALES, Scale, get_scale, scale_or_default
from tracker.core.queries import ratings
from tracker.core.queries.browse import get, record_fields
from tracker.core.queries.course import course
from tracker.core.queries.rows import RatingRow
from tracker.core.store.library import Library


@dataclass(frozen=True)
class VisitPoint:
    """A visit of the area: one at which it was photographed, rated or given a record."""

    visit_id: int
    date: dt.date
    kind: VisitKind
    notes: str
    number: int  # 1-based position among the area's visits
    session: int | None  # 1-based among the area's sessions (rules.is_session), else None
    position: float  # on a session axis: the session number; 0 before the first; +0.5 between
    days_since_baseline: int | None  # since the area's baseline
    treatment: dict[str, object] | None  # the area's record at this visit
    photos: int
    ratings: tuple[RatingRow, ...]  # every rating of the area at the visit


@dataclass
class Progress:
    area_id: int
    area: str
    client: str
    scale: Scale  # the area's default scale
    visits: list[VisitPoint]
    # The default scale first (even unrated), then every other scale the area was rated on.
    instruments: list[Instrument]
    baseline: dt.date | None
    sessions_done: int
    days_since_baseline: int | None
    interval_days: int
    next_session: dt.date | None
    today: dt.date
    # An untreated control area (``Area.is_control``): no sessions, only the visits at which
    # it was photographed (``photographed``).
    untreated: bool = False
    photographed: int = 0  # visits with photos of the area

    @property
    def course_words(self) -> str:
        """What an untreated control's course is, where a treated area's counts sessions:
        "Untreated control: photographed at 6 visits"."""
        n = self.photographed
        return f"Untreated control: photographed at {n} visit{'s' if n != 1 else ''}"

    @property
    def overdue(self) -> bool:
        """Whether the next suggested session's day has passed with no session since."""
        return self.next_session is not None and self.next_session < self.today

    def visit(self, visit_id: int) -> VisitPoint:
        return next(v for v in self.visits if v.visit_id == visit_id)

    def instrument(self, key: str) -> Instrument | None:
        return next((i for i in self.instruments if i.scale.key == key), None)

    @property
    def rated(self) -> list[Instrument]:
        """The instruments with at least one rating."""
        return [i for i in self.instruments if i.ratings]


def progress(lib: Library, area_id: int, today: dt.date | None = None) -> Progress:
    """Everything the progress view, the report and the chart show for one area."""
    today = today or dt.date.today()
    with lib.session() as s:
        area = get(s, Area, area_id, "area")
        client_name = area.client.name
        visits = list(
            s.scalars(select(Visit).where(Visit.client_id == area.client_id).order_by(Visit.date))
        )
        path = course(s, area_id, visits)
        records = {
            r.visit_id: record_fields(r)
            for r in s.scalars(select(TreatmentRecord).where(TreatmentRecord.area_id == area_id))
        }
        mine = [v for v in visits if v.id in path.visits]
        rows = ratings.rows_at(s, [(v.id, area_id) for v in mine], client_name)
        photo_counts: dict[int, int] = {
            visit_id: n
            for visit_id, n in s.execute(
                select(Photo.visit_id, func.count(Photo.id))
                .where(Photo.area_id == area_id, Photo.deleted_at.is_(None))
                .group_by(Photo.visit_id)
            )
        }
        points: list[VisitPoint] = []
        session = 0
        for number, v in enumerate(mine, start=1):
            is_session = v.id in path.sessions
            if is_session:
                session += 1
            points.append(
                VisitPoint(
                    visit_id=v.id,
                    date=v.date,
                    kind=v.kind,
                    notes=v.notes,
                    number=number,
                    session=session if is_session else None,
                    position=float(session) if is_session or session == 0 else session + 0.5,
                    days_since_baseline=path.days(v.date),
                    treatment=records.get(v.id),
                    photos=photo_counts.get(v.id, 0),
                    ratings=rows.get((v.id, area_id), ()),
                )
            )
        facts = ratings.facts(rows, {v.id: v.date for v in mine})
        default = scale_or_default(area.default_scale)
        area_name, interval = area.name, area.interval_days

    keys = [default.key, *(k for k in SCALES if k in facts and k != default.key)]
    instruments = [analyse(get_scale(k), facts.get(k, [])) for k in keys]
    sessions = [v for v in points if v.session is not None]
    return Progress(
        area_id=area_id,
        area=area_name,
        client=client_name,
        scale=default,
        visits=points,
        instruments=instruments,
        baseline=path.baseline,
        sessions_done=len(sessions),
        days_since_baseline=path.days(today),
        interval_days=interval,
        next_session=rules.next_session(sessions[-1].date if sessions else None, interval),
        today=today,
        untreated=path.untreated,
        photographed=len(path.photographed),
    )
