"""The measures of the marks in the CSV export (issue 18): one row per measure per photo, in
the ratings CSV's shape (``ratings_csv.COLUMNS``), marked ``measure`` in its ``row`` column,
with the measure's key in ``item``, its label in ``item_label``, its ``value`` in its ``unit``
(the share of the region in per cent, as it is shown), the ``photo_id`` and its ``view``, and
the visit's treatment record, so that a pivot of ratings and measures by visit needs no join.

A measure that needs the card's scale is left out of a photo without one (it has no value);
a photo that could not be measured, or whose measure is stale (its region, alignment, colour
or area changed since), is left out until it is measured again.
"""

from __future__ import annotations

from sqlalchemy import select

from tracker.core.db.models import Area, Client, Measure, Photo, TreatmentRecord, Visit
from tracker.core.domain.measures import MEASURE_KEYS, MEASURES
from tracker.core.domain.treatment import TREATMENT_FIELDS
from tracker.core.queries.measure_inputs import inputs_key, jobs_for
from tracker.core.store.library import Library


def rows(
    lib: Library, client_id: int | None = None, area_id: int | None = None
) -> list[dict[str, object]]:
    """One row per measure of each (not removed) photo measured, of one client or area when
    given, by client, area, date and photo."""
    with lib.session() as s:
        q = (
            select(Measure, Photo, Visit, Area, Client)
            .join(Photo, Measure.photo_id == Photo.id)
            .join(Visit, Photo.visit_id == Visit.id)
            .join(Area, Photo.area_id == Area.id)
            .join(Client, Visit.client_id == Client.id)
            .where(Photo.deleted_at.is_(None), Measure.values.is_not(None))
            .order_by(Client.name, Area.name, Visit.date, Photo.taken_at, Photo.id)
        )
        if client_id is not None:
            q = q.where(Client.id == client_id)
        if area_id is not None:
            q = q.where(Area.id == area_id)
        found = list(s.execute(q))
        jobs = jobs_for(s, [(p, a) for _m, p, _v, a, _c in found])
        records = {
            (r.visit_id, r.area_id): r
            for r in s.scalars(
                select(TreatmentRecord).where(
                    TreatmentRecord.visit_id.in_({v.id for _m, _p, v, _a, _c in found})
                )
            )
        }
        out: list[dict[str, object]] = []
        for m, p, visit, a, c in found:
            if m.inputs_key != inputs_key(jobs[p.id].inputs):
                continue
            record = records.get((visit.id, a.id))
            base: dict[str, object] = {
                "client": c.name,
                "area": a.name,
                "visit_date": visit.date.isoformat(),
                "visit_kind": visit.kind.value,
                "row": "measure",
                "photo_id": p.id,
                "view": p.view,
            }
            for field in TREATMENT_FIELDS:
                given = getattr(record, field) if record is not None else None
                base[field] = "" if given is None else given
            values = m.values or {}
            for key in MEASURE_KEYS:
                value = values.get(key)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                info = MEASURES[key]
                shown = float(value) * 100.0 if key == "area_fraction" else float(value)
                out.append(
                    {
                        **base,
                        "item": key,
                        "item_label": info.label,
                        "value": round(shown, info.decimals + 2),
                        "unit": info.unit,
                    }
                )
        return out
