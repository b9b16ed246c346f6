"""Decoding the odd files: valid ones that used to be called damaged (BigTIFF, unusual TIFF
compressions, HEIFs with a major brand of their own), those the installed libraries cannot read
(refused with what they are before a decoder fails on them), image sequences (their still is
imported with a note), and the messages C libraries print, which must not reach the terminal.

What this installation can decode is not assumed: each test finds it out with Pillow or
pillow-heif directly and checks that the app agrees."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pillow_heif
import pytest
from PIL import Image

from tests.core.imaging import builders as b
from tracker.core.errors import ImageRejected
from tracker.core.imaging import decode as imaging
from tracker.core.imaging import exif as ex
from tracker.core.imaging import formats, probe, quiet

pillow_heif.register_heif_opener()

REPO = Path(__file__).resolve().parents[3]
SEQUENCE = "(a burst, a live photo or an animation); its still image was imported"


def _picture(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """Red top-left quarter on blue, so that a decode can be checked, not just survived."""
    im = Image.new("RGB", size, (20, 60, 200))
    im.paste((220, 30, 30), (0, 0, size[0] // 2, size[1] // 2))
    return im


def _corner_colours(thumbnail: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    im = Image.open(io.BytesIO(thumbnail)).convert("RGB")
    w, h = im.size
    return (
        cast(tuple[int, ...], im.getpixel((w // 8, h // 8))),
        cast(tuple[int, ...], im.getpixel((w - 1 - w // 8, h - 1 - h // 8))),
    )


def _shows_the_picture(decoded: imaging.DecodedPhoto) -> bool:
    red, blue = _corner_colours(decoded.thumbnail)
    return red[0] > 150 and red[2] < 100 and blue[2] > 150 and blue[0] < 100


def _pillow_decodes(data: bytes, fmt: str) -> bool:
    """The ground truth: whether Pillow (with pillow-heif) decodes ``data`` on its own."""
    try:
        with quiet.quiet_stderr(), Image.open(io.BytesIO(data), formats=[fmt]) as im:
            im.load()
        return True
    except Exception:
        return False


def _heic(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    _picture(size).save(out, "HEIF", quality=90)
    return out.getvalue()


# -- BigTIFF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_bigtiff_in_either_byte_order_is_imported(order: str) -> None:
    data = b.build_tiff([b.rgb_ifd(_picture())], order=order, big=True)
    assert data[:4] == (b"II+\x00" if order == "<" else b"MM\x00+")
    decoded = imaging.decode(data)
    assert (decoded.format, decoded.ext, decoded.width, decoded.height) == ("TIFF", "tif", 64, 48)
    assert _shows_the_picture(decoded)
    assert imaging.load_upright(data).size == (64, 48)


def test_pillow_itself_is_what_cannot_read_a_big_endian_bigtiff() -> None:
    """Why the rewrite exists, measured: if a later Pillow reads it, the probe says so."""
    data = b.build_tiff([b.rgb_ifd(_picture())], order=">", big=True)
    assert probe.pillow_reads_big_endian_bigtiff() == _pillow_decodes(data, "TIFF")
    little = b.build_tiff([b.rgb_ifd(_picture())], order="<", big=True)
    assert _pillow_decodes(little, "TIFF")


def test_a_big_endian_bigtiff_keeps_its_orientation_and_date() -> None:
    page = b.rgb_ifd(_picture((60, 40))).set(0x0112, b.SHORT, 6)
    page.exif = b.Ifd().set(0x9003, b.ASCII, "2023:04:05 06:07:08")
    data = b.build_tiff([page], order=">", big=True)
    decoded = imaging.decode(data)
    assert (decoded.width, decoded.height) == (40, 60)
    assert decoded.capture_time is not None
    assert decoded.capture_time.isoformat() == "2023-04-05T06:07:08"
    found = ex.header_capture_time(io.BytesIO(data))
    assert found is not None and found.isoformat() == "2023-04-05T06:07:08"


def test_a_multi_page_big_endian_bigtiff_is_refused_as_pages() -> None:
    pages = [b.rgb_ifd(_picture()), b.rgb_ifd(_picture())]
    data = b.build_tiff(pages, order=">", big=True)
    with pytest.raises(ImageRejected, match=r"^it is a TIFF with 2 pages; only single photos"):
        imaging.decode(data)


# -- TIFF compressions and layouts ---------------------------------------------------------------------


def _webp_tiff() -> bytes:
    """A TIFF whose one strip is a lossless WebP bitstream (Compression 50001), made by hand:
    Pillow's TIFF writer can make one only where libtiff has WebP."""
    out = io.BytesIO()
    _picture().save(out, "WEBP", lossless=True)
    return b.build_tiff([b.rgb_ifd(_picture(), compression=50001, strip=out.getvalue())])


def _pillow_tiff(compression: str) -> bytes | None:
    out = io.BytesIO()
    try:
        with quiet.quiet_stderr():
            _picture().save(out, "TIFF", compression=compression)
    except OSError:
        return None  # libtiff here cannot write it
    return out.getvalue()


def test_a_webp_compressed_tiff_is_imported_where_libtiff_reads_it_else_refused_first() -> None:
    data = _webp_tiff()
    readable = _pillow_decodes(data, "TIFF")
    assert probe.tiff_compression_readable(50001) is readable
    if readable:
        assert _shows_the_picture(imaging.decode(data))
    else:
        with pytest.raises(ImageRejected) as info:
            imaging.decode(data)
        assert str(info.value) == (
            "it is a TIFF compressed with WebP, which this app cannot read; export it as JPEG"
        )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("tiff_lzw", 5),
        ("tiff_adobe_deflate", 8),
        ("packbits", 32773),
        ("jpeg", 7),
        ("lzma", 34925),
        ("zstd", 50000),
    ],
)
def test_each_tiff_compression_libtiff_has_is_imported(name: str, code: int) -> None:
    data = _pillow_tiff(name)
    readable = data is not None and _pillow_decodes(data, "TIFF")
    assert probe.tiff_compression_readable(code) is readable
    if data is not None and readable:
        assert _shows_the_picture(imaging.decode(data))


@pytest.mark.parametrize(
    ("code", "name"),
    [(34887, "LERC"), (50002, "JPEG XL"), (34661, "JBIG"), (34712, "JPEG 2000"), (4242, None)],
)
def test_a_tiff_compression_nothing_here_reads_is_named(code: int, name: str | None) -> None:
    data = b.build_tiff([b.rgb_ifd(_picture(), compression=code, strip=b"\x00" * 64)])
    assert not _pillow_decodes(data, "TIFF")
    how = name or f"an unknown method (code {code})"
    with pytest.raises(ImageRejected) as info:
        imaging.decode(data)
    assert str(info.value) == (
        f"it is a TIFF compressed with {how}, which this app cannot read; export it as JPEG"
    )


def _grey_page(samples: int, bits: int = 8, sample_format: int = 1, photometric: int = 1) -> b.Ifd:
    w, h = 16, 8
    page = b.Ifd()
    page.set(b.IMAGE_WIDTH, b.LONG, w).set(b.IMAGE_LENGTH, b.LONG, h)
    page.set(b.BITS_PER_SAMPLE, b.SHORT, [bits] * samples).set(b.COMPRESSION, b.SHORT, 1)
    page.set(b.PHOTOMETRIC, b.SHORT, photometric).set(b.SAMPLES_PER_PIXEL, b.SHORT, samples)
    page.set(b.ROWS_PER_STRIP, b.LONG, h).set(b.SAMPLE_FORMAT, b.SHORT, [sample_format] * samples)
    page.strips = [bytes(range(256)) * (w * h * samples * bits // 8 // 256 + 1)]
    page.strips[0] = page.strips[0][: w * h * samples * bits // 8]
    return page


def test_more_samples_per_pixel_than_can_be_decoded_is_refused_from_the_header() -> None:
    page = _grey_page(samples=10)
    page.set(338, b.SHORT, [0] * 9)  # ExtraSamples
    with pytest.raises(ImageRejected) as info:
        imaging.decode(b.build_tiff([page]))
    assert str(info.value) == (
        "it is a TIFF with 10 channels (samples per pixel), which this app cannot read; "
        "export it as JPEG"
    )


def test_a_pixel_layout_pillow_cannot_take_is_named_not_called_damaged() -> None:
    data = b.build_tiff([_grey_page(samples=3, bits=32, sample_format=3, photometric=2)])
    assert not _pillow_decodes(data, "TIFF")
    with pytest.raises(ImageRejected) as info:
        imaging.decode(data)
    assert str(info.value) == (
        "it is a TIFF in a pixel layout this app cannot read "
        "(RGB, 3 channels of 32-bit floating point); export it as JPEG"
    )


def test_a_tiff_with_damaged_compressed_data_is_damaged_and_quiet(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """LZW is readable here, so garbage in an LZW strip is damage (and libtiff's complaint
    about it stays off standard error)."""
    data = b.build_tiff([b.rgb_ifd(_picture(), compression=5, strip=b"garbage" * 9)])
    with pytest.raises(ImageRejected, match=r"^the TIFF data is damaged"):
        imaging.decode(data)
    assert capfd.readouterr().err == ""


# -- HEIF codings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_type", "name"),
    [
        (b"avc1", "AVC (H.264)"),
        (b"jpeg", "JPEG"),
        (b"unci", "no compression (ISO 23001-17)"),
        (b"av01", "AV1 (AVIF)"),
        (b"j2k1", "JPEG 2000"),
        (b"vvc1", "VVC (H.266)"),
    ],
)
def test_a_heif_coded_in_what_libheif_here_cannot_decode_says_so(
    item_type: bytes, name: str
) -> None:
    """A real HEIC with its primary item's type changed: refused by its coding, not "damaged"
    (libheif here has no decoder for any of these, as pillow-heif shows)."""
    data = b.with_item_type(_heic(), b"hvc1", item_type)
    assert not _pillow_decodes(data, "HEIF")
    assert not probe.heif_coding_readable(item_type)
    with pytest.raises(ImageRejected) as info:
        imaging.decode(data)
    assert str(info.value) == (
        f"it is a HEIF image coded with {name}, which this app cannot read; export it as JPEG"
    )


@pytest.mark.parametrize(
    ("make", "item_type"), [(b.jpeg_heif, b"jpeg"), (b.unci_heif, b"unci")], ids=["jpeg", "unci"]
)
def test_jpeg_and_uncompressed_heif_are_tried_not_assumed(
    make: Callable[[Image.Image], bytes], item_type: bytes
) -> None:
    """Whole, valid files of these codings: imported if libheif decodes them, else refused."""
    data = make(_picture())
    readable = _pillow_decodes(data, "HEIF")
    assert probe.heif_coding_readable(item_type) is readable
    if readable:
        assert _shows_the_picture(imaging.decode(data))
    else:
        with pytest.raises(ImageRejected, match=r"^it is a HEIF image coded with .*cannot read"):
            imaging.decode(data)


def test_an_unknown_heif_coding_is_named_by_its_item_type() -> None:
    data = b.with_item_type(_heic(), b"hvc1", b"xyz1")
    with pytest.raises(ImageRejected, match=r"coded with an unknown method \('xyz1'\)"):
        imaging.decode(data)


def test_a_heif_whose_major_brand_pillow_heif_does_not_open_is_imported() -> None:
    data = b.with_brands(_heic(), major=b"iso8", add=[b"mif1", b"heic"])
    assert not _pillow_decodes(data, "HEIF")  # pillow-heif looks at the major brand only
    decoded = imaging.decode(data)
    assert (decoded.format, decoded.width, decoded.height) == ("HEIF", 64, 48)
    assert _shows_the_picture(decoded)


def test_a_refused_heif_coding_is_also_refused_by_the_import_preview() -> None:
    data = b.with_item_type(_heic(), b"hvc1", b"avc1")
    with pytest.raises(ImageRejected, match=r"coded with AVC \(H\.264\)"):
        ex.header_capture_time(io.BytesIO(data))


# -- image sequences and animations ---------------------------------------------------------------------


def test_a_heif_image_sequence_imports_its_still_with_a_note() -> None:
    still = _heic()
    data = b.heif_sequence(still, 12, (64, 48))
    decoded = imaging.decode(data)
    assert (decoded.format, decoded.width, decoded.height) == ("HEIF", 64, 48)
    assert _shows_the_picture(decoded)
    assert decoded.notes == [
        imaging.Note(
            imaging.NoteKind.STILL_OF_SEQUENCE, f"it is an image sequence of 12 frames {SEQUENCE}"
        )
    ]
    assert imaging.decode(still).notes == []  # the same still on its own: no note


def test_a_heif_sequence_whose_frames_are_not_counted_gets_the_note_without_a_count() -> None:
    """The msf1 brand says sequence; its one track (auxiliary images) gives no picture count."""
    data = b.heif_sequence(_heic(), 4, (64, 48), handler=b"auxv")
    decoded = imaging.decode(data)
    assert [n.text for n in decoded.notes] == [f"it is an image sequence {SEQUENCE}"]


def test_a_moov_without_pictures_and_no_sequence_brand_is_a_plain_still() -> None:
    still = _heic()
    data = still + b.sequence_moov(still, 4, (64, 48), handler=b"soun")
    decoded = imaging.decode(data)
    assert decoded.notes == []
    assert _shows_the_picture(decoded)


def test_a_heif_sequence_with_no_still_image_is_refused() -> None:
    still = _heic()
    boxes = {kind: (at, size) for kind, at, size in b.top_level_boxes(still)}
    at, size = boxes[b"meta"]
    moov = b.sequence_moov(still, 3, (64, 48))
    no_meta = b.box(b"ftyp", b"msf1", bytes(4), b"msf1iso8") + still[at + size :] + moov
    with pytest.raises(ImageRejected) as info:
        imaging.decode(no_meta)
    assert str(info.value) == (
        "it is a HEIF image sequence with no still image in it; only still photos can be imported"
    )


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animation_imports_its_first_frame_with_a_note(fmt: str) -> None:
    frames = [_picture(), Image.new("RGB", (64, 48), (0, 255, 0)), Image.new("RGB", (64, 48))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], lossless=True)
    decoded = imaging.decode(out.getvalue())
    assert (decoded.format, decoded.width, decoded.height) == (fmt, 64, 48)
    assert _shows_the_picture(decoded)  # the first frame, not the green or the black one
    assert [(n.kind, n.text) for n in decoded.notes] == [
        (imaging.NoteKind.STILL_OF_SEQUENCE, f"it is an image sequence of 3 frames {SEQUENCE}")
    ]


def test_a_one_frame_apng_is_a_plain_still() -> None:
    data = b.one_frame_apng(_picture())
    with Image.open(io.BytesIO(data)) as im:
        assert getattr(im, "n_frames", 0) == 1
        assert "loop" in im.info  # an APNG all the same (its acTL was read)
    decoded = imaging.decode(data)
    assert decoded.notes == []
    assert _shows_the_picture(decoded)


def test_a_multi_page_tiff_stays_refused() -> None:
    out = io.BytesIO()
    _picture().save(out, "TIFF", save_all=True, append_images=[_picture(), _picture()])
    with pytest.raises(ImageRejected) as info:
        imaging.decode(out.getvalue())
    assert str(info.value) == "it is a TIFF with 3 pages; only single photos can be imported"


# -- standard error -----------------------------------------------------------------------------------


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


_OFFENDERS = """
    import io
    from PIL import Image
    from tests.core.imaging import builders as b
    im = Image.new("RGB", (16, 8), (200, 100, 50))
    webp = io.BytesIO()
    im.save(webp, "WEBP", lossless=True)
    page = b.rgb_ifd(im, compression=50001, strip=webp.getvalue())
    many = b.rgb_ifd(im)
    many.set(b.SAMPLES_PER_PIXEL, b.SHORT, 10).set(b.BITS_PER_SAMPLE, b.SHORT, [8] * 10)
    offenders = {
        "webp": b.build_tiff([page]),
        "samples": b.build_tiff([many]),
        "lzw": b.build_tiff([b.rgb_ifd(im, compression=5, strip=b"garbage" * 9)]),
        "zstd": b.build_tiff([b.rgb_ifd(im, compression=50000, strip=b"garbage" * 9)]),
    }
"""


def test_libraries_messages_do_not_reach_standard_error() -> None:
    """Decoding every offending TIFF through the app (in a process of its own, as the command
    line does) prints nothing; decoding them with Pillow alone, as before, does."""
    app = _run(
        _OFFENDERS
        + """
    from tracker.core.errors import ImageRejected
    from tracker.core.imaging import decode
    for name, data in offenders.items():
        try:
            decode.decode(data)
            print(name, "imported")
        except ImageRejected as exc:
            print(name, "refused:", exc)
    """
    )
    assert app.returncode == 0, app.stderr
    assert app.stderr == ""
    assert len(app.stdout.splitlines()) == 4
    bare = _run(
        _OFFENDERS
        + """
    for data in offenders.values():
        try:
            Image.open(io.BytesIO(data)).load()
        except Exception:
            pass
    """
    )
    assert bare.returncode == 0
    assert "samples per pixel" in bare.stderr  # what the app keeps from the terminal
    assert bare.stderr.count("\n") >= 3


def test_quiet_stderr_nests_across_threads_and_restores_the_terminal() -> None:
    result = _run(
        """
    import os, random, sys, threading, time
    from tracker.core.imaging.quiet import quiet_stderr
    before = os.fstat(2)
    start = threading.Barrier(8)
    def work(seed):
        rnd = random.Random(seed)
        start.wait()
        for _ in range(20):
            with quiet_stderr():
                os.write(2, b"LOST ")
                time.sleep(rnd.random() / 500)
                with quiet_stderr():
                    os.write(2, b"LOST ")
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
    sys.stderr.write("kept\\n")
    os.write(2, b"kept too\\n")
    """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "kept\nkept too\n"


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def test_quiet_stderr_points_at_the_null_device_and_back_even_when_the_decode_raises() -> None:
    before = os.fstat(2)
    null = os.stat(os.devnull)
    assert not _same_file(before, null)
    with pytest.raises(RuntimeError), quiet.quiet_stderr():
        assert _same_file(os.fstat(2), null)
        with quiet.quiet_stderr():
            assert _same_file(os.fstat(2), null)
        assert _same_file(os.fstat(2), null)  # the outer block is still decoding
        raise RuntimeError
    assert _same_file(os.fstat(2), before)


def test_jpeg_is_not_silenced_or_identified_beyond_its_first_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The JPEG import stays as fast as it was: no structure read, no silence."""
    calls: list[str] = []
    monkeypatch.setattr(quiet, "_enter", lambda: calls.append("quiet"))
    monkeypatch.setattr(formats, "_identify_tiff", lambda read: calls.append("tiff"))
    out = io.BytesIO()
    _picture((800, 600)).save(out, "JPEG")
    decoded = imaging.decode(out.getvalue())
    assert decoded.format == "JPEG" and decoded.preview is None
    assert calls == []
