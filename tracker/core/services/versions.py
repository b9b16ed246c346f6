"""Optimistic version checks (issue 21: many writers, nothing lost).

Clients, areas, visits, treatment records, ratings (with their items, as one) and photos carry
``version``, counting their changes from 1; a row that is not there is at version 0. An edit
names the version its editor saw (``seen``; None when the caller reads and writes in one
transaction, as a command-line edit does, so there is nothing to check) and is refused with
``StaleEdit`` when the row has moved on, before anything is written.

The check is an explicit ``UPDATE … SET version = version + 1 WHERE … AND version = :seen``
run first in the edit's transaction (``claim``), not SQLAlchemy's ``version_id_col``: the
mapper option compares with the version *the session loaded*, not the one the editor saw
minutes earlier in another transaction; it bumps a row only when one of its own columns
changes, and a rating's edit often changes only its items; and running the update before
anything is read takes the row's lock on PostgreSQL, so a concurrent edit of the same row
waits for this one and then finds the version moved on. Two editors making the same new row
at once collide on its unique key, which ``is_duplicate`` tells apart.

Photos are moved several at a time: ``services.move`` locks them in the order of their ids
(two moves of overlapping photos must not wait on each other crosswise) and compares each
one's version with the one its editor saw (``check_photos``) before it changes any. A change
of a photo's place, label, removal, alignment or colour balance counts, the photos a move
re-expresses or judges again included (``bump``); alignments and colour balances are checked
as moves are (``services.photos``), the main window reading its photos again after either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Client, Photo, Rating, TreatmentRecord, Visit
from tracker.core.errors import StaleEdit

Versioned = (
    type[Client] | type[Area] | type[Visit] | type[TreatmentRecord] | type[Rating] | type[Photo]
)

# PostgreSQL's unique_violation; SQLite's extended codes for a UNIQUE and a PRIMARY KEY.
_PG_UNIQUE = "23505"
_SQLITE_UNIQUE = (2067, 1555)


@dataclass(frozen=True)
class Expect:
    """What an undo or a redo expects to find: the values the step before it left (None or
    empty: no row). Checked in place of a version, because the window's own later steps, and
    their undos, have moved the version on since the step was made."""

    values: Any


def claim(s: Session, model: Versioned, where: ColumnElement[bool], seen: int | None) -> int | None:
    """Within a session, before the row is read: count one more change of the row ``where``
    finds, if it is at version ``seen`` (at any, when None). Its new version, or None when
    no row was changed (there is none, or it is at another version)."""
    q = update(model).where(where).values(version=model.version + 1)
    if seen is not None:
        q = q.where(model.version == seen)
    q = q.returning(model.version).execution_options(synchronize_session=False)
    return s.execute(q).scalar_one_or_none()


def current(s: Session, model: Versioned, where: ColumnElement[bool]) -> int:
    """The version of the row ``where`` finds, 0 when there is none."""
    return s.scalar(select(model.version).where(where)) or 0


def check(
    s: Session,
    model: Versioned,
    where: ColumnElement[bool],
    seen: int | None,
    what: Callable[[], str],
) -> int | None:
    """``claim`` the row, refusing the edit when its editor saw another version than the
    row's (``seen`` 0: the editor saw no row, and there is one now); ``what`` names the row
    for the sentence (read only when it is refused). The row's new version, None when there
    is no row (and none was seen, or no check was asked)."""
    new = claim(s, model, where, seen)
    if new is None and seen is not None:
        now = current(s, model, where)
        if now != seen:
            raise conflict(what(), now)
    return new


def made_meanwhile(
    s: Session,
    model: Versioned,
    where: ColumnElement[bool],
    seen: int | None,
    claimed: int | None,
    found: Any,
    what: Callable[[], str],
) -> int | None:
    """After ``check`` (which gave ``claimed``) and the read of the row it names (``found``,
    None when there is none): a row that ``check`` did not find and the read did was made by
    another editor who committed between the two statements (on PostgreSQL each statement
    of a transaction sees what was committed before it began). The edit is refused then, as
    ``check`` would have refused it, when its editor saw a version (it saw no row); without
    one, this change of the row is counted too. The row's new version, as ``check`` gives."""
    if claimed is not None or found is None:
        return claimed
    if seen is not None:
        raise conflict(what(), found.version)
    new = claim(s, model, where, None)
    s.refresh(found, ["version"])
    return new


def conflict(what: str, now: int) -> StaleEdit:
    """The refusal of an edit of ``what`` made from an old reading."""
    done = "removed" if now == 0 else "changed"
    return StaleEdit(
        f"{what[0].upper()}{what[1:]} was {done} by someone else after it was shown here, so "
        "this change was not stored; its fresh values are shown.",
        what,
        now,
    )


def photo_named(s: Session, photo_id: int) -> str:
    """A photo as a refusal names it: its id and the file it was imported from."""
    name = s.scalar(select(Photo.original_name).where(Photo.id == photo_id))
    return f"photo {photo_id} ({name})" if name else f"photo {photo_id}"


def check_photos(
    s: Session,
    photos: Iterable[Photo],
    seen: Mapping[int, int] | None,
    expect: Expect | None,
    values: Callable[[Photo], Any],
) -> None:
    """Refuse an edit of ``photos`` (read and locked in this transaction) when one of them is
    not at the version its editor saw (``seen``: photo id -> version; a photo it does not
    name is not checked), or, for an undo or a redo, when its ``values`` are not the ones
    ``expect`` holds for it (``expect.values``: photo id -> values). Then count the change of
    each (locked, so counted here: the new versions can be read without asking the database
    again). Nothing is written before all are checked."""
    photos = list(photos)
    for p in photos:
        if seen is not None and p.id in seen and p.version != seen[p.id]:
            raise conflict(photo_named(s, p.id), p.version)
        if expect is not None and p.id in expect.values and values(p) != expect.values[p.id]:
            raise conflict(photo_named(s, p.id), p.version)
    for p in photos:
        p.version += 1


def bump(photo: Photo) -> None:
    """Count one more change of ``photo``, an object of this session that was not locked (a
    photo a move re-expresses or judges again): an increment made by the database
    (``version + 1``) when the session flushes, so that the bumps of two transactions both
    count. Read its columns (``row_dict``) before: until the flush, ``version`` holds the
    expression."""
    photo.version = Photo.version + 1


def is_duplicate(exc: IntegrityError) -> bool:
    """Whether ``exc`` is a unique key refusing a row (two editors made the same new row at
    once), told by PostgreSQL's SQLSTATE or SQLite's extended result code."""
    orig: Any = exc.orig
    return (
        getattr(orig, "sqlstate", None) == _PG_UNIQUE
        or getattr(orig, "sqlite_errorcode", None) in _SQLITE_UNIQUE
    )
