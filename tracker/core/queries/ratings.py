"""Ratings as they are read: every rating of a visit or an area on any scale, by any rater, with
a summary line that names each number, and the facts ``domain/instruments.py`` analyses."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Client, Rating, RatingItem, Visit
from tracker.core.domain.instruments import Rater, RatingFact, describe
from tracker.core.domain.scales import SCALES
from tracker.core.queries.rows import RatingRow
from tracker.core.store.library import Library

SCALE_ORDER = {key: n for n, key in enumerate(SCALES)}


def ratings_with_values(s: Session, query: Any) -> list[tuple[Rating, dict[str, float]]]:
    """The ratings ``query`` selects, each with its values: two statements in all."""
    ratings = list(s.scalars(query))
    values: dict[int, dict[str, float]] = defaultdict(dict)
    if ratings:
        items = s.execute(
            select(RatingItem.rating_id, RatingItem.item_key, RatingItem.value)
            .where(RatingItem.rating_id.in_([r.id for r in ratings]))
            .order_by(RatingItem.id)
        )
        for rating_id, key, value in items:
            values[rating_id][key] = value
    return [(r, values[r.id]) for r in ratings]


def order_key(row: RatingRow) -> tuple[int, str, str]:
    """Ratings in a stable order: by scale as the app lists them, then role, then name."""
    return (SCALE_ORDER.get(row.scale_key, len(SCALE_ORDER)), row.role.value, row.rater_name)


def rating_row(rating: Rating, values: dict[str, float], client: str) -> RatingRow:
    """A stored rating as it is read. A scale this version does not know (made by a newer
    one) is shown by its key and item keys, and analysed nowhere: it never stops the rest."""
    rater = Rater(rating.rater_role, rating.rater_name)
    scale = SCALES.get(rating.scale_key)
    if scale is None:
        shown = ", ".join(f"{k} {v:g}" for k, v in values.items()) or "no values"
        summary = f"{rater.label(client)} ({rating.rater_role.value}) · {rating.scale_key}: {shown}"
    else:
        summary = (
            f"{rater.label(client)} ({rating.rater_role.value}) · {scale.short or scale.name}: "
            f"{describe(scale, values)}"
        )
    return RatingRow(
        id=rating.id,
        role=rating.rater_role,
        rater_name=rating.rater_name,
        rater=rater.label(client),
        scale_key=rating.scale_key,
        method=rating.method,
        values=values,
        summary=summary,
        version=rating.version,
    )


def rows_at(
    s: Session, pairs: Sequence[tuple[int, int]], client: str
) -> dict[tuple[int, int], tuple[RatingRow, ...]]:
    """For each (visit id, area id), every rating there on any scale, in ``order_key`` order:
    two statements however many."""
    if not pairs:
        return {}
    q = select(Rating).where(
        Rating.visit_id.in_({v for v, _ in pairs}), Rating.area_id.in_({a for _, a in pairs})
    )
    return rows_from(ratings_with_values(s, q), pairs, client)


def rows_from(
    found: Sequence[tuple[Rating, dict[str, float]]],
    pairs: Sequence[tuple[int, int]],
    client: str,
) -> dict[tuple[int, int], tuple[RatingRow, ...]]:
    """``rows_at`` of ratings read already, each with its values (``ratings_with_values``)."""
    wanted = set(pairs)
    out: dict[tuple[int, int], list[RatingRow]] = defaultdict(list)
    for rating, values in found:
        key = (rating.visit_id, rating.area_id)
        if key in wanted:
            out[key].append(rating_row(rating, values, client))
    return {key: tuple(sorted(rows, key=order_key)) for key, rows in out.items()}


def summaries(
    s: Session, pairs: Sequence[tuple[int, int]], client: str
) -> dict[tuple[int, int], tuple[str, ...]]:
    """For each (visit id, area id), a line per rating that says what each number is, e.g.
    "Dr Lee (practitioner) · POSAS observer: total 32 (6–60), overall 6"."""
    return {key: tuple(r.summary for r in rows) for key, rows in rows_at(s, pairs, client).items()}


def facts(
    rows: dict[tuple[int, int], tuple[RatingRow, ...]], dates: dict[int, dt.date]
) -> dict[str, list[RatingFact]]:
    """The ratings ``rows_at`` read, per scale key, as the instruments analyse them (``dates``:
    visit id → day)."""
    out: dict[str, list[RatingFact]] = defaultdict(list)
    for (visit_id, _area), found in rows.items():
        for row in found:
            out[row.scale_key].append(
                RatingFact(
                    visit_id=visit_id,
                    date=dates[visit_id],
                    rater=Rater(row.role, row.rater_name),
                    method=row.method,
                    values=row.values,
                )
            )
    return dict(out)


def listing(
    lib: Library, client_id: int | None = None, area_id: int | None = None
) -> list[dict[str, object]]:
    """Every rating (of one client or area when given) as ``tracker list ratings`` shows it:
    scale, role, rater, method, visit date and values, by client, area, date and scale."""
    with lib.session() as s:
        q = (
            select(Rating)
            .join(Visit, Rating.visit_id == Visit.id)
            .join(Area, Rating.area_id == Area.id)
            .join(Client, Visit.client_id == Client.id)
        )
        if client_id is not None:
            q = q.where(Client.id == client_id)
        if area_id is not None:
            q = q.where(Area.id == area_id)
        context: dict[int, tuple[str, str, dt.date]] = {
            rid: (client, area, day)
            for rid, client, area, day in s.execute(
                q.with_only_columns(Rating.id, Client.name, Area.name, Visit.date)
            )
        }
        out = []
        for rating, values in ratings_with_values(s, q):
            client, area, day = context[rating.id]
            row = rating_row(rating, values, client)
            scale = SCALES.get(rating.scale_key)
            total = scale.total(values) if scale is not None else None
            out.append(
                {
                    "id": rating.id,
                    "client": client,
                    "area": area,
                    "visit_id": rating.visit_id,
                    "date": day.isoformat(),
                    "scale": rating.scale_key,
                    "scale_version": rating.scale_version,
                    "rater_role": rating.rater_role.value,
                    "rater_name": rating.rater_name,
                    "rater": row.rater,
                    "method": rating.method.value,
                    "values": values,
                    "total": total,
                    "summary": row.summary,
                }
            )
        out.sort(
            key=lambda r: (
                str(r["client"]).lower(),
                str(r["area"]).lower(),
                str(r["date"]),
                SCALE_ORDER.get(str(r["scale"]), 99),
                str(r["rater_role"]),
                str(r["rater_name"]),
            )
        )
        return out
