"""The photo that capture checks are judged against, for the import (``services.import_reading``)
and for a move (``services.move``). A query of its own so that a move loads no decoder."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Photo, ReferencePhoto, Visit


def reference_of(s: Session, area_id: int, view: str) -> Photo | None:
    """The photo later photos of an area and view are judged against: its reference photo,
    else the earliest one with capture checks (the first imported of the view)."""
    ref = s.get(ReferencePhoto, (area_id, view))
    if ref is not None:
        photo = s.get(Photo, ref.photo_id)
        if photo is not None and photo.quality is not None:
            return photo
    return s.scalar(
        select(Photo)
        .join(Visit, Photo.visit_id == Visit.id)
        .where(
            Photo.area_id == area_id,
            Photo.view == view,
            Photo.deleted_at.is_(None),
            Photo.quality.is_not(None),
        )
        .order_by(Visit.date, Photo.taken_at, Photo.id)
        .limit(1)
    )
