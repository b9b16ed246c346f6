"""Checking names people type, and showing file names readably and safely.

A file name on Linux is bytes. Python hands one that is not UTF-8 (a Latin-1 ``café.jpg`` from
an old camera card or a Windows share) as a string with "surrogate escapes", which cannot be
written to a database, JSON or a terminal. ``readable`` turns such a name into text a person
reads (each byte that is not UTF-8 read as Latin-1, which is what those cards used), and
``name_bytes`` keeps the exact bytes, so nothing of the name is lost.
"""

from __future__ import annotations

import codecs
import os
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


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("tracker-latin-1", _latin1_fallback)


def is_readable(name: str) -> bool:
    """Whether ``name`` is valid text (no surrogate escapes of bytes that are not UTF-8)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def name_bytes(name: str) -> bytes:
    """The bytes of a file name as the system gave it."""
    return os.fsencode(name)


def readable(name: str) -> str:
    """``name`` as text a person reads and any file format can hold: valid UTF-8 is kept, and
    each byte that is not is read as Latin-1 ("caf\udce9.jpg" → "café.jpg")."""
    if is_readable(name):
        return name
    return name_bytes(name).decode("utf-8", "tracker-latin-1")


def display_path(name: str) -> str:
    """A file name fit for a one-line message: readable (see ``readable``), with control
    characters shown escaped."""
    name = readable(name)
    if all(unicodedata.category(ch) not in ("Cc", "Cs") for ch in name):
        return name
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cs") else ascii(ch)[1:-1] for ch in name
    )
