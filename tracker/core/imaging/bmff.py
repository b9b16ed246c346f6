"""The boxes of an ISO base media file (HEIF, HEIC): which brands it claims, how its primary
image is coded, and whether it is an image sequence, read without decoding anything.

A HEIF still is a ``meta`` box whose primary item (``pitm``) has an item type in ``iinf``: 'hvc1'
for HEVC, 'avc1', 'av01', 'jpeg', 'unci' and others; a grid's tiles are the items it references
('dimg' in ``iref``). An image sequence (a burst, a live photo) adds a ``moov`` box of tracks,
like a video's. Reads are bounded: a box that claims more than the file holds ends the walk.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

ReadAt = Callable[[int, int], bytes]

# Item types that are not themselves coded images but are made of others.
DERIVED = {b"grid", b"iovl", b"iden", b"tmap"}
SEQUENCE_BRANDS = {b"msf1", b"hevc", b"hevx", b"hevm", b"hevs", b"avcs"}
MAX_BOXES = 4096


class BoxError(ValueError):
    """The boxes cannot be read."""


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int  # where its body begins
    end: int  # where it ends


@dataclass
class HeifFacts:
    major: bytes = b""
    brands: set[bytes] = field(default_factory=set)
    has_meta: bool = False
    primary: int | None = None
    item_types: dict[int, bytes] = field(default_factory=dict)
    # derived item -> the items it is made of ('dimg' references)
    inputs: dict[int, list[int]] = field(default_factory=dict)
    # a moov with a picture or video track; the most images in one, when it says
    picture_track: bool = False
    frames: int | None = None

    @property
    def sequence(self) -> bool:
        return self.picture_track or bool(self.brands & SEQUENCE_BRANDS)

    def primary_codings(self) -> list[bytes]:
        """The item types the primary image is coded in: its own, or its tiles' for a grid."""
        if self.primary is None:
            return []
        found: list[bytes] = []
        todo: list[int] = [self.primary]
        seen: set[int] = set()
        while todo and len(seen) < 256:
            item = todo.pop(0)
            if item in seen:
                continue
            seen.add(item)
            kind = self.item_types.get(item)
            if kind is None:
                continue
            if kind in DERIVED:
                todo.extend(self.inputs.get(item, []))
            elif kind not in found:
                found.append(kind)
        return found


def boxes(read: ReadAt, start: int, end: int) -> Iterator[Box]:
    """The boxes laid end to end from ``start`` to ``end``."""
    at = start
    count = 0
    while at + 8 <= end and count < MAX_BOXES:
        head = read(at, 16)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head[:8])
        body = at + 8
        if size == 1:
            if len(head) < 16:
                return
            size = struct.unpack(">Q", head[8:16])[0]
            body = at + 16
        elif size == 0:
            size = end - at
        if size < body - at or at + size > end:
            raise BoxError(f"the {kind!r} box runs past its container")
        yield Box(kind, body, at + size)
        at += size
        count += 1


def _children(read: ReadAt, box: Box, skip: int = 0) -> Iterator[Box]:
    return boxes(read, box.start + skip, box.end)


def read_heif(read: ReadAt, size: int) -> HeifFacts:
    """What the boxes of a HEIF say; BoxError when its top level cannot be walked."""
    facts = HeifFacts()
    for top in boxes(read, 0, size):
        if top.kind == b"ftyp":
            body = read(top.start, min(top.end - top.start, 4096))
            facts.major = body[:4]
            facts.brands = {body[:4]} | {body[i : i + 4] for i in range(8, len(body) - 3, 4)}
        elif top.kind == b"meta" and not facts.has_meta:
            facts.has_meta = True
            # A damaged meta box: the decoder gives the verdict on it.
            with contextlib.suppress(BoxError, struct.error):
                _read_meta(read, top, facts)
        elif top.kind == b"moov":
            with contextlib.suppress(BoxError, struct.error):
                facts.picture_track, facts.frames = _picture_tracks(read, top)
    return facts


def _full_box(read: ReadAt, box: Box) -> tuple[int, bytes]:
    """The version of a full box and its body after version and flags (at most 64 KiB)."""
    body = read(box.start, min(box.end - box.start, 65536))
    if len(body) < 4:
        raise BoxError("a full box is cut short")
    return body[0], body[4:]


def _read_meta(read: ReadAt, meta: Box, facts: HeifFacts) -> None:
    for child in _children(read, meta, skip=4):  # meta is a full box
        if child.kind == b"pitm":
            version, body = _full_box(read, child)
            facts.primary = struct.unpack(
                ">H" if version == 0 else ">I", body[: 2 if version == 0 else 4]
            )[0]
        elif child.kind == b"iinf":
            version, _ = _full_box(read, child)
            skip = 4 + (2 if version == 0 else 4)
            for infe in _children(read, child, skip=skip):
                if infe.kind != b"infe":
                    continue
                v, body = _full_box(read, infe)
                if v < 2:
                    continue  # before version 2 an entry names no item type
                id_size = 2 if v == 2 else 4
                item = struct.unpack(">H" if v == 2 else ">I", body[:id_size])[0]
                kind = body[id_size + 2 : id_size + 6]
                if len(kind) == 4:
                    facts.item_types[item] = kind
        elif child.kind == b"iref":
            version, _ = _full_box(read, child)
            id_code, id_size = (">H", 2) if version == 0 else (">I", 4)
            for ref in _children(read, child, skip=4):
                if ref.kind != b"dimg":
                    continue
                body = read(ref.start, min(ref.end - ref.start, 65536))
                source = struct.unpack(id_code, body[:id_size])[0]
                count = struct.unpack(">H", body[id_size : id_size + 2])[0]
                at = id_size + 2
                targets = [
                    struct.unpack(id_code, body[at + i * id_size : at + (i + 1) * id_size])[0]
                    for i in range(count)
                ]
                facts.inputs.setdefault(source, []).extend(targets)


def _picture_tracks(read: ReadAt, moov: Box) -> tuple[bool, int | None]:
    """Whether ``moov`` has a picture or video track, and the most samples in one (None when
    none says)."""
    found = False
    best: int | None = None
    for trak in _children(read, moov):
        if trak.kind != b"trak":
            continue
        for mdia in _children(read, trak):
            if mdia.kind != b"mdia":
                continue
            handler = b""
            samples: int | None = None
            for part in _children(read, mdia):
                if part.kind == b"hdlr":
                    _, body = _full_box(read, part)
                    handler = body[4:8]
                elif part.kind == b"minf":
                    samples = _track_samples(read, part)
            if handler in (b"pict", b"vide"):
                found = True
                if samples is not None:
                    best = samples if best is None else max(best, samples)
    return found, best


def _track_samples(read: ReadAt, minf: Box) -> int | None:
    for stbl in _children(read, minf):
        if stbl.kind != b"stbl":
            continue
        for table in _children(read, stbl):
            if table.kind == b"stsz":
                _, body = _full_box(read, table)
                return int(struct.unpack(">I", body[4:8])[0])
            if table.kind == b"stz2":
                _, body = _full_box(read, table)
                return int(struct.unpack(">I", body[4:8])[0])
    return None


# -- writing (the capability probe's samples) ------------------------------------------------------


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", version << 24), *parts)


def still_heif(
    item_type: bytes, payload: bytes, properties: list[bytes], size: tuple[int, int]
) -> bytes:
    """A minimal HEIF still: one primary image item of ``item_type`` coded as ``payload``, with
    its size (ispe) and ``properties``, all essential."""
    ftyp = box(b"ftyp", b"mif1", struct.pack(">I", 0), b"mif1")
    hdlr = full_box(b"hdlr", 0, struct.pack(">I4s12s", 0, b"pict", bytes(12)), b"\x00")
    pitm = full_box(b"pitm", 0, struct.pack(">H", 1))
    infe = full_box(b"infe", 2, struct.pack(">HH4s", 1, 0, item_type), b"\x00")
    iinf = full_box(b"iinf", 0, struct.pack(">H", 1), infe)
    props = [full_box(b"ispe", 0, struct.pack(">II", *size)), *properties]
    ipma = full_box(
        b"ipma",
        0,
        struct.pack(">IHB", 1, 1, len(props)),
        bytes(0x80 | i for i in range(1, len(props) + 1)),
    )
    iprp = box(b"iprp", box(b"ipco", *props), ipma)

    def meta(offset: int) -> bytes:
        layout = struct.pack(">BBHHHHII", 0x44, 0x00, 1, 1, 0, 1, offset, len(payload))
        return full_box(b"meta", 0, hdlr, pitm, full_box(b"iloc", 0, layout), iinf, iprp)

    offset = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(offset) + box(b"mdat", payload)
