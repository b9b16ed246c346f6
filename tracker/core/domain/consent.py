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
