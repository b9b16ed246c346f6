"""Taking an import back and redoing it: the window's "Undo import of 12 photos".

Undo leaves the library as it was before the import: the photos it added are gone from their
visits and from ``tracker list``, the visits (and the area or client) it made are removed,
and the removed photos it brought back are removed again. The originals it added are held in
``tmp/undone/`` until the redo puts them back or the library is closed (see
``tracker.core.store.photos`` for why a crash at any step leaves each photo whole or gone).
Nothing else is touched, so a later change to what the import made must be undone first;
the undo stack's order guarantees that, and anything else is refused with a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    Rating,
    ReferencePhoto,
    TreatmentRecord,
    Visit,
    row_dict,
    utc_now,
)
from tracker.core.errors import UsageError
from tracker.core.services.import_report import ImportReport
from tracker.core.store.library import Library


@dataclass(frozen=True)
class ImportUndo:
    """What one import added, by id: enough to take it back."""

    photo_ids: tuple[int, ...]
    brought_back: tuple[int, ...]
    visit_ids: tuple[int, ...]
    area_id: int | None  # when the import made the area
    client_id: int | None  # when the import made the client

    @classmethod
    def of(cls, report: ImportReport) -> ImportUndo:
        return cls(
            photo_ids=tuple(i.photo_id for i in report.imported),
            brought_back=tuple(report.brought_back),
            visit_ids=tuple(report.created_visits),
            area_id=report.area_id if report.created_area else None,
            client_id=report.client_id if report.created_client else None,
        )

    @property
    def empty(self) -> bool:
        return not (self.photo_ids or self.brought_back)


@dataclass(frozen=True)
class ImportRows:
    """The rows an undone import removed, to put back on redo."""

    client: dict[str, object] | None
    area: dict[str, object] | None
    visits: tuple[dict[str, object], ...]
    photos: tuple[dict[str, object], ...]


def _refuse_if_used(s: Session, undo: ImportUndo) -> None:
    """Refuse when anything but this import's photos now hangs on what the import made."""
    mine = set(undo.photo_ids)
    if undo.visit_ids:
        others = s.scalar(
            select(func.count(Photo.id)).where(
                Photo.visit_id.in_(undo.visit_ids), Photo.id.not_in(mine)
            )
        )
        records = s.scalar(
            select(func.count(TreatmentRecord.id)).where(
                TreatmentRecord.visit_id.in_(undo.visit_ids)
            )
        )
        ratings = s.scalar(select(func.count(Rating.id)).where(Rating.visit_id.in_(undo.visit_ids)))
        if others or records or ratings:
            raise UsageError(
                "The import cannot be undone: a visit it made now holds other photos, a "
                "treatment record or ratings."
            )
    refs = s.scalar(
        select(func.count()).select_from(ReferencePhoto).where(ReferencePhoto.photo_id.in_(mine))
    )
    aligned = s.scalar(
        select(func.count(Photo.id)).where(Photo.id.in_(mine), Photo.alignment.is_not(None))
    )
    if refs or aligned:
        raise UsageError(
            "The import cannot be undone: its photos have been aligned since; undo that first."
        )


def unimport(lib: Library, undo: ImportUndo) -> ImportRows:
    """Take an import back (see the module docstring); returns what ``reimport`` puts back."""
    lib.require_writable()
    held: list[tuple[str, str]] = []
    try:
        with lib.session() as s:
            _refuse_if_used(s, undo)
            photos = list(s.scalars(select(Photo).where(Photo.id.in_(undo.photo_ids))))
            visits = list(s.scalars(select(Visit).where(Visit.id.in_(undo.visit_ids))))
            area = s.get(Area, undo.area_id) if undo.area_id is not None else None
            client = s.get(Client, undo.client_id) if undo.client_id is not None else None
            rows = ImportRows(
                client=row_dict(client) if client is not None else None,
                area=row_dict(area) if area is not None else None,
                visits=tuple(row_dict(v) for v in visits),
                photos=tuple(row_dict(p) for p in photos),
            )
            # Files first, rows second: until the rows are gone, a crash puts the files back.
            for p in photos:
                if lib.store.has_original(p.sha256, p.ext):
                    lib.store.hold_original(p.sha256, p.ext)
                    held.append((p.sha256, p.ext))
            for p in photos:
                s.delete(p)
            s.flush()
            for v in visits:
                s.delete(v)
            s.flush()
            if area is not None:
                s.delete(area)
            if client is not None:
                s.delete(client)
            if undo.brought_back:
                s.execute(
                    update(Photo)
                    .where(Photo.id.in_(undo.brought_back))
                    .values(deleted_at=utc_now())
                )
    except BaseException:
        for sha, ext in held:  # the rows are still there: so must the files be
            lib.store.release_held(sha, ext)
        raise
    for sha, _ext in held:
        lib.store.drop_cache(sha)  # no picture of an undone photo is left behind
    return rows


def reimport(lib: Library, undo: ImportUndo, rows: ImportRows) -> None:
    """Put back what ``unimport`` took away, under the same ids."""
    lib.require_writable()
    missing = [
        str(p["sha256"])
        for p in rows.photos
        if not lib.store.has_held(str(p["sha256"]), str(p["ext"]))
    ]
    if missing:
        raise UsageError(
            "The import cannot be redone: the files it held for the redo are gone "
            "(the library was closed or checked since); import the photos again instead."
        )
    with lib.session() as s:
        if rows.client is not None:
            s.execute(insert(Client).values(**rows.client))
        if rows.area is not None:
            s.execute(insert(Area).values(**rows.area))
        _insert_all(s, Visit, rows.visits)
        _insert_all(s, Photo, rows.photos)
        if undo.brought_back:
            s.execute(update(Photo).where(Photo.id.in_(undo.brought_back)).values(deleted_at=None))
    # Rows first, files second: until the files are back, a crash moves them back on open.
    for p in rows.photos:
        lib.store.release_held(str(p["sha256"]), str(p["ext"]))


def _insert_all(s: Session, model: type, rows: Sequence[dict[str, object]]) -> None:
    for row in rows:
        s.execute(insert(model).values(**row))
