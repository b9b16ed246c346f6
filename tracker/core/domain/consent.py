"""The purposes a client can consent to, and the actions the audit trail records, in words.

The values are what the database stores and the command line takes (``tracker consent add
CLIENT publication``); the labels are what a person reads.
"""

from __future__ import annotations

import enum


class Purpose(enum.StrEnum):
    CARE = "care"
    SHOWN = "shown"
    SHARING = "sharing"
    TEACHING = "teaching"
    PUBLICATION = "publication"
    MARKETING = "marketing"


PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.CARE: "the care record",
    Purpose.SHOWN: "a comparison shown to the client",
    Purpose.SHARING: "sharing with another clinician",
    Purpose.TEACHING: "teaching",
    Purpose.PUBLICATION: "publication",
    Purpose.MARKETING: "marketing",
}

# What an export is for when nobody says: the practitioner's (or the patient's) own record.
DEFAULT_PURPOSE = Purpose.CARE


class Action(enum.StrEnum):
    OPENED = "opened"
    VIEWED = "viewed"
    EXPORTED = "exported"
    PRINTED = "printed"
    BACKED_UP = "backed-up"
    RESTORED = "restored"
    ERASED = "erased"
    CONSENT = "consent"
    UNLOCKED = "unlocked"
    UNLOCK_FAILED = "unlock-failed"


ACTION_LABELS: dict[Action, str] = {
    Action.OPENED: "opened the library",
    Action.VIEWED: "viewed a client",
    Action.EXPORTED: "exported",
    Action.PRINTED: "printed a report",
    Action.BACKED_UP: "backed up",
    Action.RESTORED: "restored",
    Action.ERASED: "erased",
    Action.CONSENT: "changed consent",
    Action.UNLOCKED: "unlocked",
    Action.UNLOCK_FAILED: "failed to unlock",
}


def parse_purpose(text: str) -> Purpose:
    """The purpose ``text`` names (its value, any case), or ValueError with the choices."""
    value = text.strip().lower()
    if value in Purpose._value2member_map_:
        return Purpose(value)
    choices = ", ".join(p.value for p in Purpose)
    raise ValueError(f"{text!r} is not a purpose of consent; the purposes are {choices}.")


# -- the signed form ---------------------------------------------------------------------------


class FormKind(enum.StrEnum):
    """What a scanned consent form may be; the value is its stored file's extension."""

    PDF = "pdf"
    JPEG = "jpg"
    PNG = "png"
    HEIC = "heic"


FORM_LABELS: dict[FormKind, str] = {
    FormKind.PDF: "PDF",
    FormKind.JPEG: "JPEG",
    FormKind.PNG: "PNG",
    FormKind.HEIC: "HEIC",
}

# A scanned page or a phone's photo of one is a few MB; a form this size is something else.
MAX_FORM_BYTES = 20 * 1024 * 1024
MAX_FORM_MB = MAX_FORM_BYTES // (1024 * 1024)
# HEIF brands of a still image (ISO/IEC 23008-12): a phone's photo of a form.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_CONTAINERS = {b"mif1", b"msf1"}


def form_kind(data: bytes) -> FormKind | None:
    """What ``data`` is by its content (never its file name): a PDF (``%PDF-`` within its
    first kilobyte, as readers accept, and ``%%EOF`` near its end: not cut short), a JPEG,
    a PNG or a HEIC image; None for anything else."""
    if b"%PDF-" in data[:1024]:
        return FormKind.PDF if b"%%EOF" in data[-1024:] else None
    if data.startswith(b"\xff\xd8\xff"):
        return FormKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FormKind.PNG
    if len(data) >= 16 and data[4:8] == b"ftyp":
        size = int.from_bytes(data[:4], "big")
        major = data[8:12]
        compatible = {data[i : i + 4] for i in range(16, min(size, 64) - 3, 4)}
        if major in _HEIF_BRANDS or (major in _HEIF_CONTAINERS and compatible & _HEIF_BRANDS):
            return FormKind.HEIC
    return None


def check_form(data: bytes, name: str) -> FormKind:
    """The kind of the form ``data`` read from the file ``name``, or ValueError with one
    sentence saying why it cannot be a consent's signed form."""
    if not data:
        raise ValueError(f"{name} is empty; a signed form is a PDF, JPEG, PNG or HEIC file.")
    if len(data) > MAX_FORM_BYTES:
        raise ValueError(
            f"{name} is {len(data) / 1048576:.1f} MB, more than a signed form may be "
            f"({MAX_FORM_MB} MB); scan it at a lower resolution."
        )
    kind = form_kind(data)
    if kind is None:
        raise ValueError(
            f"{name} is not a PDF, JPEG, PNG or HEIC file by its contents (whatever its name "
            "says), so it cannot be kept as a signed form."
        )
    return kind
