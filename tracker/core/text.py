"""Checking names people type, and showing file names readably and safely.

A file name on Linux is bytes. Python hands one that is not UTF-8 (a Latin-1 ``café.jpg`` from
an old camera card or a Windows share) as a string with "surrogate escapes", which cannot be
written to a database, JSON or a terminal. ``readable`` turns such a name into text a person
reads (each byte that is not UTF-8 read as Latin-1, which is what those cards used), and
``name_bytes`` keeps the exact bytes, so nothing of the name is lost.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import unicodedata

from tracker.core.errors import ValidationError

MAX_NAME = 200
# A number as people type it in a field or on a command line: the digits 0-9, with one "." or
# "," before its decimals. No sign (no value here is negative), exponent, "_", or digits of
# other scripts ("٣", "５"), which Python's own float() and int() would take.
_NUMBER = re.compile(r"[0-9]+(?:[.,]([0-9]+))?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_ID = 2**63 - 1  # SQLite's largest integer


def check_name(value: str, what: str) -> str:
    """The name as given, or ValidationError saying what is wrong: empty, too long, with
    control characters, or starting or ending with a space (kept or refused, never silently
    dropped: the same rule for clients, areas, views and raters everywhere)."""
    if not value.strip():
        raise ValidationError(f"The {what} is empty; give it a name.")
    if len(value) > MAX_NAME:
        raise ValidationError(
            f"The {what} is {len(value)} characters long; the most is {MAX_NAME}."
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(f"The {what} {display_path(value)} contains control characters.")
    if value != value.strip():
        raise ValidationError(
            f"The {what} '{value}' begins or ends with a space; take the space out."
        )
    return value


def parse_number(text: str, what: str, *, decimals: int = 0) -> float:
    """A number a person typed for ``what``, with at most ``decimals`` decimals, or
    ValidationError with the rule: the digits 0-9, one "." or "," before the decimals."""
    shown = display_path(text.strip())
    found = _NUMBER.fullmatch(text.strip())
    if found is None:
        example = "6 or 6.5" if decimals else "6"
        raise ValidationError(
            f"{what}: '{shown}' is not a number; write it with the digits 0-9, e.g. {example}."
        )
    places = len(found.group(1) or "")
    if places > decimals:
        raise ValidationError(
            f"{what} takes whole numbers; {shown} is not one."
            if decimals == 0
            else f"{what} takes at most {decimals} decimal{'s' if decimals > 1 else ''}; "
            f"{shown} has {places}."
        )
    return float(text.strip().replace(",", "."))


def parse_whole(text: str, what: str) -> int:
    """A whole number a person typed (``parse_number`` with no decimals)."""
    return int(parse_number(text, what))


def parse_id(text: str, what: str) -> int:
    """A record's id as typed: a whole number the database can hold."""
    value = text.strip()
    if not _NUMBER.fullmatch(value) or "." in value or "," in value:
        raise ValidationError(f"'{display_path(value)}' is not {what}; ids are whole numbers.")
    number = int(value)
    if number > MAX_ID:
        raise ValidationError(f"There is no {what} {value}; ids are far smaller.")
    return number


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD (only that: not 20250110, not 2025-W02-5)."""
    value = text.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"'{display_path(value)}' is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14."
        ) from None


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Day first, as the window writes dates: "14 Mar 1988", "14 March 1988", "14/03/1988", "14.3.1988".
_WRITTEN = re.compile(r"([0-9]{1,2})[ ./-] ?([^\W\d_]+\.?|[0-9]{1,2})[ ./-] ?([0-9]{4})")


def written_date(day: dt.date, *, full: bool = False) -> str:
    """``day`` as the window writes it, in English whatever the locale: "14 Mar 1988" (or
    "14 March 1988", ``full``)."""
    month = MONTHS[day.month - 1]
    return f"{day.day} {month if full else month[:3]} {day.year}"


def _month(token: str) -> int | None:
    """A month's number from its number or its English name (three letters or more)."""
    if token.isdigit():
        return int(token)
    word = token.rstrip(".").casefold()
    found = [i for i, m in enumerate(MONTHS, 1) if len(word) >= 3 and m.casefold().startswith(word)]
    return found[0] if len(found) == 1 else None


def parse_written_date(text: str, what: str) -> dt.date:
    """A date as a person types it, day first ("14 Mar 1988", "14 March 1988", "14/03/1988",
    "14.3.1988") or as ISO ("1988-03-14"), with a four-digit year; otherwise ValidationError
    with a sentence naming ``what`` ("date of birth") and how to write it."""
    value = " ".join(text.split())
    shown = display_path(value)
    how = f"write the {what} as 14 Mar 1988, 14/03/1988 or 1988-03-14"
    iso, written = _ISO.fullmatch(value), _WRITTEN.fullmatch(value)
    if iso is not None:
        year, month, day = int(iso[1]), int(iso[2]), int(iso[3])
    elif written is not None:
        day, year = int(written[1]), int(written[3])
        month_or_none = _month(written[2])
        if month_or_none is None:
            raise ValidationError(f"'{shown}' is not a date: '{written[2]}' is not a month; {how}.")
        month = month_or_none
    else:
        raise ValidationError(f"'{shown}' is not a date; {how}.")
    if not 1 <= month <= 12:
        raise ValidationError(f"'{shown}' is not a date: there is no month {month}; {how}.")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValidationError(
            f"'{shown}' is not a date: {MONTHS[month - 1]} {year} has no day {day}."
        ) from None


EARLIEST_BIRTH = dt.date(1900, 1, 1)


def parse_date_of_birth(text: str, today: dt.date | None = None) -> dt.date | None:
    """A date of birth as typed (``parse_written_date``); None for an empty field, never a
    date nobody typed; refused when it is after ``today`` or before 1900."""
    if not text.strip():
        return None
    day = parse_written_date(text, "date of birth")
    if day > (today or dt.date.today()):
        raise ValidationError(f"The date of birth {written_date(day)} is in the future.")
    if day < EARLIEST_BIRTH:
        raise ValidationError(
            f"The date of birth {written_date(day)} is before {EARLIEST_BIRTH.year}; "
            "check the year."
        )
    return day


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
