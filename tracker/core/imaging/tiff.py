"""The structure of a TIFF file, read without decoding a pixel: its directories (IFDs), their
SubIFDs and Exif directory, and the few tags that say what the file holds.

Camera raws (NEF, ARW, PEF, SRW, IIQ, DNG...) are TIFFs too; what tells them apart is in these
directories (a colour filter array, a maker's compression), and so is what a decoder will be
asked to do (the compression, the samples per pixel). Everything is read through ``ReadAt`` so
that a file on disk is read only where its directories are. Damage is bounded: a broken
directory ends the walk (TiffError when it is the first), a loop is walked once, and no more than
a few dozen directories and a few thousand entries are read.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# (offset, size) -> at most ``size`` bytes from ``offset`` (fewer at the end of the file).
ReadAt = Callable[[int, int], bytes]

IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION = 256, 257, 258, 259
PHOTOMETRIC, FILL_ORDER, MAKE, SAMPLES_PER_PIXEL, PLANAR = 262, 266, 271, 277, 284
EXTRA_SAMPLES, SAMPLE_FORMAT, SUB_IFDS = 338, 339, 330
EXIF_IFD, GPS_IFD, INTEROP_IFD, DNG_VERSION = 34665, 34853, 40965, 50706
# Directories that hang off another by an offset in one of these tags.
POINTER_TAGS = (EXIF_IFD, GPS_IFD, INTEROP_IFD)

# The tags whose values are loaded (the rest are kept as raw entries only).
_LOADED = {
    IMAGE_WIDTH,
    IMAGE_LENGTH,
    BITS_PER_SAMPLE,
    COMPRESSION,
    PHOTOMETRIC,
    FILL_ORDER,
    MAKE,
    SAMPLES_PER_PIXEL,
    PLANAR,
    EXTRA_SAMPLES,
    SAMPLE_FORMAT,
    SUB_IFDS,
    *POINTER_TAGS,
    DNG_VERSION,
}
MAX_DIRECTORIES = 48
MAX_ENTRIES = 4096
MAX_VALUES = 64
MAX_TEXT = 1024

# type -> (size of one value, struct code for integers or "" for bytes)
TYPES: dict[int, tuple[int, str]] = {
    1: (1, "B"),  # BYTE
    2: (1, ""),  # ASCII
    3: (2, "H"),  # SHORT
    4: (4, "I"),  # LONG
    5: (8, ""),  # RATIONAL
    6: (1, "b"),  # SBYTE
    7: (1, ""),  # UNDEFINED
    8: (2, "h"),  # SSHORT
    9: (4, "i"),  # SLONG
    10: (8, ""),  # SRATIONAL
    11: (4, ""),  # FLOAT
    12: (8, ""),  # DOUBLE
    13: (4, "I"),  # IFD
    16: (8, "Q"),  # LONG8 (BigTIFF)
    17: (8, "q"),  # SLONG8 (BigTIFF)
    18: (8, "Q"),  # IFD8 (BigTIFF)
}


class TiffError(ValueError):
    """The file's structure cannot be read (it is not a TIFF, or its first directory is broken)."""


@dataclass(frozen=True)
class Entry:
    """One directory entry as stored: ``field`` is the value itself when it fits, else its
    offset (4 bytes, or 8 in a BigTIFF)."""

    tag: int
    type: int
    count: int
    field: bytes

    def size(self) -> int:
        return TYPES.get(self.type, (1, ""))[0] * self.count


@dataclass
class Directory:
    offset: int
    entries: dict[int, Entry]
    values: dict[int, tuple[int, ...] | str] = field(default_factory=dict)
    sub_ifds: list[Directory] = field(default_factory=list)
    exif: Directory | None = None

    def ints(self, tag: int) -> tuple[int, ...]:
        value = self.values.get(tag, ())
        return value if isinstance(value, tuple) else ()

    def number(self, tag: int, default: int | None = None) -> int | None:
        values = self.ints(tag)
        return values[0] if values else default

    def text(self, tag: int) -> str:
        value = self.values.get(tag, "")
        return value if isinstance(value, str) else ""

    def walk(self) -> Iterator[Directory]:
        """This directory and every one below it."""
        yield self
        for child in self.sub_ifds:
            yield from child.walk()
        if self.exif is not None:
            yield from self.exif.walk()


@dataclass
class Structure:
    order: str  # "<" (II) or ">" (MM)
    big: bool  # BigTIFF (8-byte offsets)
    pages: list[Directory]  # IFD0 and the directories chained after it

    def directories(self) -> Iterator[Directory]:
        for page in self.pages:
            yield from page.walk()


def read_structure(read: ReadAt) -> Structure:
    """The directories of a TIFF; TiffError when its header or first directory is broken."""
    head = read(0, 16)
    if len(head) < 8:
        raise TiffError("the header is cut short")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        big = False
    elif head[:4] in (b"II+\x00", b"MM\x00+"):
        big = True
    else:
        raise TiffError("not a TIFF header")
    order = "<" if head[:2] == b"II" else ">"
    reader = _Reader(read, order, big)
    if big:
        if len(head) < 16:
            raise TiffError("the header is cut short")
        first = struct.unpack(order + "Q", head[8:16])[0]
    else:
        first = struct.unpack(order + "I", head[4:8])[0]
    pages: list[Directory] = []
    offset = first
    while offset and len(pages) < MAX_DIRECTORIES:
        try:
            page, offset = reader.directory(offset, depth=0)
        except TiffError:
            if not pages:
                raise
            break
        pages.append(page)
    if not pages:
        raise TiffError("there is no directory")
    return Structure(order, big, pages)


class _Reader:
    def __init__(self, read: ReadAt, order: str, big: bool) -> None:
        self.read = read
        self.order = order
        self.big = big
        self.seen: set[int] = set()
        self.entries_read = 0

    def directory(self, offset: int, depth: int) -> tuple[Directory, int]:
        """The directory at ``offset`` (with its children) and the offset of the next one."""
        if offset in self.seen or len(self.seen) >= MAX_DIRECTORIES:
            raise TiffError("a directory is listed twice, or there are too many")
        self.seen.add(offset)
        o = self.order
        count_size, entry_size, next_size = (8, 20, 8) if self.big else (2, 12, 4)
        raw_count = self.read(offset, count_size)
        if len(raw_count) < count_size:
            raise TiffError("a directory lies outside the file")
        count = struct.unpack(o + ("Q" if self.big else "H"), raw_count)[0]
        self.entries_read += count
        if count == 0 or count > MAX_ENTRIES or self.entries_read > 4 * MAX_ENTRIES:
            raise TiffError("a directory has no entries, or too many")
        table = self.read(offset + count_size, count * entry_size + next_size)
        if len(table) < count * entry_size:
            raise TiffError("a directory is cut short")
        directory = Directory(offset, {})
        head = o + ("HHQ" if self.big else "HHI")
        inline = 8 if self.big else 4
        for i in range(count):
            at = i * entry_size
            tag, kind, n = struct.unpack(head, table[at : at + entry_size - inline])
            entry = Entry(tag, kind, n, table[at + entry_size - inline : at + entry_size])
            directory.entries.setdefault(tag, entry)
        for tag in _LOADED & directory.entries.keys():
            value = self.value(directory.entries[tag])
            if value is not None:
                directory.values[tag] = value
        raw_next = table[count * entry_size : count * entry_size + next_size]
        following = (
            struct.unpack(o + ("Q" if self.big else "I"), raw_next)[0]
            if len(raw_next) == next_size
            else 0
        )
        if depth < 2:
            for child in directory.ints(SUB_IFDS)[:16]:
                try:
                    directory.sub_ifds.append(self.directory(child, depth + 1)[0])
                except TiffError:
                    continue
            exif = directory.number(EXIF_IFD)
            if exif:
                with contextlib.suppress(TiffError):
                    directory.exif = self.directory(exif, depth + 1)[0]
        return directory, following

    def data(self, entry: Entry, limit: int) -> bytes | None:
        """The bytes of an entry's value (None if larger than ``limit`` or outside the file)."""
        size = entry.size()
        if size > limit:
            return None
        if size <= len(entry.field):
            return entry.field[:size]
        where = struct.unpack(self.order + ("Q" if self.big else "I"), entry.field)[0]
        raw = self.read(where, size)
        return raw if len(raw) == size else None

    def value(self, entry: Entry) -> tuple[int, ...] | str | None:
        size, code = TYPES.get(entry.type, (0, ""))
        if entry.type == 2:
            raw = self.data(entry, MAX_TEXT)
            return None if raw is None else raw.split(b"\x00")[0].decode("latin-1").strip()
        if not code:
            return None
        count = min(entry.count, MAX_VALUES)
        raw = self.data(Entry(entry.tag, entry.type, count, entry.field), MAX_VALUES * 8)
        if raw is None or len(raw) != size * count:
            return None
        return struct.unpack(f"{self.order}{count}{code}", raw)


# -- rewriting a BigTIFF's directories as a classic TIFF's ----------------------------------------

_NARROW = {16: 4, 17: 9, 18: 13}  # LONG8 -> LONG, SLONG8 -> SLONG, IFD8 -> IFD


def as_classic(data: bytes, structure: Structure) -> bytes:
    """The same picture as a classic TIFF in the same byte order: the first page's directory
    (and its Exif, GPS and Interoperability directories) is written again in classic form after
    the original bytes, which stay where they are so that every strip and tile offset still holds.
    For a reader that takes classic TIFF but not this BigTIFF. Only for a single-page file under
    4 GiB; TiffError otherwise."""
    if not structure.big:
        return data
    if len(data) >= 2**32 or len(structure.pages) != 1:
        raise TiffError("only a single-page BigTIFF under 4 GiB can be rewritten")
    o = structure.order
    reader = _Reader(lambda at, n: data[at : at + n], o, big=True)
    out = bytearray(data)

    def append(block: bytes) -> int:
        if len(out) % 2:
            out.append(0)
        at = len(out)
        out.extend(block)
        return at

    def rewrite(directory: Directory, depth: int) -> int:
        entries: list[tuple[int, int, int, bytes]] = []
        for tag, entry in sorted(directory.entries.items()):
            if tag == SUB_IFDS:
                continue  # reduced-resolution copies: not needed to read the picture
            raw = reader.data(entry, len(data))
            if raw is None:
                continue
            kind = entry.type
            if tag in POINTER_TAGS and depth < 2:
                child_offset = struct.unpack(o + TYPES[kind][1], raw[: TYPES[kind][0]])[0]
                try:
                    child, _next = reader.directory(child_offset, depth=1)
                except TiffError:
                    continue
                raw, kind = struct.pack(o + "I", rewrite(child, depth + 1)), 13
                entries.append((tag, kind, 1, raw))
                continue
            if kind in _NARROW:
                values = struct.unpack(f"{o}{entry.count}{TYPES[kind][1]}", raw)
                if any(not -(2**31) <= v < 2**32 for v in values):
                    raise TiffError("a value does not fit a classic TIFF")
                kind = _NARROW[kind]
                raw = struct.pack(f"{o}{entry.count}{TYPES[kind][1]}", *values)
            entries.append((tag, kind, entry.count, raw))
        return pack_directory(o, entries, append)

    first = rewrite(structure.pages[0], 0)
    out[0:8] = (b"II" if o == "<" else b"MM") + struct.pack(o + "HI", 42, first)
    return bytes(out)


def pack_directory(
    order: str, entries: list[tuple[int, int, int, bytes]], append: Callable[[bytes], int]
) -> int:
    """Write one classic directory of ``entries`` (tag, type, count, value bytes, in tag order)
    through ``append`` (which returns where its block landed); its offset. Values over 4 bytes
    go in a block of their own, written first."""
    fields = []
    for tag, kind, count, raw in entries:
        if len(raw) <= 4:
            fields.append((tag, kind, count, raw.ljust(4, b"\x00")))
        else:
            fields.append((tag, kind, count, struct.pack(order + "I", append(raw))))
    table = struct.pack(order + "H", len(fields))
    for tag, kind, count, value in fields:
        table += struct.pack(order + "HHI", tag, kind, count) + value
    return append(table + b"\x00\x00\x00\x00")


def classic_tiff(order: str, entries: list[tuple[int, int, int, bytes]], strip: bytes) -> bytes:
    """A one-page classic TIFF of ``entries`` whose one strip is ``strip`` (StripOffsets and
    StripByteCounts are added)."""
    out = bytearray((b"II" if order == "<" else b"MM") + struct.pack(order + "HI", 42, 0))

    def append(block: bytes) -> int:
        if len(out) % 2:
            out.append(0)
        at = len(out)
        out.extend(block)
        return at

    strip_at = append(strip)
    all_entries = sorted(
        [
            *entries,
            (273, 4, 1, struct.pack(order + "I", strip_at)),
            (279, 4, 1, struct.pack(order + "I", len(strip))),
        ]
    )
    first = pack_directory(order, all_entries, append)
    struct.pack_into(order + "I", out, 4, first)
    return bytes(out)
