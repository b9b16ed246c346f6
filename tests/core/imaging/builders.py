"""Odd image files made in code for the imaging tests: TIFF structures (both byte orders, classic
and BigTIFF, SubIFDs, camera-raw-like layouts) and ISO-BMFF boxes (HEIF items, sequences).

Everything is written with ``struct`` from the specifications, independently of the code under
test, so that a test of the parser is not a test of the parser against itself.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from PIL import Image

# -- TIFF --------------------------------------------------------------------------------------

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, FLOAT, DOUBLE, LONG8 = 1, 2, 3, 4, 5, 7, 11, 12, 16
_TYPE_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, LONG8: 8}
_TYPE_CODE = {SHORT: "H", LONG: "I", LONG8: "Q"}

IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION = 256, 257, 258, 259
PHOTOMETRIC, MAKE, MODEL, STRIP_OFFSETS, SAMPLES_PER_PIXEL = 262, 271, 272, 273, 277
ROWS_PER_STRIP, STRIP_BYTE_COUNTS, PLANAR, SUB_IFDS, SAMPLE_FORMAT = 278, 279, 284, 330, 339
NEW_SUBFILE_TYPE, EXIF_IFD, DNG_VERSION = 254, 34665, 50706
CFA_REPEAT_PATTERN_DIM, CFA_PATTERN = 33421, 33422

Value = int | str | bytes | Sequence[int]


@dataclass
class Ifd:
    """One image file directory: tags as ``tag -> (type, value)``, the strips of its pixel data
    (StripOffsets and StripByteCounts are written for them), and child directories."""

    tags: dict[int, tuple[int, Value]] = field(default_factory=dict)
    strips: list[bytes] = field(default_factory=list)
    sub_ifds: list[Ifd] = field(default_factory=list)
    exif: Ifd | None = None

    def set(self, tag: int, kind: int, value: Value) -> Ifd:
        self.tags[tag] = (kind, value)
        return self


def _values(kind: int, value: Value) -> tuple[bytes, int]:
    """The bytes of an ASCII, BYTE or UNDEFINED value, and its count."""
    if kind == ASCII:
        raw = (value.encode() if isinstance(value, str) else bytes(cast(bytes, value))) + b"\x00"
        return raw, len(raw)
    if isinstance(value, int):
        raw = bytes([value])
    elif isinstance(value, str):
        raw = value.encode()
    else:
        raw = bytes(value)
    return raw, len(raw)


def _numbers(value: Value) -> list[int]:
    if isinstance(value, int):
        return [value]
    assert not isinstance(value, str | bytes)
    return list(value)


def build_tiff(
    pages: Sequence[Ifd],
    *,
    order: str = "<",
    big: bool = False,
    after_header: bytes = b"",
) -> bytes:
    """A TIFF (``order`` "<" for II, ">" for MM; ``big`` for BigTIFF) whose IFD chain is
    ``pages``; ``after_header`` is put right after the header, before anything else."""
    out = bytearray()
    if big:
        out += (b"II" if order == "<" else b"MM") + struct.pack(order + "HHHQ", 43, 8, 0, 0)
        first_pointer_at = 8
    else:
        out += (b"II" if order == "<" else b"MM") + struct.pack(order + "HI", 42, 0)
        first_pointer_at = 4
    out += after_header
    offset_code = "Q" if big else "I"
    inline = 8 if big else 4

    def pack(kind: int, value: Value) -> tuple[bytes, int]:
        if kind in (ASCII, BYTE, UNDEFINED):
            return _values(kind, value)
        if kind == RATIONAL:
            nums = _numbers(value)
            return struct.pack(order + f"{len(nums)}I", *nums), len(nums) // 2
        nums = _numbers(value)
        return struct.pack(order + f"{len(nums)}{_TYPE_CODE[kind]}", *nums), len(nums)

    def align() -> None:
        if len(out) % 2:
            out.append(0)

    def write_ifd(ifd: Ifd) -> tuple[int, int]:
        """Writes ``ifd`` and its children; its offset and where its next-IFD pointer is."""
        tags = dict(ifd.tags)
        if ifd.strips:
            offsets = []
            for strip in ifd.strips:
                align()
                offsets.append(len(out))
                out.extend(strip)
            kind = LONG8 if big else LONG
            tags[STRIP_OFFSETS] = (kind, offsets)
            tags[STRIP_BYTE_COUNTS] = (kind, [len(s) for s in ifd.strips])
        if ifd.sub_ifds:
            children = [write_ifd(child)[0] for child in ifd.sub_ifds]
            tags[SUB_IFDS] = (LONG8 if big else LONG, children)
        if ifd.exif is not None:
            tags[EXIF_IFD] = (LONG8 if big else LONG, write_ifd(ifd.exif)[0])
        align()
        start = len(out)
        entries = sorted(tags.items())
        entry_size = 20 if big else 12
        header = struct.pack(order + ("Q" if big else "H"), len(entries))
        table_size = len(header) + entry_size * len(entries) + (8 if big else 4)
        extra = bytearray()
        table = bytearray(header)
        for tag, (kind, value) in entries:
            raw, count = pack(kind, value)
            if len(raw) <= inline:
                field_value = raw.ljust(inline, b"\x00")
            else:
                where = start + table_size + len(extra)
                extra.extend(raw)
                if len(extra) % 2:
                    extra.append(0)
                field_value = struct.pack(order + offset_code, where)
            count_code = "Q" if big else "I"
            table += struct.pack(order + "HH" + count_code, tag, kind, count) + field_value
        next_at = start + len(table)
        table += b"\x00" * (8 if big else 4)
        out.extend(table)
        out.extend(extra)
        return start, next_at

    pointer_at = first_pointer_at
    for page in pages:
        start, next_at = write_ifd(page)
        struct.pack_into(order + offset_code, out, pointer_at, start)
        pointer_at = next_at
    return bytes(out)


def rgb_ifd(im: Image.Image, *, compression: int = 1, strip: bytes | None = None) -> Ifd:
    """A page of 8-bit RGB (``strip`` the compressed pixels when ``compression`` is not 1)."""
    rgb = im.convert("RGB")
    ifd = Ifd()
    ifd.set(IMAGE_WIDTH, LONG, rgb.width).set(IMAGE_LENGTH, LONG, rgb.height)
    ifd.set(BITS_PER_SAMPLE, SHORT, [8, 8, 8]).set(COMPRESSION, SHORT, compression)
    ifd.set(PHOTOMETRIC, SHORT, 2).set(SAMPLES_PER_PIXEL, SHORT, 3)
    ifd.set(ROWS_PER_STRIP, LONG, rgb.height).set(PLANAR, SHORT, 1)
    ifd.strips = [rgb.tobytes() if strip is None else strip]
    return ifd


def jpeg_preview_ifd(im: Image.Image) -> Ifd:
    """A page whose one strip is a whole small JPEG (Compression 7, YCbCr), as raws carry."""
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=80)
    ifd = rgb_ifd(im, compression=7, strip=out.getvalue())
    ifd.set(PHOTOMETRIC, SHORT, 6)
    return ifd


def cfa_ifd(
    width: int = 64,
    height: int = 48,
    *,
    compression: int = 1,
    photometric: int = 32803,
    bits: int = 16,
) -> Ifd:
    """Sensor data: one sample a pixel behind a colour filter array (or LinearRaw)."""
    ifd = Ifd()
    ifd.set(NEW_SUBFILE_TYPE, LONG, 0)
    ifd.set(IMAGE_WIDTH, LONG, width).set(IMAGE_LENGTH, LONG, height)
    samples = 3 if photometric == 34892 else 1
    ifd.set(BITS_PER_SAMPLE, SHORT, [bits] * samples).set(COMPRESSION, SHORT, compression)
    ifd.set(PHOTOMETRIC, SHORT, photometric).set(SAMPLES_PER_PIXEL, SHORT, samples)
    ifd.set(ROWS_PER_STRIP, LONG, height).set(PLANAR, SHORT, 1)
    if photometric == 32803:
        ifd.set(CFA_REPEAT_PATTERN_DIM, SHORT, [2, 2]).set(CFA_PATTERN, BYTE, b"\x00\x01\x01\x02")
    ifd.strips = [random.Random(width).randbytes(width * height * samples * bits // 8)]
    return ifd


def thumbnail(seed: int = 1, size: tuple[int, int] = (40, 30)) -> Image.Image:
    return Image.new("RGB", size, (20 + seed * 30 % 200, 120, 90))


# -- ISO base media file format (HEIF) -------------------------------------------------------------


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level box."""
    found = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        found.append((kind, offset, size))
        offset += size
    return found


def with_brands(heif: bytes, *, major: bytes | None = None, add: Sequence[bytes] = ()) -> bytes:
    """The same HEIF with its ftyp's major brand replaced and compatible brands added (the
    file's offsets move, so its iloc entries are shifted to match)."""
    kind, offset, size = top_level_boxes(heif)[0]
    assert kind == b"ftyp" and offset == 0
    body = heif[8:size]
    if major is not None:
        body = major + body[4:]
    body += b"".join(add)
    ftyp = box(b"ftyp", body)
    return ftyp + shift_iloc(heif[size:], len(ftyp) - size)


def shift_iloc(rest: bytes, delta: int) -> bytes:
    """``rest`` (the boxes after ftyp) with each file-offset iloc entry moved by ``delta``."""
    if delta == 0:
        return rest
    data = bytearray(rest)
    at = data.find(b"iloc")
    assert at > 0
    version = data[at + 4]
    offset_size, length_size = data[at + 8] >> 4, data[at + 8] & 15
    base_offset_size, index_size = data[at + 9] >> 4, data[at + 9] & 15
    codes = {0: "", 4: "I", 8: "Q"}
    pos = at + 10
    if version < 2:
        count = struct.unpack(">H", data[pos : pos + 2])[0]
        pos += 2
    else:
        count = struct.unpack(">I", data[pos : pos + 4])[0]
        pos += 4

    def shift(where: int, size: int) -> None:
        if size:
            (value,) = struct.unpack(">" + codes[size], data[where : where + size])
            struct.pack_into(">" + codes[size], data, where, value + delta)

    for _ in range(count):
        pos += 2 if version < 2 else 4  # item id
        method = 0
        if version in (1, 2):
            method = struct.unpack(">H", data[pos : pos + 2])[0] & 15
            pos += 2
        pos += 2  # data reference index
        base_at = pos
        pos += base_offset_size
        extents = struct.unpack(">H", data[pos : pos + 2])[0]
        pos += 2
        if method == 0 and base_offset_size:
            shift(base_at, base_offset_size)
        for _ in range(extents):
            if version in (1, 2):
                pos += index_size
            if method == 0 and not base_offset_size:
                shift(pos, offset_size)
            pos += offset_size + length_size
    return bytes(data)


def with_item_type(heif: bytes, old: bytes, new: bytes) -> bytes:
    """The same HEIF with every infe of item type ``old`` given type ``new`` (same length)."""
    assert len(old) == len(new) == 4
    data = bytearray(heif)
    at = 0
    patched = 0
    while (at := data.find(b"infe", at)) >= 0:
        version = data[at + 4]
        type_at = at + 4 + 4 + (2 if version == 2 else 4) + 2
        if data[type_at : type_at + 4] == old:
            data[type_at : type_at + 4] = new
            patched += 1
        at += 4
    assert patched, f"no {old!r} item"
    return bytes(data)


def sequence_moov(
    still: bytes, frames: int, size: tuple[int, int], *, handler: bytes = b"pict"
) -> bytes:
    """A moov box to append to the HEVC HEIF ``still``: a picture track of ``frames`` samples,
    each of them the still's own coded image (its hvcC and its data in mdat), as a burst or a
    live photo adds to its cover image."""
    at = still.index(b"hvcC") - 4
    hvcc = still[at : at + struct.unpack(">I", still[at : at + 4])[0]]
    _, mdat_at, mdat_size = next(b for b in top_level_boxes(still) if b[0] == b"mdat")
    data_at, data_size = mdat_at + 8, mdat_size - 8
    w, h = size
    duration = frames * 100
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, duration), bytes(80))
    tkhd = full_box(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, duration),
        bytes(52),
        struct.pack(">II", w << 16, h << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, 1000, duration, 0, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12s", 0, handler, bytes(12)), b"\x00")
    entry = box(
        b"hvc1",
        bytes(6),
        struct.pack(">HHH3IHHIIIH", 1, 0, 0, 0, 0, 0, w, h, 0x480000, 0x480000, 0, 1),
        bytes(32),
        struct.pack(">Hh", 0x18, -1),
        hvcc,
    )
    stsd = full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry)
    stts = full_box(b"stts", 0, 0, struct.pack(">III", 1, frames, 100))
    stsc = full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, 1, 1))
    stsz = full_box(b"stsz", 0, 0, struct.pack(">II", data_size, frames))
    stco = full_box(b"stco", 0, 0, struct.pack(">I", frames), struct.pack(">I", data_at) * frames)
    stbl = box(b"stbl", stsd, stts, stsc, stsz, stco)
    dref = full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), box(b"dinf", dref), stbl)
    mdia = box(b"mdia", mdhd, hdlr, minf)
    trak = box(b"trak", tkhd, mdia)
    return box(b"moov", mvhd, trak)


def heif_sequence(
    still: bytes, frames: int, size: tuple[int, int], *, handler: bytes = b"pict"
) -> bytes:
    """``still`` made an image sequence: msf1 among its brands and a moov of ``frames``."""
    with_brand = with_brands(still, add=[b"msf1"])
    return with_brand + sequence_moov(with_brand, frames, size, handler=handler)


def heif_file(
    item_type: bytes,
    payload: bytes,
    properties: Sequence[bytes],
    *,
    brands: Sequence[bytes] = (b"mif1",),
    size: tuple[int, int] = (16, 16),
) -> bytes:
    """A HEIF with one image item of ``item_type`` (the primary), coded as ``payload``, with
    ``properties`` (ispe is added first) associated with it as essential."""
    ftyp = box(b"ftyp", brands[0], struct.pack(">I", 0), *brands)
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12s", 0, b"pict", bytes(12)), b"\x00")
    pitm = full_box(b"pitm", 0, 0, struct.pack(">H", 1))
    infe = full_box(b"infe", 2, 0, struct.pack(">HH4s", 1, 0, item_type), b"\x00")
    iinf = full_box(b"iinf", 0, 0, struct.pack(">H", 1), infe)
    ispe = full_box(b"ispe", 0, 0, struct.pack(">II", *size))
    props = [ispe, *properties]
    ipco = box(b"ipco", *props)
    assoc = bytes([0x80 | (i + 1) for i in range(len(props))])
    ipma = full_box(b"ipma", 0, 0, struct.pack(">IHB", 1, 1, len(props)), assoc)
    iprp = box(b"iprp", ipco, ipma)

    def meta_with(offset: int) -> bytes:
        iloc = full_box(
            b"iloc",
            0,
            0,
            bytes([0x44, 0x00]),
            struct.pack(">HHHHII", 1, 1, 0, 1, offset, len(payload)),
        )
        return full_box(b"meta", 0, 0, hdlr, pitm, iloc, iinf, iprp)

    head_size = len(ftyp) + len(meta_with(0)) + 8
    return ftyp + meta_with(head_size) + box(b"mdat", payload)


def unci_heif(im: Image.Image) -> bytes:
    """An uncompressed (ISO/IEC 23001-17) HEIF of 8-bit RGB, pixel-interleaved."""
    rgb = im.convert("RGB")
    cmpd = box(b"cmpd", struct.pack(">IHHH", 3, 4, 5, 6))
    components = b"".join(struct.pack(">HBBB", i, 7, 0, 0) for i in range(3))
    uncc = full_box(
        b"uncC",
        0,
        0,
        struct.pack(">II", 0, 3),
        components,
        struct.pack(">BBBBIIIII", 0, 1, 0, 0, 0, 0, 0, 0, 0),
    )
    return heif_file(b"unci", rgb.tobytes(), [cmpd, uncc], size=rgb.size)


def jpeg_heif(im: Image.Image) -> bytes:
    """A HEIF whose image item is a JPEG (ISO/IEC 23008-12 Annex H)."""
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=90)
    return heif_file(b"jpeg", out.getvalue(), [], size=im.size)


# -- PNG ---------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def one_frame_apng(im: Image.Image) -> bytes:
    """An animated PNG of one frame (acTL and fcTL before the image data), which Pillow's writer
    does not make: it writes a single frame as a plain PNG."""
    out = io.BytesIO()
    im.save(out, "PNG")
    png = out.getvalue()
    at = png.index(b"IDAT") - 4
    actl = _png_chunk(b"acTL", struct.pack(">II", 1, 0))
    fctl = _png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, im.width, im.height, 0, 0, 1, 10, 0, 0))
    return png[:at] + actl + fctl + png[at:]
