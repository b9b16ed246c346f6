"""A folder of good and bad photo files for the import tests, every byte made in code.

``build_corpus(folder)`` writes the files and returns, per file name, the outcome an import
must report: "imported", "duplicate" or "rejected". ``cases()`` gives the same files with what
else is known about each (upright size, stored format, capture time and its source, the words
a refusal must contain), so tests can check more than the outcome.

Pictures are small (120x80) so a whole import takes about a second. Photos that carry an
orientation have a red block in the top-left quarter *as a viewer should show them*, so a test
can see from the thumbnail that the orientation was applied exactly once.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

import pillow_heif
from PIL import Image, ImageDraw, TiffImagePlugin

from tests.core.imaging import builders

pillow_heif.register_heif_opener()

IMPORTED, DUPLICATE, REJECTED = "imported", "duplicate", "rejected"

W, H = 120, 80
# Local wall-clock time given as modification time to every file without an EXIF date.
FILE_TIME = dt.datetime(2024, 5, 6, 7, 8, 9)
# The JPEG without any EXIF gets a time of its own, so its date is unmistakably the file's.
NO_EXIF_TIME = dt.datetime(2023, 11, 12, 13, 14, 15)

TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
EXIF_IFD = 0x8769
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011

# What undoes each EXIF orientation: stored = _INVERSE[o](upright), so that a viewer applying
# orientation o to the stored pixels shows the upright picture again.
_INVERSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

# Refusal reasons, as phrased in tracker/core/imaging.py.
_NOT_ACCEPTED = r"only JPEG, PNG, HEIC/HEIF, WebP and TIFF photos can be imported"
_TRUNCATED = r"truncated|incomplete"
_CUT_SHORT = r"truncated|incomplete|damaged"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    outcome: str
    mtime: dt.datetime = FILE_TIME
    # For imported files: upright size, Pillow format, date source and ISO capture time
    # (None for "file": it depends on the local time zone, see ``file_taken_at``).
    size: tuple[int, int] | None = None
    format: str | None = None
    date_source: str | None = None
    taken_at: str | None = None
    # The thumbnail must show the red block top-left (orientation applied exactly once).
    marker: bool = False
    # For duplicates: the name of the file whose bytes these are.
    same_as: str | None = None
    # For rejections: a regular expression the error sentence must match (case-insensitive).
    reason: str | None = None


def file_taken_at(when: dt.datetime) -> str:
    """What the importer reports for a file dated by its modification time ``when`` (local)."""
    return dt.datetime.fromtimestamp(when.timestamp()).astimezone().isoformat()


# -- pictures ------------------------------------------------------------------------------


def picture(seed: int, size: tuple[int, int] = (W, H), *, marker: bool = True) -> Image.Image:
    """A blue-green picture, different for every seed, with a red top-left quarter if ``marker``."""
    w, h = size
    g, b = 60 + (seed * 37) % 140, 110 + (seed * 53) % 130
    im = Image.new("RGB", size, (15, g, b))
    draw = ImageDraw.Draw(im)
    # A seed-dependent stripe in the bottom half keeps the pixels of any two seeds apart.
    x = (seed * 7) % (w - 4)
    draw.rectangle((x, h // 2 + 2, x + 3, h - 1), fill=(15, 255 - g, 255 - b))
    if marker:
        draw.rectangle((0, 0, w // 2 - 1, h // 2 - 1), fill=(230, 20, 20))
    return im


def noise(seed: int, size: tuple[int, int] = (W, H)) -> Image.Image:
    """Reproducible RGB noise: compresses badly, so a cut lands in the image data, not the header."""
    data = random.Random(seed).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def _encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


class _ExifDates(TypedDict, total=False):
    """The date fields ``_exif`` writes, for helpers that pass them on."""

    original: str
    offset_original: str
    digitized: str
    ifd0: str
    offset: str


def _exif(
    *,
    orientation: int | None = None,
    original: str | None = None,
    offset_original: str | None = None,
    digitized: str | None = None,
    ifd0: str | None = None,
    offset: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[TAG_ORIENTATION] = orientation
    if ifd0 is not None:
        exif[TAG_DATETIME] = ifd0
    sub = exif.get_ifd(EXIF_IFD)
    for tag, value in (
        (TAG_DATETIME_ORIGINAL, original),
        (TAG_OFFSET_TIME_ORIGINAL, offset_original),
        (TAG_DATETIME_DIGITIZED, digitized),
        (TAG_OFFSET_TIME, offset),
    ):
        if value is not None:
            sub[tag] = value
    return exif


def _oriented(seed: int, orientation: int) -> tuple[Image.Image, tuple[int, int]]:
    """Stored pixels (always 120x80) for ``orientation``, and the upright size."""
    upright_size = (H, W) if orientation >= 5 else (W, H)
    upright = picture(seed, upright_size)
    stored = upright if orientation == 1 else upright.transpose(_INVERSE[orientation])
    assert stored.size == (W, H)
    return stored, upright_size


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header claiming ``width`` x ``height`` RGB, followed by almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _sixteen_bit_png() -> bytes:
    """A 16-bit grey ("I;16") horizontal ramp over the whole 0..65535 range."""
    row = [round(x * 65535 / (W - 1)) for x in range(W)]
    raw = struct.pack(f"<{W * H}H", *(row * H))
    im = Image.frombytes("I;16", (W, H), raw)
    return _encode(im, "PNG")


def _zip_of(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(name, data)
    return out.getvalue()


# -- the cases -----------------------------------------------------------------------------


@functools.cache
def cases() -> tuple[Case, ...]:
    """Every file of the corpus, in the order it is to be given to ``import``."""
    out: list[Case] = []
    seeds = iter(range(1, 1000))

    def good(
        name: str,
        data: bytes,
        *,
        size: tuple[int, int] = (W, H),
        fmt: str = "JPEG",
        taken: str | None = None,
        marker: bool = True,
        mtime: dt.datetime = FILE_TIME,
    ) -> None:
        out.append(
            Case(
                name,
                data,
                IMPORTED,
                mtime=mtime,
                size=size,
                format=fmt,
                date_source="exif" if taken else "file",
                taken_at=taken or file_taken_at(mtime),
                marker=marker,
            )
        )

    def bad(name: str, data: bytes, reason: str) -> None:
        out.append(Case(name, data, REJECTED, reason=reason))

    # JPEG in every EXIF orientation; 5-8 swap width and height.
    for orientation in range(1, 9):
        stored, upright = _oriented(next(seeds), orientation)
        data = _encode(stored, "JPEG", quality=92, exif=_exif(orientation=orientation))
        good(f"orient_{orientation}.jpg", data, size=upright)

    stored, upright = _oriented(next(seeds), 6)
    webp = _encode(stored, "WEBP", quality=95, exif=_exif(orientation=6).tobytes())
    good("orient_6.webp", webp, size=upright, fmt="WEBP")

    # pillow-heif turns an EXIF orientation into the HEIF irot/imir transform on writing and
    # applies it on reading; the app must not rotate a second time.
    stored, upright = _oriented(next(seeds), 6)
    heic_exif = _exif(
        orientation=6, original="2024:01:02 03:04:05", offset_original="+01:00"
    ).tobytes()
    heic = _encode(stored, "HEIF", quality=95, exif=heic_exif)
    good("phone.heic", heic, size=upright, fmt="HEIF", taken="2024-01-02T03:04:05+01:00")

    # TIFF orientation lives in IFD0; Pillow returns TIFFs upright already.
    stored, upright = _oriented(next(seeds), 6)
    tiffinfo = TiffImagePlugin.ImageFileDirectory_v2()
    tiffinfo[TAG_ORIENTATION] = 6
    tiffinfo[TAG_DATETIME] = "2023:03:04 05:06:07"
    tiff = _encode(stored, "TIFF", tiffinfo=tiffinfo)
    good("scan.tif", tiff, size=upright, fmt="TIFF", taken="2023-03-04T05:06:07")

    cmyk = _encode(picture(next(seeds)).convert("CMYK"), "JPEG", quality=95)
    good("cmyk.jpg", cmyk)

    good("deep16.png", _sixteen_bit_png(), fmt="PNG", marker=False)

    progressive = _encode(picture(next(seeds)), "JPEG", quality=90, progressive=True)
    good("progressive.jpg", progressive)

    no_exif = _encode(picture(next(seeds)), "JPEG", quality=90)
    good("no_exif.jpg", no_exif, mtime=NO_EXIF_TIME)

    # EXIF capture-date variants: Original (with its offset) beats Digitized beats IFD0.
    def dated(name: str, taken: str | None, **exif: Unpack[_ExifDates]) -> None:
        data = _encode(picture(next(seeds)), "JPEG", quality=90, exif=_exif(**exif))
        good(name, data, taken=taken)

    dated(
        "date_original_offset.jpg",
        "2024-02-03T10:11:12+05:30",
        original="2024:02:03 10:11:12",
        offset_original="+05:30",
        digitized="2020:01:01 01:01:01",
        ifd0="2019:01:01 01:01:01",
    )
    dated("date_digitized_only.jpg", "2023-07-08T09:10:11", digitized="2023:07:08 09:10:11")
    dated(
        "date_ifd0_only.jpg",
        "2022-12-31T23:59:58-03:00",
        ifd0="2022:12:31 23:59:58",
        offset="-03:00",
    )
    dated(
        "date_year0000.jpg",
        "2021-04-05T06:07:08",
        original="0000:00:00 00:00:00",
        digitized="2021:04:05 06:07:08",
    )
    dated("date_year0000_only.jpg", None, original="0000:00:00 00:00:00")
    dated("date_second60.jpg", "2024-06-30T23:59:59", original="2024:06:30 23:59:60")

    # The format comes from the content, not the name.
    good("png_named.jpg", _encode(picture(next(seeds)), "PNG"), fmt="PNG")
    good("jpeg_named.png", _encode(picture(next(seeds)), "JPEG", quality=90))

    # Names a file system can hold and a careless program could trip on.
    for name, fmt in (
        ("Bauch – Woche 3 ü.jpg", "JPEG"),
        ("日本語.jpg", "JPEG"),
        ("name with  spaces.jpeg", "JPEG"),
        ("-leading-dash.jpg", "JPEG"),
        ("semi;colon'quote\".jpg", "JPEG"),
        ("emoji 😀.png", "PNG"),
    ):
        good(name, _encode(picture(next(seeds)), fmt), fmt=fmt)

    # The same bytes as orient_1.jpg under another name, given after it.
    first = next(c for c in out if c.name == "orient_1.jpg")
    out.append(Case("orient_1 copy.jpg", first.data, DUPLICATE, same_as=first.name))

    # A camera JPEG with a Multi-Picture (MPF) second image, as many cameras and phones write
    # (a large preview or a depth map after the photo). It is one photo, not an animation.
    mpo = _encode(
        picture(next(seeds)),
        "MPO",
        quality=90,
        save_all=True,
        append_images=[picture(next(seeds), marker=False)],
    )
    good("camera_mpf.jpg", mpo)

    # The still of an animation or an image sequence is imported (with a note saying so).
    frames = [picture(next(seeds)), picture(next(seeds), marker=False)]
    apng = _encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    good("animated.png", apng, fmt="PNG")
    awebp = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], quality=90)
    good("animated.webp", awebp, fmt="WEBP")
    burst = _encode(picture(next(seeds)), "HEIF", quality=90)
    good("burst.heic", builders.heif_sequence(burst, 5, (W, H)), fmt="HEIF")

    # A big-endian BigTIFF, which Pillow alone does not read.
    bigtiff = builders.build_tiff([builders.rgb_ifd(picture(next(seeds)))], order=">", big=True)
    good("bigtiff_be.tif", bigtiff, fmt="TIFF")

    # -- refusals --
    # Cut in half: noise puts the cut inside the image data, a flat picture inside the header.
    jpeg = _encode(noise(next(seeds)), "JPEG", quality=90)
    bad("truncated.jpg", jpeg[: len(jpeg) // 2], _TRUNCATED)
    jpeg = _encode(picture(next(seeds)), "JPEG", quality=90)
    bad("truncated_header.jpg", jpeg[: len(jpeg) // 2], _CUT_SHORT)
    png = _encode(noise(next(seeds)), "PNG")
    bad("truncated.png", png[: len(png) // 2], _TRUNCATED)
    heic = _encode(noise(next(seeds)), "HEIF", quality=80)
    bad("truncated.heic", heic[: len(heic) // 2], _CUT_SHORT)
    bad("header_then_garbage.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, _CUT_SHORT)
    bad("zero_width.png", _png_header_only(0, 80), r"damaged|no pixels")
    bad("bomb_100mp.png", _png_header_only(10_000, 10_000), r"100 megapixels.*decompression bomb")
    bad("bomb_900mp.png", _png_header_only(30_000, 30_000), r"900 megapixels.*250 megapixels")
    bad("bomb_2500mp.png", _png_header_only(50_000, 50_000), r"more than 250 megapixels")

    frames = [picture(next(seeds)), picture(next(seeds))]
    gif = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    bad("animation.gif", gif, rf"a GIF image; {_NOT_ACCEPTED}")
    multipage = _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    bad("multipage.tif", multipage, r"TIFF with 2 pages; only single photos")

    # Camera raws are refused with advice, even those made as TIFFs with a preview in them.
    nef = builders.rgb_ifd(picture(next(seeds))).set(builders.MAKE, builders.ASCII, "NIKON")
    nef.sub_ifds = [builders.cfa_ifd(compression=34713)]
    bad("camera.nef", builders.build_tiff([nef], order=">"), r"camera raw file \(Nikon NEF\)")
    bad("video.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", r"a video \(MP4\)")

    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 120 80\nshowpage\n%%EOF\n"
    bad("figure.eps", eps, rf"PostScript \(EPS\) file; {_NOT_ACCEPTED}")
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    bad("document.pdf", pdf, rf"a PDF document; {_NOT_ACCEPTED}")
    bad("bitmap.bmp", _encode(picture(next(seeds)), "BMP"), rf"a BMP image; {_NOT_ACCEPTED}")
    bad("notes.jpg", b"Week 3: less red.\nNext session: 14 March.\n", r"a text file")
    bad("empty.jpg", b"", r"the file is empty")
    zipped = _zip_of("photo.jpg", _encode(picture(next(seeds)), "JPEG"))
    bad("archive.zip", zipped, rf"a ZIP archive; {_NOT_ACCEPTED}")

    names = [c.name for c in out]
    assert len(names) == len(set(names)), "corpus file names must be unique"
    return tuple(out)


def build_corpus(folder: Path) -> dict[str, str]:
    """Write the corpus into ``folder``; file name -> "imported" | "duplicate" | "rejected".

    The dict is in the order the files are to be given to ``import`` (a duplicate after the
    file it copies). A name the file system refuses is left out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, str] = {}
    for case in cases():
        path = folder / case.name
        try:
            path.write_bytes(case.data)
        except (OSError, UnicodeEncodeError):
            continue
        stamp = case.mtime.timestamp()
        os.utime(path, (stamp, stamp))
        outcomes[case.name] = case.outcome
    return outcomes
