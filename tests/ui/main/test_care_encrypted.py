"""Restoring an encrypted library's backup from the window: its passphrase (or recovery key)
is asked for, a wrong one says so and writes nothing, the right one restores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.core.care.test_trust import _photos
from tracker.app import App
from tracker.core.care import backups
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.queries import listing
from tracker.core.store import encrypted
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.unlock import BackupSecretDialog, UnlockDialog
from tracker.ui.workers import TaskRunner

PASS = "a passphrase for the backup"


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, str]:
    lib, recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    with lib:
        h.import_files(lib, _photos(tmp_path / "in", 2), area="Hips")
        backups.backup(lib, tmp_path / "b.zip")
    return tmp_path / "b.zip", recovery


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, m: shown.append(m))
    monkeypatch.setattr(MainWindow, "show_info", lambda self, m: shown.append(m))
    return shown


@pytest.fixture
def shell(qtbot: QtBot, tmp_path: Path, runner: TaskRunner, messages: list[str]) -> Iterator[App]:
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    app = App(window, prefs, runner)
    yield app
    app.close()


def test_a_wrong_passphrase_says_so_and_the_right_one_restores(
    qtbot: QtBot,
    shell: App,
    messages: list[str],
    archive: tuple[Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[dict[str, str] | None] = [{"passphrase": "not it at all"}, {"passphrase": PASS}]
    problems: list[str] = []

    def ask(cls: Any, archive: Path, problem: str = "", parent: Any = None) -> Any:
        problems.append(problem)
        if problem:  # asked again after the wrong one: nothing was written
            assert not dest.exists()
            assert [p.name for p in dest.parent.iterdir() if "restored" in p.name] == []
        return answers.pop(0)

    monkeypatch.setattr(BackupSecretDialog, "ask_secret", classmethod(ask))
    monkeypatch.setattr(UnlockDialog, "ask", classmethod(lambda cls, *a: pytest.fail("asked")))
    dest = tmp_path / "restored"
    with qtbot.waitSignal(shell.window.library_requested, timeout=30000):
        shell.window.care.restore_to(archive[0], dest)
    assert problems == ["", "The passphrase is wrong; the library stays locked."]
    assert shell.lib is not None and shell.lib.root == dest and shell.lib.keys is not None
    assert listing.counts(shell.lib)["photos"] == 2  # opened without asking again
    assert messages == [] and shell.window.care.take_keys(dest) is None


def test_the_recovery_key_restores_and_cancel_writes_nothing(
    qtbot: QtBot,
    shell: App,
    archive: tuple[Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[dict[str, str] | None] = [None, {"recovery_key": archive[1]}]
    monkeypatch.setattr(
        BackupSecretDialog, "ask_secret", classmethod(lambda cls, *a: answers.pop(0))
    )
    monkeypatch.setattr(UnlockDialog, "ask", classmethod(lambda cls, *a: None))
    care = shell.window.care
    care.restore_to(archive[0], tmp_path / "first")
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=20000)
    shell.runner.wait(10000)
    assert not (tmp_path / "first").exists()
    with qtbot.waitSignal(care.restored, timeout=30000):
        care.restore_to(archive[0], tmp_path / "second")
    keys = encrypted.unlock(tmp_path / "second", passphrase=PASS)
    assert keys == encrypted.unlock(tmp_path / "lib", passphrase=PASS)


def test_the_secret_dialog_asks_without_deriving(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = BackupSecretDialog(tmp_path / "b.zip", "The passphrase is wrong.")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.problem.text() == "The passphrase is wrong." and dialog.problem.isVisible()
    dialog.buttons.accepted.emit()
    assert dialog.problem.text() == "Type the passphrase first." and dialog.how is None
    dialog.use_recovery.setChecked(True)
    dialog.secret.setText("ABCD")
    dialog.buttons.accepted.emit()
    assert dialog.how == {"recovery_key": "ABCD"} and dialog.secret.text() == ""
