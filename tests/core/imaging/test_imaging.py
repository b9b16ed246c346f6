"""Reading photos: format sniffing, EXIF dates, bit depth, and metadata-free derived images."""

from __future__ import annotations

import datetime as dt
import io
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tracker.core.errors import ImageRejected
from tracker.core.imaging import decode as imaging
from tracker.core.imaging import exif as ex
from tracker.core.imaging import formats


def _jpeg(size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 50).convert("RGB").save(out, "JPEG", **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "JPEG"),
        (b"\x89PNG\r\n\x1a\nrest", "PNG"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF"),
        (b"MM\x00*\x00\x00\x00\x08", "TIFF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIF"),
    ],
)
def test_accepted_formats_are_recognised_from_their_bytes(head: bytes, expected: str) -> None:
    assert formats.sniff(head) == expected


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"", "empty"),
        (b"GIF89a....", "GIF"),
        (b"%PDF-1.7\n", "PDF"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", "EPS"),
        (b"BM6\x00\x00\x00", "BMP"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        (b"hello, this is text\n", "text file"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "AVIF"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "raw"),
        (bytes(range(200, 256)), "not in any image format"),
    ],
)
def test_other_content_is_refused_with_what_it_is(head: bytes, words: str) -> None:
    with pytest.raises(ImageRejected, match=words):
        formats.sniff(head)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024:03:05 14:22:01", dt.datetime(2024, 3, 5, 14, 22, 1)),
        ("2024:03:05 14:22:60", dt.datetime(2024, 3, 5, 14, 22, 59)),
        ("2024-03-05 14:22:01", dt.datetime(2024, 3, 5, 14, 22, 1)),
        (b"2024:03:05 14:22:01\x00", dt.datetime(2024, 3, 5, 14, 22, 1)),
        ("1965:07:01 08:00:00", dt.datetime(1965, 7, 1, 8, 0, 0)),
        ("0000:00:00 00:00:00", None),
        ("0000:03:05 14:22:01", None),
        ("    :  :     :  :  ", None),
        ("2024:13:05 14:22:01", None),
        ("2024:02:30 14:22:01", None),
        ("2024:03:05 25:00:00", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_exif_datetimes(value: object, expected: dt.datetime | None) -> None:
    assert ex.parse_exif_datetime(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+01:00", 60),
        ("-05:30", -330),
        ("+00:00", 0),
        ("+14:00", 840),
        ("+15:00", None),
        ("   :  ", None),
        ("0100", None),
        (None, None),
        ("+01:75", None),
    ],
)
def test_exif_offsets(value: object, expected: int | None) -> None:
    assert ex.parse_exif_offset(value) == expected


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_exif_datetime_round_trips(when: dt.datetime) -> None:
    when = when.replace(microsecond=0)
    assert ex.parse_exif_datetime(when.strftime("%Y:%m:%d %H:%M:%S").rjust(19, "0")) == when


def test_capture_time_prefers_original_then_digitized_then_ifd0() -> None:
    exif = Image.Exif()
    exif[ex.TAG_DATETIME] = "2020:01:01 00:00:00"
    ifd = exif.get_ifd(ex.EXIF_IFD)
    ifd[ex.TAG_DATETIME_DIGITIZED] = "2021:01:01 00:00:00"
    ifd[ex.TAG_OFFSET_TIME_DIGITIZED] = "-03:00"
    ifd[ex.TAG_DATETIME_ORIGINAL] = "0000:00:00 00:00:00"  # "no date": skipped
    found = ex.capture_time_from_exif(exif)
    assert found is not None
    assert found.isoformat() == "2021-01-01T00:00:00-03:00"


def test_floating_and_future_times() -> None:
    floating = ex.CaptureTime(dt.datetime(2024, 3, 5, 14, 22, 1), None)
    assert floating.isoformat() == "2024-03-05T14:22:01"
    assert not floating.is_future()
    assert ex.CaptureTime(dt.datetime(2090, 1, 1), 60).is_future()
    now = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    # Floating time up to 14 hours ahead could be a time zone far east, not the future.
    assert not ex.CaptureTime(dt.datetime(2025, 1, 2, 1), None).is_future(now)
    assert ex.CaptureTime(dt.datetime(2025, 1, 2, 3), None).is_future(now)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    im = Image.new("I;16", (3, 1))
    for x, value in enumerate((0, 32768, 65535)):
        im.putpixel((x, 0), value)
    rgb = imaging.to_rgb8(im)
    assert rgb.mode == "RGB"
    assert [cast(tuple[int, ...], rgb.getpixel((x, 0)))[0] for x in range(3)] == [0, 128, 255]


def test_alpha_is_composited_and_palette_converted() -> None:
    rgba = Image.new("RGBA", (2, 1), (255, 0, 0, 0))
    assert imaging.to_rgb8(rgba).getpixel((0, 0)) == (255, 255, 255)
    assert imaging.to_rgb8(Image.new("P", (2, 1))).mode == "RGB"
    assert imaging.to_rgb8(Image.new("CMYK", (2, 1), (0, 0, 0, 0))).getpixel((0, 0)) == (
        255,
        255,
        255,
    )


def test_derived_jpegs_carry_no_metadata_even_a_comment() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"
    source = _jpeg(exif=exif, comment=b"PRIVATE-COMMENT")
    with Image.open(io.BytesIO(source)) as im:
        assert im.info.get("comment") == b"PRIVATE-COMMENT"
        im.load()
        decoded = im.copy()
    decoded.info.update(Image.open(io.BytesIO(source)).info)
    out = imaging.encode_jpeg(decoded, quality=80)
    assert b"PRIVATE-COMMENT" not in out
    assert b"SecretPhoneMaker" not in out
    assert b"Exif" not in out


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied_once_to_size_and_pixels(orientation: int) -> None:
    # A 60x40 image whose top-left quarter is white: after orientation the white corner
    # must be where a viewer that honours EXIF would show it.
    im = Image.new("RGB", (60, 40), (0, 0, 0))
    im.paste((255, 255, 255), (0, 0, 30, 20))
    exif = Image.Exif()
    exif[ex.TAG_ORIENTATION] = orientation
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, quality=95)
    decoded = imaging.decode(out.getvalue())
    expected_img = im.transpose(imaging._TRANSPOSE[orientation]) if orientation != 1 else im
    assert (decoded.width, decoded.height) == expected_img.size
    thumb = Image.open(io.BytesIO(decoded.thumbnail)).convert("L")
    assert thumb.size == expected_img.size
    brightest = max(
        ((x, y) for x in (5, thumb.width - 5) for y in (5, thumb.height - 5)),
        key=lambda xy: cast(int, thumb.getpixel(xy)),  # an "L" image: one int per pixel
    )
    ref = expected_img.convert("L")
    assert ref.getpixel(brightest) == 255


def test_large_jpeg_is_decoded_at_thumbnail_size_and_its_preview_left_for_first_view() -> None:
    decoded = imaging.decode(_jpeg((4032, 3024), quality=70))
    thumb = Image.open(io.BytesIO(decoded.thumbnail))
    assert (decoded.width, decoded.height) == (4032, 3024)
    assert max(thumb.size) == imaging.THUMB_SIZE
    assert decoded.preview is None


def test_large_jpeg_preview_is_screen_sized_when_asked_for() -> None:
    decoded = imaging.decode(_jpeg((4032, 3024), quality=70), preview=True)
    assert decoded.preview is not None
    preview = Image.open(io.BytesIO(decoded.preview))
    thumb = Image.open(io.BytesIO(decoded.thumbnail))
    assert imaging.PREVIEW_MIN <= max(preview.size) <= imaging.PREVIEW_SIZE
    assert max(preview.size) == 4032 // 2  # straight from DCT scaling, not resampled
    assert max(thumb.size) == imaging.THUMB_SIZE


def test_formats_decoded_whole_get_their_preview_at_import() -> None:
    """A PNG cannot be decoded small, so the preview is made from the pixels already decoded."""
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (200, 150, 140)).save(out, "PNG")
    decoded = imaging.decode(out.getvalue())
    assert decoded.preview is not None
    assert Image.open(io.BytesIO(decoded.preview)).size == (imaging.PREVIEW_SIZE, 1365)


def test_truncated_jpeg_is_refused_even_when_decoded_at_thumbnail_size() -> None:
    data = _jpeg((4032, 3024), quality=70)
    with pytest.raises(ImageRejected, match="truncated"):
        imaging.decode(data[: len(data) * 2 // 3])


def test_too_many_pixels_is_refused_before_decoding() -> None:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", 20000, 15000, 8, 2, 0, 0, 0)
    )
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(ImageRejected, match="300 megapixels"):
        imaging.decode(png)


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_originals_load_upright_and_can_be_bounded(orientation: int) -> None:
    im = Image.new("RGB", (300, 200), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    upright = imaging.load_upright(buf.getvalue())
    assert upright.size == ((200, 300) if orientation in (6, 8) else (300, 200))
    assert max(imaging.load_upright(buf.getvalue(), max_side=100).size) == 100
