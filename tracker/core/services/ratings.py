"""Ratings: one rater's scores of one area at one visit on one scale.

A rating is identified by (visit, area, rater role, rater name, scale): rating again with the
same five changes that rating, by ``rules.merge``; another rater name is another rating. The
command line (``tracker rate``) and the window's ratings editor both come through ``rate``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.db.models import (
    Area,
    RaterRole,
    Rating,
    RatingItem,
    RatingMethod,
    Visit,
    row_dict,
)
from tracker.core.domain import rules
from tracker.core.domain.scales import Scale, get_scale
from tracker.core.errors import UsageError
from tracker.core.queries.browse import get
from tracker.core.services import versions
from tracker.core.store.library import Library
from tracker.core.text import check_name, written_date


@dataclass(frozen=True)
class RatingSnapshot:
    """A rating's rows as they were, to put back exactly: its id, when it was made, its scale
    version and method, and its items."""

    rating: dict[str, Any]
    items: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class RatingChange:
    """What ``rate`` did. ``old`` is every value before (empty if there was no rating) and
    ``values`` every value after (empty when the rating was removed); ``before`` is the rating
    as it was, for ``put_back``."""

    rating_id: int | None
    visit_id: int
    visit_date: dt.date
    area_id: int
    area: str
    client: str
    role: RaterRole
    rater_name: str
    scale: Scale
    method: RatingMethod | None
    old: dict[str, float]
    values: dict[str, float]
    before: RatingSnapshot | None
    version: int = 0  # the rating's after the edit (``services.versions``); 0: removed


def _key(
    visit_id: int, area_id: int, role: RaterRole, rater_name: str, scale_key: str
) -> ColumnElement[bool]:
    return and_(
        Rating.visit_id == visit_id,
        Rating.area_id == area_id,
        Rating.rater_role == role,
        Rating.rater_name == rater_name,
        Rating.scale_key == scale_key,
    )


def _find(
    s: Session, visit_id: int, area_id: int, role: RaterRole, rater_name: str, scale_key: str
) -> Rating | None:
    return s.scalar(select(Rating).where(_key(visit_id, area_id, role, rater_name, scale_key)))


def _named(s: Session, visit_id: int, area_id: int, role: RaterRole, rater_name: str) -> str:
    """A rating for a sentence: the practitioner's rating (Dr Lee) of Hips at the visit on …"""
    visit, area = s.get(Visit, visit_id), s.get(Area, area_id)
    who = f"the {role.value}'s rating" + (f" ({rater_name})" if rater_name else "")
    where = f" of {area.name}" if area is not None else ""
    when = f" at the visit on {written_date(visit.date)}" if visit is not None else ""
    return who + where + when


def _snapshot(rating: Rating) -> RatingSnapshot:
    return RatingSnapshot(row_dict(rating), tuple(row_dict(i) for i in rating.items))


def rate(
    lib: Library,
    visit_id: int,
    area_id: int,
    role: RaterRole,
    values: Mapping[str, float | None],
    *,
    scale: str | None = None,
    rater_name: str = "",
    method: RatingMethod | None = None,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> RatingChange:
    """Record one rater's values (``scale`` defaults to the area's) by ``rules.merge``: each
    value given replaces the one there, ``None`` clears an item, the rest stays, and a rating
    left with no values is removed. ``method`` (in person, from photos) is kept when not given;
    a new rating is in person unless it says otherwise. Every value is checked against the
    scale before anything is written.

    ``seen`` is the rating's version its editor saw (0: it saw none); the edit is refused with
    ``StaleEdit``, nothing changed, when someone else changed the rating since. None: no check.
    ``expect``: refused too unless the rating's values are what an undo or a redo expects.
    """
    with lib.session() as s:
        # "" is a rating without a name; any other new name is checked as every name is (one
        # stored by an earlier version, which checked less, can still be edited).
        if rater_name and not s.scalar(
            select(Rating.id).where(Rating.rater_name == rater_name).limit(1)
        ):
            check_name(rater_name, "rater's name")
        visit = get(s, Visit, visit_id, "visit")
        area = get(s, Area, area_id, "area")
        if area.client_id != visit.client_id:
            raise UsageError(
                f"The area '{area.name}' is not an area of the client of the visit on {visit.date.isoformat()}."
            )
        sc = get_scale(scale or area.default_scale)
        sc.validate(role, values)

        # Named now: after a failed flush the session reads nothing more.
        named = _named(s, visit_id, area_id, role, rater_name)
        where = _key(visit_id, area_id, role, rater_name, sc.key)
        claimed = versions.check(s, Rating, where, seen, lambda: named)
        rating = _find(s, visit_id, area_id, role, rater_name, sc.key)
        versions.made_meanwhile(s, Rating, where, seen, claimed, rating, lambda: named)
        before = _snapshot(rating) if rating is not None else None
        old: dict[str, float] = (
            {i.item_key: i.value for i in rating.items} if rating is not None else {}
        )
        if expect is not None and old != expect.values:
            raise versions.conflict(named, rating.version - 1 if rating is not None else 0)
        merged = rules.merge(old, values)
        rating_id = None
        kept_method: RatingMethod | None = None
        version = 0
        if not merged:
            if rating is not None:
                s.delete(rating)
        else:
            if rating is None:
                rating = Rating(
                    visit_id=visit_id,
                    area_id=area_id,
                    rater_role=role,
                    rater_name=rater_name,
                    scale_key=sc.key,
                    method=RatingMethod.IN_PERSON,
                )
                s.add(rating)
            rating.scale_version = sc.version
            if method is not None:
                rating.method = method
            try:
                s.flush()
            except IntegrityError as exc:  # another editor made the rating at the same moment
                if not versions.is_duplicate(exc):
                    raise
                raise versions.conflict(named, 1) from exc
            s.execute(delete(RatingItem).where(RatingItem.rating_id == rating.id))
            s.expire(rating, ["items"])
            # In the scale's order, so every reader sees the items the same way.
            order = {item.key: n for n, item in enumerate(sc.items)}
            for key in sorted(merged, key=lambda k: order.get(k, len(order))):
                s.add(RatingItem(rating_id=rating.id, item_key=key, value=merged[key]))
            s.flush()
            rating_id, kept_method, version = rating.id, rating.method, rating.version
        return RatingChange(
            rating_id=rating_id,
            visit_id=visit_id,
            visit_date=visit.date,
            area_id=area_id,
            area=area.name,
            client=visit.client.name,
            role=role,
            rater_name=rater_name,
            scale=sc,
            method=kept_method,
            old=old,
            values=merged,
            before=before,
            version=version,
        )


def put_back(
    lib: Library,
    visit_id: int,
    area_id: int,
    role: RaterRole,
    rater_name: str,
    scale_key: str,
    before: RatingSnapshot | None,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> int:
    """Make the rating exactly as it was (``before``, or no rating): the undo of ``rate``,
    under its old id, with when it was made, its method and its items; refused as ``rate``
    is when the rating is no longer at version ``seen``. Its version after (0: no rating): a
    count that only goes up while the rating is there, so an editor who saw the undone
    values is refused too."""
    with lib.session() as s:
        where = _key(visit_id, area_id, role, rater_name, scale_key)

        def what() -> str:
            return _named(s, visit_id, area_id, role, rater_name)

        claimed = versions.check(s, Rating, where, seen, what)
        current = _find(s, visit_id, area_id, role, rater_name, scale_key)
        claimed = versions.made_meanwhile(s, Rating, where, seen, claimed, current, what)
        now = {i.item_key: i.value for i in current.items} if current is not None else {}
        if expect is not None and now != expect.values:
            named = _named(s, visit_id, area_id, role, rater_name)
            raise versions.conflict(named, current.version - 1 if current is not None else 0)
        if current is not None:
            s.delete(current)
            s.flush()
        if before is None:
            return 0
        version = max(claimed or 0, int(before.rating.get("version", 1)) + 1)
        s.execute(insert(Rating).values({**before.rating, "version": version}))
        for item in before.items:
            s.execute(insert(RatingItem).values(**item))
        return version
