"""Reading a photo once at import: format, capture time, upright size, thumbnail and preview.

Everything here works on bytes already in memory, so the importer reads each file exactly once.
The rules (which formats, how orientation and dates are read) are those of the library issue;
the comments say why where the reason is not obvious.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass, field
from typing import cast

from PIL import Image, ImageCms

from tracker.core.errors import ImageRejected
from tracker.core.imaging.exif import TAG_ORIENTATION, capture_time_from_exif
from tracker.core.imaging.facts import CaptureTime, Note, NoteKind
from tracker.core.imaging.formats import (
    EXTENSIONS,
    HEAD_SIZE,
    Identified,
    for_pillow,
    format_label,
    identify,
    pages_refusal,
    sniff,
    unreadable_layout,
)
from tracker.core.imaging.plugins import ensure_heif
from tracker.core.imaging.quiet import quiet_stderr

log = logging.getLogger(__name__)

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
    notes: list[Note] = field(default_factory=list)
    # With ``decode(..., pixels=True)``: the upright sRGB image the thumbnail was made from (a
    # JPEG's reduced decode, else the preview), for the import's capture checks to measure.
    pixels: Image.Image | None = None


# -- decoding --------------------------------------------------------------------------------


def decode(
    data: bytes, *, preview: bool = False, stored: bool = False, pixels: bool = False
) -> DecodedPhoto:
    """Check, measure and shrink one photo; ImageRejected with the reason if it will not do.

    The format is settled from the bytes before any decoder sees them (``identify``, which also
    refuses what the installed decoders cannot read), and the decoder is restricted to that
    format. Any exception a decoder raises on hostile input is turned into
    a refusal at this edge. Every byte of the pixel data is decoded either way, so a truncated
    or damaged file is caught. A JPEG is decoded at thumbnail size and comes back without a
    preview unless ``preview`` asks for one.

    ``stored``: the bytes are an original in the library (its thumbnail or preview is being
    made again), which an earlier version may have taken although this one refuses its kind
    (a TIFF-based camera raw read as its first image): it is read as what its first bytes say.
    """
    identified = _identified(data) if stored else identify(data)
    fmt = identified.format
    try:
        with_preview = preview or fmt not in SCALABLE_FORMATS
        return _decode(data, identified, with_preview=with_preview, keep=pixels)
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
        raise ImageRejected(_damage_reason(data, fmt, exc)) from exc


def _damage_reason(data: bytes, fmt: str, exc: Exception) -> str:
    """Why a file that looked like ``fmt`` could not be decoded: cut short, or damaged. Told
    from the file's structure (does it end where its format says it must?), not from the
    decoder's message."""
    name = format_label(fmt)
    if isinstance(exc, EOFError) or _cut_short(data, fmt):
        return f"the {name} data is truncated (the file is incomplete)"
    layout = unreadable_layout(data) if fmt == "TIFF" else None
    if layout is not None:
        return f"it is {layout}; export it as JPEG"
    return f"the {name} data is damaged and cannot be decoded"


def _cut_short(data: bytes, fmt: str) -> bool:
    if fmt == "JPEG":
        # A complete JPEG ends with its End Of Image marker (some writers pad after it).
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return b"IEND" not in data[-32:]
    if fmt == "WEBP":
        return len(data) < 8 + int.from_bytes(data[4:8], "little")
    return False


def _identified(data: bytes) -> Identified:
    """A stored original's format: as the import judges it, else (imported by an earlier
    version that took what this one refuses) as its first bytes say."""
    try:
        return identify(data)
    except ImageRejected:
        return Identified(sniff(data[:HEAD_SIZE]))


def _quiet(fmt: str) -> contextlib.AbstractContextManager[None]:
    """Standard error silenced while libtiff decodes (it prints what it cannot do; see quiet)."""
    return quiet_stderr() if fmt == "TIFF" else contextlib.nullcontext()


def _sequence_note(frames: int | None) -> Note:
    count = f" of {frames} frames" if frames is not None else ""
    return Note(
        NoteKind.STILL_OF_SEQUENCE,
        f"it is an image sequence{count} (a burst, a live photo or an animation); "
        "its still image was imported",
    )


def _decode(
    data: bytes, identified: Identified, *, with_preview: bool, keep: bool = False
) -> DecodedPhoto:
    fmt = identified.format
    if fmt == "HEIF":
        ensure_heif()
    notes: list[Note] = []
    with _quiet(fmt), Image.open(io.BytesIO(for_pillow(data, identified)), formats=[fmt]) as im:
        # A phone's HEIC may hold several images (depth, bursts), and a camera's JPEG a second
        # one (a Multi-Picture preview or depth map): the first is the photo in both. The
        # pages of a TIFF are a document's; the frames of an animated PNG or WebP, like those of
        # a HEIF sequence, have a still (the first frame, the primary image), which is imported.
        frames = getattr(im, "n_frames", 1) if fmt not in ("HEIF", "JPEG") else 1
        if frames > 1:
            if fmt == "TIFF":
                raise pages_refusal(frames)
            notes.append(_sequence_note(frames))
        elif identified.sequence and (identified.frames is None or identified.frames > 1):
            notes.append(_sequence_note(identified.frames))
        width, height = im.size
        _check_size(width, height, len(data))

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

    if capture is not None and capture.is_future():
        notes.append(
            Note(
                NoteKind.FUTURE_DATE,
                f"its capture date {capture.local:%Y-%m-%d} is in the future",
            )
        )
    return DecodedPhoto(
        format=fmt,
        ext=EXTENSIONS[fmt],
        width=width,
        height=height,
        capture_time=capture,
        thumbnail=encode_jpeg(thumb_img, quality=80),
        preview=encode_jpeg(preview_img, quality=85) if with_preview else None,
        notes=notes,
        pixels=preview_img if keep else None,
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
    identified = _identified(data)
    fmt = identified.format
    if fmt == "HEIF":
        ensure_heif()
    try:
        with _quiet(fmt), Image.open(io.BytesIO(for_pillow(data, identified)), formats=[fmt]) as im:
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
        raise ImageRejected(_damage_reason(data, fmt, exc)) from exc
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
