"""Rows of the database as the queries give them out: a row by id (or a sentence saying there
is none), a photo's row, a treatment record's fields."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tracker.core.db.models import Photo, TreatmentRecord
from tracker.core.domain.treatment import TREATMENT_FIELDS
from tracker.core.errors import NotFoundError
from tracker.core.imaging.facts import CaptureTime
from tracker.core.queries.rows import PhotoRow

T = TypeVar("T")


def get(s: Session, model: type[T], ident: int, what: str) -> T:
    """The row ``ident`` of ``model``, or NotFoundError naming ``what`` it is."""
    obj = s.get(model, ident)
    if obj is None:
        raise NotFoundError(f"There is no {what} with id {ident} in the library.")
    return obj


def photo_row(p: Photo) -> PhotoRow:
    return PhotoRow(
        id=p.id,
        sha256=p.sha256,
        view=p.view,
        area_id=p.area_id,
        taken_at=CaptureTime(p.taken_at, p.utc_offset_min).isoformat(),
        date_source=p.date_source,
        width=p.width,
        height=p.height,
        original_name=p.original_name,
        format=p.format,
        warnings=capture_warnings(p.quality),
        px_per_mm=p.px_per_mm,
        version=p.version,
    )


def capture_warnings(quality: dict[str, Any] | None) -> tuple[str, ...]:
    """The messages of the capture checks in ``photo.quality`` that warned, in order."""
    checks = quality.get("checks", []) if isinstance(quality, dict) else []
    return tuple(
        str(c.get("message", "")) for c in checks if isinstance(c, dict) and c.get("warned")
    )


def record_fields(record: TreatmentRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in TREATMENT_FIELDS}
