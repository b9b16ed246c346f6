"""A course rated as clinics rate one: the patient on ctd, POSAS patient and the improvement
VAS; two named practitioners on POSAS observer and GAIS, one of them from photos."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tracker.core.db.models import RaterRole, RatingMethod
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.queries import browse
from tracker.core.services import clients
from tracker.core.store.library import Library

DAYS = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3), dt.date(2025, 3, 31)]
NOTE = "Visit {n}: tolerated well & asked about sun care <i>before</i> the next session."


def photo(path: Path, day: dt.date, seed: int) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
    Image.effect_noise((320, 240), 30 + seed).convert("RGB").save(path, exif=exif)
    return path


def _rate(
    lib: Library, day: dt.date, scale: str, role: RaterRole, name: str = "", **values: float
) -> None:
    h.rate(
        lib,
        area="Lower abdomen",
        day=day,
        role=role,
        values=values,
        scale=scale,
        rater_name=name,
        method=RatingMethod.PHOTOS if name == "Dr Kim" else RatingMethod.IN_PERSON,
    )


@pytest.fixture
def course(library: Library, tmp_path: Path) -> Library:
    clients.update_client(library, browse.clients(library)[0].id, name="Ana Lima")
    files = [photo(tmp_path / f"p{i}.jpg", d, i) for i, d in enumerate(DAYS)]
    h.import_files(library, files, area="Lower abdomen")
    for i, day in enumerate(DAYS):
        if i:
            h.add_visit(
                library,
                day=day,
                area="Lower abdomen",
                notes=NOTE.format(n=i),
                treatment=TreatmentInput(device="pen", needle_depth_mm=1.0 + i / 10, pain=3),
            )

        rate = partial(_rate, library, day)
        rate("ctd", RaterRole.PATIENT, colour=8 - i, texture=7 - i, depth=6 - i)
        for name, offset in (("Dr Lee", 0), ("Dr Kim", 1)):
            rate(
                "posas2-observer",
                RaterRole.PRACTITIONER,
                name,
                vascularity=6 - i + offset,
                pigmentation=7 - i,
                thickness=5,
                relief=6 - i,
                pliability=5,
                surface_area=4,
                overall=7 - i,
            )
            if i:
                rate("gais", RaterRole.PRACTITIONER, name, overall=max(1, 4 - i + offset))
        rate(
            "posas2-patient",
            RaterRole.PATIENT,
            pain=3,
            itching=5 - i,
            colour=8 - i,
            stiffness=6,
            thickness=6 - i,
            irregularity=7,
            overall=8 - i,
        )
        if i:
            rate("improvement-vas", RaterRole.PATIENT, overall=2 * i + 0.5)
    return library


def area_id(lib: Library) -> int:
    return browse.areas(lib, browse.clients(lib)[0].id)[0].id
