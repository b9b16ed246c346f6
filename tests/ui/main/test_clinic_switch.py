"""The window's switch to another client on a clinic library (issue 21: works over a slow link):
the audit's "viewed" entry written on a thread of its own (its round trips are not the
switch's), in the order the clients were chosen, and waited for before the library is let go.
The switch's own round trip is counted in tests/core/db/test_together.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from tests import postgres
from tests.tools.delay_proxy import DelayProxy
from tests.ui.conftest import open_window
from tracker.core.db.models import Audit
from tracker.core.domain.consent import Action
from tracker.core.services import clients
from tracker.core.store.server_library import ServerLibrary
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner


@pytest.fixture
def far(pg_server: postgres.Server) -> Iterator[tuple[ServerLibrary, DelayProxy]]:
    """A clinic library of three clients, reached through the (undelayed) proxy."""
    with pg_server.clinic() as url:
        lib = ServerLibrary.open_server(url)
        for name in ("Ana", "Bea", "Cora"):
            clients.add_client(lib, name)
        lib.close()
        with DelayProxy(pg_server.socket, delay_s=0.0) as proxy:
            lib = ServerLibrary.open_server(proxy.reaching(url))
            try:
                yield lib, proxy
            finally:
                lib.close()


def test_the_switches_audit_entries_are_written_by_their_thread_in_order(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, far: tuple[ServerLibrary, DelayProxy]
) -> None:
    lib, proxy = far
    window = open_window(qtbot, prefs, runner, lib)
    try:
        chosen = [c.id for c in window.clients.rows()]
        for client_id in [chosen[1], chosen[2], chosen[0], chosen[1]]:
            window.sidebar.client_chosen.emit(client_id)
            assert window.client_id == client_id
        window.set_library(None)  # waits for the entries being written
        assert proxy.requests > 0
        with lib.session() as s:
            viewed = list(
                s.scalars(
                    select(Audit.client_id)
                    .where(Audit.action == Action.VIEWED.value)
                    .order_by(Audit.id)
                )
            )
        assert viewed == [chosen[1], chosen[2], chosen[0], chosen[1]]
    finally:
        window.set_library(None)


def test_a_client_not_shown_for_a_lost_link_leaves_the_choices_of_what_is_shown(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, far: tuple[ServerLibrary, DelayProxy]
) -> None:
    lib, proxy = far
    window = open_window(qtbot, prefs, runner, lib)
    try:
        chosen = [c.id for c in window.clients.rows()]
        shown = window.client_id, window.area_id, window.visit_id
        proxy.cut()
        window.sidebar.client_chosen.emit(chosen[2])
        # Still the client shown, whose edits the panel makes; the link's sentence said.
        assert (window.client_id, window.area_id, window.visit_id) == shown
        assert "was lost" in window.statusBar().currentMessage()
        proxy.resume()
        window.sidebar.client_chosen.emit(chosen[2])
        assert window.client_id == chosen[2]
        window.set_library(None)  # waits for the entries being written
        with lib.session() as s:
            viewed = list(
                s.scalars(select(Audit.client_id).where(Audit.action == Action.VIEWED.value))
            )
        assert viewed == [chosen[2]]  # once: the client shown, not the one the link lost
    finally:
        window.set_library(None)
