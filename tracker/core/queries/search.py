"""Finding a client as people type: by name without minding case or accents ("chloe" and
"CHLOE" find "Chloé Smith", "smith chloe" too), or by date of birth written the way the window
shows it ("14 Mar 1988"), in full ("14 March 1988"), with numbers ("14/03/1988", "14.03.1988")
or as ISO ("1988-03-14"); the start of any of them is enough ("14 Mar", "1988-03")."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from tracker.core.queries.rows import ClientRow
from tracker.core.text import MONTHS  # the window writes dates in English: d MMM yyyy

# Letters that Unicode does not split into a base letter and an accent.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe"})
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """``text`` as search compares it: accents dropped, case folded, spaces made single."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.translate(_LETTERS)).strip()


def date_forms(day: dt.date) -> tuple[str, ...]:
    """The ways a person may type ``day``, folded."""
    month = MONTHS[day.month - 1]
    forms = [day.isoformat()]
    for d in dict.fromkeys((str(day.day), f"{day.day:02d}")):
        forms += [
            f"{d} {month[:3]} {day.year}",
            f"{d} {month} {day.year}",
            f"{d}/{day.month:02d}/{day.year}",
            f"{d}.{day.month:02d}.{day.year}",
        ]
    return tuple(fold(f) for f in forms)


def _starts_a_word(needle: str, text: str) -> bool:
    """Whether ``needle`` is in ``text`` at its start or after a character that is not a
    letter or digit ("4 mar" is in "4 mar 1988", not in "14 mar 1988")."""
    at = text.find(needle)
    while at >= 0:
        if at == 0 or not text[at - 1].isalnum():
            return True
        at = text.find(needle, at + 1)
    return False


def client_matches(name: str, date_of_birth: dt.date | None, search: str) -> bool:
    """Whether a client of ``name`` born on ``date_of_birth`` is one that ``search`` finds:
    the search is in the name (anywhere), every word of it is (in any order), or it starts
    one of the ways of writing the date of birth. An empty search finds everyone."""
    needle = fold(search)
    if not needle:
        return True
    folded = fold(name)
    if needle in folded or all(word in folded for word in needle.split(" ")):
        return True
    return date_of_birth is not None and any(
        _starts_a_word(needle, form) for form in date_forms(date_of_birth)
    )


def matching(rows: Sequence[ClientRow], search: str) -> list[ClientRow]:
    """The clients of ``rows`` that ``search`` finds, in their order."""
    return [r for r in rows if client_matches(r.name, r.date_of_birth, search)]
