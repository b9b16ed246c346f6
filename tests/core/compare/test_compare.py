"""Comparison exports: geometry from stored alignment, every mode, and nothing private written."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageStat, JpegImagePlugin

from tests import helpers as h
from tracker.core.compare.render import CompareOptions, export, placement, render
from tracker.core.errors import UsageError, ValidationError
from tracker.core.imaging import geometry as al
from tracker.core.queries import browse
from tracker.core.services import photos
from tracker.core.store.library import Library

SECRET = "GPS-Secret-Clinic-Device-XYZ"
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    + SECRET.encode()
    + b"</x:xmpmeta>"
)


def _scene(shift: tuple[int, int] = (0, 0), angle: float = 0.0) -> Image.Image:
    """A pale field with a red stripe (its ends are the landmarks), moved by a known amount."""
    im = Image.new("RGB", (800, 600), (220, 180, 160))
    draw = ImageDraw.Draw(im)
    draw.line([(200, 400), (600, 250)], fill=(170, 60, 90), width=14)
    base = im.rotate(
        angle, resample=Image.Resampling.BICUBIC, translate=shift, fillcolor=(220, 180, 160)
    )
    return base


def _private_jpeg(path: Path, image: Image.Image, taken: str) -> Path:
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0110] = SECRET  # Model
    exif.get_ifd(0x8769)[0x9003] = taken
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)
    image.save(path, "JPEG", exif=exif, comment=SECRET.encode(), xmp=XMP, quality=92)
    return path


@pytest.fixture
def pair(library: Library, tmp_path: Path) -> tuple[int, int]:
    a = _private_jpeg(tmp_path / "a.jpg", _scene(), "2025:01:10 10:00:00")
    b = _private_jpeg(tmp_path / "b.jpg", _scene(shift=(30, -20)), "2025:03:10 10:00:00")
    report = h.import_files(library, [a, b], area="Belly")
    return report.imported[0].photo_id, report.imported[1].photo_id


@pytest.mark.parametrize("name", ["out.png", "out.jpg"])
@pytest.mark.parametrize("mode", ["side", "wipe", "overlay", "difference"])
def test_exports_carry_no_metadata_from_the_sources(
    library: Library, pair: tuple[int, int], tmp_path: Path, name: str, mode: str
) -> None:
    out = tmp_path / name
    export(library, list(pair), out, CompareOptions(mode=mode, caption="Before and after"))
    data = out.read_bytes()
    for needle in (
        SECRET.encode(),
        b"SecretPhoneMaker",
        b"Exif",
        b"xpacket",
        b"ICC_PROFILE",
        b"tEXt",
        b"iTXt",
        b"zTXt",
        b"eXIf",
    ):
        assert needle not in data, needle
    with Image.open(out) as im:
        assert not im.getexif()
        assert "comment" not in im.info and "icc_profile" not in im.info and "xmp" not in im.info
        if name.endswith(".jpg"):
            assert isinstance(im, JpegImagePlugin.JpegImageFile)
            assert im.app.keys() <= {"APP0"}  # JFIF only
    assert not list(tmp_path.glob(".*.part"))


def test_side_by_side_of_three_and_labels(library: Library, pair: tuple[int, int]) -> None:
    two = render(library, list(pair), CompareOptions(labels=False))
    assert two.size == (800 * 2 + 8, 600)
    three = render(library, [*pair, pair[0]], CompareOptions())
    assert three.width == 800 * 3 + 16 and three.height > 600


def test_landmark_alignment_makes_the_difference_vanish(
    library: Library, pair: tuple[int, int]
) -> None:
    a, b = pair
    unaligned = render(library, [a, b], CompareOptions(mode="difference", labels=False, amplify=1))
    # Landmarks: the stripe's ends, seen in b shifted by (30, -20).
    src = [(230.0, 380.0), (630.0, 230.0)]
    dst = [(200.0, 400.0), (600.0, 250.0)]
    fit = al.fit(src, dst)
    assert fit.max_error < 0.5
    photos.set_reference_photo(library, browse.photo(library, a).area_id, "front", a)
    photos.set_alignments(library, {b: al.Alignment(fit.matrix, "landmarks", fit.model, 2, 0.0)})
    aligned = render(
        library, [a, b], CompareOptions(mode="difference", labels=False, amplify=1, aligned=True)
    )
    inner = (60, 60, 740, 540)  # away from the edges the shift leaves empty
    before = ImageStat.Stat(unaligned.crop(inner).convert("L")).mean[0]
    after = ImageStat.Stat(aligned.crop(inner).convert("L")).mean[0]
    assert after < before / 4 and after < 2.0


def test_a_homography_alignment_makes_a_tilted_photo_vanish_too(
    library: Library, tmp_path: Path
) -> None:
    """b is a seen through a perspective (the phone tilted): aligned by that homography, the
    difference export shows nearly nothing, as it does for a shift."""
    tilt: al.Matrix = (1.03, 0.04, -12.0, -0.02, 0.99, 9.0, 4e-5, -3e-5, 1.0)  # b → a
    scene = _scene()
    # Pillow samples the source at data(x, y) for each output pixel: b(x, y) = a(tilt(x, y))
    tilted = scene.transform(
        scene.size,
        Image.Transform.PERSPECTIVE,
        tilt[:8],
        Image.Resampling.BICUBIC,
        fillcolor=(220, 180, 160),
    )
    a = _private_jpeg(tmp_path / "a.jpg", scene, "2025:01:10 10:00:00")
    b = _private_jpeg(tmp_path / "b.jpg", tilted, "2025:03:10 10:00:00")
    ids = [r.photo_id for r in h.import_files(library, [a, b], area="Belly").imported]
    options = CompareOptions(mode="difference", labels=False, amplify=1)
    unaligned = render(library, ids, options)
    photos.set_alignments(
        library,
        {ids[1]: al.Alignment(tilt, "auto", "homography", 500, 0.5)},
        [(browse.photo(library, ids[0]).area_id, "front", ids[0])],
    )
    aligned = render(library, ids, replace(options, aligned=True))
    inner = (60, 60, 740, 540)
    before = ImageStat.Stat(unaligned.crop(inner).convert("L")).mean[0]
    after = ImageStat.Stat(aligned.crop(inner).convert("L")).mean[0]
    assert after < before / 4 and after < 2.0


def test_placement_goes_through_the_reference(library: Library, pair: tuple[int, int]) -> None:
    a, b = pair
    shown = browse.compare_photos(library, [b, a])
    assert placement(shown, aligned=True) == [al.IDENTITY, al.IDENTITY]  # nothing stored yet
    photos.set_reference_photo(library, shown[0].area_id, "front", a)
    m = al.affine_matrix(1.0, 0.0, -30.0, 0.0, 1.0, 20.0)
    photos.set_alignments(library, {b: al.Alignment(m, "landmarks", "similarity", 2, 0.0)})
    to_first = placement(browse.compare_photos(library, [b, a]), aligned=True)
    # a (the reference) drawn in b's frame is the inverse of b's transform.
    assert all(
        math.isclose(x, y, abs_tol=1e-9) for x, y in zip(to_first[1], al.invert(m), strict=True)
    )


def test_colour_gains_are_applied(library: Library, pair: tuple[int, int]) -> None:
    a, _ = pair
    photos.set_colour_gains(library, {a: (0.5, 1.0, 1.0)})
    halved = render(library, [a, a], CompareOptions(labels=False))
    left = ImageStat.Stat(halved.crop((10, 10, 100, 100))).mean
    assert left[0] == pytest.approx(110, abs=3) and left[1] == pytest.approx(180, abs=3)


@pytest.mark.parametrize(
    ("ids", "options", "words"),
    [
        (1, CompareOptions(mode="side"), "2 to 4 photos; 1"),
        (3, CompareOptions(mode="wipe"), "exactly 2 photos; 3"),
        (2, CompareOptions(mode="blur"), "Unknown comparison mode"),
    ],
)
def test_bad_requests_are_refused(
    library: Library, pair: tuple[int, int], ids: int, options: CompareOptions, words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        render(library, [pair[0]] * ids, options)


def test_bad_output_names_are_refused_and_nothing_is_written(
    library: Library, pair: tuple[int, int], tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=r"\.png or \.jpg"):
        export(library, list(pair), tmp_path / "out.gif", CompareOptions())
    with pytest.raises(UsageError, match="does not exist"):
        export(library, list(pair), tmp_path / "missing" / "out.png", CompareOptions())
    assert list(tmp_path.iterdir()) == [tmp_path / "lib"] or not list(tmp_path.glob("out*"))


def test_unaligned_photos_of_another_size_are_scaled_to_the_first(
    library: Library, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    _scene().resize((1600, 1200)).save(big)
    small = tmp_path / "small.jpg"
    _scene().save(small)
    r = h.import_files(library, [big, small], area="Belly", date=None)
    ids = [i.photo_id for i in r.imported]
    out = render(
        library, ids, CompareOptions(mode="difference", labels=False, amplify=1, max_side=800)
    )
    assert out.size == (800, 600)
    assert ImageStat.Stat(out.convert("L")).mean[0] < 3


def test_side_by_side_shows_a_portrait_beside_a_landscape_whole(
    library: Library, tmp_path: Path
) -> None:
    """Not aligned, each photo keeps its own shape; aligned, all share the first one's frame."""
    wide = tmp_path / "wide.jpg"
    _scene().save(wide)
    tall = tmp_path / "tall.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # upright it is 600 x 800
    portrait = _scene()
    ImageDraw.Draw(portrait).rectangle((0, 0, 799, 40), fill=(20, 20, 200))  # right edge, upright
    portrait.save(tall, exif=exif)
    ids = [i.photo_id for i in h.import_files(library, [wide, tall], area="Belly").imported]
    out = render(library, ids, CompareOptions(labels=False))
    assert out.size == (800 + 8 + 450, 600)  # 600 x 800 shown 600 tall is 450 wide
    right_edge = out.crop((800 + 8 + 440, 0, 800 + 8 + 450, 600))
    r, _g, b = ImageStat.Stat(right_edge).mean
    assert b > 150 and r < 80, "the portrait's right edge (its top before turning) is shown"
    # The window places it the same way: the first photo's height, centred on it.
    to_first = placement(browse.compare_photos(library, ids), aligned=False)
    assert to_first[1] == (0.75, 0.0, 175.0, 0.0, 0.75, 0.0, 0.0, 0.0, 1.0)
    assert al.apply(to_first[1], (300, 400)) == (400, 300)  # centre on centre
    aligned = render(library, ids, CompareOptions(labels=False, aligned=True))
    assert aligned.size == (800 * 2 + 8, 600)
    # The portrait first: the landscape beside it is not made larger than max_side.
    swapped = render(library, ids[::-1], CompareOptions(labels=False, max_side=700))
    assert swapped.size == (394 + 8 + 700, 525)


def test_a_full_size_export_reads_the_originals(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = []
    for i in range(2):
        path = tmp_path / f"big{i}.jpg"
        _scene(shift=(i * 10, 0)).resize((3000, 2250)).save(path, quality=90)
        paths.append(path)
    ids = [r.photo_id for r in h.import_files(library, paths, area="Belly").imported]
    read: list[int | None] = []
    original_image = library.original_image

    def reading(sha256: str, max_side: int | None = None) -> Image.Image:
        read.append(max_side)
        return original_image(sha256, max_side)

    monkeypatch.setattr(library, "original_image", reading)
    screen = render(library, ids, CompareOptions(labels=False))
    assert screen.size == (1600 * 2 + 8, 1200) and read == []  # from the previews
    full = render(library, ids, CompareOptions(labels=False, max_side=3000))
    assert full.size == (3000 * 2 + 8, 2250) and read == [3000, 3000]
    with pytest.raises(ValidationError, match="256 to 8192 pixels"):
        render(library, ids, CompareOptions(max_side=9000))
    # An original lost since: its preview stands in rather than the export failing.
    photo = browse.compare_photos(library, ids[:1])[0]
    (library.root / library.store.original_relpath(photo.sha256, "jpg")).unlink()
    lost = render(library, ids, CompareOptions(labels=False, max_side=3000))
    assert lost.size == full.size


def test_landmarks_give_transforms_relative_to_the_reference(
    library: Library, pair: tuple[int, int]
) -> None:
    a, b = pair
    marks = [[(200.0, 400.0), (600.0, 250.0)], [(230.0, 380.0), (630.0, 230.0)]]
    plan = photos.align_by_landmarks(library, browse.compare_photos(library, [a, b]), marks)
    area = browse.photo(library, a).area_id
    assert plan.reference == (area, "front", a)  # no reference yet: the first photo becomes it
    found = plan.alignments[b]
    assert found.matrix[2] == pytest.approx(-30) and plan.worst_error < 0.5
    assert (found.method, found.model, found.points) == ("landmarks", "similarity", 2)
    assert found.words() == "Aligned on 2 points; they agree within 1 pixel."
    # Against a reference that is neither photo and to which the first is not aligned: refused.
    photos.set_reference_photo(library, area, "front", b)
    with pytest.raises(UsageError, match="not aligned to the reference"):
        photos.align_by_landmarks(library, browse.compare_photos(library, [a, b]), marks)
