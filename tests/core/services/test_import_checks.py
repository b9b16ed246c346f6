"""Capture checks and the calibration card at import (services.imports): stored on the photo,
judged against the reference photo of its area and view, carried in the import's report and
in the rows the window lists; a file that is not a photo still never stops the batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.imaging import synthetic as syn
from tracker.core.db.models import Photo, ReferencePhoto
from tracker.core.queries import browse
from tracker.core.services.imports import NewArea, import_files
from tracker.core.store.library import Library

SIZE = (1200, 900)
BELLY = NewArea("Belly", "Ann")


def _jpeg(path: Path, image: Image.Image, day: str) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day.replace('-', ':')} 10:00:00"
    image.save(path, "JPEG", quality=92, exif=exif)
    return path


def _skin(seed: int, blur: float = 0.0, exposure: float = 1.0) -> Image.Image:
    shot = syn.Shot(np.eye(3), SIZE, blur=blur, exposure=exposure, seed=seed)
    return syn.photograph(syn.skin(3, SIZE), shot)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("checks")
    card = syn.card_photo(2, 8.0, angle_deg=10, tilt_deg=10, frame=(1600, 1200))
    dim_card = syn.card_photo(2, 8.0, exposure=0.75, frame=(1600, 1200))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    return {
        "first": _jpeg(folder / "first.jpg", _skin(1), "2026-01-05"),
        "sharp": _jpeg(folder / "sharp.jpg", _skin(2), "2026-02-02"),
        "blurred": _jpeg(folder / "blurred.jpg", _skin(3, blur=3.0), "2026-03-02"),
        "clipped": _jpeg(folder / "clipped.jpg", _skin(4, exposure=3.0), "2026-04-06"),
        "broken": folder / "broken.jpg",
        "card": _jpeg(folder / "card.jpg", card.image, "2026-01-05"),
        "dim_card": _jpeg(folder / "dim_card.jpg", dim_card.image, "2026-02-02"),
        "card_truth": Path(str(card.px_per_mm)),
    }


def _photo(lib: Library, photo_id: int) -> Photo:
    with lib.session() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        s.expunge(photo)
        return photo


def test_checks_are_judged_against_the_first_photo_of_the_view(
    library: Library, files: dict[str, Path]
) -> None:
    names = ["first", "sharp", "blurred", "broken", "clipped"]
    report = import_files(library, [files[n] for n in names], BELLY, view="front")
    assert [Path(r.file).name for r in report.rejected] == ["broken.jpg"]
    by_name = {Path(i.file).stem: i for i in report.imported}
    assert list(by_name) == ["first", "sharp", "blurred", "clipped"]
    first = by_name["first"]
    assert first.quality is not None and first.quality["reference_id"] is None
    assert first.capture_warnings == () and first.px_per_mm is None
    assert by_name["sharp"].capture_warnings == ()
    assert by_name["sharp"].quality is not None
    assert by_name["sharp"].quality["reference_id"] == first.photo_id
    (blur_warning,) = by_name["blurred"].capture_warnings
    assert "as sharp as the reference photo" in blur_warning
    assert any(
        "so bright that its colour is lost" in w for w in by_name["clipped"].capture_warnings
    )
    # The report names the file for the command line; the rows of the window do not.
    assert report.capture_warnings[0] == f"{files['blurred']}: {blur_warning}"
    stored = _photo(library, by_name["blurred"].photo_id)
    assert stored.quality == by_name["blurred"].quality and stored.px_per_mm is None
    assert stored.card is None and stored.colour_gains is None
    row = browse.photo(library, by_name["blurred"].photo_id)
    assert row.warnings == (blur_warning,) and row.px_per_mm is None
    assert browse.photo(library, first.photo_id).warnings == ()


def test_the_reference_photo_of_the_view_is_the_one_judged_against(
    library: Library, files: dict[str, Path]
) -> None:
    report = import_files(library, [files["blurred"]], BELLY, view="front")
    blurred = report.imported[0]
    assert blurred.quality is not None and blurred.quality["reference_id"] is None
    # The blurred photo made the reference: a sharp one is not less sharp than it.
    with library.session() as s:
        s.add(ReferencePhoto(area_id=report.area_id, view="front", photo_id=blurred.photo_id))
    sharp = import_files(library, [files["sharp"]], BELLY, view="front").imported[0]
    assert sharp.quality is not None and sharp.quality["reference_id"] == blurred.photo_id
    assert sharp.capture_warnings == ()
    # Another view has its own first photo.
    side = import_files(library, [files["first"]], BELLY, view="side").imported[0]
    assert side.quality is not None and side.quality["reference_id"] is None


def test_the_card_gives_the_scale_and_the_colour_gains(
    library: Library, files: dict[str, Path]
) -> None:
    report = import_files(library, [files["card"], files["dim_card"]], BELLY, view="card")
    card, dim = report.imported
    truth = float(files["card_truth"].name)
    assert card.px_per_mm is not None and abs(card.px_per_mm / truth - 1) < 0.01
    stored = _photo(library, card.photo_id)
    assert stored.px_per_mm == card.px_per_mm and stored.card is not None
    assert stored.card["markers"] == 4 and len(stored.card["corners"]) == 4
    assert stored.colour_gains is not None  # white balance from its own mid patch
    mid = stored.card["patches"]["mid"]
    balanced = [v * g for v, g in zip(mid, stored.colour_gains, strict=True)]
    assert max(balanced) - min(balanced) < 1.0
    # The darker photo's gains bring its mid patch to the reference's level.
    later = _photo(library, dim.photo_id)
    assert later.card is not None and later.colour_gains is not None
    level = sum(mid) / 3
    lifted = [v * g for v, g in zip(later.card["patches"]["mid"], later.colour_gains, strict=True)]
    assert all(abs(v - level) < 1.0 for v in lifted)
    assert browse.photo(library, card.photo_id).px_per_mm == card.px_per_mm


def test_a_small_card_in_a_large_photo_is_found_in_a_second_larger_decode(
    library: Library, tmp_path: Path
) -> None:
    """At 4 px/mm in a 3200 px photo the card's markers are 7 px in the import's eighth-size
    decode, too small to read; the photo has the card's black and white, so it is decoded
    again, larger, and the card is found at its true scale."""
    shot = syn.card_photo(5, 4.0, angle_deg=8, tilt_deg=12, frame=(3200, 2400))
    path = _jpeg(tmp_path / "small-card.jpg", shot.image, "2026-01-05")
    report = import_files(library, [path], BELLY)
    found = report.imported[0].px_per_mm
    assert found is not None and abs(found / shot.px_per_mm - 1) < 0.01
