"""Moving photos to another visit (or date), area or view, and back (the undo).

A photo's alignment is relative to the reference photo of its area and view, so it follows the
photo only within that group: a photo moved to another area or view loses its alignment (it is
aligned again there, or becomes that group's reference when the group has none). A reference
photo that leaves its group hands the role to the group's earliest aligned photo, and the
others' transforms are re-expressed relative to it, so no alignment the person made is lost.

The marks' regions drawn on a reference photo that leaves go with the role: carried to the
heir through its alignment, or, when no photo staying is aligned, kept but marked to be drawn
again (``regions_follow``); the move's report (``notes``)
says which in a sentence, and the undo puts the regions back as they were.

The capture checks relative to the reference photo follow the same rule (``verdicts``): a
photo that changes group is judged again against its new group's reference (its sharpness
warning from the stored figure; its framing dropped until it is aligned there), and so is each
photo left behind that was judged against it; the checks that are a photo's own (highlights,
shadows, the light on the card) stay as they were measured.

Many writers (issue 21): a move names the versions of the photos its editor saw (``seen``)
and is refused with ``StaleEdit``, before anything is written, when another workstation
changed one of them since; an undo or a redo names where it expects the photos to be
(``versions.Expect`` of ``placed`` values), since this window's own steps moved the versions
on. Every photo a move changes counts the change (``versions.bump``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    Rating,
    ReferencePhoto,
    Region,
    TreatmentRecord,
    Visit,
    row_dict,
)
from tracker.core.errors import EditConflict, NotFoundError, UsageError
from tracker.core.imaging import verdicts
from tracker.core.imaging.geometry import MODELS, check_matrix, compose, invert
from tracker.core.queries.browse import alignment_of, get
from tracker.core.queries.capture import reference_of
from tracker.core.services import versions
from tracker.core.services.photos import MAX_VIEW, update_framing
from tracker.core.services.regions_follow import carry_regions, orphan_regions, regions_note
from tracker.core.services.visits import create_visit
from tracker.core.store.library import Library
from tracker.core.text import check_name


@dataclass(frozen=True)
class MoveUndo:
    """What a move changed, to put back exactly: the photos' rows as they were, the reference
    rows of the groups it touched, and the visit it made."""

    photos: tuple[dict[str, Any], ...]
    references: tuple[dict[str, Any], ...]  # reference rows of the touched groups, before
    groups: tuple[tuple[int, str], ...]  # (area id, view) of every group touched
    aligned: tuple[dict[str, Any], ...]  # other photos re-expressed or judged again, before
    made_visit: int | None
    regions: tuple[dict[str, Any], ...] = ()  # region rows of the touched groups, before
    notes: tuple[str, ...] = ()  # sentences for the person: what became of the regions
    # photo id -> ``placed`` values as the move left them (the moved photos and the others
    # it re-expressed): what the undo expects to find
    left: Mapping[int, dict[str, Any]] = field(default_factory=dict)
    versions: Mapping[int, int] = field(default_factory=dict)  # the moved photos' versions now

    def found(self) -> dict[int, dict[str, Any]]:
        """photo id -> ``placed`` values of the moved photos before the move: what a redo
        expects to find."""
        return {row["id"]: placed(row) for row in self.photos}


def _photos(s: Session, photo_ids: Iterable[int]) -> list[Photo]:
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        raise UsageError("Give the photos to move.")
    # Locked (on a server) until the move commits, in the order of their ids: another
    # workstation's move of the same photos waits, then reads where this one put them. Not
    # locked, each would write only the columns it changes over a row the other changed
    # meanwhile: a photo at one move's visit in the other's area, where neither put it.
    locked = select(Photo).where(Photo.id.in_(ids)).order_by(Photo.id).with_for_update()
    found = {p.id: p for p in s.scalars(locked)}
    for pid in ids:
        if pid not in found:
            raise NotFoundError(f"There is no photo with id {pid} in the library.")
    return [found[pid] for pid in ids]


def move_photos(
    lib: Library,
    photo_ids: Iterable[int],
    *,
    visit_id: int | None = None,
    day: dt.date | None = None,
    area_id: int | None = None,
    view: str | None = None,
    seen: Mapping[int, int] | None = None,
    expect: versions.Expect | None = None,
) -> MoveUndo:
    """Move photos to the visit ``visit_id`` or to the visit on ``day`` (made when the client
    has none that day, of the kind ``rules.new_visit_kind`` gives), and/or to the area
    ``area_id`` (of the same client or another) and the view ``view``; one transaction.
    ``seen``: photo id -> the version its editor saw (None: no check, as the command line
    reads and moves in one go); ``expect``: a redo's ``MoveUndo.found``."""
    if visit_id is not None and day is not None:
        raise UsageError("Give the visit or the date to move the photos to, not both.")
    if visit_id is None and day is None and area_id is None and view is None:
        raise UsageError("Say where to move the photos: a visit, a date, an area or a view.")
    if view is not None:
        view = check_name(view, "view name")
        if len(view) > MAX_VIEW:
            raise UsageError(
                f"The view name is {len(view)} characters long; the most is {MAX_VIEW}."
            )
    with lib.session() as s:
        photos = _photos(s, photo_ids)
        before = tuple(row_dict(p) for p in photos)
        versions.check_photos(s, photos, seen, expect, placed)
        target_area = get(s, Area, area_id, "area") if area_id is not None else None
        target_visit = get(s, Visit, visit_id, "visit") if visit_id is not None else None
        made_visit = None
        groups: set[tuple[int, str]] = set()
        for p in photos:
            groups.add((p.area_id, p.view))
            groups.add((target_area.id if target_area else p.area_id, view or p.view))
        references = tuple(
            row_dict(r)
            for r in s.scalars(
                select(ReferencePhoto).where(ReferencePhoto.area_id.in_({a for a, _ in groups}))
            )
            if (r.area_id, r.view) in groups
        )
        regions = tuple(
            row_dict(r)
            for r in s.scalars(select(Region).where(Region.area_id.in_({a for a, _ in groups})))
            if (r.area_id, r.view) in groups
        )
        moved_ids = {p.id for p in photos}
        realigned: dict[int, dict[str, Any]] = {}
        notes: list[str] = []
        for p in photos:
            area = target_area if target_area is not None else p.area
            client = s.get(Client, area.client_id)
            assert client is not None
            if target_visit is not None:
                visit = target_visit
            elif day is not None:
                found = s.scalar(
                    select(Visit).where(Visit.client_id == client.id, Visit.date == day)
                )
                if found is None:
                    found = create_visit(s, client, day)
                    made_visit = found.id
                visit = found
            else:
                visit = p.visit
                if visit.client_id != client.id:
                    raise UsageError(
                        f"The area '{area.name}' belongs to {client.name}: say which of "
                        f"{client.name}'s visits (or which date) the photos go to."
                    )
            if visit.client_id != client.id:
                raise UsageError(
                    f"The visit on {visit.date.isoformat()} is not one of {client.name}'s; "
                    f"the area '{area.name}' is."
                )
            new_group = (area.id, view or p.view)
            old_group = (p.area_id, p.view)
            if new_group != old_group and (
                note := leave_group(s, p, old_group, moved_ids, realigned)
            ):
                notes.append(note)
            p.visit_id, p.area_id, p.view = visit.id, area.id, view or p.view
            s.flush()
            if new_group != old_group:
                _join_group(s, p, new_group)
        left = {row["id"]: (row["area_id"], row["view"]) for row in before}
        _judge_again(s, [p for p in photos if (p.area_id, p.view) != left[p.id]], left, realigned)
        s.flush()
        changed = [*photos, *(s.get(Photo, pid) for pid in realigned)]
        return MoveUndo(
            photos=before,
            references=references,
            groups=tuple(sorted(groups)),
            aligned=tuple(realigned.values()),
            made_visit=made_visit,
            regions=regions,
            notes=tuple(notes),
            left={p.id: placed(p) for p in changed if p is not None},
            versions={p.id: p.version for p in photos},
        )


def leave_group(
    s: Session,
    photo: Photo,
    group: tuple[int, str],
    moving: set[int],
    realigned: dict[int, dict[str, Any]],
) -> str | None:
    """``photo`` leaves its area and view: its transform no longer means anything, and when it
    was the group's reference, the earliest aligned photo staying behind takes over, with the
    regions drawn on it; with none, the regions are kept to be drawn again. Returns the
    sentence that says what became of the regions (None: there were none on it)."""
    _clear_alignment(photo)
    ref = s.get(ReferencePhoto, group)
    if ref is None or ref.photo_id != photo.id:
        # regions still drawn on it from when it was the reference: what its transform took
        # them to may be gone too (another leaving photo's), so they are drawn again
        return regions_note(s, group, orphan_regions(s, group, photo.id), photo.id, None)
    staying = list(
        s.scalars(
            select(Photo)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(
                Photo.area_id == group[0],
                Photo.view == group[1],
                Photo.id.not_in(moving),
                Photo.alignment.is_not(None),
            )
            .order_by(Visit.date, Photo.id)
        )
    )
    staying = [p for p in staying if p.alignment]
    if not staying:
        s.delete(ref)
        s.flush()
        return regions_note(s, group, orphan_regions(s, group, photo.id), photo.id, None)
    heir = staying[0]
    heir_to_old = check_matrix(heir.alignment or [])
    back = invert(heir_to_old)
    heir_model = heir.alignment_model or "affine"
    for other in staying:
        if other.id not in realigned:
            realigned[other.id] = row_dict(other)
            versions.bump(other)
        if other is heir:
            _clear_alignment(other)
        else:
            other.alignment = list(compose(back, check_matrix(other.alignment or [])))
            # as rich as the richer of the two; its points and residual stay its own
            other.alignment_model = max(
                other.alignment_model or "affine", heir_model, key=MODELS.index
            )
    ref.photo_id = heir.id
    carried = carry_regions(s, group, photo.id, back, heir.id)  # drawn on the old one: the heir's
    s.flush()
    for other in staying:  # framed against the new reference now (the heir: none)
        update_framing(s, other, alignment_of(other))
    return regions_note(s, group, carried, photo.id, heir.id)


def _judge_again(
    s: Session,
    moved: list[Photo],
    left: dict[int, tuple[int, str]],
    changed: dict[int, dict[str, Any]],
) -> None:
    """The checks relative to the reference, judged again: of the photos ``moved`` to another
    group (``left`` the groups they were in), and of the photos left behind that were judged
    against one of them (their rows before are kept in ``changed``, for the undo)."""
    if not moved:
        return
    s.flush()
    for p in moved:
        _judge(s, p, keep_framing=False)  # it was aligned to the old group's reference
    ids = {p.id for p in moved}
    groups = {left[i] for i in ids}
    behind = s.scalars(
        select(Photo).where(
            Photo.area_id.in_({a for a, _ in groups}),
            Photo.id.not_in(ids),
            Photo.quality.is_not(None),
        )
    )
    for other in behind:
        if (other.area_id, other.view) in groups and (other.quality or {}).get(
            "reference_id"
        ) in ids:
            if other.id not in changed:
                changed[other.id] = row_dict(other)
                versions.bump(other)
            _judge(s, other, keep_framing=True)  # ``leave_group`` framed it again


def _judge(s: Session, photo: Photo, *, keep_framing: bool) -> None:
    """``photo``'s relative checks against its group's reference now (none when it is that
    reference itself: its sharpness is then the figure the others are held to)."""
    ref = reference_of(s, photo.area_id, photo.view)
    if ref is not None and ref.id == photo.id:
        ref = None
    photo.quality = verdicts.rejudged(
        photo.quality,
        ref.id if ref is not None else None,
        verdicts.reference_sharpness(ref.quality) if ref is not None else None,
        keep_framing=keep_framing,
    )


ALIGNMENT_COLUMNS = (
    "alignment",
    "alignment_method",
    "alignment_model",
    "alignment_points",
    "alignment_residual_px",
)
# Where a photo is and how it is aligned there: what an undo or a redo of a move expects to
# find as the step before left it (its capture checks are judged again from these).
PLACED = ("visit_id", "area_id", "view", *ALIGNMENT_COLUMNS)


def placed(photo: Photo | Mapping[str, Any]) -> dict[str, Any]:
    """``PLACED``'s values of a photo, or of a photo's row as ``row_dict`` gives it."""
    if isinstance(photo, Photo):
        return {column: getattr(photo, column) for column in PLACED}
    return {column: photo[column] for column in PLACED}


def _clear_alignment(photo: Photo) -> None:
    for column in ALIGNMENT_COLUMNS:
        setattr(photo, column, None)


def _join_group(s: Session, photo: Photo, group: tuple[int, str]) -> None:
    """``photo`` arrives in an area and view: it is the reference there when there is none."""
    if s.get(ReferencePhoto, group) is None:
        others = s.scalar(
            select(func.count(Photo.id)).where(
                Photo.area_id == group[0], Photo.view == group[1], Photo.id != photo.id
            )
        )
        if not others:
            area = get(s, Area, group[0], "area").name  # named now: a failed flush reads no more
            s.add(ReferencePhoto(area_id=group[0], view=group[1], photo_id=photo.id))
            try:
                s.flush()
            except IntegrityError as exc:  # another workstation's photo arrived there at once
                if not versions.is_duplicate(exc):
                    raise
                raise EditConflict(
                    f"Another workstation moved a photo into {area} ({group[1]}) at the same "
                    "moment, so nothing was moved; try again."
                ) from exc


def unmove(lib: Library, undo: MoveUndo, *, expect: versions.Expect | None = None) -> None:
    """Put photos back where they were, with their transforms and the groups' references.
    ``expect``: refused unless the photos are where the move left them (``MoveUndo.left``),
    so that an undo after another workstation moved or aligned one of them overwrites
    nothing of it."""
    rows = {row["id"]: row for row in (*undo.photos, *undo.aligned)}
    with lib.session() as s:
        found = {
            p.id: p
            for p in s.scalars(
                select(Photo).where(Photo.id.in_(rows)).order_by(Photo.id).with_for_update()
            )
        }
        if len(found) < len(rows):
            raise UsageError(
                "A moved photo is no longer in the library; the move cannot be undone."
            )
        versions.check_photos(s, found.values(), None, expect, placed)
        for row in rows.values():
            p = found[row["id"]]
            p.visit_id, p.area_id, p.view = row["visit_id"], row["area_id"], row["view"]
            for column in (*ALIGNMENT_COLUMNS, "quality"):
                setattr(p, column, row[column])
        s.flush()
        for area_id, view in undo.groups:
            s.execute(
                delete(ReferencePhoto).where(
                    ReferencePhoto.area_id == area_id, ReferencePhoto.view == view
                )
            )
        for ref in undo.references:
            s.execute(insert(ReferencePhoto).values(**ref))
        if undo.regions:  # as they were, carried or marked to be drawn again or not
            for area_id, view in undo.groups:
                s.execute(delete(Region).where(Region.area_id == area_id, Region.view == view))
            for region in undo.regions:
                s.execute(insert(Region).values(**region))
        if undo.made_visit is not None:
            _remove_if_empty(s, undo.made_visit)


def _remove_if_empty(s: Session, visit_id: int) -> None:
    used = (
        s.scalar(select(func.count(Photo.id)).where(Photo.visit_id == visit_id))
        or s.scalar(
            select(func.count(TreatmentRecord.id)).where(TreatmentRecord.visit_id == visit_id)
        )
        or s.scalar(select(func.count(Rating.id)).where(Rating.visit_id == visit_id))
    )
    if not used:
        s.execute(delete(Visit).where(Visit.id == visit_id))
