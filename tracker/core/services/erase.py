"""Erasing for good: a photo, a visit, an area or a whole client, with everything that hangs
on it. This is what an erasure request (GDPR art. 17) needs, apart from the backups made
before, which ``plan`` lists so that the person can deal with them.

After an erase, nothing of what went is left in the library folder: the rows are deleted
with SQLite's ``secure_delete`` on (the freed pages are zeroed, see ``db.engine``) and the
write-ahead log is checkpointed and truncated; the originals, thumbnails and previews are
removed. The originals are first moved aside (``store.photos.hold_original``), so a crash
before the rows are gone puts them back, and one after leaves them to be removed when the
library next opens. It cannot be undone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from tracker.core.db import snapshots
from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    Rating,
    TreatmentRecord,
    Visit,
)
from tracker.core.domain.consent import Action
from tracker.core.queries.browse import get
from tracker.core.services import audit, consent_forms
from tracker.core.services.move import leave_group
from tracker.core.store.library import Library

log = logging.getLogger(__name__)


class Target(enum.Enum):
    PHOTO = "photo"
    VISIT = "visit"
    AREA = "area"
    CLIENT = "client"


@dataclass(frozen=True)
class ErasePlan:
    """Exactly what an erase takes away, for the confirmation to name, and the copies of the
    library made before it that still hold it."""

    target: Target
    ident: int
    what: str  # "the photo IMG_1.jpg of Belly on 3 Aug 2026", "the client Ana Lima"
    clients: int
    areas: int
    visits: int
    photos: int
    ratings: int
    records: int
    snapshots: tuple[Path, ...] = ()  # database copies in backups/ (they hold the rows)
    archives: tuple[Path, ...] = ()  # backup archives this library wrote that still exist
    photo_ids: tuple[int, ...] = field(default=(), repr=False)
    notes: tuple[str, ...] = ()  # after the erase: what became of the marks' regions, in words

    def summary(self) -> str:
        """What goes, in words: "12 photos, 3 visits, 9 ratings and 2 treatment records"."""
        parts = [
            (self.areas, "area"),
            (self.visits, "visit"),
            (self.photos, "photo"),
            (self.ratings, "rating"),
            (self.records, "treatment record"),
        ]
        named = [f"{n} {noun}{'s' if n != 1 else ''}" for n, noun in parts if n]
        if not named:
            return "nothing else"
        return ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]

    def backups_note(self) -> str:
        """A sentence on the copies made before that still hold it (empty when there are none)."""
        held = []
        if self.snapshots:
            held.append(
                f"{len(self.snapshots)} database cop{'ies' if len(self.snapshots) != 1 else 'y'}"
                " in the library's backups/ folder (they hold its records, not its photos)"
            )
        if self.archives:
            held.append(
                "the backup archive"
                + ("s " if len(self.archives) != 1 else " ")
                + ", ".join(str(a) for a in self.archives)
            )
        if not held:
            return ""
        return (
            "Copies made before still hold it: "
            + "; ".join(held)
            + ". Delete them, or make new ones after this, if it must be gone from them too."
        )


def plan(lib: Library, target: Target, ident: int) -> ErasePlan:
    """What erasing ``target`` ``ident`` would take away; nothing is changed."""
    with lib.session() as s:
        photo_q, visit_q, area_q, client_q, what = _scope(s, target, ident)
        photo_ids = tuple(s.scalars(photo_q))
        visit_ids = set(s.scalars(visit_q))
        area_ids = set(s.scalars(area_q))
        client_ids = set(s.scalars(client_q))
        ratings = _count(s, Rating, visit_ids, area_ids, target)
        records = _count(s, TreatmentRecord, visit_ids, area_ids, target)
        # The earliest any of it was in the library: a copy last written before then holds
        # none of it.
        firsts = [
            s.scalar(select(func.min(Photo.imported_at)).where(Photo.id.in_(photo_ids))),
            s.scalar(select(func.min(Visit.created_at)).where(Visit.id.in_(visit_ids))),
            s.scalar(select(func.min(Area.created_at)).where(Area.id.in_(area_ids))),
            s.scalar(select(func.min(Client.created_at)).where(Client.id.in_(client_ids))),
        ]
        since = min((f for f in firsts if f is not None), default=None)
    return ErasePlan(
        target=target,
        ident=ident,
        what=what,
        clients=len(client_ids),
        areas=len(area_ids),
        visits=len(visit_ids),
        photos=len(photo_ids),
        ratings=ratings,
        records=records,
        snapshots=tuple(
            p
            for p in (snapshots.snapshots(lib.root / "backups") if lib.server is None else [])
            if since is None or snapshots.made_at(p) >= since
        ),
        archives=tuple(_archives_since(lib, since)),
        photo_ids=photo_ids,
    )


Ids = Select[int]


def _scope(s: Session, target: Target, ident: int) -> tuple[Ids, Ids, Ids, Ids, str]:
    """Queries for the ids of the photos, visits, areas and clients an erase takes away, and
    what it is in words."""
    none = select(Photo.id).where(Photo.id == -1)
    if target is Target.PHOTO:
        p = get(s, Photo, ident, "photo")
        what = f"the photo {p.original_name} of {p.area.name} on {p.visit.date:%d %b %Y}"
        return (
            select(Photo.id).where(Photo.id == ident),
            none,
            none,
            none,
            what,
        )
    if target is Target.VISIT:
        v = get(s, Visit, ident, "visit")
        return (
            select(Photo.id).where(Photo.visit_id == ident),
            select(Visit.id).where(Visit.id == ident),
            none,
            none,
            f"the visit of {v.client.name} on {v.date:%d %B %Y}",
        )
    if target is Target.AREA:
        a = get(s, Area, ident, "area")
        return (
            select(Photo.id).where(Photo.area_id == ident),
            none,
            select(Area.id).where(Area.id == ident),
            none,
            f"the area {a.name} of {a.client.name}",
        )
    c = get(s, Client, ident, "client")
    return (
        select(Photo.id).join(Area, Photo.area_id == Area.id).where(Area.client_id == ident),
        select(Visit.id).where(Visit.client_id == ident),
        select(Area.id).where(Area.client_id == ident),
        select(Client.id).where(Client.id == ident),
        f"the client {c.name}",
    )


def _count(
    s: Session,
    model: type[Rating] | type[TreatmentRecord],
    visits: set[int],
    areas: set[int],
    target: Target,
) -> int:
    if target is Target.PHOTO:
        return 0
    q = select(func.count(model.id)).where(model.visit_id.in_(visits) | model.area_id.in_(areas))
    return s.scalar(q) or 0


def _archives_since(lib: Library, since: dt.datetime | None) -> list[Path]:
    """Backup archives this library wrote (``care.backups`` records them) that still exist
    and were made after ``since`` (when the first of what is erased came into the library)."""
    if lib.server is not None:  # a server's backups are the server's, not recorded here
        return []
    from_log = snapshots.archive_log(lib.root / "backups")
    return [path for path, made in from_log if path.exists() and (since is None or made >= since)]


def erase(lib: Library, target: Target, ident: int) -> ErasePlan:
    """Erase ``target`` ``ident`` and everything hanging on it, for good (see the module
    docstring). Returns what went, with a sentence (``notes``) for each view whose marks'
    regions were drawn on a photo that went: carried to the next reference, or kept to be
    drawn again."""
    lib.require_writable()
    done = plan(lib, target, ident)
    held: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    notes: list[str] = []
    try:
        with lib.session() as s:
            photo_q, visit_q, area_q, client_q, _what = _scope(s, target, ident)
            photos = list(s.scalars(select(Photo).where(Photo.id.in_(photo_q))))
            files = [(p.sha256, p.ext) for p in photos]
            if target is Target.CLIENT:  # their consents go with them, and their signed forms
                files += [(f.sha256, f.ext) for f in consent_forms.going_with(s, ident)]
            if target in (Target.PHOTO, Target.VISIT):
                # The rest of each photo's area and view stays: keep their alignment true.
                going = {p.id for p in photos}
                for p in photos:  # the regions drawn on one follow the next reference, or wait
                    if note := leave_group(s, p, (p.area_id, p.view), going, {}):
                        notes.append(note)
            # Files first, rows second: until the rows are gone, a crash puts the files back.
            for sha, ext in files:
                if lib.store.has_original(sha, ext):
                    lib.store.hold_original(sha, ext)
                    held.append((sha, ext))
            visit_ids = list(s.scalars(visit_q))
            area_ids = list(s.scalars(area_q))
            client_ids = list(s.scalars(client_q))
            s.execute(delete(Photo).where(Photo.id.in_(done.photo_ids)))
            # Ratings, treatment records and reference photos go with their visit or area.
            s.execute(delete(Visit).where(Visit.id.in_(visit_ids)))
            s.execute(delete(Area).where(Area.id.in_(area_ids)))
            s.execute(delete(Client).where(Client.id.in_(client_ids)))
            audit.record_in(  # ids and counts only: nothing of what went is kept
                s,
                Action.ERASED,
                client_id=ident if target is Target.CLIENT else None,
                subject=f"{target.value} {ident}",
                detail=done.summary(),
            )
    except BaseException:
        for sha, ext in held:  # the rows are still there: so must the files be
            lib.store.release_held(sha, ext)
        raise
    for sha, ext in held:
        lib.store.discard_held(sha, ext)
    for sha, _ext in files:
        lib.store.drop_cache(sha)
    lib.checkpoint()
    log.info("Erased %s: %s", done.target.value, done.summary())
    return dataclasses.replace(done, notes=tuple(notes))
