"""What the installed Pillow, libtiff and libheif can decode, found out by trying, once.

Which TIFF compressions libtiff was built with, which HEIF codings libheif has decoders for,
and whether Pillow's TIFF reader takes a big-endian BigTIFF differ from one build of these
libraries to the next; hard-coding the answer would refuse what a better build reads, or call
damaged what a poorer one cannot read. So each question is answered the first time it is asked
by decoding a tiny sample made here, and the answer is kept for the life of the process.
Samples are decoded with standard error silenced (a failing libtiff prints there).
"""

from __future__ import annotations

import functools
import io
import logging
import struct

from PIL import Image, TiffImagePlugin

from tracker.core.imaging import bmff
from tracker.core.imaging.plugins import ensure_heif
from tracker.core.imaging.quiet import quiet_stderr
from tracker.core.imaging.tiff import classic_tiff

log = logging.getLogger(__name__)

_SIZE = (8, 8)

# Compressions whose libtiff codec encodes what it decodes: a sample is written with Pillow's
# TIFF writer and read back, and a codec that cannot write was not built in.
_WRITABLE = {1, 2, 3, 4, 5, 7, 8, 32773, 32946, 34925, 50000, 50001}
_BILEVEL = {2, 3, 4}  # CCITT: one bit a pixel


def _sample_picture(mode: str) -> Image.Image:
    im = Image.new("RGB", _SIZE, (200, 60, 40))
    im.paste((20, 90, 210), (0, 0, 4, 4))
    return im.convert(mode)


@functools.cache
def tiff_compression_readable(code: int) -> bool:
    """Whether a TIFF of Compression ``code`` can be decoded here.

    Compressions whose codec also writes are tried for real (written, then read back). The
    others Pillow knows (old-style JPEG, ThunderScan, SGI Log) cannot be made here and are left
    to the decoder; those Pillow does not know at all it refuses as soon as it opens the file,
    which a sample with that compression and a dummy strip shows.
    """
    name = TiffImagePlugin.COMPRESSION_INFO.get(code)
    try:
        with quiet_stderr():
            if name is not None and code in _WRITABLE:
                picture = _sample_picture("1" if code in _BILEVEL else "RGB")
                out = io.BytesIO()
                try:
                    picture.save(out, "TIFF", compression=name)
                except Exception:
                    return False  # not built in: libtiff cannot write it, nor read it
                with Image.open(io.BytesIO(out.getvalue()), formats=["TIFF"]) as im:
                    im.load()
                    return im.size == _SIZE
            if name is not None:
                return True
            with Image.open(io.BytesIO(_dummy_tiff(code)), formats=["TIFF"]):
                return True
    except Exception:
        return False


def _dummy_tiff(code: int) -> bytes:
    """An 8x8 grey TIFF that claims ``code`` for compression over a strip of zeros."""
    w, h = _SIZE
    entries = [
        (256, 3, 1, struct.pack("<H", w)),
        (257, 3, 1, struct.pack("<H", h)),
        (258, 3, 1, struct.pack("<H", 8)),
        (259, 3, 1, struct.pack("<H", code)),
        (262, 3, 1, struct.pack("<H", 1)),
        (277, 3, 1, struct.pack("<H", 1)),
        (278, 3, 1, struct.pack("<H", h)),
    ]
    return classic_tiff("<", entries, bytes(w * h))


@functools.cache
def pillow_reads_big_endian_bigtiff() -> bool:
    """Whether Pillow opens a big-endian BigTIFF ("MM\\0+"; Pillow 13 takes it for a classic TIFF)."""
    w, h = _SIZE
    strip_at = 16
    ifd_at = strip_at + w * h
    tags = [(256, 3, w), (257, 3, h), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    tags += [(273, 16, strip_at), (277, 3, 1), (278, 3, h), (279, 16, w * h)]
    table = struct.pack(">Q", len(tags))
    for tag, kind, value in tags:
        packed = struct.pack(">H", value) if kind == 3 else struct.pack(">Q", value)
        table += struct.pack(">HHQ", tag, kind, 1) + packed.ljust(8, b"\x00")
    data = b"MM\x00+" + struct.pack(">HHQ", 8, 0, ifd_at) + bytes(range(w * h)) + table + bytes(8)
    try:
        with quiet_stderr(), Image.open(io.BytesIO(data), formats=["TIFF"]) as im:
            im.load()
            return im.size == _SIZE and im.getpixel((1, 0)) == 1
    except Exception:
        return False


# -- HEIF ----------------------------------------------------------------------------------------

# What each item type is, as the refusal names it.
HEIF_CODINGS = {
    b"hvc1": "HEVC (H.265)",
    b"avc1": "AVC (H.264)",
    b"av01": "AV1 (AVIF)",
    b"jpeg": "JPEG",
    b"unci": "no compression (ISO 23001-17)",
    b"j2k1": "JPEG 2000",
    b"vvc1": "VVC (H.266)",
    b"evc1": "EVC",
}
# libheif's decoder plugins by the item type they decode, by libheif's plugin ids.
_DECODER_PLUGINS = {
    b"hvc1": {"libde265", "ffmpeg"},
    b"avc1": {"openh264"},
    b"av01": {"dav1d", "aom", "libgav1"},
    b"jpeg": {"jpeg", "libjpeg"},
    b"j2k1": {"openjpeg", "openjph"},
    b"vvc1": {"vvdec"},
    b"evc1": {"xevd"},
}


def _heif_sample(item_type: bytes) -> bytes | None:
    """A tiny HEIF still coded as ``item_type``, for the codings that can be made here."""
    picture = _sample_picture("RGB")
    if item_type == b"unci":
        # 8-bit R, G, B components, pixel-interleaved (uncC version 0, cmpd component types 4-6).
        cmpd = bmff.box(b"cmpd", struct.pack(">IHHH", 3, 4, 5, 6))
        components = b"".join(struct.pack(">HBBB", i, 7, 0, 0) for i in range(3))
        layout = struct.pack(">BBBBIIIII", 0, 1, 0, 0, 0, 0, 0, 0, 0)
        uncc = bmff.full_box(b"uncC", 0, struct.pack(">II", 0, 3), components, layout)
        return bmff.still_heif(b"unci", picture.tobytes(), [cmpd, uncc], _SIZE)
    if item_type == b"jpeg":
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=90)
        return bmff.still_heif(b"jpeg", out.getvalue(), [], _SIZE)
    return None


@functools.cache
def heif_coding_readable(item_type: bytes) -> bool:
    """Whether libheif here decodes images coded as ``item_type``: by decoding a sample where
    one can be made (JPEG, uncompressed), else by the decoder plugins libheif lists."""
    sample = _heif_sample(item_type)
    if sample is not None:
        try:
            ensure_heif()
            with Image.open(io.BytesIO(sample), formats=["HEIF"]) as im:
                im.load()
                return im.size == _SIZE
        except Exception:
            return False
    try:
        import pillow_heif  # loaded with the HEIF opener anyway (see ensure_heif)

        decoders = set(pillow_heif.libheif_info().get("decoders", {}))
    except Exception:
        log.info("Could not list libheif's decoders")
        return False
    return bool(decoders & _DECODER_PLUGINS.get(item_type, set()))


# The TIFF compressions, as the refusal names them (TIFF 6, Adobe and libtiff's registry).
TIFF_COMPRESSIONS = {
    1: "no compression",
    2: "CCITT RLE",
    3: "CCITT Group 3 fax",
    4: "CCITT Group 4 fax",
    5: "LZW",
    6: "old-style JPEG",
    7: "JPEG",
    8: "Deflate",
    9: "JBIG (T.85)",
    10: "JBIG (T.43)",
    32771: "CCITT RLEW",
    32773: "PackBits",
    32809: "ThunderScan",
    32908: "Pixar film",
    32909: "PixarLog",
    32946: "Deflate",
    34661: "JBIG",
    34676: "SGI LogL",
    34677: "SGI LogLuv",
    34712: "JPEG 2000",
    34887: "LERC",
    34925: "LZMA",
    50000: "Zstandard (ZSTD)",
    50001: "WebP",
    50002: "JPEG XL",
    52546: "JPEG XL",
}
