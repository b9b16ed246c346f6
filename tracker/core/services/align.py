"""Automatic alignment: photos registered to the reference photo of their area and view from
the skin itself (``tracker.core.imaging.register``), and stored as their alignment. The
compare window (*Align automatically*, *Align all photos of this view*) and ``tracker align
--auto`` share it.

The reference of a photo is the reference photo of its area and view, else the earliest
photo of that area and view (which then becomes the reference when something is stored).
With ``to``, photos are registered to that photo instead, and the result composed with its
own alignment to the reference, so what is stored is still relative to the reference.

The images registered are the cached previews (made from the originals when missing), read
at the working size. The features of each image are made once (the reference's once for a
whole view), on a pool of one thread a core; OpenCV's own threads are off (``register``).

A cancelled run stores nothing: what finished comes back (``AlignOutcome.cancelled``), and
one whole run is one undo step in the window. The reference photo itself comes back aligned,
with the identity (method "reference"), and is never stored.

OpenCV and numpy are loaded on the first alignment, not with this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracker.core.errors import TrackerError, UsageError
from tracker.core.imaging.geometry import (
    IDENTITY,
    MODELS,
    Alignment,
    Point,
    check_matrix,
    compose,
)
from tracker.core.imaging.geometry import fit as fit_points
from tracker.core.queries.browse import (
    area_photos,
    card_outlines,
    compare_photos,
    reference_photo,
)
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services.photos import Reference, set_alignments
from tracker.core.services.pools import worker_pool
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from tracker.core.imaging.register import Features

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class Aligned:
    photo_id: int
    reference_id: int  # the photo it was registered to (``to``, else its reference)
    alignment: Alignment  # to the reference photo of its area and view
    matches: int  # features that matched before the robust fit (0 for the reference)
    quality: str  # "good" or "fair"; "exact" for the reference itself


@dataclass(frozen=True)
class NotAligned:
    photo_id: int
    reference_id: int
    error: str  # a sentence: why, and that landmarks are the way then


@dataclass(frozen=True)
class AlignOutcome:
    aligned: tuple[Aligned, ...]
    failed: tuple[NotAligned, ...]
    cancelled: bool
    references: tuple[Reference, ...]  # reference photos to set (groups that had none)
    # The photos' versions as the run read them: what the window's step of it names (issue
    # 21), so that an alignment another workstation stored meanwhile is not overwritten.
    seen: Mapping[int, int] = field(default_factory=dict)

    def alignments(self) -> dict[int, Alignment]:
        """What to store (``photos.set_alignments``): every aligned photo but references."""
        return {a.photo_id: a.alignment for a in self.aligned if a.alignment.method != "reference"}


REFERENCE = Alignment(IDENTITY, "reference", "similarity", None, 0.0)


def view_photo_ids(lib: Library, area_id: int, view: str) -> list[int]:
    """The (not removed) photos of an area and view, oldest first: *Align all photos of this
    view*."""
    return [p.id for _day, p in area_photos(lib, area_id) if p.view == view]


def _reference_of(lib: Library, photo: ComparePhoto) -> tuple[int, bool]:
    """The photo that ``photo`` is aligned to, and whether it is only the earliest of the
    area and view (no reference photo chosen yet)."""
    ref = reference_photo(lib, photo.area_id, photo.view)
    if ref is not None:
        return ref, False
    earliest = (p.id for _day, p in area_photos(lib, photo.area_id) if p.view == photo.view)
    return next(earliest, photo.id), True


def _features(
    lib: Library,
    photo: ComparePhoto,
    card: Sequence[Point] | None,
    procs: ProcessPoolExecutor | None,
) -> Features | TrackerError:
    """The photo's features, none of them on its calibration card: the card is laid down
    afresh at each session, so it marks no skin, and two people's photos with a card in each
    would otherwise agree on the card alone. In ``procs`` when given (see ``align_photos``)."""
    # start-up time: OpenCV and numpy load on the first alignment, not with the window
    from tracker.core.imaging import register

    try:
        data = lib.derived("previews", photo.sha256)
    except TrackerError as exc:  # the original is missing, or cannot be read any more
        return exc
    size = (photo.width, photo.height)
    found = (
        register.preview_features(data, card, size)
        if procs is None
        else _in(procs, register.preview_features, data, card, size)
    )
    return TrackerError(found) if isinstance(found, str) else found


@dataclass(frozen=True)
class _Target:
    photo: ComparePhoto
    reference: ComparePhoto  # what it is registered to
    then: Alignment | None  # the reference's own alignment to the group's reference (``to``)
    problem: str | None  # why it cannot be aligned at all


def _targets(
    lib: Library, photos: list[ComparePhoto], to: int | None
) -> tuple[list[_Target], list[Reference]]:
    wanted = {p.id: p for p in photos}
    if to is not None and to not in wanted:
        wanted |= {p.id: p for p in compare_photos(lib, [to])}
    targets, new_refs = [], {}
    for p in photos:
        if to is None:
            ref_id, unset = _reference_of(lib, p)
            if ref_id not in wanted:
                wanted |= {q.id: q for q in compare_photos(lib, [ref_id])}
            ref = wanted[ref_id]
            if unset and ref_id != p.id:
                new_refs[(p.area_id, p.view)] = ref_id
            targets.append(_Target(p, ref, None, None))
            continue
        ref = wanted[to]
        group_ref, unset = _reference_of(lib, ref)
        problem, then = None, None
        if p.id == group_ref and not unset:  # the reference stays the reference
            targets.append(_Target(p, p, None, None))
            continue
        if (ref.area_id, ref.view) != (p.area_id, p.view):
            problem = (
                f"Photo {p.id} was not aligned to photo {to}: they are of different areas or "
                "views, and a photo is aligned within its own area and view."
            )
        elif ref.alignment is not None:
            then = ref.alignment
        elif group_ref != to and not unset:
            problem = (
                f"Photo {p.id} was not aligned to photo {to}: photo {to} is not aligned to the "
                f"reference photo of its view ({group_ref}) yet; align it first, or leave out --to."
            )
        elif unset and to != p.id:
            new_refs[(p.area_id, p.view)] = to
        targets.append(_Target(p, ref, then, problem))
    return targets, [(area, view, pid) for (area, view), pid in new_refs.items()]


def _register(
    t: _Target, ours: Features | TrackerError, theirs: Features | TrackerError
) -> Aligned | NotAligned:
    # start-up time: OpenCV and numpy load on the first alignment, not with the window
    from tracker.core.imaging import register

    photo, ref = t.photo, t.reference
    try:
        for problem in (ours, theirs):
            if isinstance(problem, TrackerError):
                raise problem
        assert not isinstance(ours, TrackerError) and not isinstance(theirs, TrackerError)
        r = register.register_features(
            ours, (photo.width, photo.height), theirs, (ref.width, ref.height), "sift"
        )
    except TrackerError as exc:
        error = f"Photo {photo.id} was not aligned to photo {ref.id}: {exc}"
        return NotAligned(photo.id, ref.id, error)
    matrix = check_matrix(r.matrix)
    model: str = r.model
    if t.then is not None:  # to ``to``, then through its own alignment to the reference
        matrix = compose(t.then.matrix, matrix)
        model = max(model, t.then.model, key=MODELS.index)
    alignment = Alignment(matrix, "auto", model, r.inliers, round(r.residual_px, 3))
    return Aligned(photo.id, ref.id, alignment, r.matches, r.quality)


def _in(procs: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in one of ``procs``, or here when a process died under it."""
    try:
        return procs.submit(fn, *args).result()
    except BrokenProcessPool:
        log.warning("A feature process stopped; the features were found here instead")
        return fn(*args)


def align_photos(
    lib: Library,
    photo_ids: Sequence[int],
    to: int | None = None,
    *,
    store: bool = True,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    workers: int | None = None,
    processes: int = 0,
) -> AlignOutcome:
    """Register each photo to its reference (or to ``to``) and, with ``store``, store the
    alignments found in one transaction (a read-only library refuses before any work).
    ``workers`` threads share the work (default: one a core; the window leaves a core to
    its own thread). With ``processes``, the features (the heaviest part, and the one that
    holds the interpreter longest) are found in that many processes of their own, started
    for the run: the window's frames then never wait on the interpreter (BENCHMARKS.md).
    ``progress(done, total)`` is called from the worker threads as photos finish;
    ``cancelled()`` is asked before each photo, and a cancelled run stores nothing. Results
    come in the order the photos were given."""
    if store:
        lib.require_writable()
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        raise UsageError("Give the photos to align.")
    read = compare_photos(lib, ids)
    targets, new_refs = _targets(lib, read, to)
    work = [t for t in targets if t.problem is None and t.reference.id != t.photo.id]
    total, done = len(ids), len(targets) - len(work)
    lock = threading.Lock()
    stop = threading.Event()

    def tick() -> None:
        nonlocal done
        with lock:
            done += 1
            now = done
        if progress is not None:
            progress(now, total)

    def stopped() -> bool:
        if not stop.is_set() and cancelled is not None and cancelled():
            stop.set()
        return stop.is_set()

    def features(p: ComparePhoto) -> Features | TrackerError | None:
        return None if stopped() else _features(lib, p, cards.get(p.id), procs)

    def one(t: _Target) -> Aligned | NotAligned | None:
        ours, theirs = found[t.photo.id].result(), found[t.reference.id].result()
        if ours is None or theirs is None or stopped():
            return None
        result = _register(t, ours, theirs)
        tick()
        return result

    results: dict[int, Aligned | NotAligned | None] = {}
    # Started for the run and stopped with it: a pool kept between runs would outlive a
    # window that is killed, its processes left waiting.
    procs = worker_pool(processes) if processes and work else None
    with (
        procs or contextlib.nullcontext(),
        ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool,
    ):
        # Features first: the pool takes jobs in order, so a registration waits only on
        # features already being made, never on a job queued behind it.
        unique = {p.id: p for t in work for p in (t.photo, t.reference)}
        cards = card_outlines(lib, list(unique))
        found: dict[int, Future[Features | TrackerError | None]] = {
            pid: pool.submit(features, p) for pid, p in unique.items()
        }
        jobs = {t.photo.id: pool.submit(one, t) for t in work}
        for pid, job in jobs.items():
            results[pid] = job.result()
    if progress is not None and not work:
        progress(total, total)
    aligned: list[Aligned] = []
    failed: list[NotAligned] = []
    for t in targets:
        pid = t.photo.id
        if t.problem is not None:
            failed.append(NotAligned(pid, t.reference.id, t.problem))
        elif t.reference.id == pid:
            aligned.append(Aligned(pid, pid, REFERENCE, 0, "exact"))
        else:
            result = results.get(pid)
            if isinstance(result, Aligned):
                aligned.append(result)
            elif isinstance(result, NotAligned):
                failed.append(result)
    used = {a.reference_id for a in aligned if a.alignment.method != "reference"}
    outcome = AlignOutcome(
        tuple(aligned),
        tuple(failed),
        stop.is_set(),
        tuple(r for r in new_refs if r[2] in used),
        {p.id: p.version for p in read},
    )
    if store and not outcome.cancelled and outcome.alignments():
        set_alignments(lib, outcome.alignments(), outcome.references)
    return outcome


LANDMARK_GOOD_PX = 3.0  # marks that agree within this (RMS) are "good", else "fair"


def _check_points(photo: ComparePhoto, points: Sequence[Point] | None) -> str | None:
    if points is None:
        return f"There are no points for photo {photo.id}; give its points as for the others."
    for x, y in points:
        if not (0 <= x <= photo.width and 0 <= y <= photo.height):
            return (
                f"The point ({x:g}, {y:g}) is outside photo {photo.id}, which is "
                f"{photo.width}×{photo.height} pixels (upright, at full resolution)."
            )
    return None


def align_by_points(
    lib: Library,
    photo_ids: Sequence[int],
    points: Mapping[int, Sequence[Point]],
    to: int | None = None,
    *,
    store: bool = True,
) -> AlignOutcome:
    """Align photos by landmarks given as numbers: ``points[photo id]`` are the same spots,
    in the same order, on each photo and on its reference (or ``to``), in upright
    full-resolution pixels. Each photo's fit (``geometry.fit``: 2 points a similarity, 3 an
    affine transform, 4 or more the simplest model that explains them) is stored as in
    ``align_photos``, with method "landmarks"."""
    if store:
        lib.require_writable()
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        raise UsageError("Give the photos to align.")
    targets, new_refs = _targets(lib, compare_photos(lib, ids), to)
    aligned: list[Aligned] = []
    failed: list[NotAligned] = []
    for t in targets:
        pid, rid = t.photo.id, t.reference.id
        problem = t.problem
        if problem is None and rid == pid:
            aligned.append(Aligned(pid, pid, REFERENCE, 0, "exact"))
            continue
        problem = (
            problem
            or _check_points(t.photo, points.get(pid))
            or _check_points(t.reference, points.get(rid))
        )
        if problem is None:
            try:
                found = fit_points(points[pid], points[rid])
            except TrackerError as exc:
                problem = f"Photo {pid} was not aligned to photo {rid}: {exc}"
        if problem is not None:
            failed.append(NotAligned(pid, rid, problem))
            continue
        matrix, model = found.matrix, found.model
        if t.then is not None:
            matrix = compose(t.then.matrix, matrix)
            model = max(model, t.then.model, key=MODELS.index)
        n = len(points[pid])
        alignment = Alignment(matrix, "landmarks", model, n, round(found.rms_error, 3))
        quality = "good" if found.rms_error <= LANDMARK_GOOD_PX else "fair"
        aligned.append(Aligned(pid, rid, alignment, n, quality))
    used = {a.reference_id for a in aligned if a.alignment.method != "reference"}
    outcome = AlignOutcome(
        tuple(aligned), tuple(failed), False, tuple(r for r in new_refs if r[2] in used)
    )
    if store and outcome.alignments():
        set_alignments(lib, outcome.alignments(), outcome.references)
    return outcome
