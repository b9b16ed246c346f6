"""Photos: view labels, removal, and the non-destructive edits (alignment to the reference
photo, colour balance). An edit of several photos is one transaction.

Each change of a photo's place, label, removal, alignment or colour balance counts in its
``version`` (issue 21); an edit from the window names the versions its editor saw (``seen``)
and is refused with ``StaleEdit`` when another workstation changed the photo since, its undo
and redo the values the step before left (``versions.Expect``), as ``services.move`` does.
The command line names none (it reads and writes in one transaction) and still counts the
change, so a window that showed the old values is refused afterwards. The main window reloads
its photos after an alignment or a colour balance, so its next move names the new version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Photo, ReferencePhoto, utc_now
from tracker.core.errors import NotFoundError, UsageError, ValidationError
from tracker.core.imaging.framing import framing_check, merge_framing
from tracker.core.imaging.geometry import (
    IDENTITY,
    MODELS,
    Alignment,
    Fit,
    Gains,
    Point,
    check_gains,
    check_matrix,
    compose,
    is_affine,
)
from tracker.core.imaging.geometry import fit as fit_landmarks
from tracker.core.queries.browse import alignment_of
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services import versions
from tracker.core.store.library import Library
from tracker.core.text import check_name

MAX_VIEW = 100


def set_photo_view(
    lib: Library,
    photo_id: int,
    view: str,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> str:
    """Relabel a photo's view (front, left, close-up, …); returns the old label. ``seen``:
    the photo's version its editor saw (None: no check); ``expect``: an undo's or a redo's
    label, which the photo must still have."""
    view = check_name(view, "view name")
    if len(view) > MAX_VIEW:
        raise ValidationError(
            f"The view name is {len(view)} characters long; the most is {MAX_VIEW}."
        )
    with lib.session() as s:
        (p,) = _photos(s, [photo_id], lock=True)
        versions.check_photos(
            s,
            [p],
            {photo_id: seen} if seen is not None else None,
            # the label as the step before stored it (checked as this one's)
            versions.Expect({photo_id: check_name(expect.values, "view name")})
            if expect is not None
            else None,
            lambda p: p.view,
        )
        old = p.view
        p.view = view
        return old


def _photos(s: Session, photo_ids: Iterable[int], *, lock: bool = False) -> list[Photo]:
    """The photos, refused when one is not there; ``lock``: locked (on a server) in the order
    of their ids until the transaction ends, for an edit that checks their versions."""
    ids = list(dict.fromkeys(photo_ids))
    q = select(Photo).where(Photo.id.in_(ids))
    if lock:
        q = q.order_by(Photo.id).with_for_update()
    found = {p.id: p for p in s.scalars(q)}
    for pid in ids:
        if pid not in found:
            raise NotFoundError(f"There is no photo with id {pid} in the library.")
    return [found[pid] for pid in ids]


def _removed(p: Photo) -> bool:
    return p.deleted_at is not None


def remove_photos(
    lib: Library,
    photo_ids: Iterable[int],
    *,
    seen: Mapping[int, int] | None = None,
    expect: versions.Expect | None = None,
) -> None:
    """Take photos out of view. The originals stay in the library and can be restored.
    ``seen``: photo id -> the version its editor saw; ``expect``: photo id -> whether a redo
    expects it removed (it expects none to be)."""
    with lib.session() as s:
        now = utc_now()
        found = _photos(s, photo_ids, lock=True)
        versions.check_photos(s, found, seen, expect, _removed)
        for p in found:
            p.deleted_at = now


def restore_photos(
    lib: Library, photo_ids: Iterable[int], *, expect: versions.Expect | None = None
) -> None:
    """Bring removed photos back. ``expect``: photo id -> whether the undo of a removal
    expects it removed (it expects all to be)."""
    with lib.session() as s:
        found = _photos(s, photo_ids, lock=True)
        versions.check_photos(s, found, None, expect, _removed)
        for p in found:
            p.deleted_at = None


# -- alignment and colour --------------------------------------------------------------------


Reference = tuple[int, str, int | None]  # (area id, view, photo id or None)


def set_alignments(
    lib: Library,
    alignments: Mapping[int, Alignment | None],
    references: Iterable[Reference] = (),
    *,
    seen: Mapping[int, int] | None = None,
    expect: versions.Expect | None = None,
) -> tuple[dict[int, Alignment | None], list[Reference]]:
    """Store (or clear, with None) the alignments of several photos to their reference, and
    make each of ``references`` the reference photo of its area and view (None clears it),
    in one transaction. Returns the old alignments and the old references, which undo it
    when passed back. ``seen``: photo id -> the version its editor saw; ``expect``: photo id
    -> the alignment an undo or a redo expects it to have (the one the step before left).

    The framing check in each photo's ``quality`` follows its alignment: measured from the
    alignment stored (scale, turn and offset against the reference photo), removed with it."""
    checked = _checked_alignments(alignments)
    with lib.session() as s:
        found = _photos(s, checked, lock=True)
        wanted = versions.Expect(_checked_alignments(expect.values)) if expect else None
        versions.check_photos(s, found, seen, wanted, alignment_of)
        old_references = [
            (area_id, view, _set_reference(s, area_id, view, photo_id))
            for area_id, view, photo_id in references
        ]
        old: dict[int, Alignment | None] = {}
        for p in found:
            old[p.id] = alignment_of(p)
            a = checked[p.id]
            if a is not None and not is_affine(a.matrix):
                check_matrix(a.matrix, (p.width, p.height))  # no horizon inside the photo
            p.alignment = list(a.matrix) if a is not None else None
            p.alignment_method = a.method if a is not None else None
            p.alignment_model = a.model if a is not None else None
            p.alignment_points = a.points if a is not None else None
            p.alignment_residual_px = a.residual_px if a is not None else None
            update_framing(s, p, a)
        return old, old_references


def _checked_alignments(
    alignments: Mapping[int, Alignment | None],
) -> dict[int, Alignment | None]:
    """The alignments with their matrices checked and normalised, as they are stored and read
    back (so that an undo's expected alignment compares equal with the one stored)."""
    return {
        pid: replace(a, matrix=check_matrix(a.matrix)) if a is not None else None
        for pid, a in alignments.items()
    }


def update_framing(s: Session, p: Photo, a: Alignment | None) -> None:
    """The framing check in ``p.quality`` measured from alignment ``a`` against the reference
    photo of its area and view (removed without an alignment, or for the reference itself)."""
    ref = s.get(ReferencePhoto, (p.area_id, p.view))
    if ref is None:
        return
    if ref.photo_id == p.id:
        a = None
    check = None
    if a is not None:
        reference = s.get(Photo, ref.photo_id)
        assert reference is not None
        check = framing_check(a.matrix, (p.width, p.height), (reference.width, reference.height))
    p.quality = merge_framing(p.quality, check, ref.photo_id)


def set_colour_gains(
    lib: Library,
    gains: Mapping[int, Sequence[float] | None],
    *,
    seen: Mapping[int, int] | None = None,
    expect: versions.Expect | None = None,
) -> dict[int, Gains | None]:
    """Store (or clear) the colour balance of several photos at once; returns the old ones.
    ``seen`` and ``expect`` (photo id -> the gains an undo or a redo expects) as for
    ``set_alignments``."""
    checked = _checked_gains(gains)
    with lib.session() as s:
        found = _photos(s, checked, lock=True)
        wanted = versions.Expect(_checked_gains(expect.values)) if expect else None
        versions.check_photos(s, found, seen, wanted, _gains_of)
        old: dict[int, Gains | None] = {}
        for p in found:
            old[p.id] = _gains_of(p)
            g = checked[p.id]
            p.colour_gains = list(g) if g is not None else None
        return old


def _checked_gains(gains: Mapping[int, Sequence[float] | None]) -> dict[int, Gains | None]:
    return {pid: check_gains(g) if g is not None else None for pid, g in gains.items()}


def _gains_of(p: Photo) -> Gains | None:
    return check_gains(p.colour_gains) if p.colour_gains else None


def _set_reference(s: Session, area_id: int, view: str, photo_id: int | None) -> int | None:
    ref = s.get(ReferencePhoto, (area_id, view))
    old = ref.photo_id if ref is not None else None
    if photo_id is None:
        if ref is not None:
            s.delete(ref)
    elif ref is None:
        s.add(ReferencePhoto(area_id=area_id, view=view, photo_id=photo_id))
    else:
        ref.photo_id = photo_id
    s.flush()
    return old


@dataclass(frozen=True)
class LandmarkAlignment:
    """What marking the same points on each photo gives: each later photo's alignment to the
    reference of its area and view, and the reference to set if there was none yet."""

    alignments: dict[int, Alignment]
    reference: tuple[int, str, int] | None  # (area id, view, photo id)
    fits: tuple[tuple[ComparePhoto, Fit], ...]

    @property
    def worst_error(self) -> float:
        return max((f.max_error for _, f in self.fits), default=0.0)


def align_by_landmarks(
    lib: Library, photos: Sequence[ComparePhoto], marks: Sequence[Sequence[Point]]
) -> LandmarkAlignment:
    """Fit every photo after the first to the first by its landmarks, then express the result
    relative to the reference photo (the first photo becomes it when there is none yet).
    Nothing is stored: ``set_alignments`` stores the result."""
    first = photos[0]
    reference = None
    if first.alignment is not None:
        first_to_ref = first.alignment.matrix
    elif first.is_reference:
        first_to_ref = IDENTITY
    else:
        with lib.session() as s:
            has_reference = s.get(ReferencePhoto, (first.area_id, first.view)) is not None
        if has_reference:
            raise UsageError(
                "The first photo is not aligned to the reference photo of its view yet. "
                "Compare it with the reference (usually the baseline) first, or put the reference first."
            )
        first_to_ref, reference = IDENTITY, (first.area_id, first.view, first.id)
    first_model = first.alignment.model if first.alignment is not None else "similarity"
    alignments: dict[int, Alignment] = {}
    fits = []
    for i, photo in enumerate(photos[1:], start=1):
        result = fit_landmarks(marks[i], marks[0])
        matrix = compose(first_to_ref, result.matrix)
        # the composition is as rich as the richer of the two transforms
        model = max(result.model, first_model, key=MODELS.index)
        alignments[photo.id] = Alignment(
            matrix, "landmarks", model, len(marks[i]), round(result.rms_error, 3)
        )
        fits.append((photo, result))
    return LandmarkAlignment(alignments, reference, tuple(fits))


def set_reference_photo(lib: Library, area_id: int, view: str, photo_id: int | None) -> int | None:
    """Make ``photo_id`` the photo that others of this area and view are aligned to (None
    clears it); returns the previous one."""
    with lib.session() as s:
        return _set_reference(s, area_id, view, photo_id)
