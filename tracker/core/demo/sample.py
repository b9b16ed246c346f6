"""The sample library: a believable six-month course, generated in code (nothing downloaded).

The photos go through the real import, so the sample exercises the same path as a user's own
photos (EXIF dates, grouping into visits, thumbnails and previews).
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

from tracker.core.db.models import Area, RaterRole, RatingMethod, Stage, VisitKind
from tracker.core.demo.images import render_area_photo
from tracker.core.errors import LibraryError
from tracker.core.store.library import DB_NAME, Library, TreatmentInput

SEED = 20260504
# Days after the baseline of each treatment session: about every four to five weeks.
SESSION_DAYS = (0, 29, 61, 96, 131, 168)
VIEWS = ("front", "close-up")
PRACTITIONER = "Dr. N. Okafor"


@dataclass(frozen=True)
class DemoArea:
    name: str
    body_site: str
    stage: Stage
    seed: int
    # Colour, texture and depth at baseline and at the last visit (1 = like normal skin).
    start: tuple[float, float, float]
    end: tuple[float, float, float]


AREAS = (
    DemoArea("Lower abdomen", "abdomen", Stage.RUBRA, 11, (8, 7, 6), (4, 4, 4)),
    DemoArea("Right thigh", "thigh", Stage.ALBA, 23, (6, 7, 7), (4, 5, 5)),
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
    total_photos = len(AREAS) * len(VIEWS) * len(dates)
    done = 0
    with Library.open(folder, create=True) as lib, tempfile.TemporaryDirectory() as tmp:
        for spec in AREAS:
            for view in VIEWS:
                files = []
                for index, day in enumerate(dates):
                    files.append(_write_photo(Path(tmp), spec, view, index, day, len(dates)))
                    done += 1
                    if progress:
                        progress(done, total_photos)
                report = lib.import_files(files, area=spec.name, view=view)
                if report.rejected:  # pragma: no cover - would be a bug in the generator
                    raise LibraryError(report.rejected[0].error)
            _describe_area(lib, spec)
        ratings = _record_course(lib, dates, rng)
        counts = lib.counts()
    return {"library": str(folder), **counts, "ratings": ratings}


def _write_photo(tmp: Path, spec: DemoArea, view: str, index: int, day: dt.date, n: int) -> Path:
    image = render_area_photo(
        seed=spec.seed, visit_index=index, n_visits=n, view=view, stage=spec.stage.value
    )
    shot = dt.datetime.combine(day, dt.time(10, 15)) + dt.timedelta(
        minutes=3 * index + (view == "close-up")
    )
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = shot.strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(0x8769)[0x9011] = "+01:00"
    path = tmp / f"{spec.name.replace(' ', '_')}_{view}_{index}.jpg"
    image.save(path, "JPEG", quality=90, exif=exif)
    return path


def _describe_area(lib: Library, spec: DemoArea) -> None:
    with lib.session() as s:
        area: Area = lib.resolve_area(s, lib.resolve_client(s, None), spec.name)
        area.body_site = spec.body_site
        area.stage = spec.stage
        area.interval_days = 35


def _record_course(lib: Library, dates: list[dt.date], rng: random.Random) -> int:
    ratings = 0
    n = len(dates)
    for index, day in enumerate(dates):
        kind = VisitKind.BASELINE if index == 0 else VisitKind.TREATMENT
        lib.add_visit(
            client=None,
            day=day,
            kind=kind,
            notes="Baseline photos before the first session." if index == 0 else "",
        )
        for spec in AREAS:
            if index > 0:
                lib.add_visit(
                    client=None,
                    day=day,
                    area=spec.name,
                    treatment=TreatmentInput(
                        device="pen",
                        needle_depth_mm=round(min(0.8 + 0.25 * index, 2.0), 2),
                        passes=3,
                        topical="PRP" if index % 2 else "hyaluronic acid",
                        anaesthetic="lidocaine 5% cream",
                        reaction="erythema, pinpoint bleeding",
                        pain=rng.randint(3, 6),
                        downtime_days=rng.randint(2, 4),
                        practitioner=PRACTITIONER,
                    ),
                )
            progress = index / (n - 1)
            for role, bias in ((RaterRole.PATIENT, -0.3), (RaterRole.PRACTITIONER, 0.3)):
                values = {
                    key: _score(start + (stop - start) * progress + bias, rng)
                    for key, start, stop in zip(
                        ("colour", "texture", "depth"), spec.start, spec.end, strict=True
                    )
                }
                lib.rate(
                    client=None,
                    area=spec.name,
                    day=day,
                    role=role,
                    values=values,
                    rater_name=PRACTITIONER if role is RaterRole.PRACTITIONER else "",
                    method=RatingMethod.IN_PERSON,
                )
                ratings += 1
            if index > 0:
                lib.rate(
                    client=None,
                    area=spec.name,
                    day=day,
                    role=RaterRole.PATIENT,
                    scale="improvement-vas",
                    values={
                        "overall": round(
                            min(10.0, max(0.0, 7 * progress + rng.uniform(-0.8, 0.8))), 1
                        )
                    },
                )
                ratings += 1
    return ratings


def _score(value: float, rng: random.Random) -> int:
    return int(min(10, max(1, round(value + rng.uniform(-0.6, 0.6)))))
