"""Read models: what the window, the exports and the command line are shown, as frozen rows.

They are plain data, made inside a session and safe to hand to any thread: no row holds a
database object or a session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tracker.core.db.models import DateSource, RaterRole, RatingMethod, Stage, VisitKind
from tracker.core.imaging.geometry import Alignment, Gains


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    areas: int
    visits: int
    last_visit: dt.date | None
    date_of_birth: dt.date | None = None


@dataclass(frozen=True)
class ClientFields:
    name: str
    date_of_birth: dt.date | None
    fitzpatrick: int | None
    notes: str
    version: int = 1  # read with the fields: what an edit of them names (issue 21)


@dataclass(frozen=True)
class AreaRow:
    id: int
    name: str
    body_site: str
    stage: Stage
    default_scale: str
    photos: int
    version: int = 1  # the area's, what an edit of it names as seen (``services.versions``)


@dataclass(frozen=True)
class AreaFields:
    """What the area dialog edits, read with the area's version (issue 21)."""

    name: str
    body_site: str
    stage: Stage
    default_scale: str
    version: int


@dataclass(frozen=True)
class PhotoRow:
    id: int
    sha256: str
    view: str
    area_id: int
    taken_at: str
    date_source: DateSource
    width: int
    height: int
    original_name: str
    format: str
    # The sentences of its capture checks that warned at import (what to do, not naming the
    # file), and the pixels per millimetre its calibration card gave (None without one).
    warnings: tuple[str, ...] = ()
    px_per_mm: float | None = None
    version: int = 1  # what a move or a new label of it names (issue 21)


@dataclass(frozen=True)
class VisitRow:
    id: int
    date: dt.date
    kind: VisitKind
    notes: str
    days_since_baseline: int | None  # since the area's baseline, when the timeline is of one
    photos: tuple[PhotoRow, ...]
    # A line per rating of the area shown, on any scale, naming each number, e.g.
    # "Dr Lee (practitioner) · POSAS observer: total 32 (6–60), overall 6".
    ratings: tuple[str, ...]
    # Whether the visit counts as a treatment session of the area shown (see rules.is_session);
    # False when the timeline is of no one area.
    is_session: bool = False


@dataclass(frozen=True)
class RatingRow:
    """One rater's rating of an area at a visit on one scale. (visit, area, role, rater name,
    scale) is what identifies it: editing it again changes it, another name is another rating."""

    id: int
    role: RaterRole
    rater_name: str  # as stored; "" when none was given
    rater: str  # as people read it (``Rater.label``): the name, or the client for the patient
    scale_key: str
    method: RatingMethod
    values: dict[str, float]
    summary: str  # one line naming each number (``instruments.describe``)
    version: int = 1  # what an edit of it names as seen (``services.versions``)


@dataclass
class PreviousTreatment:
    """The area's last treatment record before a visit that says how it was treated
    (``domain.treatment.REPEATED_FIELDS``), for a new session to start from."""

    visit_id: int
    date: dt.date
    fields: dict[str, Any]  # only the repeated fields that were given


@dataclass
class AreaAtVisit:
    area: AreaRow
    treatment: dict[str, Any] | None
    photos: list[PhotoRow]
    # Every rating of the area at the visit, on any scale and by any rater, in
    # ``queries.ratings.order_key`` order.
    ratings: tuple[RatingRow, ...] = ()
    days_since_baseline: int | None = None  # since the area's baseline (``queries.course``)
    session: int | None = None  # the visit's number among the area's sessions, if it is one
    previous: PreviousTreatment | None = None  # the record before this visit, to start from
    # The treatment record's version, what an edit of it names as seen (0: there is none).
    treatment_version: int = 0


@dataclass
class VisitDetail:
    id: int
    client_id: int
    client: str
    date: dt.date
    kind: VisitKind
    notes: str
    days_since_baseline: int | None  # since the client's first baseline; areas have their own
    areas: list[AreaAtVisit]
    version: int = 1  # the visit's, what an edit of it names as seen (``services.versions``)


@dataclass(frozen=True)
class ComparePhoto:
    """A photo as the compare view and its exports show it."""

    id: int
    sha256: str
    width: int
    height: int
    view: str
    area_id: int
    area: str
    client: str
    visit_date: dt.date
    visit_kind: VisitKind
    visit_number: int  # 1 for the client's first visit
    days_since_baseline: int | None
    alignment: Alignment | None  # this photo's upright pixels → its reference photo's
    colour_gains: Gains | None
    px_per_mm: float | None  # at the calibration card, when one was found in the photo
    is_reference: bool
    ratings: tuple[str, ...]  # a line per rating, e.g. ("Patient 6 · 5 · 5", …), may be empty
    version: int = 1  # what an alignment or a colour balance of it names (issue 21)

    def label(self) -> str:
        kind = self.visit_kind.value.replace("-", " ")
        day = (
            ""
            if self.days_since_baseline is None
            or (self.days_since_baseline == 0 and kind == "baseline")
            else "baseline day"
            if self.days_since_baseline == 0
            else f"day {self.days_since_baseline}"
        )
        parts = [
            f"{self.visit_date:%d %b %Y}",
            f"visit {self.visit_number} ({kind})",
            day,
            self.view,
        ]
        return " · ".join(p for p in parts if p)
