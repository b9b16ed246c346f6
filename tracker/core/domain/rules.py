"""The domain's rules, each decided here once, as plain functions of the facts they need.

The services (writes) and queries (reads) gather the facts from the database and call these;
neither the window nor the command line decides any of them. ``docs/ARCHITECTURE.md`` lists
the rules with the tests that hold them through both the command line and the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TypeVar

from tracker.core.db.models import VisitKind
from tracker.core.errors import ValidationError

V = TypeVar("V")


def new_visit_kind(chosen: VisitKind | None, *, has_baseline: bool) -> VisitKind:
    """The kind of a visit being created.

    The user's choice wins (``visit add --kind``, ``import --kind``, the New visit dialog, the
    import preview). Without one, a client's first visit is the baseline and every later one a
    treatment session, whether it is made by ``visit add``, by the window or by an import.
    """
    if chosen is not None:
        return chosen
    return VisitKind.TREATMENT if has_baseline else VisitKind.BASELINE


EARLIEST_VISIT = dt.date(1900, 1, 1)
LATEST_AHEAD = dt.timedelta(days=366)


def check_visit_date(day: dt.date, today: dt.date | None = None) -> dt.date:
    """A visit's date (given, or from a photo's camera) if it can be one: from 1900 to a year
    from today (a later one is a camera's wrong clock or a typing slip), else ValidationError."""
    today = today or dt.date.today()
    if day < EARLIEST_VISIT:
        raise ValidationError(
            f"{day.isoformat()} is before 1900; a visit's date must be later. Check the date."
        )
    if day > today + LATEST_AHEAD:
        raise ValidationError(
            f"{day.isoformat()} is more than a year from today; a visit cannot be that far "
            "ahead. Check the date (or the camera's clock)."
        )
    return day


def baseline_date(visits: Iterable[tuple[dt.date, VisitKind]]) -> dt.date | None:
    """The day that "days since baseline" counts from: the earliest baseline visit, else the
    earliest visit (a course whose first visit was given another kind still has a start)."""
    visits = list(visits)
    baselines = [day for day, kind in visits if kind == VisitKind.BASELINE]
    if baselines:
        return min(baselines)
    return min((day for day, _ in visits), default=None)


def is_session(
    kind: VisitKind, *, has_record: bool, has_photos: bool, untreated: bool = False
) -> bool:
    """Whether a visit counts as a treatment session of one area: the area was treated there.

    An untreated control area (``untreated``, ``Area.is_control``) is never treated: it has no
    sessions, only visits at which it was photographed beside the treated areas. Otherwise a
    visit with a treatment record for the area always does (what was done is written down);
    a treatment visit does when the area was photographed at it. A treatment visit without the
    area's record or photos is another area's session (ratings alone do not make one: a patient
    may rate an area that was not treated), and baseline, check-in and follow-up visits are
    never sessions.
    """
    if untreated:
        return False
    if has_record:
        return True
    return kind == VisitKind.TREATMENT and has_photos


def area_baseline(seen: Iterable[dt.date]) -> dt.date | None:
    """An area's baseline: the first day it was photographed, rated or treated (``seen``; a
    session recorded before its first photo still began the course, so no session comes
    before the baseline). An area added today has none, whatever the client's visits before
    it; days since baseline, sessions and the report's visits of the area count from it."""
    return min(seen, default=None)


def next_session(last_session: dt.date | None, interval_days: int) -> dt.date | None:
    """The next suggested session: the area's interval after its last session (none before
    the first)."""
    return last_session + dt.timedelta(days=interval_days) if last_session else None


def merge(old: Mapping[str, V], given: Mapping[str, V | None]) -> dict[str, V]:
    """An edit of a record made of named values (a rating's items, a treatment record's
    fields): each value given replaces the one there, ``None`` clears it, and everything not
    given stays as it was. An empty result means the record is removed."""
    out = dict(old)
    for key, value in given.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
