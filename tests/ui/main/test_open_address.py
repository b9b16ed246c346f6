"""`tracker --library postgresql://LOGIN@HOST/DATABASE` with no command (issue 21): the window
shows, and File ▸ Connect's own dialog opens filled in with the address, connecting at once
when a password came with it (the address's own or TRACKER_CLINIC_PASSWORD), which is never
shown in a field nor kept; cancelled, the window has no library open and Start tracking asks
again; a front-desk login gets the front desk's window; an encrypted library asks its
passphrase; an address that is not one exits 2 with a sentence before any window. Against the
throwaway PostgreSQL server (tests/postgres.py); the dialog is driven (only its modal exec is
replaced, so that the test can type into it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from tests import postgres
from tests.conftest import run_cli
from tracker import APP_NAME, cli
from tracker.app import App
from tracker.core.crypto.keys import KdfParams
from tracker.core.db import roles, server
from tracker.core.store import server_keys
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary
from tracker.ui.frontdesk.window import FrontDeskWindow
from tracker.ui.main.connect import ConnectDialog
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

SECRET = "a nurse's password 91c"
WAIT_MS = 20000
CHEAP = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)  # the weakest allowed: fast

Drive = Callable[[ConnectDialog], None]


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    monkeypatch.delenv("TRACKER_CLINIC_PASSWORD", raising=False)


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        yield url


def _login(pg_server: postgres.Server, url: str, role: str, password: str) -> tuple[str, str]:
    """A login of ``role`` made in the clinic library at ``url``: its name and its address."""
    name = f"staff_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(url)
    try:
        roles.add_user(owner, name, role, password)
    finally:
        owner.dispose()
    return name, make_url(url).set(username=name).render_as_string(hide_password=False)


@pytest.fixture
def nurse(pg_server: postgres.Server, clinic: str) -> Iterator[str]:
    """A practitioner's address (no password in it), whose login needs its password."""
    name, address = _login(pg_server, clinic, roles.PRACTITIONER, SECRET)
    pg_server.admin(f"GRANT {postgres.PASSWORD_GROUP} TO {name}")
    try:
        yield address
    finally:
        pg_server.admin(f"DROP OWNED BY {name}")


@pytest.fixture
def shell(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> Iterator[App]:
    shown: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, m: shown.append(m))
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    window.show()  # as run_gui does: the window shows, then the library is asked for
    app = App(window, prefs, runner)
    yield app
    app.close()
    assert shown == []


def _drive(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, *steps: Drive
) -> list[tuple[ConnectDialog, str, str]]:
    """Each Connect dialog, as it shows, is driven by the next of ``steps`` (as a person
    would: typing, clicking); the dialog, and its address and password fields as it showed."""
    seen: list[tuple[ConnectDialog, str, str]] = []
    todo = list(steps)

    def run(dialog: ConnectDialog) -> int:
        dialog.show()
        seen.append((dialog, dialog.address.text(), dialog.password.text()))
        assert dialog.password.echoMode() == QLineEdit.EchoMode.Password
        todo.pop(0)(dialog)
        return int(dialog.result())

    monkeypatch.setattr(ConnectDialog, "exec", run)
    return seen


def _click_connect(dialog: ConnectDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()


def _opened(qtbot: QtBot) -> Drive:
    """Wait for the connect started as the dialog showed (a password was given)."""

    def step(dialog: ConnectDialog) -> None:
        qtbot.waitUntil(lambda: dialog.connecting, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)

    return step


def _typed(qtbot: QtBot, *passwords: str, said: list[str] | None = None) -> Drive:
    """Type each password in turn and click Connect, until the dialog closes; what the
    dialog says after each try that failed, put in ``said``."""

    def step(dialog: ConnectDialog) -> None:
        qtbot.wait(300)  # no password given: nothing is tried until the person says
        assert not dialog.connecting and dialog.problem.isHidden()
        for typed in passwords:
            dialog.password.setText(typed)
            _click_connect(dialog)
            # Closed once it opened; else open, saying why, for another try.
            qtbot.waitUntil(
                lambda: not dialog.isVisible() or not dialog.connecting, timeout=WAIT_MS
            )
            if said is not None and dialog.isVisible():
                said.append(dialog.problem.text())
        assert not dialog.isVisible()

    return step


def _lib(shell: App) -> Library:
    assert shell.lib is not None
    return shell.lib


def test_an_address_holding_a_password_opens_at_once_the_password_never_shown_nor_kept(
    qtbot: QtBot, shell: App, nurse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = make_url(nurse).set(password=SECRET).render_as_string(hide_password=False)
    seen = _drive(qtbot, monkeypatch, _opened(qtbot))
    assert shell.start(given)
    [(dialog, address, password)] = seen
    assert SECRET not in address and make_url(address).username == make_url(nurse).username
    assert password == SECRET  # in the password field, as dots
    assert dialog.password.text() == ""  # used once
    lib = _lib(shell)
    assert isinstance(lib, ServerLibrary) and lib.read_only is None
    database = make_url(nurse).database
    assert shell.window.windowTitle().startswith(f"{APP_NAME} — clinic library {database} on ")
    assert shell.window.windowTitle().endswith(f" as {make_url(nurse).username}")
    # Kept as File ▸ Connect keeps it: the address, never its password.
    assert make_url(shell.prefs.last_clinic).username == make_url(nurse).username
    shell.prefs._s.sync()
    assert SECRET not in (tmp_path / "prefs.ini").read_text(encoding="utf-8")
    assert shell.prefs.last_library is None  # a clinic library is no folder to start on


def test_without_a_password_the_dialog_waits_says_a_wrong_one_and_opens_with_the_right_one(
    qtbot: QtBot, shell: App, nurse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    seen = _drive(qtbot, monkeypatch, _typed(qtbot, "not the password", SECRET, said=said))
    assert shell.start(nurse)
    [(_, address, password)] = seen
    assert address == nurse and password == ""
    assert len(said) == 1 and "refused the login" in said[0], said
    assert not any("not the password" in s or SECRET in s for s in said)
    assert isinstance(_lib(shell), ServerLibrary)


def test_cancelled_no_library_is_open_and_start_tracking_asks_again(
    qtbot: QtBot, shell: App, nurse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = make_url(nurse).set(password=SECRET).render_as_string(hide_password=False)

    def cancel(dialog: ConnectDialog) -> None:
        qtbot.waitUntil(lambda: not dialog.connecting, timeout=WAIT_MS)  # the try at once
        dialog.password.setText("a wrong one")
        _click_connect(dialog)
        qtbot.waitUntil(lambda: "refused the login" in dialog.problem.text(), timeout=WAIT_MS)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()

    shell.prefs.last_clinic = "postgresql://someone@elsewhere/other"
    seen = _drive(qtbot, monkeypatch, cancel, _typed(qtbot, SECRET))
    asked: list[str] = []

    def ask_for_area(title: str, *_: object) -> bool:
        asked.append(title)
        return False

    monkeypatch.setattr(shell.window.client_edits, "ask_for_area", ask_for_area)
    assert not shell.start(given)
    assert shell.lib is None and shell.window.lib is None
    assert shell.window.windowTitle() == APP_NAME
    assert shell.window.stack.currentWidget() is shell.window.welcome
    assert shell.prefs.last_clinic == "postgresql://someone@elsewhere/other"  # nothing opened
    shell.window.welcome.start.click()  # the welcome page's Start tracking: the address again
    assert len(seen) == 2
    assert seen[1][1] == seen[0][1] and seen[1][2] == ""  # its password was not kept
    assert isinstance(_lib(shell), ServerLibrary)
    assert asked == ["Start tracking"]  # then the first area, as for a folder


def test_a_front_desk_login_gets_the_front_desks_window_and_the_main_one_stays_empty(
    qtbot: QtBot,
    shell: App,
    pg_server: postgres.Server,
    clinic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, address = _login(pg_server, clinic, roles.FRONT_DESK, "desk password")
    try:
        # Its own login on this server needs no password: Connect is clicked, as a person does.
        _drive(qtbot, monkeypatch, _typed(qtbot, ""))
        assert not shell.start(address)
        assert shell.lib is None
        desk = shell.window.findChild(FrontDeskWindow)
        assert isinstance(desk, FrontDeskWindow) and desk.isVisible()
        assert f"front desk — clinic library {make_url(clinic).database}" in desk.windowTitle()
        assert shell.prefs.last_clinic == address
        desk.close()
    finally:
        pg_server.admin(f"DROP OWNED BY {name}")


def test_an_encrypted_clinic_library_asks_its_passphrase_in_the_dialog(
    qtbot: QtBot, shell: App, clinic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = server.make_pg_engine(clinic)
    try:
        server_keys.encrypt_new(engine, "the clinic's passphrase", CHEAP)
    finally:
        engine.dispose()

    def unlock(dialog: ConnectDialog) -> None:
        _click_connect(dialog)
        qtbot.waitUntil(lambda: dialog.secret.isVisibleTo(dialog), timeout=WAIT_MS)
        assert "is encrypted" in dialog.problem.text()
        dialog.secret.line.setText("the clinic's passphrase")
        _click_connect(dialog)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)

    _drive(qtbot, monkeypatch, unlock)
    assert shell.start(clinic)
    assert _lib(shell).keys is not None


def test_tracker_library_names_the_address_and_its_password_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nurse = "postgresql+psycopg://nurse@/clinic?host=/tmp/clinic-server"
    started: list[tuple[object, object]] = []

    def run_gui(library: object, password: object = None) -> int:
        started.append((library, password))
        return 0

    monkeypatch.setattr("tracker.app.run_gui", run_gui)
    monkeypatch.setenv("TRACKER_LIBRARY", nurse)
    monkeypatch.setenv("TRACKER_CLINIC_PASSWORD", SECRET)
    assert cli.main([]) == 0
    own = make_url(nurse).set(password="its own").render_as_string(hide_password=False)
    assert cli.main(["--library", own]) == 0  # the address's own password comes first
    assert started == [(nurse, SECRET), (own, "its own")]


def test_tracker_library_opens_the_dialog_on_that_address(
    qtbot: QtBot, shell: App, nurse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_LIBRARY", nurse)
    seen = _drive(qtbot, monkeypatch, _typed(qtbot, SECRET))
    assert shell.start(None)  # `tracker` with TRACKER_LIBRARY=postgresql://…
    assert seen[0][1] == nurse
    assert isinstance(_lib(shell), ServerLibrary)


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("postgresql://nurse:SeCrEt@clinic-server", "The address names no database"),
        ("postgresql://nurse:SeCrEt@clinic-server:port/clinic", "The address's port is not"),
    ],
)
def test_an_address_that_is_not_one_exits_2_with_a_sentence_before_any_window(
    address: str, said: str
) -> None:
    done = run_cli("--library", address, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"tracker: {said}") and done.stderr.count("\n") == 1
    assert "SeCrEt" not in done.stderr


def test_the_next_start_after_only_clinic_libraries_asks_to_connect_again_not_to_make_one(
    qtbot: QtBot, shell: App, nurse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []

    def ask_new_library(root: Path, *_: object) -> None:
        made.append(root)

    monkeypatch.setattr("tracker.app.ask_new_library", ask_new_library)
    shell.prefs.last_clinic = nurse  # File ▸ Connect kept it; no folder was ever opened
    seen = _drive(qtbot, monkeypatch, _typed(qtbot, SECRET))
    assert shell.start(None)  # plain `tracker`
    assert made == [] and seen[0][1:] == (nurse, "")
    assert isinstance(_lib(shell), ServerLibrary)
    shell.close()
    folder = tmp_path / "lib"
    Library.open(folder, create=True).close()
    shell.prefs.last_library = folder  # a folder used since: the next start opens it
    assert shell.start(None)
    assert _lib(shell).root == folder and len(seen) == 1
