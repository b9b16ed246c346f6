"""Ratings over time for one area: the series a chart draws, change from baseline, and a summary
of the course with the next suggested session.

Several raters may rate the same role (a named practitioner from the command line and the
window's unnamed one); their values for a visit are averaged into one point per role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from tracker.core.db.models import Area, RaterRole, Rating, TreatmentRecord, Visit, VisitKind
from tracker.core.domain import rules
from tracker.core.domain.scales import Scale, get_scale
from tracker.core.queries.browse import get, ratings_with_values, record_fields, session_visits
from tracker.core.store.library import Library


@dataclass(frozen=True)
class VisitPoint:
    visit_id: int
    date: dt.date
    kind: VisitKind
    number: int  # 1-based position among the client's visits
    session: int | None  # 1-based among the area's sessions (rules.is_session), else None
    position: float  # on a session axis: the session number; 0 before the first; +0.5 between
    days_since_baseline: int | None
    treatment: dict[str, object] | None  # the area's record at this visit


@dataclass(frozen=True)
class Point:
    visit_id: int
    value: float


@dataclass(frozen=True)
class Series:
    item: str
    label: str
    role: RaterRole
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Change:
    item: str
    label: str
    role: RaterRole
    baseline: float
    latest: float
    change: float  # latest − baseline
    percent: float | None  # of the baseline value; None when it was 0
    improved: bool | None  # by the scale's direction; None when unchanged


@dataclass
class Progress:
    area_id: int
    area: str
    client: str
    scale: Scale
    visits: list[VisitPoint]
    series: list[Series]
    changes: list[Change]
    sessions_done: int
    days_since_baseline: int | None
    interval_days: int
    next_session: dt.date | None
    mean_change: dict[str, float] = field(default_factory=dict)  # per item, over roles

    def visit(self, visit_id: int) -> VisitPoint:
        return next(v for v in self.visits if v.visit_id == visit_id)


def progress(
    lib: Library, area_id: int, scale_key: str | None = None, today: dt.date | None = None
) -> Progress:
    """Everything the progress view, the report and the chart show for one area."""
    today = today or dt.date.today()
    with lib.session() as s:
        area = get(s, Area, area_id, "area")
        scale = get_scale(scale_key or area.default_scale)
        visits = list(
            s.scalars(select(Visit).where(Visit.client_id == area.client_id).order_by(Visit.date))
        )
        base = rules.baseline_date((v.date, v.kind) for v in visits)
        records = {
            r.visit_id: record_fields(r)
            for r in s.scalars(select(TreatmentRecord).where(TreatmentRecord.area_id == area_id))
        }
        sessions = session_visits(s, area_id, visits)
        points: list[VisitPoint] = []
        session = 0
        for number, v in enumerate(visits, start=1):
            if v.id in sessions:
                session += 1
            points.append(
                VisitPoint(
                    visit_id=v.id,
                    date=v.date,
                    kind=v.kind,
                    number=number,
                    session=session if v.id in sessions else None,
                    position=float(session) if v.id in sessions or session == 0 else session + 0.5,
                    days_since_baseline=(v.date - base).days if base is not None else None,
                    treatment=records.get(v.id),
                )
            )
        order = {v.id: i for i, v in enumerate(visits)}
        values: dict[tuple[str, RaterRole], dict[int, list[float]]] = {}
        q = select(Rating).where(Rating.area_id == area_id, Rating.scale_key == scale.key)
        for rating, given in ratings_with_values(s, q):
            for key, value in given.items():
                values.setdefault((key, rating.rater_role), {}).setdefault(
                    rating.visit_id, []
                ).append(value)
        area_name, client_name, interval = area.name, area.client.name, area.interval_days

    series: list[Series] = []
    changes: list[Change] = []
    for item in scale.items:
        for role in sorted(scale.roles, key=lambda r: r.value):
            by_visit = values.get((item.key, role))
            if not by_visit:
                continue
            pts = tuple(
                Point(vid, sum(vals) / len(vals))
                for vid, vals in sorted(by_visit.items(), key=lambda kv: order[kv[0]])
            )
            series.append(Series(item.key, item.label, role, pts))
            if len(pts) >= 2:
                first, last = pts[0], pts[-1]
                delta = last.value - first.value
                changes.append(
                    Change(
                        item=item.key,
                        label=item.label,
                        role=role,
                        baseline=first.value,
                        latest=last.value,
                        change=delta,
                        percent=(100 * delta / first.value) if first.value else None,
                        improved=None if delta == 0 else (delta < 0) == scale.lower_is_better,
                    )
                )
    mean_change: dict[str, float] = {}
    for item in scale.items:
        deltas = [c.change for c in changes if c.item == item.key]
        if deltas:
            mean_change[item.key] = sum(deltas) / len(deltas)
    treatments = [v for v in points if v.session is not None]
    last_treatment = treatments[-1].date if treatments else None
    return Progress(
        area_id=area_id,
        area=area_name,
        client=client_name,
        scale=scale,
        visits=points,
        series=series,
        changes=changes,
        sessions_done=len(treatments),
        days_since_baseline=(today - base).days if base is not None else None,
        interval_days=interval,
        next_session=last_treatment + dt.timedelta(days=interval) if last_treatment else None,
        mean_change=mean_change,
    )
