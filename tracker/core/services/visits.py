"""Visits and the treatment records of their areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    Rating,
    RatingItem,
    TreatmentRecord,
    Visit,
    VisitKind,
    row_dict,
)
from tracker.core.domain import rules
from tracker.core.domain.treatment import TREATMENT_FIELDS, check_treatment
from tracker.core.errors import NotFoundError, StaleEdit, UsageError, ValidationError
from tracker.core.queries.browse import get, has_baseline, record_fields
from tracker.core.services import versions
from tracker.core.store.library import Library
from tracker.core.text import written_date

VISIT_FIELDS = ("date", "kind", "notes")


class Named(Protocol):
    """A client as a visit's making needs it: a ``Client``, or its id and name read by column
    (the front desk may read no more of a client's row)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


def _refuse_taken_date(
    s: Session, client: Named, day: dt.date, other_than: int | None = None
) -> None:
    q = select(Visit.id).where(Visit.client_id == client.id, Visit.date == day)
    if other_than is not None:
        q = q.where(Visit.id != other_than)
    if s.scalar(q) is not None:
        raise ValidationError(
            f"{client.name} already has a visit on {day.isoformat()}; choose another date or open that visit."
        )


def create_visit(
    s: Session,
    client: Named,
    day: dt.date,
    kind: VisitKind | None = None,
    notes: str = "",
    *,
    ident: int | None = None,
) -> Visit:
    """Within a session: a new visit, of the kind ``rules.new_visit_kind`` decides."""
    rules.check_visit_date(day)
    _refuse_taken_date(s, client, day)
    visit = Visit(
        client_id=client.id,
        date=day,
        kind=rules.new_visit_kind(kind, has_baseline=has_baseline(s, client.id)),
        notes=notes,
    )
    if ident is not None:
        visit.id = ident
    s.add(visit)
    s.flush()
    return visit


def add_visit(
    lib: Library,
    client_id: int,
    day: dt.date,
    kind: VisitKind | None = None,
    notes: str = "",
    *,
    visit_id: int | None = None,
) -> int:
    """A new visit on a day the client has none; refused when there is one already."""
    with lib.session() as s:
        client = get(s, Client, client_id, "client")
        return create_visit(s, client, day, kind, notes, ident=visit_id).id


@dataclass(frozen=True)
class RecordedVisit:
    """What ``record_visit`` did: the visit, whether it was new, and its treatment record."""

    visit_id: int
    kind: VisitKind
    created: bool
    treatment_record_id: int | None


def record_visit(
    lib: Library,
    client_id: int,
    day: dt.date,
    *,
    kind: VisitKind | None = None,
    notes: str | None = None,
    area_id: int | None = None,
    treatment: Mapping[str, Any] | None = None,
) -> RecordedVisit:
    """The visit on ``day``, made if there is none (``tracker visit add``): its kind and notes
    are changed when given, and the area's treatment record merged with ``treatment`` (the
    rule of ``set_treatment``), all in one transaction.

    Rows are read by column, as the front desk's rights allow it (the client's id and name,
    the area's, the visit's id and kind), so that the front desk books visits here; what it
    may not change (notes, treatment records) the server refuses with its sentence."""
    fields = check_treatment(treatment or {})
    if fields and area_id is None:
        raise UsageError("Treatment details belong to an area; say which one with --area NAME.")
    with lib.session() as s:
        client = s.execute(select(Client.id, Client.name).where(Client.id == client_id)).first()
        if client is None:
            raise NotFoundError(f"There is no client with id {client_id} in the library.")
        if area_id is not None:
            area = s.execute(select(Area.client_id, Area.name).where(Area.id == area_id)).first()
            if area is None:
                raise NotFoundError(f"There is no area with id {area_id} in the library.")
            if area.client_id != client_id:
                raise UsageError(f"The area '{area.name}' is not an area of {client.name}.")
        found = s.execute(
            select(Visit.id, Visit.kind).where(Visit.client_id == client_id, Visit.date == day)
        ).first()
        created = found is None
        if found is None:
            made = create_visit(s, client, day, kind, notes or "")
            visit_id, visit_kind = made.id, made.kind
        else:
            visit_id, visit_kind = found.id, found.kind
            changes: dict[str, Any] = {}
            if kind is not None:
                changes["kind"] = visit_kind = kind
            if notes is not None:
                changes["notes"] = notes
            if changes:
                versions.claim(s, Visit, Visit.id == visit_id, None)
                s.execute(
                    update(Visit)
                    .where(Visit.id == visit_id)
                    .values(**changes)
                    .execution_options(synchronize_session=False)
                )
        record_id = None
        if area_id is not None and fields:
            assert area is not None
            named = f"the treatment record of {area.name} at the visit on {written_date(day)}"
            where = _record_of(visit_id, area_id)
            claimed = versions.claim(s, TreatmentRecord, where, None)
            before = s.scalar(select(TreatmentRecord).where(where))
            # No version seen: a record made since the claim has its change counted.
            versions.made_meanwhile(s, TreatmentRecord, where, None, claimed, before, lambda: named)
            try:
                record = _merge_treatment(s, visit_id, area_id, fields, before)
            except IntegrityError as exc:  # another editor made the record at the same moment
                if not versions.is_duplicate(exc):
                    raise
                # Nothing was shown (the command line): no "fresh values are shown" here.
                raise StaleEdit(
                    f"Another workstation made {named} at the same moment, so nothing of this "
                    "was stored; run the command again to change what it stored.",
                    named,
                    1,
                ) from exc
            record_id = record.id if record is not None else None
        s.flush()
        return RecordedVisit(visit_id, visit_kind, created, record_id)


def update_visit(
    lib: Library,
    visit_id: int,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Change a visit's date, kind or notes; returns the old values. ``seen``: the visit's
    version its editor saw (``services.versions``; None: no check). ``expect``: refused
    unless the fields changed hold the values an undo or a redo expects."""
    unknown = set(fields) - set(VISIT_FIELDS)
    if unknown:
        raise UsageError(f"A visit has no field {sorted(unknown)[0]!r}.")
    with lib.session() as s:
        named = _visit_named(s, visit_id)  # before the claim: a refused one reads no more
        versions.check(s, Visit, Visit.id == visit_id, seen, lambda: named)
        visit = get(s, Visit, visit_id, "visit")
        if expect is not None and {k: getattr(visit, k) for k in fields} != expect.values:
            raise versions.conflict(named, visit.version - 1)
        if "date" in fields:
            rules.check_visit_date(fields["date"])
            _refuse_taken_date(s, visit.client, fields["date"], other_than=visit_id)
        if "kind" in fields:
            fields["kind"] = VisitKind(fields["kind"])
        old = {k: getattr(visit, k) for k in fields}
        for k, v in fields.items():
            setattr(visit, k, v)
        return old


def _visit_named(s: Session, visit_id: int) -> str:
    visit = s.get(Visit, visit_id)
    return f"the visit on {written_date(visit.date)}" if visit is not None else "the visit"


@dataclass(frozen=True)
class VisitSnapshot:
    """A removed visit with its treatment records and ratings, enough to put it back."""

    visit: dict[str, Any]
    records: tuple[dict[str, Any], ...]
    ratings: tuple[tuple[dict[str, Any], tuple[dict[str, Any], ...]], ...]


def snapshot_and_delete_visit(s: Session, visit: Visit) -> VisitSnapshot:
    """Within a session: remove a visit that holds no photos, returning what puts it back."""
    n = s.scalar(select(func.count(Photo.id)).where(Photo.visit_id == visit.id))
    if n:
        raise UsageError(
            f"The visit on {visit.date.isoformat()} holds {n} photo{'s' if n != 1 else ''}; "
            "remove or move them first."
        )
    records = tuple(
        row_dict(r)
        for r in s.scalars(select(TreatmentRecord).where(TreatmentRecord.visit_id == visit.id))
    )
    ratings = tuple(
        (row_dict(r), tuple(row_dict(i) for i in r.items))
        for r in s.scalars(select(Rating).where(Rating.visit_id == visit.id))
    )
    snapshot = VisitSnapshot(row_dict(visit), records, ratings)
    s.delete(visit)
    s.flush()
    return snapshot


def restore_visit_rows(s: Session, snapshot: VisitSnapshot) -> int:
    s.execute(insert(Visit).values(**snapshot.visit))
    for record in snapshot.records:
        s.execute(insert(TreatmentRecord).values(**record))
    for rating, items in snapshot.ratings:
        s.execute(insert(Rating).values(**rating))
        for item in items:
            s.execute(insert(RatingItem).values(**item))
    return int(snapshot.visit["id"])


def remove_visit(lib: Library, visit_id: int) -> VisitSnapshot:
    """Remove a visit that holds no photos; the snapshot lets an undo restore it exactly."""
    with lib.session() as s:
        return snapshot_and_delete_visit(s, get(s, Visit, visit_id, "visit"))


def restore_visit(lib: Library, snapshot: VisitSnapshot) -> int:
    with lib.session() as s:
        return restore_visit_rows(s, snapshot)


# -- treatment records ----------------------------------------------------------------------


def _record_of(visit_id: int, area_id: int) -> ColumnElement[bool]:
    return and_(TreatmentRecord.visit_id == visit_id, TreatmentRecord.area_id == area_id)


def _merge_treatment(
    s: Session,
    visit_id: int,
    area_id: int,
    fields: Mapping[str, Any],
    record: TreatmentRecord | None,
) -> TreatmentRecord | None:
    """Apply ``rules.merge`` to ``record``, the record of an area at a visit as read after
    its version was claimed (None: there was none, and a new one is inserted, which another
    editor's record made meanwhile refuses as a duplicate: it is never read again here, as a
    record read now could be one made after the claim and so changed without a version
    counted); None when nothing is left."""
    old = (
        {k: v for k, v in record_fields(record).items() if v is not None}
        if record is not None
        else {}
    )
    merged = rules.merge(old, fields)
    if not merged:
        if record is not None:
            s.delete(record)
        return None
    if record is None:
        record = TreatmentRecord(visit_id=visit_id, area_id=area_id)
        s.add(record)
    for key in TREATMENT_FIELDS:
        setattr(record, key, merged.get(key))
    s.flush()
    return record


@dataclass(frozen=True)
class TreatmentEdit:
    """What ``edit_treatment`` did: the whole record as it was (None if there was none), and
    the record's version after the edit (0: there is no record now)."""

    old: dict[str, Any] | None
    version: int
    new: dict[str, Any] | None = None  # the whole record after (None: there is none)


def edit_treatment(
    lib: Library,
    visit_id: int,
    area_id: int,
    fields: Mapping[str, Any],
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> TreatmentEdit:
    """Edit the treatment record of an area at a visit by ``rules.merge``: each field given is
    set, a field given as None is cleared, the others stay; a record left empty is removed.

    ``seen`` is the record's version its editor saw (0: it saw none); the edit is refused with
    ``StaleEdit``, nothing changed, when someone else changed the record since. None: no check.
    ``expect``: refused too unless the whole record is what an undo or a redo expects.
    """
    checked = check_treatment(fields)
    with lib.session() as s:
        visit = get(s, Visit, visit_id, "visit")
        area = get(s, Area, area_id, "area")

        # Named now: after a failed flush the session reads nothing more.
        named = f"the treatment record of {area.name} at the visit on {written_date(visit.date)}"
        where = _record_of(visit_id, area_id)
        claimed = versions.check(s, TreatmentRecord, where, seen, lambda: named)
        before = s.scalar(select(TreatmentRecord).where(where))
        versions.made_meanwhile(s, TreatmentRecord, where, seen, claimed, before, lambda: named)
        old = record_fields(before) if before is not None else None
        if expect is not None and old != expect.values:
            raise versions.conflict(named, before.version - 1 if before is not None else 0)
        try:
            record = _merge_treatment(s, visit_id, area_id, checked, before)
        except IntegrityError as exc:  # another editor made the record at the same moment
            if not versions.is_duplicate(exc):
                raise
            raise versions.conflict(named, 1) from exc
        if record is None:
            return TreatmentEdit(old, 0)
        return TreatmentEdit(old, record.version, record_fields(record))


def set_treatment(
    lib: Library,
    visit_id: int,
    area_id: int,
    fields: Mapping[str, Any],
    *,
    seen: int | None = None,
) -> dict[str, Any] | None:
    """``edit_treatment``, returning the whole record as it was (None if there was none)."""
    return edit_treatment(lib, visit_id, area_id, fields, seen=seen).old


def put_treatment(
    lib: Library,
    visit_id: int,
    area_id: int,
    record: Mapping[str, Any] | None,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> int:
    """Make the record exactly ``record`` (None removes it): the undo of ``set_treatment``,
    refused as it is when the record is not at version ``seen`` or not what ``expect`` says.
    Its version after."""
    given = dict(record or {})
    fields = {key: given.get(key) for key in TREATMENT_FIELDS}
    return edit_treatment(lib, visit_id, area_id, fields, seen=seen, expect=expect).version
