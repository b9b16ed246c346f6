"""What a photo is measured from (for ``services.measure``): its regions carried from the reference
photo through its alignment, its card, scale and colour balance, its area's stage and
sensitivity, as a ``Job`` that can be sent to a process; the digest of those inputs that finds
stale measures; and the measuring itself (``work``), which runs in a worker process or thread.

Every query here reads a whole set of photos in a fixed number of statements.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Photo, ReferencePhoto, Region, Stage, Visit
from tracker.core.errors import ValidationError
from tracker.core.imaging.geometry import (
    IDENTITY,
    Matrix,
    Point,
    apply,
    check_matrix,
    compose,
    invert,
)
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from tracker.core.imaging.marks import MarkMeasures

log = logging.getLogger(__name__)

ENGINE_VERSION = 3
"""Counted up when the engine (``imaging.marks``) measures differently: every stored measure
is then stale (2: marks side by side in one band counted as the marks they are; 3: a band's
marks counted against the mark running on beside it, not the photo's typical width)."""
WORK_PX_PER_MM = 10.0
"""The most pixels per millimetre a photo is measured at: a preview with more (a close-up) is
made smaller to this. The engine holds widths within 10 % from 5 px/mm, and 0.5 mm marks from
about 8 (``imaging.marks``), so this costs no accuracy; the time to measure grows with the
pixels (BENCHMARKS.md: a 12 MP photo's preview has about 8 px/mm and is measured as it is)."""
WORK_LONG_SIDE = 1280  # without a scale: the preview made at most this long
DEFAULT_SENSITIVITY = 4.0  # as ``marks.DEFAULT_SENSITIVITY`` (a test keeps them equal)

Inputs = dict[str, Any]
Result = tuple[dict[str, Any], str] | str  # (values, stage measured as), or why not


@dataclass(frozen=True)
class Job:
    """One photo to measure, in its own full-resolution pixels; sent to a worker process."""

    photo_id: int
    sha256: str
    width: int
    height: int
    stage: str  # rubra, alba, unknown
    sensitivity: float
    region: list[Point] | None
    skin: list[Point] | None
    card: list[Point] | None
    px_per_mm: float | None
    gains: tuple[float, float, float] | None
    inputs: Inputs = field(default_factory=dict)
    problem: str | None = None  # why it cannot be measured as it is (not aligned)


# -- polygons ------------------------------------------------------------------------------------


def polygon_area(points: Sequence[Point]) -> float:
    n = len(points)
    return (
        abs(
            sum(
                points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
                for i in range(n)
            )
        )
        / 2.0
    )


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4)


def is_simple(points: Sequence[Point]) -> bool:
    """Whether the closed outline never crosses itself (edges that only share a corner, as
    neighbours do, are not crossings)."""
    n = len(points)
    if len(set(points)) < n:
        return False
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _intersect(*edges[i], *edges[j]):
                return False
    return True


def clip_to(points: Sequence[Point], w: float, h: float) -> list[Point]:
    """The polygon cut to the rectangle 0..w × 0..h (Sutherland–Hodgman): a region carried
    into a photo framed a little differently may reach past its edge."""
    out = list(points)
    for axis, limit, keep_below in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        if not out:
            break
        src, out = out, []
        for i, cur in enumerate(src):
            prev = src[i - 1]
            inside_cur = cur[axis] <= limit if keep_below else cur[axis] >= limit
            inside_prev = prev[axis] <= limit if keep_below else prev[axis] >= limit
            if inside_cur != inside_prev:
                t = (limit - prev[axis]) / (cur[axis] - prev[axis])
                out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
            if inside_cur:
                out.append(cur)
    return out


def _carry(points: list[Point] | None, m: Matrix) -> list[Point] | None:
    return None if points is None else [apply(m, p) for p in points]


# -- inputs --------------------------------------------------------------------------------------


def inputs_key(inputs: Inputs) -> str:
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(points: Iterable[Sequence[float]]) -> str:
    text = json.dumps([[round(float(x), 3), round(float(y), 3)] for x, y in points])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def reference_of(s: Session, area_id: int, view: str) -> Photo | None:
    """The reference photo of an area and view, else its earliest (not removed) photo."""
    ref = s.get(ReferencePhoto, (area_id, view))
    if ref is not None:
        photo = s.get(Photo, ref.photo_id)
        if photo is not None:
            return photo
    return s.scalar(
        select(Photo)
        .join(Visit, Photo.visit_id == Visit.id)
        .where(Photo.area_id == area_id, Photo.view == view, Photo.deleted_at.is_(None))
        .order_by(Visit.date, Photo.taken_at, Photo.id)
        .limit(1)
    )


def _gains(p: Photo) -> tuple[float, float, float] | None:
    raw = p.colour_gains or (p.card or {}).get("gains")
    if not raw or len(raw) != 3:
        return None
    return (float(raw[0]), float(raw[1]), float(raw[2]))


def _card(p: Photo) -> list[Point] | None:
    corners = (p.card or {}).get("corners") if isinstance(p.card, dict) else None
    if not corners or len(corners) != 4:
        return None
    return [(float(x), float(y)) for x, y in corners]


def _jobs(s: Session, ids: Sequence[int], sensitivity: float | None = None) -> dict[int, Job | str]:
    pairs = {
        p.id: (p, a)
        for p, a in s.execute(
            select(Photo, Area).join(Area, Photo.area_id == Area.id).where(Photo.id.in_(ids))
        )
    }
    out: dict[int, Job | str] = dict(jobs_for(s, list(pairs.values()), sensitivity=sensitivity))
    return {pid: out.get(pid, f"There is no photo with id {pid} in the library.") for pid in ids}


def jobs_for(
    s: Session,
    pairs: Sequence[tuple[Photo, Area]],
    *,
    refs: dict[tuple[int, str], int] | None = None,
    earliest: dict[tuple[int, str], int] | None = None,
    sensitivity: float | None = None,
) -> dict[int, Job]:
    """A ``Job`` for each (photo, its area): two to four statements, fewer when the reference
    photos (``refs``) and the earliest photo of each area and view (``earliest``) are known."""
    area_ids = {a.id for _p, a in pairs}
    if not area_ids:
        return {}
    regions: dict[tuple[int, str], dict[str, Region]] = {}
    for r in s.scalars(select(Region).where(Region.area_id.in_(area_ids))):
        regions.setdefault((r.area_id, r.view), {})[r.kind] = r
    if refs is None:
        refs = {
            (r.area_id, r.view): r.photo_id
            for r in s.scalars(select(ReferencePhoto).where(ReferencePhoto.area_id.in_(area_ids)))
        }
    if earliest is None:
        earliest = {}
        for pid, area_id, view in s.execute(
            select(Photo.id, Photo.area_id, Photo.view)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(Photo.area_id.in_(area_ids), Photo.deleted_at.is_(None))
            .order_by(Visit.date, Photo.taken_at, Photo.id)
        ):
            earliest.setdefault((area_id, view), pid)
    known = {p.id: p.alignment for p, _a in pairs}
    drawn_on = {r.reference_photo_id for kinds in regions.values() for r in kinds.values()}
    missing = {i for i in drawn_on if i is not None and i not in known}
    if missing:
        known |= {p.id: p.alignment for p in s.scalars(select(Photo).where(Photo.id.in_(missing)))}
    out: dict[int, Job] = {}
    for p, area in pairs:
        group = (area.id, p.view)
        ref = refs.get(group) or earliest.get(group)
        out[p.id] = _job(p, area, regions.get(group, {}), ref, known, sensitivity)
    return out


def _job(
    p: Photo,
    area: Area,
    kinds: dict[str, Region],
    ref_id: int | None,
    drawn: dict[int, list[float] | None],
    sensitivity: float | None,
) -> Job:
    stage = area.stage.value if isinstance(area.stage, Stage) else str(area.stage)
    sens = sensitivity if sensitivity is not None else area.mark_sensitivity
    inputs: Inputs = {
        "engine": ENGINE_VERSION,
        "sha256": p.sha256,
        "area_id": area.id,
        "view": p.view,
        "stage": stage,
        "sensitivity": sens if sens is not None else DEFAULT_SENSITIVITY,
        "gains": list(g) if (g := _gains(p)) else None,
        "px_per_mm": p.px_per_mm,
        "card": [list(c) for c in card] if (card := _card(p)) else None,
    }
    marks, skin = kinds.get("marks"), kinds.get("skin")
    problem, to_photo = None, IDENTITY
    if marks is not None or skin is not None:
        inputs["regions"] = {
            k: {"version": r.version, "points": _digest(r.points), "on": r.reference_photo_id}
            for k, r in kinds.items()
        }
        inputs["reference"] = ref_id
        inputs["alignment"] = p.alignment
        first = marks or skin
        assert first is not None
        on = first.reference_photo_id
        if any(r.reference_photo_id != on for r in kinds.values()):
            on = None  # one of them is to be drawn again (its photo left): neither is carried
        try:
            to_ref: Matrix = IDENTITY
            if on != ref_id:  # drawn on a photo that is no longer the reference
                old = drawn.get(on) if on is not None else None
                if not old:
                    raise ValidationError(
                        f"Photo {p.id} was not measured: the regions of the view {p.view!r} of "
                        f"{area.name} were drawn on a photo that is no longer its reference "
                        "photo; draw them again on the reference."
                    )
                to_ref = check_matrix(old)
            if p.id != ref_id:
                if not p.alignment:
                    raise ValidationError(
                        f"Photo {p.id} is not aligned to the reference photo of its view (photo "
                        f"{ref_id}); align it first, so that the regions drawn on the reference "
                        "can follow it."
                    )
                to_photo = compose(invert(check_matrix(p.alignment)), to_ref)
            else:
                to_photo = to_ref
        except ValidationError as exc:
            problem = str(exc)

    def carried(r: Region | None) -> list[Point] | None:
        if r is None or problem is not None:
            return None
        return _carry([(float(x), float(y)) for x, y in r.points], to_photo)

    return Job(
        photo_id=p.id,
        sha256=p.sha256,
        width=p.width,
        height=p.height,
        stage=stage,
        sensitivity=float(inputs["sensitivity"]),
        region=carried(marks),
        skin=carried(skin),
        card=_card(p),
        px_per_mm=p.px_per_mm,
        gains=_gains(p),
        inputs=inputs,
        problem=problem,
    )


def jobs(
    lib: Library, ids: Sequence[int], sensitivity: float | None = None
) -> dict[int, Job | str]:
    """A ``Job`` per photo id, or a sentence for an id that is no photo."""
    with lib.session() as s:
        return _jobs(s, ids, sensitivity)


def current_keys(s: Session, ids: Sequence[int]) -> dict[int, str]:
    """The digest of the inputs each photo would be measured from now."""
    return {
        pid: inputs_key(job.inputs) for pid, job in _jobs(s, ids).items() if isinstance(job, Job)
    }


# -- measuring (in a worker) -----------------------------------------------------------------


def _scaled(points: list[Point] | None, k: float, w: int, h: int) -> list[Point] | None:
    if points is None:
        return None
    return clip_to([(x * k, y * k) for x, y in points], w, h)


def _decoded(data: bytes) -> Any:
    """The preview's pixels (H×W×3 RGB, as stored: a preview is upright): OpenCV's decoder,
    the same pixels as Pillow's ``convert("RGB")`` (checked on the bench's preview) in about
    a third of the time (12–18 ms against 40 for a 12 MP photo's preview); Pillow for what
    OpenCV cannot read."""
    # start-up time: OpenCV, numpy and the decoders load in the worker, with the first measure
    import cv2
    import numpy as np
    from PIL import Image  # start-up time: as above

    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if pixels is not None and pixels.ndim == 3:
        return pixels
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _prepared(data: bytes, job: Job) -> tuple[Any, dict[str, Any], float]:
    # start-up time: OpenCV and numpy load in the worker, with the first measure
    import cv2
    import numpy as np

    pixels = _decoded(data)
    h, w = pixels.shape[:2]
    k = w / job.width
    work = WORK_PX_PER_MM / (job.px_per_mm * k) if job.px_per_mm else WORK_LONG_SIDE / max(w, h)
    if work < 0.95:  # measured at the working size (see WORK_PX_PER_MM)
        w, h = max(1, round(w * work)), max(1, round(h * work))
        pixels = np.asarray(cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA))
        k = w / job.width
    region = _scaled(job.region, k, w, h)
    if job.region is not None and (not region or len(region) < 3):
        raise ValidationError(
            "the marks' region falls outside this photo once it follows its alignment."
        )
    skin = _scaled(job.skin, k, w, h)
    if job.skin is not None and (not skin or len(skin) < 3):
        skin = None  # the ring around the marks is compared against instead
    args = {
        "region": region,
        "skin": skin,
        "card": [(x * k, y * k) for x, y in job.card] if job.card else None,
        "px_per_mm": job.px_per_mm * k if job.px_per_mm else None,
        "gains": job.gains,
        "sensitivity": job.sensitivity,
    }
    return pixels, args, k


def _stages(stage: str) -> tuple[str, ...]:
    return ("rubra", "alba") if stage not in ("rubra", "alba") else (stage,)


def work(data: bytes, job: Job) -> Result:
    """Measure one photo from its preview's bytes: (the values, the stage measured as), or a
    sentence saying why it was not measured."""
    if job.problem is not None:
        return job.problem
    # start-up time: OpenCV and numpy load in the worker, with the first measure
    from tracker.core.imaging import marks

    try:
        pixels, args, k = _prepared(data, job)
        best: tuple[MarkMeasures, str] | None = None
        for stage in _stages(job.stage):
            found = marks.measure(pixels, stage=stage, **args)
            if best is None or _stands_out(found) > _stands_out(best[0]):
                best = (found, stage)
        assert best is not None
        values = best[0].as_dict()
        values["mean_width_px"] = float(values["mean_width_px"] or 0.0) / k  # in the original's
        return values, best[1]
    except ValidationError as exc:
        return f"Photo {job.photo_id} was not measured: {_lower(str(exc))}"
    except Exception as exc:  # a photo the engine cannot read must not stop the others
        log.warning("Photo %s could not be measured", job.photo_id, exc_info=exc)
        return f"Photo {job.photo_id} was not measured: its preview could not be read ({exc})."


def _stands_out(m: MarkMeasures) -> float:
    return (m.delta_e00 or 0.0) if m.marks_found else -1.0


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def overlay(data: bytes, job: Job) -> tuple[tuple[int, int], bytes]:
    """The marks found in the photo, as a 1-bit PNG at its preview's size."""
    if job.problem is not None:
        raise ValidationError(job.problem)
    # start-up time: OpenCV and numpy load off the GUI thread, with the first overlay
    from PIL import Image

    # start-up time: as above
    from tracker.core.imaging import marks

    pixels, args, _k = _prepared(data, job)
    best: tuple[Any, float] | None = None
    for stage in _stages(job.stage):
        mask = marks.find_marks(pixels, stage=stage, **args)
        if len(_stages(job.stage)) == 1:
            best = (mask, 0.0)
            break
        score = marks.measure(pixels, stage=stage, **args)
        if best is None or _stands_out(score) > best[1]:
            best = (mask, _stands_out(score))
    assert best is not None
    image = Image.fromarray(best[0]).convert("1")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return (image.width, image.height), out.getvalue()


def from_dict(values: dict[str, Any]) -> MarkMeasures:
    # start-up time: only with measures made, which loaded the engine already
    from tracker.core.imaging.marks import MarkMeasures

    return MarkMeasures(**values)
