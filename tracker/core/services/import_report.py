"""What an import is asked to do (``ImportItem``, ``NewArea``) and what it reports: each file
imported, already there, or refused with its sentence; the notes about an imported photo as
the command line says them. The window says them in its own terms (``ui.main.import_dialogs``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.core.imaging.facts import Note, NoteKind
from tracker.core.queries.browse import capture_warnings
from tracker.core.text import display_path, readable

ProgressCallback = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class NewArea:
    """An area to create with the first photo imported into it. ``client`` is an existing
    client's id, or the name of a client to create with it."""

    name: str
    client: int | str


@dataclass(frozen=True)
class ImportItem:
    """One file to import and where it goes, as the window's import preview lets the person
    choose per file: the area; the visit (an existing one by id, or the visit of ``day``, or
    by default the day it was taken); its view. A ``day`` dates the photo as given."""

    path: Path
    area: int | NewArea
    day: dt.date | None = None
    visit_id: int | None = None
    view: str = "front"


@dataclass
class Imported:
    file: str
    photo_id: int
    visit_id: int
    sha256: str
    taken_at: str
    date_source: str
    width: int
    height: int
    # What the person should know about it (a future date, a still taken from a burst).
    notes: list[Note] = field(default_factory=list)
    # Its capture checks (``photo.quality``: sharpness, clipping, the card's light) and the
    # scale the calibration card gave, or None (no card, or checks that could not be made).
    quality: dict[str, Any] | None = None
    px_per_mm: float | None = None

    @property
    def capture_warnings(self) -> tuple[str, ...]:
        """The sentences of the capture checks that warned, in order (each says what to do;
        they do not name the file)."""
        return capture_warnings(self.quality)


@dataclass
class Duplicate:
    file: str
    photo_id: int
    # True when the stored photo had been removed and this import brought it back.
    restored: bool = False
    # The file of this import it is a copy of; empty when the library held the photo already.
    copy_of: str = ""


@dataclass
class Rejected:
    file: str
    error: str  # a whole sentence naming the file ("X was not imported: it is a GIF image…")
    reason: str = ""  # the same reason on its own, for a table that names the file already


@dataclass
class ImportReport:
    imported: list[Imported] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cancelled: bool = False
    # What the import made besides photos, so that an undo can take it all back.
    client_id: int | None = None
    area_id: int | None = None
    created_client: bool = False
    created_area: bool = False
    created_visits: list[int] = field(default_factory=list)
    # Set by a caller that keeps the report of an import stopped by a library-wide error: the
    # error's sentence (the photos recorded before it are in ``imported``).
    stopped: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``tracker import --json`` object (docs/CLI.md)."""
        return {
            "imported": [
                {
                    "file": readable(i.file),
                    "photo_id": i.photo_id,
                    "visit_id": i.visit_id,
                    "sha256": i.sha256,
                    "taken_at": i.taken_at,
                    "date_source": i.date_source,
                    "width": i.width,
                    "height": i.height,
                    "warnings": [cli_note(i.file, n) for n in i.notes]
                    + [capture_note(i.file, m) for m in i.capture_warnings],
                    "quality": i.quality,
                    "px_per_mm": i.px_per_mm,
                }
                for i in self.imported
            ],
            "duplicates": [
                {"file": readable(d.file), "photo_id": d.photo_id, "restored": d.restored}
                for d in self.duplicates
            ],
            "rejected": [{"file": readable(r.file), "error": r.error} for r in self.rejected],
        }

    @property
    def capture_warnings(self) -> list[str]:
        """Every capture warning of the photos imported, each a sentence naming the file."""
        return [capture_note(i.file, m) for i in self.imported for m in i.capture_warnings]

    @property
    def brought_back(self) -> list[int]:
        return [d.photo_id for d in self.duplicates if d.restored]


NOTE_ADVICE_CLI = {
    NoteKind.FUTURE_DATE: "check the camera's clock, or give the date with --date",
    NoteKind.STILL_OF_SEQUENCE: "",
}


def cli_note(file: str, note: Note) -> str:
    """A note about an imported file as the command line says it: a sentence naming the file,
    with advice in the command line's terms."""
    advice = NOTE_ADVICE_CLI[note.kind]
    return f"{display_path(file)}: {note.text}{'; ' + advice if advice else ''}."


def capture_note(file: str, message: str) -> str:
    """A capture check's warning as the command line says it: the file, then the sentence."""
    return f"{display_path(file)}: {message}"
