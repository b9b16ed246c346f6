"""Measuring the marks (issue 18): the regions drawn on an area's reference photo, the control
area and the sensitivity of an area, and each photo's measures, stored with what they were
computed from.

**Regions** are polygons in the reference photo's upright full-resolution pixels, one for the
marks and optionally one for a patch of untreated skin, per area and view. A photo of that
view is measured inside them carried through the inverse of its alignment (which takes the
photo's pixels to the reference's); a photo of a view with regions but no alignment is not
measured (it is told to be aligned first). Without regions the whole photo outside the card
is measured, and the skin compared against is a ring around the marks found.

When the photo they were drawn on leaves the view (moved to another area or view, or
erased), the regions follow the photo that takes over as the reference, through its
alignment; when no photo left in the view is aligned to it, nothing can carry them: they
are kept, outline and all, but marked to be drawn again (drawn on no photo,
``Regions.redraw``), and the photos of that view are
not measured until they are (``regions_follow``). Either way the person is told in one
sentence, which the move's and the erase's report carry.

**Measuring** (``measure_photos``) reads each photo's cached preview (made from the original
when missing), with its card's outline and scale brought to the preview's size, and the colour
balance the photo has (its colour gains, else its card's neutral patch). The stage is the
area's; for an unknown stage both are tried and the one whose marks stand out more is kept
(``Measured.stage`` and the stored inputs say which). What a measure was computed from is
stored with it (``inputs``) with a digest (``inputs_key``): ``stale_photo_ids`` finds the
photos whose inputs are no longer what they would be now (a region, an alignment, the colour,
the sensitivity, the area or view changed, or the engine).

OpenCV and numpy load with the first measure (``_work``), not with this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Measure, Photo, ReferencePhoto, Region, utc_now
from tracker.core.errors import TrackerError, UsageError, ValidationError
from tracker.core.imaging.geometry import Point
from tracker.core.queries import measure_inputs as mi
from tracker.core.queries.browse import get
from tracker.core.services import clients, versions
from tracker.core.services.pools import worker_pool
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from tracker.core.imaging.marks import MarkMeasures

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

KINDS = ("marks", "skin")
SENSITIVITY_RANGE = (1.5, 8.0)
MIN_REGION_PX = 400.0  # as the engine's least region (``marks.MIN_REGION_PX``)
MIN_SKIN_PX = 100.0


@dataclass
class Regions:
    marks: list[Point] | None
    skin: list[Point] | None
    marks_version: int  # 0 when there is none
    skin_version: int
    reference_photo_id: int | None  # the photo they were drawn on
    redraw: tuple[str, ...] = ()  # the kinds kept but to be drawn again (their photo left)


@dataclass
class Measured:
    photo_id: int
    measures: MarkMeasures
    stage: str = "rubra"  # the stage measured as ("rubra" or "alba")


@dataclass
class MeasureOutcome:
    measured: list[Measured] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (photo id, a sentence)
    cancelled: bool = False


@dataclass
class Overlay:
    photo_id: int
    size: tuple[int, int]  # (w, h) of the mask: the photo's preview
    mask_png: bytes  # 1-bit PNG, the marks white
    region: list[Point] | None  # in the photo's full-resolution pixels
    skin: list[Point] | None


# -- regions -----------------------------------------------------------------------------------


def regions(lib: Library, area_id: int, view: str) -> Regions:
    """The regions drawn for an area and view (None where none is drawn)."""
    with lib.session() as s:
        get(s, Area, area_id, "area")
        return _regions(
            s.scalars(select(Region).where(Region.area_id == area_id, Region.view == view))
        )


def _regions(rows: object) -> Regions:
    found = {r.kind: r for r in rows}  # type: ignore[attr-defined]
    marks, skin = found.get("marks"), found.get("skin")
    ref = marks.reference_photo_id if marks is not None else None
    if ref is None and skin is not None:
        ref = skin.reference_photo_id
    return Regions(
        marks=_points(marks.points) if marks is not None else None,
        skin=_points(skin.points) if skin is not None else None,
        marks_version=marks.version if marks is not None else 0,
        skin_version=skin.version if skin is not None else 0,
        reference_photo_id=ref,
        redraw=tuple(k for k in KINDS if k in found and found[k].reference_photo_id is None),
    )


def _points(raw: Sequence[Sequence[float]]) -> list[Point]:
    return [(float(x), float(y)) for x, y in raw]


def set_region(
    lib: Library,
    area_id: int,
    view: str,
    kind: str,
    points: Sequence[Point] | None,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> Regions:
    """Draw (or clear, with None) the marks' region or the skin patch of an area and view, on
    the view's reference photo. Returns the regions as they were before (for undo). Refused,
    with a sentence, for fewer than three corners, a corner outside the reference photo, an
    outline that crosses itself, or one too small to measure in; and (issue 21) when the
    region is not at the version its editor saw (``seen``, 0: none was drawn), or, for an undo
    or a redo, its corners are not those the step before left (``expect``, None: none)."""
    lib.require_writable()
    if kind not in KINDS:
        raise UsageError(f"A region is of the marks or of the skin, not {kind!r}.")
    with lib.session() as s:
        area = get(s, Area, area_id, "area")
        q = select(Region).where(Region.area_id == area_id, Region.view == view)
        rows = list(s.scalars(q.order_by(Region.kind).with_for_update()))
        before = _regions(rows)
        row = next((r for r in rows if r.kind == kind), None)
        now = row.version if row is not None else 0
        found = _points(row.points) if row is not None else None
        if (seen is not None and now != seen) or (
            expect is not None and found != (_points(expect.values) if expect.values else None)
        ):
            what = "marks' region" if kind == "marks" else "skin patch"
            raise versions.conflict(
                f"the {what} of {view} of {clients.area_named(s, area_id)}", now
            )
        if points is None:
            if row is not None:
                s.delete(row)
            return before
        ref = mi.reference_of(s, area_id, view)
        if ref is None:
            raise ValidationError(
                f"The area {area.name} has no photo of the view {view!r} to draw a region on; "
                "import one first."
            )
        checked = check_polygon(points, (ref.width, ref.height), kind)
        if s.get(ReferencePhoto, (area_id, view)) is None:  # it is now, for the regions' sake
            s.add(ReferencePhoto(area_id=area_id, view=view, photo_id=ref.id))
        if row is None:
            points_json = [list(p) for p in checked]
            s.add(
                Region(
                    area_id=area_id,
                    view=view,
                    kind=kind,
                    points=points_json,
                    reference_photo_id=ref.id,
                    version=1,
                )
            )
        else:
            row.points = [list(p) for p in checked]
            row.reference_photo_id = ref.id
            row.version += 1
            row.updated_at = utc_now()
        return before


def check_polygon(points: Sequence[Point], size: tuple[int, int], kind: str) -> list[Point]:
    """The polygon's corners as floats, or ``ValidationError`` naming what is wrong with it."""
    what = "marks' region" if kind == "marks" else "skin patch"
    pts: list[Point] = []
    for p in points:
        try:
            x, y = float(p[0]), float(p[1])
        except (TypeError, ValueError, IndexError):
            raise ValidationError(f"Each corner of the {what} is an x and a y.") from None
        if (
            x != x
            or y != y
            or x in (float("inf"), float("-inf"))
            or y in (float("inf"), float("-inf"))
        ):
            raise ValidationError(f"Each corner of the {what} is an x and a y.")
        pts.append((x, y))
    if len(pts) < 3:
        raise ValidationError(f"The {what} needs at least three corners; it has {len(pts)}.")
    w, h = size
    for x, y in pts:
        if not (0 <= x <= w and 0 <= y <= h):
            raise ValidationError(
                f"The corner ({x:g}, {y:g}) of the {what} is outside the reference photo, which "
                f"is {w} × {h} pixels; draw it inside the photo."
            )
    if not mi.is_simple(pts):
        raise ValidationError(
            f"The outline of the {what} crosses itself; draw it without crossings."
        )
    least = MIN_REGION_PX if kind == "marks" else MIN_SKIN_PX
    area = mi.polygon_area(pts)
    if area < least:
        raise ValidationError(
            f"The {what} covers {area:.0f} pixels of the reference photo; it must cover at least "
            f"{least:.0f} to measure in."
        )
    return pts


# -- the area's control and sensitivity --------------------------------------------------------


def _checked_area(
    s: Session,
    area_id: int,
    seen: int | None,
    expect: versions.Expect | None,
    value: Callable[[Area], object],
) -> Area:
    """The area, its change counted (issue 21), refused when it is not at the version seen, or
    (an undo or a redo) when its ``value`` is not the one the step before left (``expect``)."""
    named = clients.area_named(s, area_id)
    versions.check(s, Area, Area.id == area_id, seen, lambda: named)
    area = get(s, Area, area_id, "area")
    if expect is not None and value(area) != expect.values:
        raise versions.conflict(named, area.version - 1)
    return area


def set_control(
    lib: Library,
    area_id: int,
    control_area_id: int | None,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> int | None:
    """Name the untreated control area this area is compared with (None: none); returns the
    one before. The control is an area of the same client, not this one, and not an area that
    is itself compared with this one; it is marked as a control. ``seen`` and ``expect`` (the
    control an undo or a redo expects) as for ``set_sensitivity``."""
    lib.require_writable()
    with lib.session() as s:
        area = _checked_area(s, area_id, seen, expect, lambda a: a.control_area_id)
        before = area.control_area_id
        if control_area_id is not None:
            control = get(s, Area, control_area_id, "area")
            if control.id == area.id:
                raise ValidationError(f"The area {area.name} cannot be its own control.")
            if control.client_id != area.client_id:
                raise ValidationError(
                    f"The area {control.name} is another person's; a control area is one of "
                    f"the same person as {area.name}."
                )
            seen_ids = {area.id}
            step: Area | None = control
            while step is not None and step.control_area_id is not None:
                if step.control_area_id in seen_ids:
                    raise ValidationError(
                        f"The area {control.name} is already compared with {area.name}; two "
                        "areas cannot be each other's control."
                    )
                seen_ids.add(step.id)
                step = s.get(Area, step.control_area_id)
            if not control.is_control:
                versions.claim(s, Area, Area.id == control.id, None)  # counted, as marked
            control.is_control = True
        area.control_area_id = control_area_id
        return before


def set_is_control(lib: Library, area_id: int, value: bool) -> bool:
    """Mark an area as an untreated control (or not); returns what it was. An area that is no
    longer a control stops being the control of any other area."""
    lib.require_writable()
    with lib.session() as s:
        area = get(s, Area, area_id, "area")
        before = bool(area.is_control)
        q = select(Area.id).where(Area.control_area_id == area_id)
        others = [] if value else list(s.scalars(q))
        for changed in [area_id, *others] if before != value or others else []:
            versions.claim(s, Area, Area.id == changed, None)  # each change counted (issue 21)
        for other_id in others:
            get(s, Area, other_id, "area").control_area_id = None
        area.is_control = value
        return before


def sensitivity(lib: Library, area_id: int) -> float | None:
    """The area's sensitivity (None: the engine's default, ``marks.DEFAULT_SENSITIVITY``)."""
    with lib.session() as s:
        return get(s, Area, area_id, "area").mark_sensitivity


def set_sensitivity(
    lib: Library,
    area_id: int,
    value: float | None,
    *,
    seen: int | None = None,
    expect: versions.Expect | None = None,
) -> float | None:
    """How faint a mark is found in this area (None: the default); returns the one before.
    The area's version counts the change (issue 21); ``seen``: the version its editor saw
    (None: no check); ``expect``: the sensitivity an undo or a redo expects it to have."""
    lib.require_writable()
    low, high = SENSITIVITY_RANGE
    if value is not None and not (low <= value <= high):
        raise ValidationError(
            f"The sensitivity is {value:g}; it is from {low:g} (finds fainter marks) to "
            f"{high:g} (only the clearest)."
        )
    with lib.session() as s:
        area = _checked_area(s, area_id, seen, expect, lambda a: a.mark_sensitivity)
        before = area.mark_sensitivity
        area.mark_sensitivity = value
        return before


# -- measuring ---------------------------------------------------------------------------------


def _in(procs: ProcessPoolExecutor | None, fn: Callable[..., object], *args: object) -> object:
    if procs is None:
        return fn(*args)
    try:
        return procs.submit(fn, *args).result()
    except BrokenProcessPool:
        log.warning("A measuring process stopped; the photo was measured here instead")
        return fn(*args)


def measure_photos(
    lib: Library,
    ids: Sequence[int],
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    processes: int | None = None,
) -> MeasureOutcome:
    """Measure each photo and store its measures (or why it could not be measured) with what
    they were computed from, in one transaction at the end. ``processes``: measure in that many
    processes of their own (the window's background job), else in a thread a core.
    ``progress(done, total)`` is called as photos finish; ``cancelled()`` is asked before each,
    and a cancelled run stores only what finished."""
    lib.require_writable()
    photo_ids = list(dict.fromkeys(ids))
    if not photo_ids:
        raise UsageError("Give the photos to measure.")
    jobs = mi.jobs(lib, photo_ids)
    total = len(photo_ids)
    lock = threading.Lock()
    stop = threading.Event()
    done = 0

    def one(job: mi.Job | str) -> mi.Result | None:
        nonlocal done
        if stop.is_set() or (cancelled is not None and cancelled()):
            stop.set()
            return None
        if isinstance(job, str):
            result: mi.Result = job
        elif job.problem is not None:
            result = job.problem
        else:
            try:
                data = lib.derived("previews", job.sha256)
            except TrackerError as exc:
                result = f"Photo {job.photo_id} was not measured: {exc}"
            else:
                result = _in(procs, mi.work, data, job)  # type: ignore[assignment]
        with lock:
            done += 1
            now = done
        if progress is not None:
            progress(now, total)
        return result

    procs = worker_pool(processes) if processes else None
    workers = processes or os.cpu_count() or 1
    with procs or contextlib.nullcontext(), ThreadPoolExecutor(max_workers=workers) as pool:
        futures: dict[int, Future[mi.Result | None]] = {
            pid: pool.submit(one, jobs[pid]) for pid in photo_ids
        }
        results = {pid: f.result() for pid, f in futures.items()}
    outcome = MeasureOutcome(cancelled=stop.is_set())
    stored: dict[int, tuple[dict[str, object] | None, str | None, mi.Inputs]] = {}
    for pid in photo_ids:
        result, job = results[pid], jobs[pid]
        if result is None:
            continue
        if isinstance(result, str):
            outcome.failed.append((pid, result))
            if not isinstance(job, str):  # a photo that is gone or not aligned stores nothing
                stored[pid] = (None, result, job.inputs)
            continue
        assert not isinstance(job, str)
        values, stage = result
        outcome.measured.append(Measured(pid, mi.from_dict(values), stage))
        stored[pid] = (values, None, {**job.inputs, "stage_used": stage})
    if stored:
        _store(lib, stored)
    return outcome


def _store(
    lib: Library, stored: dict[int, tuple[dict[str, object] | None, str | None, mi.Inputs]]
) -> None:
    with lib.session() as s:
        existing = {
            m.photo_id: m for m in s.scalars(select(Measure).where(Measure.photo_id.in_(stored)))
        }
        alive = set(s.scalars(select(Photo.id).where(Photo.id.in_(stored))))
        now = utc_now()
        for pid, (values, error, inputs) in stored.items():
            if pid not in alive:  # erased while it was measured
                continue
            key = mi.inputs_key({k: v for k, v in inputs.items() if k != "stage_used"})
            row = existing.get(pid)
            if row is None:
                row = Measure(photo_id=pid)
                s.add(row)
            row.values, row.error, row.inputs, row.inputs_key = values, error, inputs, key
            row.computed_at = now


def stale_photo_ids(lib: Library, area_id: int | None = None) -> list[int]:
    """The (not removed) photos, of one area or all, never measured or whose measure's inputs
    are no longer what they would be now; oldest first."""
    with lib.session() as s:
        q = select(Photo.id).where(Photo.deleted_at.is_(None)).order_by(Photo.taken_at, Photo.id)
        if area_id is not None:
            get(s, Area, area_id, "area")
            q = q.where(Photo.area_id == area_id)
        ids = list(s.scalars(q))
        keys = mi.current_keys(s, ids)
        stored = {
            pid: key
            for pid, key in s.execute(
                select(Measure.photo_id, Measure.inputs_key).where(Measure.photo_id.in_(ids))
            )
        }
    return [pid for pid in ids if stored.get(pid) != keys.get(pid)]


def marks_overlay(lib: Library, photo_id: int, sensitivity: float | None = None) -> Overlay:
    """The marks found in a photo as a mask at its preview's size, with the regions used in
    its full-resolution pixels (off the GUI thread: it measures). ``sensitivity`` tries another
    one than the area's without storing it."""
    job = mi.jobs(lib, [photo_id], sensitivity)[photo_id]
    if isinstance(job, str):
        raise ValidationError(job)
    data = lib.derived("previews", job.sha256)
    size, png = mi.overlay(data, job)
    return Overlay(photo_id, size, png, job.region, job.skin)


def photo_json(m: Measured) -> dict[str, object]:
    """A measured photo as ``tracker measure --json`` prints it (the issue's keys)."""
    return {"photo_id": m.photo_id, **m.measures.as_dict()}
