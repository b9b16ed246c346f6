"""An area's course: its baseline and its treatment sessions, by ``rules.area_baseline`` and
``rules.is_session``. The timeline, the visit panel, the compare window's labels, the progress
tab and the report all count from these, with a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Photo, Rating, TreatmentRecord, Visit
from tracker.core.domain import rules


@dataclass(frozen=True)
class Course:
    """One area's visits as the course counts them."""

    baseline: dt.date | None  # the first day the area was photographed, rated or treated
    first_photos: dt.date | None  # the first day the area was photographed
    sessions: tuple[int, ...]  # the ids of its session visits, by date
    photographed: frozenset[int]  # visits with photos of the area
    rated: frozenset[int]  # visits with ratings of the area
    recorded: frozenset[int]  # visits with a treatment record of the area
    untreated: bool = False  # an untreated control area (``Area.is_control``): no sessions

    @property
    def visits(self) -> frozenset[int]:
        """The visits at which anything of the area was recorded."""
        return self.photographed | self.rated | self.recorded

    def days(self, day: dt.date) -> int | None:
        return (day - self.baseline).days if self.baseline is not None else None

    def session_number(self, visit_id: int) -> int | None:
        return self.sessions.index(visit_id) + 1 if visit_id in self.sessions else None


def _by_area(s: Session, query: object, controls: set[int]) -> dict[int, set[int]]:
    """The visits of each area in ``query``'s rows (area, visit, whether the area is an
    untreated control); the controls among them are added to ``controls``."""
    out: dict[int, set[int]] = defaultdict(set)
    for area_id, visit_id, is_control in s.execute(query):  # type: ignore[call-overload]
        out[area_id].add(visit_id)
        if is_control:
            controls.add(area_id)
    return out


def courses(s: Session, area_ids: Collection[int], visits: Sequence[Visit]) -> dict[int, Course]:
    """The course of each area among ``visits`` (its client's, by date): three statements."""
    ids = [v.id for v in visits]
    if not area_ids or not ids:
        return {a: Course(None, None, (), frozenset(), frozenset(), frozenset()) for a in area_ids}
    # Whether an area is a control comes with its rows (an area without any has no sessions).
    controls: set[int] = set()
    photographed = _by_area(
        s,
        select(Photo.area_id, Photo.visit_id, Area.is_control)
        .join(Area, Photo.area_id == Area.id)
        .where(Photo.area_id.in_(area_ids), Photo.visit_id.in_(ids), Photo.deleted_at.is_(None))
        .distinct(),
        controls,
    )
    rated = _by_area(
        s,
        select(Rating.area_id, Rating.visit_id, Area.is_control)
        .join(Area, Rating.area_id == Area.id)
        .where(Rating.area_id.in_(area_ids), Rating.visit_id.in_(ids))
        .distinct(),
        controls,
    )
    recorded = _by_area(
        s,
        select(TreatmentRecord.area_id, TreatmentRecord.visit_id, Area.is_control)
        .join(Area, TreatmentRecord.area_id == Area.id)
        .where(TreatmentRecord.area_id.in_(area_ids), TreatmentRecord.visit_id.in_(ids)),
        controls,
    )
    return build(area_ids, visits, photographed, rated, recorded, controls)


def build(
    area_ids: Collection[int],
    visits: Sequence[Visit],
    photographed: Mapping[int, Collection[int]],
    rated: Mapping[int, Collection[int]],
    recorded: Mapping[int, Collection[int]],
    controls: Collection[int],
) -> dict[int, Course]:
    """The course of each area from the visits (by date) at which it was photographed, rated
    and recorded, by area; ``controls``: the untreated controls among the areas with any."""
    out = {}
    for area_id in area_ids:
        shot = set(photographed.get(area_id, ()))
        scored = set(rated.get(area_id, ()))
        done = set(recorded.get(area_id, ()))
        untreated = area_id in controls
        out[area_id] = Course(
            baseline=rules.area_baseline(v.date for v in visits if v.id in shot | scored | done),
            first_photos=min((v.date for v in visits if v.id in shot), default=None),
            sessions=tuple(
                v.id
                for v in visits
                if rules.is_session(
                    v.kind, has_record=v.id in done, has_photos=v.id in shot, untreated=untreated
                )
            ),
            photographed=frozenset(shot),
            rated=frozenset(scored),
            recorded=frozenset(done),
            untreated=untreated,
        )
    return out


def course(s: Session, area_id: int, visits: Sequence[Visit]) -> Course:
    return courses(s, [area_id], visits)[area_id]
