"""The window on a clinic library in PostgreSQL (issue 21): File ▸ Connect to a clinic library…
(the address checked with a sentence, the password never kept, what the server says shown in
the dialog), and what another workstation saves shown in the window without a restart, within
2 s. Against the throwaway server (tests/postgres.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests import postgres
from tests.tools.delay_proxy import DelayProxy
from tests.ui.conftest import open_window
from tracker.core.crypto.keys import KdfParams
from tracker.core.db import notify, server
from tracker.core.db.models import Audit
from tracker.core.domain.consent import Action
from tracker.core.domain.treatment import TREATMENT_FIELDS
from tracker.core.errors import UsageError
from tracker.core.queries import browse
from tracker.core.services import clients, visits
from tracker.core.store import server_keys
from tracker.core.store.server_library import ServerLibrary
from tracker.ui.main.connect import ConnectDialog, parse
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

SHOWN_WITHIN_MS = 2000
CHEAP = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)  # the weakest allowed: fast


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        yield url


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("", "Type the clinic library's address"),
        ("/home/me/library", "is not a clinic library's address"),
        ("postgresql://nurse@clinic-server", "names no database"),
    ],
)
def test_an_address_that_is_not_one_is_a_sentence(address: str, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        parse(address, "")


def test_the_password_goes_to_the_connection_but_is_never_kept() -> None:
    url, kept = parse(" postgresql://nurse@clinic-server/clinic ", "s3cret word")
    assert "s3cret" in url
    assert kept == "postgresql://nurse@clinic-server/clinic"


def _names(window: MainWindow) -> list[str]:
    model = window.clients
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def test_connecting_opens_the_library_and_another_workstations_client_shows_within_2_s(
    qtbot: QtBot, clinic: str, prefs: Preferences, runner: TaskRunner
) -> None:
    dialog = ConnectDialog(clinic, runner)
    qtbot.addWidget(dialog)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    qtbot.waitUntil(lambda: dialog.lib is not None, timeout=20000)
    lib = dialog.lib
    assert isinstance(lib, ServerLibrary) and lib.read_only is None
    assert dialog.kept == clinic and dialog.password.text() == ""
    window = open_window(qtbot, prefs, runner, lib)
    other = ServerLibrary.open_server(clinic)  # the front desk's workstation
    try:
        database = make_url(clinic).database
        assert f"— clinic library {database} on /tmp/" in window.windowTitle()
        qtbot.waitUntil(lambda: window.live.listening, timeout=10000)
        clients.add_client(other, "Ágnes Kovács")
        started = time.monotonic()
        qtbot.waitUntil(lambda: "Ágnes Kovács" in _names(window), timeout=SHOWN_WITHIN_MS)
        assert time.monotonic() - started < SHOWN_WITHIN_MS / 1000
        assert window.live.changes >= 1
        # The window's own edits are not told back to it as another's.
        seen = window.live.changes
        clients.add_client(lib, "Bea Szabó")
        qtbot.wait(800)
        assert window.live.changes == seen
    finally:
        window.set_library(None)
        other.close()
        lib.close()


def test_a_database_that_is_not_there_is_said_in_the_dialog_and_the_fields_stay(
    qtbot: QtBot, pg_server: postgres.Server, runner: TaskRunner
) -> None:
    dialog = ConnectDialog(pg_server.url("no_such_clinic"), runner)
    qtbot.addWidget(dialog)
    dialog.password.setText("typed")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
    qtbot.waitUntil(lambda: not dialog.connecting, timeout=20000)
    assert dialog.lib is None
    text = dialog.problem.text()
    assert "no_such_clinic" in text and "Traceback" not in text and "typed" not in text
    assert dialog.address.isEnabled() and dialog.buttons.isEnabled()


def test_a_folder_librarys_window_starts_no_listener(window: MainWindow) -> None:
    assert window.lib is not None and window.lib.server is None
    assert not window.live.listening and window.live._listener is None


def test_changes_only_to_the_audit_trail_or_stored_files_reload_nothing(
    window: MainWindow,
) -> None:
    told: list[bool] = []
    window.live.told.connect(lambda: told.append(True))
    window.live._on_change(notify.Change(tables={"audit": frozenset({7})}))
    # A thumbnail another workstation made on first view: its blob alone.
    window.live._on_change(notify.Change(tables={"blob": None, "blob_chunk": None}))
    assert told == []
    window.live._on_change(notify.Change(tables={"audit": None, "visit": frozenset({3})}))
    window.live._on_change(notify.Change(tables={}, resync=True))
    assert told == [True, True]


def test_a_lost_link_is_a_sentence_and_the_next_edit_after_it_is_stored(
    qtbot: QtBot, clinic: str, pg_server: postgres.Server, prefs: Preferences, runner: TaskRunner
) -> None:
    database = make_url(clinic).database
    with DelayProxy(str(pg_server.socket_dir / ".s.PGSQL.5432"), delay_s=0.0) as proxy:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{database}"
        lib = ServerLibrary.open_server(url)
        shown: list[str] = []
        window = open_window(qtbot, prefs, runner, None)
        window.show_error = shown.append  # type: ignore[method-assign,assignment]
        try:
            client = clients.add_client(lib, "Kinga Tóth")
            area = clients.add_area(lib, client, "Hips")
            visits.add_visit(lib, client, dt.date(2026, 11, 2))
            window.set_library(lib)
            qtbot.waitUntil(lambda: window.visit_id is not None and window.area_id is not None)
            fields = dict.fromkeys(TREATMENT_FIELDS)
            proxy.cut()
            window.panel.treatment_edited.emit({**fields, "device": "pen A"})
            assert len(shown) == 1 and "Traceback" not in shown[0]
            assert "connection" in shown[0].lower() or "server" in shown[0].lower(), shown
            proxy.resume()
            window.refresh()  # the person clicks on the visit again
            window.panel.treatment_edited.emit({**fields, "device": "pen B"})
            assert len(shown) == 1, shown
            assert window.visit_id is not None
            record = browse.treatment(lib, window.visit_id, area)  # read through the link
            assert record is not None and record["device"] == "pen B"
        finally:
            window.set_library(None)
            lib.close()


def test_an_encrypted_clinic_library_asks_its_passphrase_in_the_dialog_and_again_to_unlock(
    qtbot: QtBot, pg_server: postgres.Server, prefs: Preferences, runner: TaskRunner
) -> None:
    with pg_server.clinic() as url:
        engine = server.make_pg_engine(url)
        try:
            server_keys.encrypt_new(engine, "the clinic's passphrase", CHEAP)
        finally:
            engine.dispose()
        dialog = ConnectDialog(url, runner)
        qtbot.addWidget(dialog)
        connect = dialog.buttons.button(QDialogButtonBox.StandardButton.Open)
        assert not dialog.secret.isVisibleTo(dialog)
        connect.click()
        qtbot.waitUntil(lambda: dialog.secret.isVisibleTo(dialog), timeout=20000)
        assert "is encrypted" in dialog.problem.text() and dialog.lib is None
        dialog.secret.line.setText("a wrong passphrase")
        connect.click()
        qtbot.waitUntil(
            lambda: not dialog.connecting and "wrong" in dialog.problem.text(), timeout=20000
        )
        dialog.secret.line.setText("the clinic's passphrase")
        connect.click()
        qtbot.waitUntil(lambda: dialog.lib is not None, timeout=20000)
        lib = dialog.lib
        assert lib is not None and lib.keys is not None
        assert dialog.secret.line.text() == ""
        window = open_window(qtbot, prefs, runner, lib)
        try:
            window.locking.lock()
            page = window.locking.page
            page.field.line.setText("not it either")
            window.locking._on_unlock_clicked()
            qtbot.waitUntil(lambda: "wrong" in page.problem.text(), timeout=20000)
            assert window.locking.locked
            page.field.line.setText("the clinic's passphrase")
            window.locking._on_unlock_clicked()
            qtbot.waitUntil(lambda: not window.locking.locked, timeout=20000)
            # The lock's wrong try and its unlock are in the trail (the dialog's came before
            # the library held anything: ``clinic_keys`` enters none into an empty one).
            with lib.session() as s:
                done = list(s.scalars(select(Audit.action).order_by(Audit.id)))
            assert done[-2:] == [Action.UNLOCK_FAILED.value, Action.UNLOCKED.value], done
        finally:
            window.set_library(None)
            lib.close()
