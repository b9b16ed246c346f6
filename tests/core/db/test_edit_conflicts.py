"""Many writers, nothing lost (issue 21): two handles on one library (two Library objects on
one folder, or two engines on one PostgreSQL database) edit the same visit's treatment
record and ratings; an edit made from an old reading is refused with a sentence, and nothing
of it, or of the edit it would have overwritten, is lost."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import helpers as h
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.db.models import RaterRole
from tracker.core.errors import StaleEdit
from tracker.core.queries import browse
from tracker.core.services import clients, ratings, versions, visits
from tracker.core.store.library import Library

DAY = dt.date(2026, 3, 1)
Pair = tuple[Library, Library, int, int]  # two handles, the visit and the area


def _setup(lib: Library) -> tuple[int, int]:
    client = h.only_client(lib)
    area = clients.add_area(lib, client, "Hips")
    return visits.add_visit(lib, client, DAY), area


@pytest.fixture
def folder_pair(tmp_path: Path) -> Iterator[Pair]:
    """The folder library, and a second Library on its database: another workstation's
    handle, made past the writer lock (which lets one program write) as a test can."""
    root = tmp_path / "lib"
    with Library.open(root, create=True) as first:
        visit, area = _setup(first)
        second = Library(root, db.make_engine(root / "library.sqlite3"))
        try:
            yield first, second, visit, area
        finally:
            second.engine.dispose()


@pytest.fixture
def server_pair(pg_url: str, tmp_path: Path) -> Iterator[Pair]:
    """Two workstations' engines on one PostgreSQL database."""
    engines = [server.make_pg_engine(pg_url), server.make_pg_engine(pg_url)]
    server.upgrade(engines[0])
    first, second = (Library(tmp_path / n, e) for n, e in zip("ab", engines, strict=True))
    clients.add_client(first, "Ann")
    try:
        yield first, second, *_setup(first)
    finally:
        for engine in engines:
            engine.dispose()


@pytest.fixture(params=["folder", "server"])
def pair(request: pytest.FixtureRequest) -> Pair:
    return request.getfixturevalue(f"{request.param}_pair")


def _record(lib: Library, visit: int, area: int) -> tuple[dict[str, Any] | None, int]:
    """The record and its version as the visit panel loads them."""
    shown = next(a for a in browse.visit_detail(lib, visit).areas if a.area.id == area)
    return shown.treatment, shown.treatment_version


def _rating(lib: Library, visit: int, area: int) -> tuple[dict[str, float], int]:
    shown = next(a for a in browse.visit_detail(lib, visit).areas if a.area.id == area)
    row = next((r for r in shown.ratings if r.role == RaterRole.PRACTITIONER), None)
    return (row.values, row.version) if row is not None else ({}, 0)


def test_the_second_record_edit_from_an_old_reading_is_refused(pair: Pair) -> None:
    a, b, visit, area = pair
    visits.set_treatment(a, visit, area, {"device": "pen", "passes": 2})
    (_, seen_a), (_, seen_b) = _record(a, visit, area), _record(b, visit, area)
    assert seen_a == seen_b >= 1
    visits.set_treatment(a, visit, area, {"passes": 3}, seen=seen_a)
    with pytest.raises(StaleEdit) as refused:
        visits.set_treatment(b, visit, area, {"passes": 5, "pain": 4}, seen=seen_b)
    assert str(refused.value) == (
        "The treatment record of Hips at the visit on 1 Mar 2026 was changed by someone else "
        "after it was shown here, so this change was not stored; its fresh values are shown."
    )
    fresh, version = _record(b, visit, area)
    assert refused.value.version == version == seen_b + 1
    assert fresh is not None and (fresh["passes"], fresh["pain"]) == (3, None)  # a's kept
    # Looking again, b's edit goes through on top of a's.
    visits.set_treatment(b, visit, area, {"pain": 4}, seen=version)
    fresh, _ = _record(a, visit, area)
    assert fresh is not None and (fresh["device"], fresh["passes"], fresh["pain"]) == ("pen", 3, 4)


def test_two_editors_making_the_same_record_the_second_is_refused(pair: Pair) -> None:
    a, b, visit, area = pair
    assert _record(a, visit, area) == (None, 0) == _record(b, visit, area)
    visits.set_treatment(a, visit, area, {"device": "roller"}, seen=0)
    with pytest.raises(StaleEdit):
        visits.set_treatment(b, visit, area, {"device": "stamp"}, seen=0)
    assert _record(b, visit, area)[0]["device"] == "roller"  # type: ignore[index]


def test_a_removed_record_refuses_an_edit_from_before(pair: Pair) -> None:
    a, b, visit, area = pair
    visits.set_treatment(a, visit, area, {"passes": 2})
    _, seen = _record(b, visit, area)
    visits.set_treatment(a, visit, area, {"passes": None}, seen=seen)  # empty: removed
    with pytest.raises(StaleEdit, match="was removed by someone else") as refused:
        visits.set_treatment(b, visit, area, {"pain": 3}, seen=seen)
    assert refused.value.version == 0 and _record(a, visit, area) == (None, 0)


def test_the_second_rating_edit_from_an_old_reading_is_refused(pair: Pair) -> None:
    a, b, visit, area = pair
    role = RaterRole.PRACTITIONER
    ratings.rate(a, visit, area, role, {"colour": 6, "texture": 5}, seen=0)
    (_, seen_a), (_, seen_b) = _rating(a, visit, area), _rating(b, visit, area)
    assert seen_a == seen_b == 1
    # Only the items change: the rating's version moves all the same.
    change = ratings.rate(a, visit, area, role, {"depth": 4}, seen=seen_a)
    assert change.version == 2
    with pytest.raises(StaleEdit, match=r"^The practitioner's rating of Hips at the visit on"):
        ratings.rate(b, visit, area, role, {"colour": 2}, seen=seen_b)
    assert _rating(b, visit, area) == ({"colour": 6, "texture": 5, "depth": 4}, 2)
    # Its undo is refused too once someone else rated again, and changes nothing.
    ratings.rate(b, visit, area, role, {"colour": 2}, seen=2)
    with pytest.raises(StaleEdit):
        ratings.put_back(a, visit, area, role, "", "ctd", change.before, seen=change.version)
    assert _rating(a, visit, area) == ({"colour": 2, "texture": 5, "depth": 4}, 3)
    # Undone from the version it is at, it is the rating from before the edit, at a newer
    # version (so an editor who saw it before the undo is refused too).
    assert ratings.put_back(b, visit, area, role, "", "ctd", change.before, seen=3) == 4
    assert _rating(a, visit, area) == ({"colour": 6, "texture": 5}, 4)


def test_an_edit_without_a_version_is_not_checked_but_counted(pair: Pair) -> None:
    """The command line reads and writes in one transaction: nothing to check, but the edit
    moves the version on, so a window that read before it is refused."""
    a, b, visit, area = pair
    ratings.rate(a, visit, area, RaterRole.PRACTITIONER, {"colour": 6})
    _, seen = _rating(b, visit, area)
    ratings.rate(a, visit, area, RaterRole.PRACTITIONER, {"colour": 7})
    with pytest.raises(StaleEdit):
        ratings.rate(b, visit, area, RaterRole.PRACTITIONER, {"colour": 1}, seen=seen)
    visits.update_visit(a, visit, notes="first")
    detail = browse.visit_detail(b, visit)
    visits.update_visit(a, visit, notes="second")
    with pytest.raises(StaleEdit, match=r"^The visit on 1 Mar 2026 was changed"):
        visits.update_visit(b, visit, notes="third", seen=detail.version)
    assert browse.visit_detail(b, visit).notes == "second"


def test_random_interleaved_edits_of_two_writers_lose_nothing(pair: Pair) -> None:
    """Two writers, each editing from what it last loaded and sometimes loading again: every
    edit is stored or refused, and the stored record and rating are exactly the accepted
    edits applied in order: none is lost, none half stored."""
    a, b, visit, area = pair
    rng = random.Random(21)
    seen: dict[int, dict[str, int]] = {0: {"record": 0, "rating": 0}, 1: {"record": 0, "rating": 0}}
    expected: dict[str, dict[str, Any]] = {"record": {}, "rating": {}}
    version = {"record": 0, "rating": 0}
    stored = refused = 0
    for _ in range(120):
        who = rng.randrange(2)
        lib = (a, b)[who]
        what = rng.choice(("record", "rating"))
        if rng.random() < 0.3:  # look again
            seen[who][what] = (_record if what == "record" else _rating)(lib, visit, area)[1]
            continue
        try:
            if what == "record":
                fields: dict[str, Any] = {rng.choice(("passes", "pain")): rng.randint(1, 9)}
                done = visits.edit_treatment(lib, visit, area, fields, seen=seen[who][what])
                new = done.version
            else:
                fields = {rng.choice(("colour", "texture", "depth")): rng.randint(1, 10)}
                new = ratings.rate(
                    lib, visit, area, RaterRole.PRACTITIONER, fields, seen=seen[who][what]
                ).version
        except StaleEdit as exc:
            refused += 1
            assert seen[who][what] != version[what] and exc.version == version[what]
            seen[who][what] = exc.version  # the window shows the fresh values
            continue
        stored += 1
        assert seen[who][what] == version[what], "an edit from an old reading was stored"
        expected[what].update(fields)
        version[what] = seen[who][what] = new
    record, record_version = _record(a, visit, area)
    assert record is not None and record_version == version["record"]
    assert {k: v for k, v in record.items() if v is not None} == expected["record"]
    assert _rating(b, visit, area) == (expected["rating"], version["rating"])
    assert stored > 20 and refused > 20, (stored, refused)


def _at_once(*edits: Callable[[], object]) -> list[BaseException | None]:
    """Run the edits in threads released together; what each raised (None: stored)."""
    start = threading.Barrier(len(edits))
    outcome: list[BaseException | None] = [None] * len(edits)

    def run(n: int) -> None:
        start.wait()
        try:
            edits[n]()
        except BaseException as exc:  # reported to the test below
            outcome[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(edits))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


@pytest.mark.parametrize("first", [0, 1])
def test_on_the_server_simultaneous_edits_of_one_reading_store_one(
    server_pair: Pair, first: int
) -> None:
    """Two workstations commit edits made from the same reading at the same moment: the row
    lock of the version check makes the second wait and then find the version moved on."""
    a, b, visit, area = server_pair
    for round_ in range(8):
        record, seen = _record(a, visit, area)
        libs = (a, b) if first == 0 else (b, a)
        outcome = _at_once(
            *(
                lambda lib=lib, n=n, pain=round_, seen=seen: visits.set_treatment(
                    lib, visit, area, {"passes": 1 + n, "pain": pain}, seen=seen
                )
                for n, lib in enumerate(libs)
            )
        )
        assert sorted(type(o).__name__ for o in outcome) == ["NoneType", "StaleEdit"], outcome
        winner = outcome.index(None)
        fresh, version = _record(b, visit, area)
        assert fresh is not None and (fresh["passes"], fresh["pain"]) == (1 + winner, round_)
        assert version == seen + 1 if record is not None else version == 1


def _made_meanwhile_by(b: Library, visit: int, area: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next edit's ``made_meanwhile`` (after its version check and its read of the record)
    first lets the workstation ``b`` make the record and commit it."""
    real = versions.made_meanwhile

    def meanwhile(*args: Any, **kwargs: Any) -> int | None:
        monkeypatch.setattr(versions, "made_meanwhile", real)  # once
        visits.set_treatment(b, visit, area, {"passes": 7}, seen=0)
        return real(*args, **kwargs)

    monkeypatch.setattr(versions, "made_meanwhile", meanwhile)


def test_a_record_made_by_another_editor_after_the_check_is_never_merged_into(
    server_pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another workstation makes the record, and commits, after this edit's version check
    and its read found none: the edit inserts, the server refuses the duplicate, and it is
    refused as stale. (It used to read the record again, find the other's and overwrite it
    without counting a version: both edits said stored, and one was lost.)"""
    a, b, visit, area = server_pair
    _made_meanwhile_by(b, visit, area, monkeypatch)
    with pytest.raises(StaleEdit, match="was changed by someone else"):
        visits.set_treatment(a, visit, area, {"passes": 2, "pain": 5}, seen=0)
    fresh, version = _record(b, visit, area)
    assert fresh is not None and (fresh["passes"], fresh["pain"], version) == (7, None, 1)


def test_visit_add_with_a_record_made_meanwhile_is_refused_not_merged(
    server_pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tracker visit add`` sends no version, and still never changes a record it did not
    read: one another workstation makes after its read found none (the insert's duplicate)
    makes it refused, with a sentence for the command line (nothing was shown there)."""
    a, b, visit, area = server_pair
    _made_meanwhile_by(b, visit, area, monkeypatch)
    said = "^Another workstation made the treatment record of Hips at the visit on 1 Mar 2026 "
    with pytest.raises(StaleEdit, match=said):
        visits.record_visit(a, h.only_client(a), DAY, area_id=area, treatment={"pain": 3})
    fresh, version = _record(b, visit, area)
    assert fresh is not None and (fresh["passes"], fresh["pain"], version) == (7, None, 1)


def test_visit_add_merges_into_a_record_made_between_its_claim_and_its_read_and_counts_it(
    server_pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record another workstation made after ``visit add``'s claim found none, but before
    its read: read, it is the one merged into (no version was seen, so none is checked), and
    the change is counted, so a window that showed the other's record is refused after."""
    a, b, visit, area = server_pair
    real = versions.claim

    def claim(*args: Any, **kwargs: Any) -> int | None:
        monkeypatch.setattr(versions, "claim", real)  # once: this edit's claim
        claimed = real(*args, **kwargs)
        visits.set_treatment(b, visit, area, {"passes": 7}, seen=0)
        return claimed

    monkeypatch.setattr(versions, "claim", claim)
    visits.record_visit(a, h.only_client(a), DAY, area_id=area, treatment={"pain": 3})
    fresh, version = _record(b, visit, area)
    assert fresh is not None and (fresh["passes"], fresh["pain"], version) == (7, 3, 2)
