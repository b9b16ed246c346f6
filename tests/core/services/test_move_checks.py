"""A photo moved to another area or view is judged against its new group's reference: its
sharpness warning judged again from the stored figure, its framing dropped (it was measured
against the old reference), its own checks kept; the photos left behind that were judged
against it are judged again too; and the undo puts every verdict back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from tests import helpers as h
from tracker.core.db.models import Photo
from tracker.core.imaging import verdicts
from tracker.core.services import move
from tracker.core.store.library import Library

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 4, 6), dt.date(2026, 5, 11)
GLARE = "12 % of this photo is so bright that its colour is lost: take it again."
FRAMING = {
    "check": "framing",
    "value": 14.0,
    "unit": "%",
    "warned": True,
    "message": "Step back a little.",
}


def _photo(folder: Path, name: str, day: dt.date, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
    path = folder / name
    Image.effect_noise((96, 72), 20 + seed).convert("RGB").save(path, "JPEG", exif=exif)
    return path


def _quality(
    sharpness: float, reference: tuple[int, float] | None, glare: bool = False, framed: bool = False
) -> dict[str, Any]:
    checks = [verdicts.sharpness_check(sharpness, reference[1] if reference else None)]
    checks.append(verdicts.check("highlights", 12.0 if glare else 0.1, "%", GLARE if glare else ""))
    if framed:
        checks.append(dict(FRAMING))
    return {"reference_id": reference[0] if reference else None, "checks": checks}


@pytest.fixture
def course(library: Library, tmp_path: Path) -> dict[str, int]:
    """Belly: b0 (D1, sharpness 100, the first), b1 (D2, 80) and b2 (D3, 30: blurred against
    b0, with glare and a framing warning), each judged against b0; Thigh: t (D2, 20)."""
    files = [_photo(tmp_path / "in", f"b{i}.jpg", d, i) for i, d in enumerate((D1, D2, D3))]
    belly = h.import_files(library, files, area="Belly")
    thigh = h.import_files(library, [_photo(tmp_path / "in", "t.jpg", D2, 9)], area="Thigh")
    ids = {f"b{i}": r.photo_id for i, r in enumerate(belly.imported)}
    ids["t"] = thigh.imported[0].photo_id
    assert thigh.area_id is not None
    ids["thigh"] = thigh.area_id
    b0 = (ids["b0"], 100.0)
    with library.session() as s:
        for key, quality in (
            ("b0", _quality(100.0, None)),
            ("b1", _quality(80.0, b0, framed=True)),
            ("b2", _quality(30.0, b0, glare=True, framed=True)),
            ("t", _quality(20.0, None)),
        ):
            p = s.get(Photo, ids[key])
            assert p is not None
            p.quality = quality
    return ids


def _qualities(lib: Library) -> dict[int, Any]:
    with lib.session() as s:
        return {p.id: p.quality for p in s.scalars(select(Photo))}


def _checks(quality: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in quality["checks"]}


def test_a_moved_photo_is_judged_against_its_new_areas_reference(
    library: Library, course: dict[str, int]
) -> None:
    before = _qualities(library)
    old = _checks(before[course["b2"]])
    assert old["sharpness"]["warned"] and "30 %" in old["sharpness"]["message"]
    undo = move.move_photos(library, [course["b2"]], area_id=course["thigh"])
    moved = _qualities(library)[course["b2"]]
    checks = _checks(moved)
    # Judged against Thigh's first photo now (20): sharper than it, so no warning.
    assert moved["reference_id"] == course["t"]
    assert checks["sharpness"]["value"] == 30.0 and not checks["sharpness"]["warned"]
    assert "framing" not in checks  # measured against Belly's reference: meaningless here
    assert checks["highlights"] == old["highlights"]  # the photo's own: kept as measured
    assert list(checks) == ["sharpness", "highlights"]
    move.unmove(library, undo)
    assert _qualities(library) == before


def test_a_moved_photo_that_is_less_sharp_than_the_new_reference_warns_in_its_terms(
    library: Library, course: dict[str, int]
) -> None:
    with library.session() as s:
        t = s.get(Photo, course["t"])
        assert t is not None
        t.quality = _quality(200.0, None)
    b2 = _checks(_qualities(library)[course["b2"]])["sharpness"]
    assert "30 % as sharp" in b2["message"]  # of Belly's first photo
    move.move_photos(library, [course["b2"]], area_id=course["thigh"])
    sharp = _checks(_qualities(library)[course["b2"]])["sharpness"]
    assert sharp["warned"] and "15 % as sharp" in sharp["message"]  # of Thigh's (200)


def test_the_first_photo_moved_away_leaves_the_others_judged_against_the_next(
    library: Library, course: dict[str, int]
) -> None:
    before = _qualities(library)
    undo = move.move_photos(library, [course["b0"]], area_id=course["thigh"])
    after = _qualities(library)
    # b1 is Belly's first photo now: its figure is the one held to, and it never warns.
    assert after[course["b1"]]["reference_id"] is None
    assert not _checks(after[course["b1"]])["sharpness"]["warned"]
    # b2 is judged against b1 (80): 30 of it is 38 %, still a warning, in the new terms.
    assert after[course["b2"]]["reference_id"] == course["b1"]
    sharp = _checks(after[course["b2"]])["sharpness"]
    assert sharp["warned"] and "38 % as sharp" in sharp["message"]
    # Their framing was measured against the alignment's reference, which the move handles.
    assert _checks(after[course["b2"]])["highlights"] == _checks(before[course["b2"]])["highlights"]
    # b0, now Thigh's earliest photo, is the figure there itself.
    assert after[course["b0"]]["reference_id"] is None
    assert after[course["t"]] == before[course["t"]]
    move.unmove(library, undo)
    assert _qualities(library) == before


def test_a_move_to_another_visit_of_the_same_view_keeps_every_verdict(
    library: Library, course: dict[str, int]
) -> None:
    before = _qualities(library)
    move.move_photos(library, [course["b2"]], day=D2 + dt.timedelta(days=3))
    assert _qualities(library) == before
