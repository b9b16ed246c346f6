"""The window's prompt for an encrypted library's passphrase (tracker.ui.unlock)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tracker.core.crypto.keys import MIN_KDF
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.ui.unlock import UnlockDialog
from tracker.ui.workers import TaskRunner

PASS = "a passphrase for the window"


def _library(tmp_path: Path) -> tuple[Path, str]:
    lib, recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    lib.close()
    return lib.root, recovery


def test_a_wrong_passphrase_says_so_and_asks_again(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    root, _ = _library(tmp_path)
    dialog = UnlockDialog(root, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password
    dialog.secret.setText("not it at all")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.secret.isEnabled() and "wrong" in dialog.problem.text())
    assert dialog.problem.text() == "The passphrase is wrong; the library stays locked."
    assert dialog.isVisible() and dialog.keys is None
    dialog.secret.setText(PASS)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.keys is not None)
    assert not dialog.isVisible() and dialog.secret.text() == ""
    with Library.open(root, keys=dialog.keys) as lib:
        assert lib.keys == dialog.keys


def test_the_recovery_key_unlocks_too(qtbot: QtBot, tmp_path: Path, runner: TaskRunner) -> None:
    root, recovery = _library(tmp_path)
    dialog = UnlockDialog(root, runner)
    qtbot.addWidget(dialog)
    dialog.use_recovery.setChecked(True)
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Normal
    dialog.buttons.accepted.emit()
    assert dialog.problem.text() == "Type the passphrase first."
    dialog.secret.setText(recovery.lower())
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.keys is not None)
    assert dialog.keys == encrypted.unlock(root, passphrase=PASS)
