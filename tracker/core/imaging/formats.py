"""Which files are photos this app imports, told from their bytes (never their names).

A format is settled here before any decoder sees the file, and the decoders are then
restricted to it; what is refused gets a sentence naming what the file is. ``sniff`` decides
from the first bytes alone (enough for the format, a video, a camera raw with a signature of its
own); ``identify`` reads a TIFF's directories and a HEIF's boxes as well, without decoding, to
refuse what only they reveal (a raw made as a TIFF, a compression or coding the installed
libraries cannot decode) before a decoder fails on it, and to say whether a HEIF is a sequence.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import BinaryIO

from PIL import TiffImagePlugin

from tracker.core.errors import ImageRejected
from tracker.core.imaging import tiff
from tracker.core.imaging.bmff import BoxError, read_heif
from tracker.core.imaging.plugins import ensure_heif as ensure_heif
from tracker.core.imaging.probe import (
    HEIF_CODINGS,
    TIFF_COMPRESSIONS,
    heif_coding_readable,
    pillow_reads_big_endian_bigtiff,
    tiff_compression_readable,
)

log = logging.getLogger(__name__)

ACCEPTED = "only JPEG, PNG, HEIC/HEIF, WebP and TIFF photos can be imported"

# Pillow format name -> extension used in the store.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "HEIF": "heic", "WEBP": "webp", "TIFF": "tif"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
# The major brands pillow-heif opens; a HEIF with another (and a HEIF compatible brand) is
# handed to it as "mif1", which is what it is.
_OPENED_MAJOR = {
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
}
_VIDEO_BRANDS = {
    b"isom": "MP4",
    b"iso2": "MP4",
    b"iso4": "MP4",
    b"iso5": "MP4",
    b"iso6": "MP4",
    b"mp41": "MP4",
    b"mp42": "MP4",
    b"avc1": "MP4",
    b"dash": "MP4",
    b"M4V ": "MP4",
    b"M4VH": "MP4",
    b"M4VP": "MP4",
    b"qt  ": "QuickTime MOV",
    b"3gp4": "3GP",
    b"3gp5": "3GP",
    b"3gp6": "3GP",
    b"3g2a": "3GP",
    b"XAVC": "MP4",
}
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
# Raw formats with a signature of their own, at the very start of the file.
_RAW_SIGNATURES = (
    (b"FUJIFILMCCD-RAW", "Fujifilm RAF"),
    (b"II\x1a\x00\x00\x00HEAPCCDR", "Canon CRW"),
    (b"\x00MRM", "Minolta MRW"),
    (b"FOVb", "Sigma X3F"),
    (b"IIRO", "Olympus ORF"),
    (b"IIRS", "Olympus ORF"),
    (b"MMOR", "Olympus ORF"),
    (b"IIU\x00", "Panasonic RW2"),
)
# What makes a TIFF a raw: the sensor's own samples (a colour filter array, or LinearRaw) or a
# compression only a maker's raw converter reads.
_RAW_PHOTOMETRIC = {32803, 34892}
_RAW_COMPRESSIONS = {262, 32767, 32769, 32770, 32772, 32867, 34316, 34713, 34892, 65000, 65535}
_MAKERS = (
    ("NIKON", "Nikon NEF"),
    ("SONY", "Sony ARW"),
    ("PENTAX", "Pentax PEF"),
    ("RICOH", "Pentax PEF"),
    ("ASAHI", "Pentax PEF"),
    ("SAMSUNG", "Samsung SRW"),
    ("PHASE ONE", "Phase One IIQ"),
    ("CANON", "Canon CR2"),
    ("HASSELBLAD", "Hasselblad 3FR"),
    ("LEAF", "Leaf MOS"),
    ("MAMIYA", "Mamiya MEF"),
    ("EASTMAN KODAK", "Kodak DCR"),
    ("KODAK", "Kodak DCR"),
    ("SEIKO EPSON", "Epson ERF"),
    ("EPSON", "Epson ERF"),
    ("OLYMPUS", "Olympus ORF"),
    ("OM DIGITAL", "OM System ORF"),
    ("PANASONIC", "Panasonic RW2"),
    ("FUJIFILM", "Fujifilm RAF"),
    ("KONICA MINOLTA", "Minolta MRW"),
    ("MINOLTA", "Minolta MRW"),
    ("SIGMA", "Sigma X3F"),
)
# Enough of the start of a file for every signature here (an MPEG transport stream shows its
# packets every 188 bytes).
HEAD_SIZE = 1024


def sniff(head: bytes) -> str:
    """The Pillow format name of an accepted file, from its first bytes; else ImageRejected.

    64 bytes are enough for every format and every refusal but two: a TIFF-based camera raw and
    a TIFF or HEIF that cannot be decoded here are told by ``identify``, which reads further.
    """
    if not head:
        raise ImageRejected("the file is empty")
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF":
        if head[8:12] == b"WEBP":
            return "WEBP"
        if head[8:12] == b"AVI ":
            raise not_accepted("a video (AVI)")
        if head[8:12] == b"WAVE":
            raise not_accepted("a sound recording (WAV)")
    if head[:4] in _TIFF_MAGICS:
        if head[8:10] == b"CR":
            raise raw_refusal("Canon CR2")
        if head[8:12] in (b"IIII", b"MMMM"):
            raise raw_refusal("Phase One IIQ")
        return "TIFF"
    for magic, raw in _RAW_SIGNATURES:
        if head.startswith(magic):
            raise raw_refusal(raw)
    if head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    video = _video(head)
    if video:
        raise not_accepted(f"a video ({video})")
    raise not_accepted(_describe_other(head))


def _sniff_iso_bmff(head: bytes) -> str:
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    brands = {major} | compatible
    if major in (b"avif", b"avis"):
        raise not_accepted("an AVIF image")
    if major == b"crx ":
        raise raw_refusal("Canon CR3")
    if brands & _HEIF_BRANDS:
        return "HEIF"
    if major in (b"M4A ", b"M4B "):
        raise not_accepted("a sound recording (M4A)")
    for brand in (major, *sorted(compatible)):
        if brand in _VIDEO_BRANDS:
            raise not_accepted(f"a video ({_VIDEO_BRANDS[brand]})")
    raise not_accepted("an ISO media file of an unsupported kind")


def _video(head: bytes) -> str:
    """The kind of video ``head`` starts, or "" (those without an ftyp box)."""
    if head[4:8] in (b"moov", b"mdat", b"wide", b"pnot", b"free", b"skip") and head[0] < 0x20:
        return "QuickTime MOV"  # a QuickTime movie from before ftyp
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska, or WebM (a Matroska profile)
        return "WebM" if b"webm" in head[:64] else "Matroska MKV"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "MPEG"
    for start, stride in ((0, 188), (4, 192)):  # MPEG-TS, and M2TS (AVCHD) with its timecodes
        if len(head) > start + 2 * stride:
            if all(head[start + k * stride] == 0x47 for k in range(3)):
                return "MPEG transport stream"
        elif _pat_packet(head[start : start + 4]):
            return "MPEG transport stream"
    return ""


def _pat_packet(packet: bytes) -> bool:
    """The first packet of a transport stream, when too little is given to see the next one:
    sync byte, payload start, PID 0 (the program table), with a payload."""
    return (
        len(packet) == 4
        and packet[0] == 0x47
        and packet[1] & 0xDF == 0x40
        and packet[2] == 0
        and packet[3] & 0xD0 == 0x10
    )


_NETPBM = re.compile(rb"^P([1-7]|F|f)[ \t\r\n]")
_NETPBM_NAMES = {
    b"1": "PBM",
    b"4": "PBM",
    b"2": "PGM",
    b"5": "PGM",
    b"3": "PPM",
    b"6": "PPM",
    b"7": "PAM",
    b"F": "PFM",
    b"f": "PFM",
}
_SIGNATURES: list[tuple[bytes, str]] = [
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
    (b"\xff\x4f\xff\x51", "a JPEG 2000 image"),
    (b"SIMPLE  =", "a FITS image (astronomy data)"),
    (b"#?RADIANCE", "a Radiance HDR image"),
    (b"#?RGBE", "a Radiance HDR image"),
    (b"\x76\x2f\x31\x01", "an OpenEXR image"),
    (b"DDS ", "a DirectDraw Surface (DDS) texture"),
    (b"icns", "a macOS icon (ICNS) file"),
    (b"gimp xcf", "a GIMP image (XCF)"),
    (b"AT&TFORM", "a DjVu document"),
    (b"BPG\xfb", "a BPG image"),
    (b"qoif", "a QOI image"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]


def _describe_other(head: bytes) -> str:
    for magic, description in _SIGNATURES:
        if head.startswith(magic):
            return description
    netpbm = _NETPBM.match(head)
    if netpbm:
        return f"a Netpbm image ({_NETPBM_NAMES[netpbm.group(1)]})"
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


def not_accepted(what: str) -> ImageRejected:
    return ImageRejected(f"it is {what}; {ACCEPTED}")


def raw_refusal(kind: str) -> ImageRejected:
    """A camera raw: ``kind`` names maker and format ("Nikon NEF"), or is "" when unknown."""
    what = f"a camera raw file ({kind})" if kind else "a camera raw file"
    return ImageRejected(f"it is {what}; export a JPEG from it first")


def cannot_read(what: str) -> ImageRejected:
    return ImageRejected(f"it is {what}, which this app cannot read; export it as JPEG")


def format_label(fmt: str) -> str:
    """A format's name as people know it."""
    return {"HEIF": "HEIC/HEIF", "WEBP": "WebP"}.get(fmt, fmt)


# -- beyond the first bytes -------------------------------------------------------------------


@dataclass(frozen=True)
class Identified:
    """An accepted file's format, and what its structure says beyond that."""

    format: str
    # A HEIF image sequence (a burst, a live photo); ``frames`` the images in it when known.
    sequence: bool = False
    frames: int | None = None
    # How the bytes are to be handed to Pillow (see ``for_pillow``), when not as they are.
    repair: str | None = None


def identify(source: bytes | BinaryIO) -> Identified:
    """The format of a file (``sniff``) and what its structure adds, without decoding it;
    ImageRejected for what is not a photo this app can read, with the reason. A file handle is
    read only where its header, directories and boxes are, and left where it was."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)

        def read(offset: int, n: int) -> bytes:
            return data[offset : offset + n] if offset >= 0 else b""

        size = len(data)
    else:
        fh = source
        position = fh.tell()
        try:
            size = os.fstat(fh.fileno()).st_size
        except (OSError, AttributeError):  # not a file on disk (io.BytesIO)
            size = fh.seek(0, os.SEEK_END)

        def read(offset: int, n: int) -> bytes:
            if offset < 0:
                return b""
            fh.seek(offset)
            return fh.read(n)

    try:
        fmt = sniff(read(0, HEAD_SIZE))
        try:
            if fmt == "TIFF":
                return _identify_tiff(read)
            if fmt == "HEIF":
                return _identify_heif(read, size)
        except (ImageRejected, OSError):
            raise
        except Exception as exc:  # a hostile structure: the decoder gives the verdict on it
            log.info("Could not read the structure of a %s: %s", fmt, type(exc).__name__)
        return Identified(fmt)
    finally:
        if not isinstance(source, bytes | bytearray | memoryview):
            source.seek(position)


def _identify_tiff(read: tiff.ReadAt) -> Identified:
    try:
        structure = tiff.read_structure(read)
    except tiff.TiffError:
        return Identified("TIFF")  # damaged: the decoder says so, as for any damaged TIFF
    raw = camera_raw(structure)
    if raw is not None:
        raise raw_refusal(raw)
    page = structure.pages[0]
    compression = page.number(tiff.COMPRESSION, 1) or 1
    if not tiff_compression_readable(compression):
        name = TIFF_COMPRESSIONS.get(compression)
        how = name if name else f"an unknown method (code {compression})"
        raise cannot_read(f"a TIFF compressed with {how}")
    samples = page.number(tiff.SAMPLES_PER_PIXEL, 1) or 1
    if samples > TiffImagePlugin.MAX_SAMPLESPERPIXEL:
        raise cannot_read(f"a TIFF with {samples} channels (samples per pixel)")
    if structure.big and structure.order == ">" and not pillow_reads_big_endian_bigtiff():
        if len(structure.pages) > 1:
            raise pages_refusal(len(structure.pages))
        return Identified("TIFF", repair="classic-tiff")
    return Identified("TIFF")


def pages_refusal(pages: int) -> ImageRejected:
    return ImageRejected(f"it is a TIFF with {pages} pages; only single photos can be imported")


def camera_raw(structure: tiff.Structure) -> str | None:
    """The maker and format of a TIFF-based camera raw ("" when the maker is not known), or
    None when the TIFF is a picture (a camera's own TIFF included)."""
    directories = list(structure.directories())
    if any(tiff.DNG_VERSION in d.entries for d in directories):
        return "DNG"
    if not any(
        d.number(tiff.PHOTOMETRIC) in _RAW_PHOTOMETRIC
        or d.number(tiff.COMPRESSION) in _RAW_COMPRESSIONS
        for d in directories
    ):
        return None
    make = next((d.text(tiff.MAKE) for d in directories if d.text(tiff.MAKE)), "").upper()
    return next((label for prefix, label in _MAKERS if make.startswith(prefix)), "")


def unreadable_layout(data: bytes) -> str | None:
    """Why Pillow cannot take a TIFF's pixel layout (samples, bits, photometric), from its
    first directory, or None when the layout is one it reads (so the file is damaged)."""
    try:
        structure = tiff.read_structure(lambda at, n: data[at : at + n])
    except tiff.TiffError:
        return None
    page = structure.pages[0]
    compression = page.number(tiff.COMPRESSION, 1)
    photo = 6 if compression == 6 else page.number(tiff.PHOTOMETRIC, 0)
    formats = page.ints(tiff.SAMPLE_FORMAT) or (1,)
    if len(formats) > 1 and len(set(formats)) == 1:
        formats = formats[:1]
    bits = page.ints(tiff.BITS_PER_SAMPLE) or (1,)
    extra = page.ints(tiff.EXTRA_SAMPLES)
    samples = page.number(tiff.SAMPLES_PER_PIXEL, 3 if compression == 6 and photo in (2, 6) else 1)
    samples = samples or 1
    if page.number(tiff.PLANAR, 1) == 2 and extra and max(extra) == 0:
        bits, samples, extra = bits[: -len(extra)], samples - len(extra), ()
    if samples < len(bits):
        bits = bits[:samples]
    elif samples > len(bits) == 1:
        bits = bits * samples
    key = (
        b"II" if structure.order == "<" else b"MM",
        photo,
        formats,
        page.number(tiff.FILL_ORDER, 1),
        bits,
        extra,
    )
    if len(bits) == samples and key in TiffImagePlugin.OPEN_INFO:
        return None
    kind = {0: "greyscale", 1: "greyscale", 2: "RGB", 3: "palette", 4: "mask", 5: "CMYK"}
    kind |= {6: "YCbCr", 8: "CIE L*a*b*", 9: "ICC L*a*b*", 10: "ITU L*a*b*"}
    kind |= {32844: "LogL", 32845: "LogLuv"}
    number = {1: "integer", 2: "signed integer", 3: "floating point"}.get(formats[0], "samples")
    depth = "/".join(str(b) for b in sorted(set(bits))) or "?"
    shape = kind.get(photo or 0, f"photometric {photo}")
    channels = f"{samples} channel{'s' if samples != 1 else ''}"
    return f"a TIFF in a pixel layout this app cannot read ({shape}, {channels} of {depth}-bit {number})"


def _identify_heif(read: tiff.ReadAt, size: int) -> Identified:
    try:
        facts = read_heif(read, size)
    except BoxError:
        return Identified("HEIF")  # damaged: the decoder says so
    if facts.primary is None:
        if facts.sequence and not facts.has_meta:
            raise ImageRejected(
                "it is a HEIF image sequence with no still image in it; "
                "only still photos can be imported"
            )
        return Identified("HEIF")
    for coding in facts.primary_codings():
        if not heif_coding_readable(coding):
            name = HEIF_CODINGS.get(coding)
            how = name if name else f"an unknown method ({coding.decode('latin-1')!r})"
            raise cannot_read(f"a HEIF image coded with {how}")
    return Identified(
        "HEIF",
        sequence=facts.sequence,
        frames=facts.frames if facts.sequence else None,
        repair=None if facts.major in _OPENED_MAJOR else "heif-brand",
    )


def for_pillow(data: bytes, identified: Identified) -> bytes:
    """The bytes to hand Pillow for a file ``identify`` found needs a repair: a big-endian
    BigTIFF rewritten as a classic TIFF (Pillow reads "MM\\0+" as a classic one and fails), a
    HEIF with a major brand pillow-heif does not open given "mif1". The stored original stays
    as it was."""
    if identified.repair == "classic-tiff":
        structure = tiff.read_structure(lambda at, n: data[at : at + n])
        return tiff.as_classic(data, structure)
    if identified.repair == "heif-brand":
        return data[:8] + b"mif1" + data[12:]
    return data
