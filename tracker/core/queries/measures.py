"""The measures of an area over its course (issue 18), as the progress tab, the visit panel,
the report and the CSV show them: a series per measure over the visits of one view, each with
the band of change worth believing, the untreated control area's series beside it, and one
sentence on what changed.

**The band** comes from the retest pair, the earliest day with two measured photos of the
view (``marks.repeatability_band``), else the documented default band at the first value
(``marks.default_band``). With the control subtracted, the treated area's value at each visit
is ``treated(t) − (control(t) − control(baseline))``: what the light and the camera did to the
untreated skin is taken out; the band is then both areas' bands together (√(a² + b²)).

A fixed number of statements, whatever the library holds (``tests/core/queries``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Measure, Photo, ReferencePhoto, Visit
from tracker.core.domain.instruments import day_text
from tracker.core.domain.measures import MEASURE_KEYS, MEASURES, MeasureInfo, change_words
from tracker.core.queries.browse import get
from tracker.core.queries.course import Course, courses
from tracker.core.queries.measure_inputs import inputs_key, jobs_for
from tracker.core.store.library import Library


@dataclass(frozen=True)
class PhotoMeasure:
    photo_id: int
    visit_id: int
    date: dt.date
    view: str
    values: dict[str, Any] | None  # ``MarkMeasures.as_dict()``; None: not measured, or failed
    error: str | None  # why it could not be measured
    stale: bool  # measured from inputs that are no longer the photo's
    stage: str | None = None  # what it was measured as (rubra or alba)


@dataclass(frozen=True)
class MeasurePoint:
    visit_id: int
    date: dt.date
    session: int  # sessions done by this visit; 0 = baseline (before any)
    photo_id: int  # the visit's photo measured (its first one when none was)
    value: float | None  # None: not measured (or failed); with the control subtracted, when asked
    control: float | None  # the control area's same measure at this visit


@dataclass(frozen=True)
class MeasureSeries:
    key: str
    info: MeasureInfo
    points: list[MeasurePoint]
    band: float | None
    band_source: Literal["retest", "default"]
    change: float | None  # the last measured visit's value − the first's
    words: str


@dataclass(frozen=True)
class AreaMeasures:
    area_id: int
    area_name: str
    view: str | None
    photos: list[PhotoMeasure]
    series: dict[str, MeasureSeries]
    control_area_id: int | None
    control_name: str | None
    retest: tuple[int, int] | None  # the photo ids of the retest pair
    stale: int
    unmeasured: int
    scale_known: bool


def _view_of(area_id: int, refs: dict[tuple[int, str], int], photos: list[Photo]) -> str | None:
    """The area's reference view: the view of its reference photo (the earliest one chosen),
    else its most photographed view."""
    mine = [p for p in photos if p.area_id == area_id]
    for p in mine:
        if refs.get((area_id, p.view)) == p.id:
            return p.view
    counts = Counter(p.view for p in mine)
    return max(counts, key=lambda v: (counts[v], -[p.view for p in mine].index(v)), default=None)


def _photo_measure(p: Photo, day: dt.date, m: Measure | None, key: str | None) -> PhotoMeasure:
    stage = (m.inputs or {}).get("stage_used") if m is not None else None
    return PhotoMeasure(
        photo_id=p.id,
        visit_id=p.visit_id,
        date=day,
        view=p.view,
        values=m.values if m is not None else None,
        error=m.error if m is not None else None,
        stale=m is not None and m.inputs_key != key,
        stage=stage,
    )


def _sessions(c: Course, visits: list[Visit]) -> dict[int, int]:
    done, out = 0, {}
    for v in visits:
        if v.id in c.sessions:
            done += 1
        out[v.id] = done
    return out


def _first_per_visit(photos: list[PhotoMeasure]) -> dict[int, PhotoMeasure]:
    """The photo each visit is charted by: its first measured photo, else its first photo (a
    visit whose photos failed or were never measured stays in the series, without a value)."""
    out: dict[int, PhotoMeasure] = {}
    for pm in photos:
        if pm.values is not None:
            out.setdefault(pm.visit_id, pm)
    for pm in photos:
        out.setdefault(pm.visit_id, pm)
    return out


def _retest(photos: list[PhotoMeasure]) -> tuple[PhotoMeasure, PhotoMeasure] | None:
    by_day: dict[dt.date, list[PhotoMeasure]] = {}
    for pm in photos:
        by_day.setdefault(pm.date, []).append(pm)
    for day in sorted(by_day):
        shots = by_day[day]
        if len(shots) >= 2:
            measured = [pm for pm in shots if pm.values is not None]
            return (measured[0], measured[1]) if len(measured) >= 2 else None
    return None


def _bands(
    photos: list[PhotoMeasure],
) -> tuple[dict[str, float | None], Literal["retest", "default"], tuple[int, int] | None]:
    # start-up time: the marks engine (OpenCV) loads when measures are shown, not at start
    # start-up time: as above
    from tracker.core.imaging import marks
    from tracker.core.queries.measure_inputs import from_dict

    pair = _retest(photos)
    if pair is not None:
        a, b = pair
        assert a.values is not None and b.values is not None
        band = marks.repeatability_band(from_dict(a.values), from_dict(b.values))
        return band, "retest", (a.photo_id, b.photo_id)
    first = next((pm for pm in photos if pm.values is not None), None)
    if first is None:
        return dict.fromkeys(MEASURE_KEYS), "default", None
    assert first.values is not None
    return marks.default_band(from_dict(first.values)), "default", None


def _series(
    key: str,
    visits: list[Visit],
    sessions: dict[int, int],
    treated: dict[int, PhotoMeasure],
    control: dict[int, PhotoMeasure],
    band: float | None,
    control_band: float | None,
    source: Literal["retest", "default"],
    subtract: bool,
    scale_known: bool,
) -> MeasureSeries:
    info = MEASURES[key]

    def value(pm: PhotoMeasure | None) -> float | None:
        v = pm.values.get(key) if pm is not None and pm.values is not None else None
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    # the control's first measured value (the subtraction's change does not depend on which)
    base_control = next((c for v in visits if (c := value(control.get(v.id))) is not None), None)
    points = []
    for v in visits:
        if v.id not in treated:
            continue
        mine, theirs = value(treated[v.id]), value(control.get(v.id))
        if subtract:
            mine = (
                None
                if mine is None or theirs is None or base_control is None
                else mine - (theirs - base_control)
            )
        points.append(
            MeasurePoint(v.id, v.date, sessions[v.id], treated[v.id].photo_id, mine, theirs)
        )
    known = [(p, p.value) for p in points if p.value is not None]
    # between the first and the last visits measured: a visit without a value is skipped
    change = known[-1][1] - known[0][1] if len(known) >= 2 else None
    if subtract and band is not None and control_band is not None:
        band = math.hypot(band, control_band)
    measured = sum(1 for v in visits if value(treated.get(v.id)) is not None)
    if not known and info.needs_scale and not scale_known:
        words = "Not measured: the photos show no calibration card to give a scale."
    elif subtract and change is None and measured >= 2:
        words = "Not enough photos of both areas at the same visits to take the control out."
    else:
        words = change_words(key, change, band)
    if change is not None and points[-1].value is None:
        words += (
            f" The last visit, {day_text(points[-1].date)}, has no "
            f"{'measure of both areas' if subtract else 'measure'}: the change is from "
            f"{day_text(known[0][0].date)} to {day_text(known[-1][0].date)}."
        )
    return MeasureSeries(key, info, points, band, source, change, words)


def area_measures(
    lib: Library, area_id: int, view: str | None = None, subtract_control: bool = False
) -> AreaMeasures:
    """The measures of an area's photos of one view (None: its reference view) over its
    visits, with the control area's beside them (subtracted with ``subtract_control``)."""
    with lib.session() as s:
        area = get(s, Area, area_id, "area")
        control = s.get(Area, area.control_area_id) if area.control_area_id else None
        area_ids = [area.id] + ([control.id] if control is not None else [])
        visits = list(
            s.scalars(select(Visit).where(Visit.client_id == area.client_id).order_by(Visit.date))
        )
        refs = {
            (r.area_id, r.view): r.photo_id
            for r in s.scalars(select(ReferencePhoto).where(ReferencePhoto.area_id.in_(area_ids)))
        }
        rows = list(
            s.execute(
                select(Photo, Visit.date, Measure)
                .join(Visit, Photo.visit_id == Visit.id)
                .outerjoin(Measure, Measure.photo_id == Photo.id)
                .where(Photo.area_id.in_(area_ids), Photo.deleted_at.is_(None))
                .order_by(Visit.date, Photo.taken_at, Photo.id)
            )
        )
        photos = [p for p, _d, _m in rows]
        earliest: dict[tuple[int, str], int] = {}
        for p in photos:
            earliest.setdefault((p.area_id, p.view), p.id)
        areas = {area.id: area} | ({control.id: control} if control is not None else {})
        jobs = jobs_for(s, [(p, areas[p.area_id]) for p in photos], refs=refs, earliest=earliest)
        keys = {pid: inputs_key(job.inputs) for pid, job in jobs.items()}
        view = view if view is not None else _view_of(area.id, refs, photos)
        control_view = None
        if control is not None:
            control_view = (
                view
                if any(p.area_id == control.id and p.view == view for p in photos)
                else _view_of(control.id, refs, photos)
            )
        mine = [
            _photo_measure(p, d, m, keys.get(p.id))
            for p, d, m in rows
            if p.area_id == area.id and p.view == view
        ]
        theirs = [
            _photo_measure(p, d, m, keys.get(p.id))
            for p, d, m in rows
            if control is not None and p.area_id == control.id and p.view == control_view
        ]
        course = courses(s, [area.id], visits)[area.id]
        name, control_name = area.name, control.name if control is not None else None
    sessions = _sessions(course, visits)
    bands, source, retest = _bands(mine)
    control_bands, _source, _pair = _bands(theirs)
    scale_known = any(pm.values is not None and pm.values.get("px_per_mm") for pm in mine)
    treated, beside = _first_per_visit(mine), _first_per_visit(theirs)
    series = {
        key: _series(
            key,
            visits,
            sessions,
            treated,
            beside,
            bands.get(key),
            control_bands.get(key),
            source,
            subtract_control and control_name is not None,
            scale_known,
        )
        for key in MEASURE_KEYS
    }
    return AreaMeasures(
        area_id=area_id,
        area_name=name,
        view=view,
        photos=mine,
        series=series,
        control_area_id=area_ids[1] if len(area_ids) > 1 else None,
        control_name=control_name,
        retest=retest,
        stale=sum(1 for pm in mine if pm.stale),
        unmeasured=sum(1 for pm in mine if pm.values is None and pm.error is None),
        scale_known=scale_known,
    )


def photo_measures(lib: Library, photo_ids: Sequence[int]) -> dict[int, PhotoMeasure | None]:
    """``photo_measure`` of each photo, in one session of three to five statements whatever
    their number (the visit panel asks for all of a visit's photos at each switch: a round
    trip each counts on a clinic's server). A photo that is not there is left out."""
    if not photo_ids:
        return {}
    # Read only, on a connection in autocommit on a server: no BEGIN or COMMIT round trip.
    with lib.reading() as conn, Session(bind=conn) as s:
        rows = s.execute(
            select(Photo, Visit.date, Measure, Area)
            .join(Visit, Photo.visit_id == Visit.id)
            .join(Area, Photo.area_id == Area.id)
            .outerjoin(Measure, Measure.photo_id == Photo.id)
            .where(Photo.id.in_(list(photo_ids)))
        ).all()
        measured = [(p, area) for p, _d, m, area in rows if m is not None]
        jobs = jobs_for(s, measured) if measured else {}
        out: dict[int, PhotoMeasure | None] = {}
        for p, day, m, _area in rows:
            key = inputs_key(jobs[p.id].inputs) if m is not None else None
            out[p.id] = None if m is None else _photo_measure(p, day, m, key)
        return out


def photo_measure(lib: Library, photo_id: int) -> PhotoMeasure | None:
    """A photo's stored measure (None when it was never measured), and whether it is stale."""
    with lib.session() as s:
        row = s.execute(
            select(Photo, Visit.date, Measure, Area)
            .join(Visit, Photo.visit_id == Visit.id)
            .join(Area, Photo.area_id == Area.id)
            .outerjoin(Measure, Measure.photo_id == Photo.id)
            .where(Photo.id == photo_id)
        ).one_or_none()
        if row is None:
            get(s, Photo, photo_id, "photo")  # says there is none
            return None
        p, day, m, area = row
        if m is None:
            return None
        key = inputs_key(jobs_for(s, [(p, area)])[p.id].inputs)
        return _photo_measure(p, day, m, key)
