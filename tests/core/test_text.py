"""Dates as people type them (``parse_written_date``) and as the window writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.core.errors import ValidationError
from tracker.core.text import parse_written_date, written_date

MARCH_14 = dt.date(1988, 3, 14)


@pytest.mark.parametrize(
    "typed",
    [
        "14 Mar 1988",
        "14 march 1988",
        " 14  MAR 1988 ",
        "14/03/1988",
        "14.3.1988",
        "14-03-1988",
        "1988-03-14",
        "14 Mar. 1988",
    ],
)
def test_the_ways_of_writing_a_date_read_the_same_day(typed: str) -> None:
    assert parse_written_date(typed, "date of birth") == MARCH_14


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "is not a date; write the date of birth as 14 Mar 1988"),
        ("14 Mar 88", "is not a date; write the date of birth as"),
        ("14 Ma 1988", "'Ma' is not a month"),  # March or May
        ("31 Feb 1988", "February 1988 has no day 31"),
        ("14/13/1988", "there is no month 13"),
        ("1988-02-30", "February 1988 has no day 30"),
    ],
)
def test_what_is_not_a_date_is_refused_with_a_sentence(typed: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        parse_written_date(typed, "date of birth")


def test_the_window_writes_dates_in_english() -> None:
    assert written_date(MARCH_14) == "14 Mar 1988"
    assert written_date(dt.date(1990, 1, 1), full=True) == "1 January 1990"
    assert parse_written_date(written_date(MARCH_14), "date") == MARCH_14
