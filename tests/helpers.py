"""Name-based shortcuts for tests: what the command line does with names, through the same
adapter (``tracker.cli.resolve``) and the same services, in one call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tracker.cli import resolve
from tracker.core.care.check import CheckReport, check_library
from tracker.core.db.models import RaterRole, RatingMethod, VisitKind
from tracker.core.domain.consent import Purpose
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.queries import listing
from tracker.core.services import consent, ratings, visits
from tracker.core.services import imports as imports_service
from tracker.core.services.import_report import ImportReport
from tracker.core.store.library import Library


def import_files(
    lib: Library,
    files: Sequence[Path],
    *,
    area: str,
    client: str | None = None,
    **options: Any,
) -> ImportReport:
    """``tracker import FILE... --area AREA [--client CLIENT]``."""
    who = resolve.import_client(lib, client)
    return imports_service.import_files(lib, files, resolve.import_area(lib, who, area), **options)


def add_visit(
    lib: Library,
    *,
    day: dt.date,
    client: str | None = None,
    kind: VisitKind | None = None,
    notes: str | None = None,
    area: str | None = None,
    treatment: TreatmentInput | None = None,
) -> visits.RecordedVisit:
    """``tracker visit add --date DAY [--area AREA --device …]``."""
    client_id = resolve.client(lib, client)
    area_id = resolve.area(lib, client_id, area) if area is not None else None
    return visits.record_visit(
        lib,
        client_id,
        day,
        kind=kind,
        notes=notes,
        area_id=area_id,
        treatment=treatment.given() if treatment is not None else None,
    )


def rate(
    lib: Library,
    *,
    area: str,
    day: dt.date,
    role: RaterRole,
    values: Mapping[str, float],
    client: str | None = None,
    scale: str | None = None,
    rater_name: str = "",
    method: RatingMethod = RatingMethod.IN_PERSON,
) -> ratings.RatingChange:
    """``tracker rate --area AREA --date DAY --rater ROLE ITEM=VALUE…``."""
    client_id = resolve.client(lib, client)
    return ratings.rate(
        lib,
        resolve.visit(lib, client_id, day),
        resolve.area(lib, client_id, area),
        role,
        dict(values),
        scale=scale,
        rater_name=rater_name,
        method=method,
    )


def list_photos(
    lib: Library, client: str | None = None, area: str | None = None
) -> list[dict[str, Any]]:
    """``tracker list photos [--client C] [--area A] --json``."""
    client_id = resolve.client(lib, client) if client is not None or area is not None else None
    area_id = resolve.area(lib, client_id, area) if area is not None and client_id else None
    return listing.photos(lib, client_id, area_id)


def list_visits(lib: Library, client: str | None = None) -> list[dict[str, Any]]:
    return listing.visits(lib, resolve.optional_client(lib, client))


def only_client(lib: Library) -> int:
    return resolve.client(lib, None)


def consent_to_care(lib: Library, client: str | None = None) -> None:
    """``tracker consent add care [--client C]``: what exports without --purpose ask for."""
    consent.add(lib, resolve.client(lib, client), Purpose.CARE, identifiable=True)


def check(lib: Library, **options: Any) -> CheckReport:
    return check_library(lib, **options)
