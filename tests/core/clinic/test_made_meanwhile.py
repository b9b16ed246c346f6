"""A rating or treatment record another workstation makes between an edit's version check and
its read of the row (issue 21). On PostgreSQL each statement of a transaction sees what was
committed before it began: the check finds no row, the read finds the new one. Found by the
many-writers test, where two editors who both saw no record were both told "stored" as
version 1, the second's fields merged into the first's record without a refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tracker.core.db import server
from tracker.core.db.models import RaterRole
from tracker.core.errors import StaleEdit
from tracker.core.queries import browse
from tracker.core.services import clients, ratings, visits
from tracker.core.store.library import Library

ROLE = RaterRole.PRACTITIONER
Two = tuple[Library, Library, int, int]


@pytest.fixture
def two(pg_url: str, tmp_path: Path) -> Iterator[Two]:
    engines = [server.make_pg_engine(pg_url), server.make_pg_engine(pg_url)]
    server.upgrade(engines[0])
    a, b = (Library(tmp_path / n, e) for n, e in zip("ab", engines, strict=True))
    client = clients.add_client(a, "Ann")
    area = clients.add_area(a, client, "Hips")
    try:
        yield a, b, visits.add_visit(a, client, dt.date(2026, 3, 1)), area
    finally:
        for engine in engines:
            engine.dispose()


def _after_the_check(
    lib: Library, table: str, meanwhile: Callable[[], object], *, checked: bool = True
) -> list[bool]:
    """Run ``meanwhile`` (another workstation's committed edit) once, right after ``lib``'s
    version check of a row of ``table`` and before its read of the row: after the check's
    last statement, its SELECT of the version when the UPDATE … SET version found no row at
    the version seen, or that UPDATE itself for an edit that checks none."""
    done: list[bool] = []
    last = f"SELECT {table}.version \nFROM" if checked else f"UPDATE {table} SET version"

    @event.listens_for(lib.engine, "after_cursor_execute")
    def _then(*args: Any) -> None:
        if not done and str(args[2]).startswith(last):
            done.append(True)
            meanwhile()

    return done  # [True] once it ran


def _record(lib: Library, visit: int, area: int) -> tuple[dict[str, Any], int]:
    shown = next(a for a in browse.visit_detail(lib, visit).areas if a.area.id == area)
    given = {k: v for k, v in (shown.treatment or {}).items() if v is not None}
    return given, shown.treatment_version


def _rating(lib: Library, visit: int, area: int) -> tuple[dict[str, float], int]:
    shown = next(a for a in browse.visit_detail(lib, visit).areas if a.area.id == area)
    row = next(r for r in shown.ratings if r.role == ROLE)
    return row.values, row.version


def test_a_record_made_meanwhile_refuses_an_edit_that_saw_none(two: Two) -> None:
    a, b, visit, area = two
    ran = _after_the_check(
        a, "treatment_record", lambda: visits.set_treatment(b, visit, area, {"pain": 3}, seen=0)
    )
    with pytest.raises(StaleEdit, match="was changed by someone else") as refused:
        visits.set_treatment(a, visit, area, {"passes": 2}, seen=0)
    assert ran and refused.value.version == 1
    assert _record(a, visit, area) == ({"pain": 3}, 1)  # b's, untouched


def test_a_rating_made_meanwhile_refuses_an_edit_that_saw_none(two: Two) -> None:
    a, b, visit, area = two
    ran = _after_the_check(
        a, "rating", lambda: ratings.rate(b, visit, area, ROLE, {"colour": 4.0}, seen=0)
    )
    with pytest.raises(StaleEdit):
        ratings.rate(a, visit, area, ROLE, {"texture": 7.0}, seen=0)
    assert ran and _rating(a, visit, area) == ({"colour": 4.0}, 1)


def test_an_unchecked_edit_of_a_row_made_meanwhile_is_counted(two: Two) -> None:
    """Without a version to check (the command line), the edit is stored on top of the new
    row and moves its version on, so a window that saw the new row is refused after."""
    a, b, visit, area = two
    ran = _after_the_check(
        a,
        "rating",
        lambda: ratings.rate(b, visit, area, ROLE, {"colour": 4.0}, seen=0),
        checked=False,
    )
    done = ratings.rate(a, visit, area, ROLE, {"texture": 7.0})
    assert ran and done.version == 2 and done.old == {"colour": 4.0}
    assert _rating(b, visit, area) == ({"colour": 4.0, "texture": 7.0}, 2)
    with pytest.raises(StaleEdit):
        ratings.rate(b, visit, area, ROLE, {"depth": 2.0}, seen=1)
