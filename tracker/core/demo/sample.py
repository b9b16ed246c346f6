"""The sample library: a believable six-month course, generated in code (nothing downloaded).

The photos go through the real import, so the sample exercises the same path as a user's own
photos (EXIF dates, grouping into visits, thumbnails and previews, the calibration card and the
capture checks). It shows what the app does with them when someone opens it: the abdomen's wide
view has the calibration card beside the marks (a scale in millimetres, a colour balance without
clicking), each view's photos line up automatically with its first, and the fifth visit, taken at
night, has one shaken photo that the capture check warns about.

The marks are measured (issue 18) in each area's wide view: the region is outlined around them
on its first photo, the view's photos are aligned to that one (as *Align all photos of this
view* does) so the region follows them, and every photo is measured, so the Progress tab shows
the marks narrowing and fading. The abdomen's baseline has a retest pair (its wide view taken
twice, a minute apart), which sets its band; the thigh's band is the default. The left thigh is
left untreated as the right thigh's control: photographed at every visit in the same light, its
marks unchanged.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import RaterRole, RatingMethod, Stage, VisitKind
from tracker.core.demo.images import marks_outline, render_area_photo
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import LibraryError
from tracker.core.queries import lookup
from tracker.core.queries.listing import counts
from tracker.core.services import align, clients, measure, ratings, visits
from tracker.core.services.import_report import NewArea
from tracker.core.services.imports import import_files
from tracker.core.store.library import Library

SEED = 20260504
# Days after the baseline of each treatment session: about every four to five weeks.
SESSION_DAYS = (0, 29, 61, 96, 131, 168)
VIEWS = ("front", "close-up")
MEASURED = "front"  # the view the marks are outlined and measured in: the card gives it mm
PRACTITIONER = "Dr. N. Okafor"
# The session photographed at night, by a lamp; one of its photos is shaken (blurred), so the
# capture check has something to warn about. Not the last session: that one is compared most.
EVENING = 4
SHAKEN = ("Lower abdomen", "close-up")
SHAKE_PX = 3.5  # the blur's Gaussian radius in pixels: a clearly soft photo, still alignable


@dataclass(frozen=True)
class DemoArea:
    name: str
    body_site: str
    stage: Stage
    seed: int
    # Colour, texture and depth at baseline and at the last visit (1 = like normal skin).
    start: tuple[float, float, float]
    end: tuple[float, float, float]
    card: bool  # the calibration card lies beside the marks in its wide view
    views: tuple[str, ...] = VIEWS
    retest: bool = False  # its wide view is taken twice at the baseline (the retest pair)
    control_of: str | None = None  # left untreated, as the control of the area of this name

    @property
    def treated(self) -> bool:
        return self.control_of is None


AREAS = (
    DemoArea(
        "Lower abdomen", "abdomen", Stage.RUBRA, 11, (8, 7, 6), (4, 4, 4), card=True, retest=True
    ),
    # The card looks the same in every area's photos: the automatic alignment leaves it out,
    # so one area's photo is never laid on another's by the card alone (tests/core/demo).
    DemoArea("Right thigh", "thigh", Stage.ALBA, 23, (6, 7, 7), (4, 5, 5), card=True),
    # The other thigh, with marks of its own (seed 47: the same skin tone as seed 23's), in
    # its wide view only; named so that it sorts after the treated areas.
    DemoArea(
        "Untreated left thigh",
        "thigh",
        Stage.ALBA,
        47,
        (6, 7, 7),
        (6, 7, 7),
        card=True,
        views=(MEASURED,),
        control_of="Right thigh",
    ),
)
CONTROL_NOTE = (
    "Left untreated as the right thigh's control: photographed at every visit, never needled."
)


def create_demo(
    folder: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Make a sample library in ``folder`` (new or empty) and describe what it holds."""
    folder = Path(folder).expanduser()
    if (folder / DB_NAME).exists():
        raise LibraryError(
            f"{folder} already holds a library; choose a new or empty folder for the sample."
        )
    rng = random.Random(SEED)
    end = (today or dt.date.today()) - dt.timedelta(days=14)
    baseline = end - dt.timedelta(days=SESSION_DAYS[-1])
    dates = [baseline + dt.timedelta(days=d) for d in SESSION_DAYS]
    shots = [
        (spec, view, index, take)
        for spec in AREAS
        for view in spec.views
        for index in range(len(dates))
        for take in range(2 if spec.retest and view == MEASURED and index == 0 else 1)
    ]
    # The measuring at the end counts as much as the photos of one area.
    total_steps = len(shots) + len(dates)
    done = 0
    with Library.open(folder, create=True) as lib, tempfile.TemporaryDirectory() as tmp:
        (me,) = lookup.client_ids(lib, limit=1)
        area_ids: dict[str, int] = {}
        for spec in AREAS:
            for view in spec.views:
                files = []
                for shot in shots:
                    if shot[:2] != (spec, view):
                        continue
                    index, take = shot[2:]
                    files.append(
                        _write_photo(Path(tmp), spec, view, index, dates[index], len(dates), take)
                    )
                    done += 1
                    if progress:
                        progress(done, total_steps)
                report = import_files(
                    lib, files, area_ids.get(spec.name, NewArea(spec.name, me)), view=view
                )
                if report.rejected:  # pragma: no cover - would be a bug in the generator
                    raise LibraryError(report.rejected[0].error)
                assert report.area_id is not None
                area_ids[spec.name] = report.area_id
            clients.update_area(
                lib,
                area_ids[spec.name],
                body_site=spec.body_site,
                stage=spec.stage,
                interval_days=35,
                **({} if spec.treated else {"notes": CONTROL_NOTE}),
            )
        rated = _record_course(lib, me, area_ids, dates, rng)

        def measuring(n: int, total: int) -> None:
            if progress:
                progress(len(shots) + n * len(dates) // total, total_steps)

        measured = _measure(lib, area_ids, measuring)
        held = counts(lib)
    return {"library": str(folder), **held, "ratings": rated, "measured": measured}


def photo_name(spec: DemoArea, view: str, index: int, take: int = 0) -> str:
    """The file name a sample photo is imported from: its area, view and visit, and "_retest"
    for the second photo of a retest pair."""
    return f"{spec.name.replace(' ', '_')}_{view}_{index}{'_retest' if take else ''}.jpg"


def _measure(lib: Library, area_ids: dict[str, int], progress: Callable[[int, int], None]) -> int:
    """Align each area's wide view to its first photo (one run for all, so they share the
    cores), outline the marks on that first photo (the region follows the others through
    their alignment), name the control, and measure every photo of the view, and the close-ups."""
    views = {spec.name: align.view_photo_ids(lib, area_ids[spec.name], MEASURED) for spec in AREAS}
    ids = [pid for view_ids in views.values() for pid in view_ids]
    aligned = align.align_photos(lib, ids)
    if aligned.failed:  # pragma: no cover - would be a bug in the generator
        raise LibraryError(aligned.failed[0].error)
    for spec in AREAS:
        area_id = area_ids[spec.name]
        outline = marks_outline(seed=spec.seed, view=MEASURED)
        measure.set_region(lib, area_id, MEASURED, "marks", outline)
        if spec.control_of is not None:
            measure.set_control(lib, area_ids[spec.control_of], area_id)
    # The close-ups are measured too, over the whole photo (no region drawn, no card: sizes in
    # pixels), so that the sample opens with nothing waiting to be measured.
    close = [
        pid
        for spec in AREAS
        if "close-up" in spec.views
        for pid in align.view_photo_ids(lib, area_ids[spec.name], "close-up")
    ]
    outcome = measure.measure_photos(lib, ids + close, progress=progress)
    if outcome.failed:  # pragma: no cover - would be a bug in the generator
        raise LibraryError(outcome.failed[0][1])
    return len(outcome.measured)


def _write_photo(
    tmp: Path, spec: DemoArea, view: str, index: int, day: dt.date, n: int, take: int = 0
) -> Path:
    evening = index == EVENING
    image = render_area_photo(
        seed=spec.seed,
        visit_index=index,
        n_visits=n,
        view=view,
        stage=spec.stage.value,
        card=spec.card and view == "front",
        evening=evening,
        shake=SHAKE_PX if evening and (spec.name, view) == SHAKEN else 0.0,
        take=take,
        untreated=not spec.treated,
    )
    start = dt.time(21, 40) if evening else dt.time(10, 15)
    # A retest is taken two minutes after the first photo of its view, after the close-up.
    minutes = 3 * index + (view == "close-up") + 2 * take
    shot = dt.datetime.combine(day, start) + dt.timedelta(minutes=minutes)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = shot.strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(0x8769)[0x9011] = "+01:00"
    path = tmp / photo_name(spec, view, index, take)
    image.save(path, "JPEG", quality=90, exif=exif)
    return path


def _record_course(
    lib: Library, me: int, area_ids: dict[str, int], dates: list[dt.date], rng: random.Random
) -> int:
    rated = 0
    n = len(dates)
    for index, day in enumerate(dates):
        kind = VisitKind.BASELINE if index == 0 else VisitKind.TREATMENT
        visit = visits.record_visit(
            lib,
            me,
            day,
            kind=kind,
            notes="Baseline photos before the first session." if index == 0 else "",
        )
        for spec in AREAS:
            if not spec.treated:  # photographed only: never needled, nor rated
                continue
            area_id = area_ids[spec.name]
            if index > 0:
                visits.set_treatment(
                    lib,
                    visit.visit_id,
                    area_id,
                    TreatmentInput(
                        device="pen",
                        needle_depth_mm=round(min(0.8 + 0.25 * index, 2.0), 2),
                        passes=3,
                        topical="PRP" if index % 2 else "hyaluronic acid",
                        anaesthetic="lidocaine 5% cream",
                        reaction="erythema, pinpoint bleeding",
                        pain=rng.randint(3, 6),
                        downtime_days=rng.randint(2, 4),
                        practitioner=PRACTITIONER,
                    ).given(),
                )
            progress = index / (n - 1)
            for role, bias in ((RaterRole.PATIENT, -0.3), (RaterRole.PRACTITIONER, 0.3)):
                values: dict[str, float | None] = {
                    key: _score(start + (stop - start) * progress + bias, rng)
                    for key, start, stop in zip(
                        ("colour", "texture", "depth"), spec.start, spec.end, strict=True
                    )
                }
                ratings.rate(
                    lib,
                    visit.visit_id,
                    area_id,
                    role,
                    values,
                    rater_name=PRACTITIONER if role is RaterRole.PRACTITIONER else "",
                    method=RatingMethod.IN_PERSON,
                )
                rated += 1
            if index > 0:
                improvement = round(min(10.0, max(0.0, 7 * progress + rng.uniform(-0.8, 0.8))), 1)
                ratings.rate(
                    lib,
                    visit.visit_id,
                    area_id,
                    RaterRole.PATIENT,
                    {"overall": improvement},
                    scale="improvement-vas",
                )
                rated += 1
    return rated


def _score(value: float, rng: random.Random) -> int:
    return int(min(10, max(1, round(value + rng.uniform(-0.6, 0.6)))))
