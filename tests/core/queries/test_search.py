"""Finding clients by name (any case, accents, word order) and by date of birth."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.core.queries import browse
from tracker.core.queries.search import client_matches, date_forms, fold
from tracker.core.services import clients
from tracker.core.store.library import Library

BORN = dt.date(2026, 3, 14)


@pytest.fixture
def names(library: Library) -> Library:
    clients.add_client(library, "Chloé Smith", {"date_of_birth": BORN})
    clients.add_client(library, "Zoë Ødegård")
    clients.add_client(library, "Ana Lima", {"date_of_birth": dt.date(1988, 3, 4)})
    return library


def found(lib: Library, search: str) -> list[str]:
    return [c.name for c in browse.clients(lib, search) if c.name != "Me"]


@pytest.mark.parametrize(
    "search", ["chloe", "CHLOE", "Chloé", "  chLOÉ  ", "smith chloe", "hloe s"]
)
def test_a_name_is_found_whatever_its_case_accents_and_word_order(
    names: Library, search: str
) -> None:
    assert found(names, search) == ["Chloé Smith"]


def test_letters_without_a_separate_accent_are_found_by_their_plain_letter(names: Library) -> None:
    assert found(names, "zoe odegard") == ["Zoë Ødegård"]


@pytest.mark.parametrize(
    "search", ["14 Mar 2026", "14 mar", "14 March 2026", "2026-03-14", "2026-03", "14/03/2026"]
)
def test_a_date_of_birth_is_found_as_the_window_shows_it_and_as_iso(
    names: Library, search: str
) -> None:
    assert found(names, search) == ["Chloé Smith"]


def test_a_day_of_the_month_does_not_find_a_longer_one(names: Library) -> None:
    # 4 March is not 14 March: a date matches from the start of its words.
    assert found(names, "4 Mar") == ["Ana Lima"]
    assert found(names, "04/03/1988") == ["Ana Lima"]
    assert found(names, "1988-03-14") == []


def test_an_empty_search_finds_everyone_and_a_stranger_no_one(names: Library) -> None:
    assert len(browse.clients(names, "   ")) == 4
    assert found(names, "nobody") == []
    assert not client_matches("Chloé Smith", None, "14 Mar 2026")  # no date of birth known


def test_folding_and_date_forms() -> None:
    assert fold("  Ĉhloé\tSMITH ") == "chloe smith"
    assert fold("Straße") == "strasse"
    assert "14 mar 2026" in date_forms(BORN) and "2026-03-14" in date_forms(BORN)
