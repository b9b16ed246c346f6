"""Two workstations appending to a clinic library's audit trail at the same moment (issue 21):
the second waits for the first's transaction and chains its entry to the first's, where both
used to read the same newest entry and the second failed on the id the first had taken (a
raw database error, an export's or a backup's entry lost). Against a throwaway server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests import postgres
from tracker.core.db.models import Audit
from tracker.core.domain.consent import Action
from tracker.core.services import audit
from tracker.core.store.server_library import ServerLibrary


@pytest.fixture
def two(pg_server: postgres.Server) -> Iterator[tuple[ServerLibrary, ServerLibrary]]:
    """Two workstations' handles on one clinic library."""
    with pg_server.clinic() as url:
        first, second = ServerLibrary.open_server(url), ServerLibrary.open_server(url)
        try:
            yield first, second
        finally:
            first.close()
            second.close()


def test_an_entry_appended_while_another_is_uncommitted_waits_and_chains_to_it(
    two: tuple[ServerLibrary, ServerLibrary],
) -> None:
    first, second = two
    audit.record(first, Action.VIEWED, detail="before")
    appended = threading.Event()
    failed: list[BaseException] = []

    def other_workstation() -> None:
        try:
            audit.may_record(second, Action.EXPORTED)  # tried and rolled back: waits too
            audit.record(second, Action.EXPORTED, detail="second")
        except BaseException as exc:  # reported below
            failed.append(exc)
        appended.set()

    with first.session() as s:
        audit.record_in(s, Action.VIEWED, detail="first")  # uncommitted while the other tries
        thread = threading.Thread(target=other_workstation)
        thread.start()
        assert not appended.wait(0.5), "the other entry did not wait for this transaction"
    thread.join(30)
    assert not failed, failed
    with first.session() as s:
        rows = list(s.scalars(select(Audit).order_by(Audit.id)))
    assert [r.detail for r in rows] == ["before", "first", "second"]
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert audit.verify(first) == []
