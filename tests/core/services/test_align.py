"""Automatic alignment as a service (``services.align``) on generated skin whose registration
is known: stored with how it was made, relative to the reference, composed through ``to``,
refused with sentences, cancelled without storing, and never on a read-only library."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import helpers as h
from tests.core.imaging import synthetic as syn
from tracker.core.errors import ReadOnlyLibrary, UsageError, ValidationError
from tracker.core.imaging import geometry as al
from tracker.core.queries import browse
from tracker.core.services import align, photos
from tracker.core.store.library import Library

SIZE = (640, 480)
DIAGONAL = math.hypot(*SIZE)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], np.ndarray]:
    """The reference, the same skin taken again, a third of it turned by a known similarity
    from the second, and another person's skin; the second's truth returned."""
    folder = tmp_path_factory.mktemp("shots")
    again = syn.pair(5, SIZE)
    other = syn.unrelated_pair(1, SIZE)
    assert again.truth is not None
    turn = al.compose(al.scale(1.05), _turn(4.0))  # third → second
    third = again.photo.transform(
        SIZE, Image.Transform.AFFINE, turn[:6], Image.Resampling.BICUBIC, fillcolor=(200, 160, 140)
    )
    files = []
    for i, (image, day) in enumerate(
        [
            (again.reference, "01-05"),
            (again.photo, "02-02"),
            (third, "03-02"),
            (other.photo, "04-06"),
        ]
    ):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2026:{day.replace('-', ':')} 10:00:00"
        path = folder / f"{i}.jpg"
        image.save(path, "JPEG", quality=92, exif=exif)
        files.append(path)
    return files, again.truth @ np.array(turn).reshape(3, 3)  # second's truth, and third's


def _turn(deg: float) -> al.Matrix:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    cx, cy = SIZE[0] / 2, SIZE[1] / 2
    return al.affine_matrix(c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy)


@pytest.fixture
def ids(library: Library, shots: tuple[list[Path], np.ndarray]) -> list[int]:
    return [r.photo_id for r in h.import_files(library, shots[0], area="Belly").imported]


def _error(m: al.Matrix, truth: np.ndarray) -> float:
    return syn.corner_error(np.array(m).reshape(3, 3), truth, SIZE) / DIAGONAL


def test_photos_are_aligned_and_stored_relative_to_the_earliest(
    library: Library, ids: list[int], shots: tuple[list[Path], np.ndarray]
) -> None:
    truth_third = shots[1]
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int) -> None:
        with lock:
            seen.append((done, total))

    outcome = align.align_photos(library, ids, progress=progress)
    assert not outcome.cancelled
    first, second, third = outcome.aligned
    assert first.photo_id == ids[0] and first.alignment.method == "reference"
    assert first.alignment.matrix == al.IDENTITY and first.quality == "exact"
    assert [a.reference_id for a in outcome.aligned] == [ids[0]] * 3
    (failed,) = outcome.failed
    assert failed.photo_id == ids[3] and "landmarks" in failed.error
    assert failed.error.startswith(f"Photo {ids[3]} was not aligned to photo {ids[0]}: ")
    assert sorted(seen)[-1] == (4, 4) and len(seen) == 3  # the reference is done at once
    assert outcome.references == ((browse.photo(library, ids[0]).area_id, "front", ids[0]),)

    stored = {p.id: p for p in browse.compare_photos(library, ids)}
    assert stored[ids[0]].is_reference and stored[ids[0]].alignment is None
    assert stored[ids[3]].alignment is None
    for a in (second, third):
        found = stored[a.photo_id].alignment
        assert found == a.alignment and found.method == "auto"
        assert found.points is not None and found.points >= 50
        assert found.words().startswith("Aligned automatically: ")
    assert _error(third.alignment.matrix, truth_third) <= 0.002
    # the framing check is in the photo's quality, and goes when the alignment is cleared
    quality = _quality(library, ids[2])
    assert quality is not None and quality["reference_id"] == ids[0]
    checks = quality["checks"]
    assert isinstance(checks, list) and checks[-1]["check"] == "framing"
    assert checks[-1]["unit"] and isinstance(checks[-1]["warned"], bool)
    photos.set_alignments(library, {ids[2]: None})
    after = _quality(library, ids[2])
    assert after is not None and after["checks"] == checks[:-1]


def _quality(library: Library, photo_id: int) -> dict[str, object] | None:
    from tracker.core.db.models import Photo

    with library.session() as s:
        p = s.get(Photo, photo_id)
        assert p is not None
        return p.quality


def test_to_another_photo_composes_with_its_own_alignment(
    library: Library, ids: list[int], shots: tuple[list[Path], np.ndarray]
) -> None:
    with pytest.raises(UsageError, match="Give the photos"):
        align.align_photos(library, [])
    # the second is not aligned yet, and the first is the reference: refused, with a sentence
    photos.set_reference_photo(library, browse.photo(library, ids[0]).area_id, "front", ids[0])
    early = align.align_photos(library, [ids[2]], to=ids[1])
    assert early.aligned == () and "not aligned to the reference photo" in early.failed[0].error
    align.align_photos(library, [ids[1]])
    outcome = align.align_photos(library, [ids[2], ids[0]], to=ids[1])
    third, reference = outcome.aligned
    assert third.reference_id == ids[1] and reference.alignment.method == "reference"
    assert _error(third.alignment.matrix, shots[1]) <= 0.003  # through the second, to the first
    assert browse.compare_photos(library, [ids[0]])[0].alignment is None


def test_store_false_computes_only_and_a_cancel_stores_nothing(
    library: Library, ids: list[int]
) -> None:
    computed = align.align_photos(library, ids[:2], store=False)
    assert len(computed.alignments()) == 1
    assert browse.compare_photos(library, [ids[1]])[0].alignment is None
    asked: list[bool] = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 1

    stopped = align.align_photos(library, ids, cancelled=cancelled)
    assert stopped.cancelled and asked
    assert all(p.alignment is None for p in browse.compare_photos(library, ids))
    # the window applies what it computed through the undoable command's service
    old, old_refs = photos.set_alignments(library, computed.alignments(), computed.references)
    assert browse.compare_photos(library, [ids[1]])[0].alignment == computed.alignments()[ids[1]]
    photos.set_alignments(library, old, old_refs)
    assert browse.reference_photo(library, browse.photo(library, ids[0]).area_id, "front") is None
    # a homography whose horizon crosses the photo is refused, with a sentence
    folding = al.Alignment((1, 0, 0, 0, 1, 0, -0.002, 0, 1), "auto", "homography", 50, 1.0)
    with pytest.raises(ValidationError, match="fold part of the photo"):
        photos.set_alignments(library, {ids[1]: folding})


def test_a_read_only_library_refuses_to_store_but_computes(
    tmp_path: Path, shots: tuple[list[Path], np.ndarray]
) -> None:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        ids = [r.photo_id for r in h.import_files(lib, shots[0][:2], area="Belly").imported]
    with Library.open(root, read_only=True) as lib:
        with pytest.raises(ReadOnlyLibrary):
            align.align_photos(lib, ids)
        assert len(align.align_photos(lib, ids, store=False).alignments()) == 1


def test_a_view_is_its_photos_oldest_first_and_landmarks_from_numbers_store_too(
    library: Library, ids: list[int]
) -> None:
    area = browse.photo(library, ids[0]).area_id
    assert align.view_photo_ids(library, area, "front") == ids
    assert align.view_photo_ids(library, area, "left") == []
    marks = [(100.0, 100.0), (500.0, 120.0), (320.0, 400.0)]
    turn = _turn(3.0)
    points = {ids[0]: marks, ids[1]: [al.apply(al.invert(turn), p) for p in marks]}
    outcome = align.align_by_points(library, [ids[1], ids[2]], points)
    (done,) = outcome.aligned
    assert done.alignment.method == "landmarks" and done.alignment.model == "affine"
    assert al.apply(done.alignment.matrix, points[ids[1]][2]) == pytest.approx(marks[2])
    assert "There are no points for photo" in outcome.failed[0].error
    stored = browse.compare_photos(library, [ids[1]])[0].alignment
    assert (
        stored is not None and stored.words() == "Aligned on 3 points; they agree within 1 pixel."
    )
    outside = {ids[0]: marks, ids[2]: [(-5.0, 3.0), (10.0, 10.0), (20.0, 30.0)]}
    refused = align.align_by_points(library, [ids[2]], outside)
    assert "outside photo" in refused.failed[0].error and "640×480" in refused.failed[0].error


def test_two_people_with_a_card_in_each_photo_are_not_aligned_on_the_card(
    library: Library, tmp_path: Path
) -> None:
    """The card is laid down afresh each time, so it marks no skin: its features are left out,
    and two people's photos that share only the card are refused, not aligned by it."""
    from tracker.core.demo import card_art

    size = (1024, 768)
    other = syn.unrelated_pair(1, size)
    files = []
    for i, image in enumerate((other.reference, other.photo)):
        picture = image.convert("RGB")
        where = card_art.CardPlacement((760, 560), 6.0 + i, 8.0, 30.0, 2.4)
        card_art.draw_card(picture, where)
        path = tmp_path / f"card{i}.jpg"
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2026:0{i + 1}:05 10:00:00"
        picture.save(path, "JPEG", quality=92, exif=exif)
        files.append(path)
    ids = [r.photo_id for r in h.import_files(library, files, area="Belly").imported]
    shown = browse.compare_photos(library, ids)
    assert all(p.px_per_mm for p in shown), "the card is found in both"
    outcome = align.align_photos(library, [ids[1]], store=False)
    assert not outcome.alignments() and [f.photo_id for f in outcome.failed] == [ids[1]]


def test_features_found_in_processes_of_their_own_give_the_same_alignments(
    library: Library, ids: list[int]
) -> None:
    """The window finds the features in another process (so that its own thread keeps the
    interpreter): the results are the same as in threads, refusals included."""
    here = align.align_photos(library, ids, store=False)
    there = align.align_photos(library, ids, store=False, processes=1)
    assert there.alignments() == here.alignments() and len(here.alignments()) == 2
    assert [f.photo_id for f in there.failed] == [f.photo_id for f in here.failed] == [ids[3]]
    assert [f.error for f in there.failed] == [f.error for f in here.failed]
