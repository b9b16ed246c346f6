"""Checking names people type, and showing file names safely in one-line messages."""

from __future__ import annotations

import unicodedata

from tracker.core.errors import ValidationError

MAX_NAME = 200


def check_name(value: str, what: str) -> str:
    """A name with surrounding space removed, or ValidationError saying what is wrong."""
    cleaned = value.strip()
    if not cleaned:
        raise ValidationError(f"The {what} is empty; give it a name.")
    if len(cleaned) > MAX_NAME:
        raise ValidationError(
            f"The {what} is {len(cleaned)} characters long; the most is {MAX_NAME}."
        )
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise ValidationError(f"The {what} {display_path(cleaned)} contains control characters.")
    return cleaned


def display_path(name: str) -> str:
    """A file name fit for a one-line message: control characters are shown escaped."""
    if all(unicodedata.category(ch) not in ("Cc", "Cs") for ch in name):
        return name
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cs") else ascii(ch)[1:-1] for ch in name
    )
