"""Plain facts about a photo, without an image library (the records' readers and the import's
report use them without loading Pillow): when it was taken, as its camera said it, and the
notes the import has about an accepted photo."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


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


class NoteKind(enum.Enum):
    """What a note about an accepted photo is about, so that each surface can add its own
    advice (the command line names a flag, the window a field)."""

    FUTURE_DATE = "future_date"  # the capture date is later than now
    STILL_OF_SEQUENCE = "still_of_sequence"  # a burst, live photo or animation: its still


@dataclass(frozen=True)
class Note:
    """Something the person should know about a photo that was accepted: ``text`` is a clause
    without advice ("its capture date 2030-01-01 is in the future")."""

    kind: NoteKind
    text: str
