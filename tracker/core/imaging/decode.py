"""Reading a photo once at import: format, capture time, upright size, thumbnail and preview.

Everything here works on bytes already in memory, so the importer reads each file exactly once.
The rules (which formats, how orientation and dates are read) are those of the library issue;
the comments say why where the reason is not obvious.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from PIL import Image, ImageCms

from tracker.core.errors import ImageRejected

log = logging.getLogger(__name__)

_heif_ready = False
_heif_lock = threading.Lock()


def _ensure_heif() -> None:
    """Load the HEIC/HEIF decoder the first time one is met (it costs start-up time otherwise)."""
    global _heif_ready
    with _heif_lock:
        if not _heif_ready:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_ready = True


MAX_PIXELS = 250_000_000
# Below this many bytes per pixel, a large image is almost certainly a compression bomb:
# real photos of 25 MP and more take well over 0.05 bytes a pixel even as small JPEGs.
BOMB_MIN_PIXELS = 25_000_000
BOMB_BYTES_PER_PIXEL = 0.002
# Our own check (right after the header is read, before any decoding) refuses what is over
# MAX_PIXELS with the exact figure; Pillow's cruder net stays in place far above it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS * 4

THUMB_SIZE = 256
# Previews are 1600 to 2048 px on the long side: half a 12 MP frame (4000-4096 px) comes
# straight out of JPEG DCT scaling at that size, with no resampling at all.
PREVIEW_MIN = 1600
PREVIEW_SIZE = 2048
# Formats whose decoder can shrink while decoding (JPEG's DCT scaling). Importing one decodes
# at thumbnail size (an eighth of a 12 MP frame, about 2.5x faster than at preview size) and its
# preview is made on first view; other formats are decoded whole anyway, so their preview is
# made at import from pixels already paid for.
SCALABLE_FORMATS = {"JPEG"}

ACCEPTED = "only JPEG, PNG, HEIC/HEIF, WebP and TIFF photos can be imported"

# Pillow format name -> extension used in the store.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "HEIF": "heic", "WEBP": "webp", "TIFF": "tif"}
# Formats whose EXIF orientation we must apply; Pillow's TIFF reader and pillow-heif
# already return upright pixels, so rotating those again would turn them twice.
ORIENTED_FORMATS = {"JPEG", "WEBP"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1"}

EXIF_IFD = 0x8769
TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME_DIGITIZED = 0x9012
TAG_DNG_VERSION = 50706


@dataclass
class CaptureTime:
    """Wall-clock time as shot; ``utc_offset_min`` None means the offset is unknown."""

    local: dt.datetime
    utc_offset_min: int | None

    def isoformat(self) -> str:
        if self.utc_offset_min is None:
            return self.local.isoformat()
        tz = dt.timezone(dt.timedelta(minutes=self.utc_offset_min))
        return self.local.replace(tzinfo=tz).isoformat()

    def is_future(self, now: dt.datetime | None = None) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        if self.utc_offset_min is None:
            # Floating time: allow for any time zone on Earth before calling it future.
            return self.local - dt.timedelta(hours=14) > now.replace(tzinfo=None)
        tz = dt.timezone(dt.timedelta(minutes=self.utc_offset_min))
        return self.local.replace(tzinfo=tz) > now


@dataclass
class DecodedPhoto:
    format: str
    ext: str
    width: int
    height: int
    capture_time: CaptureTime | None
    thumbnail: bytes
    # None when the import left it to be made on first view (see SCALABLE_FORMATS).
    preview: bytes | None
    warnings: list[str] = field(default_factory=list)


def sniff(head: bytes) -> str:
    """The Pillow format name of an accepted file, from its first bytes; else ImageRejected."""
    if not head:
        raise ImageRejected("the file is empty")
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        if head[8:10] == b"CR":
            raise _not_accepted("a Canon raw file (CR2); export a JPEG from it first")
        return "TIFF"
    if head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    raise _not_accepted(_describe_other(head))


def _sniff_iso_bmff(head: bytes) -> str:
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    brands = {major} | compatible
    if major in (b"avif", b"avis"):
        raise _not_accepted("an AVIF image")
    if major == b"crx ":
        raise _not_accepted("a Canon raw file (CR3); export a JPEG from it first")
    if brands & _HEIF_BRANDS:
        return "HEIF"
    if brands & _VIDEO_BRANDS:
        raise _not_accepted("a video")
    raise _not_accepted("an ISO media file of an unsupported kind")


def _describe_other(head: bytes) -> str:
    signatures: list[tuple[bytes, str]] = [
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"%!PS", "a PostScript (EPS) file"),
        (b"\xc5\xd0\xd3\xc6", "a PostScript (EPS) file"),
        (b"BM", "a BMP image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"8BPS", "a Photoshop document"),
        (b"\x00\x00\x01\x00", "an icon file"),
        (b"\xff\x0a", "a JPEG XL image"),
        (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
        (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
        (b"\x1f\x8b", "a compressed (gzip) file"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
    ]
    for magic, description in signatures:
        if head.startswith(magic):
            return description
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<svg", b"<?xml")):
        return "an SVG or XML document"
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not in any image format this app recognises"
    if all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "a text file, not a photo"
    return "not in any image format this app recognises"


def _not_accepted(what: str) -> ImageRejected:
    return ImageRejected(f"it is {what}; {ACCEPTED}")


# -- capture time ----------------------------------------------------------------------------

_DATETIME_RE = re.compile(r"^(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()


def parse_exif_datetime(value: Any) -> dt.datetime | None:
    """An EXIF date-time ("YYYY:MM:DD HH:MM:SS"), or None when absent or meaningless.

    Year 0000 is how cameras write "no date"; a leap second (":60") is folded to :59.
    """
    match = _DATETIME_RE.match(_text(value))
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    if year == 0:
        return None
    second = min(second, 59)
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_exif_offset(value: Any) -> int | None:
    """An EXIF offset ("+01:00") in minutes east of UTC, or None."""
    match = _OFFSET_RE.match(_text(value))
    if not match:
        return None
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes)
    if total > 14 * 60 or int(minutes) >= 60:
        return None
    return -total if sign == "-" else total


def capture_time_from_exif(exif: Image.Exif) -> CaptureTime | None:
    """DateTimeOriginal, else DateTimeDigitized, else IFD0 DateTime, each with its own offset."""
    try:
        exif_ifd = exif.get_ifd(EXIF_IFD)
    except Exception:  # a broken Exif IFD pointer must not cost us IFD0's date
        exif_ifd = {}
    candidates = [
        (exif_ifd.get(TAG_DATETIME_ORIGINAL), exif_ifd.get(TAG_OFFSET_TIME_ORIGINAL)),
        (exif_ifd.get(TAG_DATETIME_DIGITIZED), exif_ifd.get(TAG_OFFSET_TIME_DIGITIZED)),
        (exif.get(TAG_DATETIME), exif_ifd.get(TAG_OFFSET_TIME)),
    ]
    for value, offset in candidates:
        when = parse_exif_datetime(value)
        if when is not None:
            return CaptureTime(when, parse_exif_offset(offset))
    return None


def capture_time_from_mtime(mtime: float) -> CaptureTime:
    aware = dt.datetime.fromtimestamp(mtime).astimezone()
    offset = aware.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else None
    return CaptureTime(aware.replace(tzinfo=None, microsecond=0), minutes)


# -- decoding --------------------------------------------------------------------------------


def header_capture_time(fh: BinaryIO) -> CaptureTime | None:
    """The capture time from a file's EXIF, reading its header only (no pixels decoded).

    For a preview of where photos will land; anything unreadable means "no date here", since
    the import itself gives the real verdict on the file.
    """
    try:
        fmt = sniff(fh.read(64))
        fh.seek(0)
        if fmt == "HEIF":
            _ensure_heif()
        with Image.open(fh, formats=[fmt]) as im:
            return capture_time_from_exif(im.getexif())
    except ImageRejected:
        raise
    except Exception:
        return None


def decode(data: bytes, *, preview: bool = False) -> DecodedPhoto:
    """Check, measure and shrink one photo; ImageRejected with the reason if it will not do.

    The format is settled from the bytes before any decoder sees them, and the decoder is
    restricted to that format. Any exception a decoder raises on hostile input is turned into
    a refusal at this edge. Every byte of the pixel data is decoded either way, so a truncated
    or damaged file is caught. A JPEG is decoded at thumbnail size and comes back without a
    preview unless ``preview`` asks for one.
    """
    fmt = sniff(data[:64])
    try:
        return _decode(data, fmt, with_preview=preview or fmt not in SCALABLE_FORMATS)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            f"it has more than {MAX_PIXELS // 1_000_000} megapixels, the most this app accepts"
        ) from exc
    except MemoryError as exc:
        raise ImageRejected("it is too large to decode in the memory available") from exc
    except Exception as exc:
        log.info("Decoding failed: %s", type(exc).__name__)
        raise ImageRejected(_damage_reason(exc, fmt)) from exc


def _damage_reason(exc: Exception, fmt: str) -> str:
    name = _format_label(fmt)
    message = str(exc).lower()
    if "truncated" in message or isinstance(exc, EOFError) or "end of file" in message:
        return f"the {name} data is truncated (the file is incomplete)"
    return f"the {name} data is damaged and cannot be decoded"


def _format_label(fmt: str) -> str:
    return {"HEIF": "HEIC/HEIF", "WEBP": "WebP"}.get(fmt, fmt)


def _decode(data: bytes, fmt: str, *, with_preview: bool) -> DecodedPhoto:
    if fmt == "HEIF":
        _ensure_heif()
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        # A phone's HEIC may hold several images (depth, bursts), and a camera's JPEG a second
        # one (a Multi-Picture preview or depth map): the first is the photo in both.
        frames = getattr(im, "n_frames", 1) if fmt not in ("HEIF", "JPEG") else 1
        if frames > 1:
            if fmt == "TIFF":
                raise ImageRejected(
                    f"it is a TIFF with {frames} pages; only single photos can be imported"
                )
            raise ImageRejected(
                f"it is an animated {_format_label(fmt)}; only still photos can be imported"
            )
        width, height = im.size
        _check_size(width, height, len(data))
        if fmt == "TIFF" and TAG_DNG_VERSION in getattr(im, "tag_v2", {}):
            raise _not_accepted("a camera raw file (DNG); export a JPEG from it first")

        exif = im.getexif()
        orientation = 1
        if fmt in ORIENTED_FORMATS:
            value = exif.get(TAG_ORIENTATION, 1)
            orientation = value if isinstance(value, int) and value in _TRANSPOSE else 1
        capture = capture_time_from_exif(exif)
        icc = im.info.get("icc_profile")

        if fmt in SCALABLE_FORMATS:
            scale = (PREVIEW_MIN if with_preview else THUMB_SIZE) / max(width, height)
            if scale < 1:
                # DCT scaling: decode directly at the smallest size still >= what is needed.
                im.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
        im.load()
        # After load() the TIFF and HEIF decoders may have turned the image upright.
        if fmt not in ORIENTED_FORMATS:
            width, height = im.size
        rgb = to_rgb8(im)

    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if orientation != 1:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
    rgb = _to_srgb(rgb, icc)

    preview_img = _shrink_to_preview(rgb) if with_preview else rgb
    # resize() makes a new image (no copy first); reducing_gap lets it box-reduce most of the
    # way, then resample the last step.
    k = THUMB_SIZE / max(preview_img.size)
    thumb_size = (max(1, round(preview_img.width * k)), max(1, round(preview_img.height * k)))
    thumb_img = preview_img
    if k < 1:
        # Box-average most of the way (fast, and it is what a thumbnail wants), then one
        # small resample to the exact size.
        factor = int(1 / k)
        if factor >= 2:
            thumb_img = thumb_img.reduce(factor)
        thumb_img = thumb_img.resize(thumb_size, Image.Resampling.BICUBIC)

    warnings: list[str] = []
    if capture is not None and capture.is_future():
        warnings.append(
            f"its capture date {capture.local:%Y-%m-%d} is in the future; "
            "check the camera's clock or give the date with --date"
        )
    return DecodedPhoto(
        format=fmt,
        ext=EXTENSIONS[fmt],
        width=width,
        height=height,
        capture_time=capture,
        thumbnail=encode_jpeg(thumb_img, quality=80),
        preview=encode_jpeg(preview_img, quality=85) if with_preview else None,
        warnings=warnings,
    )


def _shrink_to_preview(rgb: Image.Image) -> Image.Image:
    """At most PREVIEW_SIZE on the long side. A whole-number box reduction that keeps at least
    PREVIEW_MIN comes first (a 12 MP frame halves straight into the band, 16 ms instead of a
    115 ms resample); only what is still too large is resampled."""
    long_side = max(rgb.size)
    if long_side <= PREVIEW_SIZE:
        return rgb
    factor = long_side // PREVIEW_MIN
    img = rgb.reduce(factor) if factor >= 2 else rgb
    if max(img.size) <= PREVIEW_SIZE:
        return img
    k = PREVIEW_SIZE / max(img.size)
    size = (max(1, round(img.width * k)), max(1, round(img.height * k)))
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def load_upright(data: bytes, max_side: int | None = None) -> Image.Image:
    """An imported original as upright 8-bit sRGB, at most ``max_side`` pixels on its long side.

    For looking closer than the preview allows; the original was checked when it was imported.
    """
    fmt = sniff(data[:64])
    if fmt == "HEIF":
        _ensure_heif()
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            orientation = 1
            if fmt in ORIENTED_FORMATS:
                value = im.getexif().get(TAG_ORIENTATION, 1)
                orientation = value if isinstance(value, int) and value in _TRANSPOSE else 1
            icc = im.info.get("icc_profile")
            if fmt == "JPEG" and max_side and max(im.size) > max_side:
                k = max_side / max(im.size)
                im.draft(None, (max(1, int(im.width * k)), max(1, int(im.height * k))))
            im.load()
            rgb = to_rgb8(im)
    except ImageRejected:
        raise
    except Exception as exc:
        raise ImageRejected(_damage_reason(exc, fmt)) from exc
    if orientation != 1:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
    rgb = _to_srgb(rgb, icc)
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return rgb


def _check_size(width: int, height: int, n_bytes: int) -> None:
    pixels = width * height
    if pixels <= 0:
        raise ImageRejected("its header gives it no pixels (width or height is zero)")
    if pixels > MAX_PIXELS:
        raise ImageRejected(
            f"it has {pixels / 1e6:,.0f} megapixels; the most this app accepts is "
            f"{MAX_PIXELS // 1_000_000} megapixels"
        )
    if pixels >= BOMB_MIN_PIXELS and n_bytes < pixels * BOMB_BYTES_PER_PIXEL:
        raise ImageRejected(
            f"it claims {pixels / 1e6:,.0f} megapixels in only {n_bytes:,} bytes, "
            "the mark of a decompression bomb"
        )


def to_rgb8(im: Image.Image) -> Image.Image:
    """8-bit RGB for thumbnails and previews; deeper images are scaled, not clipped."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        im32 = im if mode == "I" else im.convert("I")
        lo, hi = cast(tuple[float, float], im32.getextrema())
        scale = 1 / 256 if hi <= 65535 else 255 / max(hi, 1)
        offset = 0.0 if lo >= 0 else -lo * scale
        return im32.point(lambda v: v * scale + offset).convert("L").convert("RGB")
    if mode == "F":
        lo, hi = cast(tuple[float, float], im.getextrema())
        if hi <= 1.0 and lo >= 0.0:
            lo, hi = 0.0, 1.0
        span = (hi - lo) or 1.0
        return im.point(lambda v: (v - lo) * 255.0 / span).convert("L").convert("RGB")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if mode == "RGB":
        return im
    return im.convert("RGB")


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(rgb: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert with the photo's own colour profile (phones use Display P3) so redness reads true."""
    if not icc:
        return rgb
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return rgb
        converted = ImageCms.profileToProfile(rgb, source, _SRGB, outputMode="RGB")
    except Exception:  # a broken profile must not cost the photo; show it unconverted
        log.info("Ignored an unusable colour profile")
        return rgb
    return converted if converted is not None else rgb


def encode_jpeg(im: Image.Image, *, quality: int) -> bytes:
    """JPEG bytes with no metadata at all: no EXIF, ICC, comment or thumbnail is carried over."""
    # Pillow's JPEG writer falls back to im.info for the comment, so clear it on a copy.
    bare = im.copy() if im.info else im
    bare.info = {}
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=quality)
    return out.getvalue()
