"""When a photo was taken: its EXIF dates with their offsets, or the file's time.

Read from the header alone where only the date is wanted (the import preview), so that no
pixels are decoded for it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any, BinaryIO

from PIL import Image

from tracker.core.errors import ImageRejected
from tracker.core.imaging.facts import CaptureTime
from tracker.core.imaging.formats import for_pillow, identify
from tracker.core.imaging.plugins import ensure_heif

EXIF_IFD = 0x8769
TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME_DIGITIZED = 0x9012


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


def header_capture_time(fh: BinaryIO) -> CaptureTime | None:
    """The capture time from a file's EXIF, reading its header only (no pixels decoded).

    For a preview of where photos will land; anything unreadable means "no date here", since
    the import itself gives the real verdict on the file.
    """
    try:
        identified = identify(fh)  # also refuses a raw, or what cannot be decoded here
        fh.seek(0)
        fmt = identified.format
        if fmt == "HEIF":
            ensure_heif()
        # The few files Pillow is handed repaired (see for_pillow) are read whole.
        source = io.BytesIO(for_pillow(fh.read(), identified)) if identified.repair else fh
        with Image.open(source, formats=[fmt]) as im:
            return capture_time_from_exif(im.getexif())
    except ImageRejected:
        raise
    except Exception:
        return None
