"""Library ▸ Encrypt this library… (tracker.ui.main.encrypting, tracker.app): a plain library
encrypted in place from the window, closed while it runs, its recovery key shown once, and
opened again unlocked; refused, with the reason, for an encrypted or read-only one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tracker.app import App
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.crypto.layout import is_encrypted
from tracker.core.queries import browse
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.ui.main.encrypting import EncryptDialog, offer
from tracker.ui.main.new_library import RecoveryKeyDialog
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

PASS = "a passphrase for converting"


@pytest.fixture(autouse=True)
def cheap_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EncryptDialog, "kdf", MIN_KDF)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, m: said.append(m))
    return said


@pytest.fixture
def shell(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    shown: list[str],
    tmp_path: Path,
    sample_template: Path,
) -> Iterator[App]:
    """The window on a copy of the sample library (plain), as the app assembles it."""
    shutil.copytree(sample_template, tmp_path / "lib")
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    app = App(window, prefs, runner)
    window.show()
    assert app.open(tmp_path / "lib")
    yield app
    app.close()


@pytest.fixture
def keys_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The recovery keys the recovery-key dialog showed (it closes once written down)."""
    keys: list[str] = []

    def exec_(dialog: RecoveryKeyDialog) -> int:
        keys.append(dialog.key.text())
        dialog.written.setChecked(True)
        dialog.close_button.click()
        return int(dialog.result())

    monkeypatch.setattr(RecoveryKeyDialog, "exec", exec_)
    return keys


def _answer(
    monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, typed: tuple[str, str], seen: dict[str, Any]
) -> None:
    """The encrypt dialog answered: ``typed`` twice, Encrypt, then Cancel if still open."""

    def exec_(dialog: EncryptDialog) -> int:
        dialog.show()
        seen["no_cancel"] = dialog.no_cancel.text()
        dialog.new.passphrase.setText(typed[0])
        dialog.new.again.setText(typed[1])
        dialog.encrypt_button.click()
        seen["problem"] = dialog.problem.text()
        if dialog.started:
            seen["busy"] = not dialog.buttons.isEnabled() and dialog.progress.isVisible()
            QApplication.processEvents()  # the layout, with the progress bar shown
            layout = dialog.layout()
            assert layout is not None
            seen["fits"] = dialog.height() >= layout.sizeHint().height()
            seen["shell_lib_while_running"] = seen["app"].lib
            dialog.reject()  # Escape: not while it runs
            seen["stayed"] = dialog.isVisible()
            qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=60000)
            seen["progress"] = (dialog.progress.value(), dialog.progress.maximum())
            seen["problem"] = dialog.problem.text()
        if dialog.isVisible():
            dialog.reject()
        return int(dialog.result())

    monkeypatch.setattr(EncryptDialog, "exec", exec_)


def test_a_plain_library_is_encrypted_from_the_window_and_opens_unlocked(
    shell: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, keys_shown: list[str]
) -> None:
    lib = shell.lib
    assert lib is not None and lib.keys is None
    root, names = lib.root, [c.name for c in browse.clients(lib)]
    action = shell.window.menus.encrypt
    assert action.isEnabled() and "in place" in action.toolTip()
    seen: dict[str, Any] = {"app": shell}
    _answer(monkeypatch, qtbot, (PASS, PASS), seen)
    action.trigger()
    assert "cannot be stopped midway" in seen["no_cancel"]
    assert seen["busy"] and seen["stayed"] and seen["fits"]  # nothing squashed
    assert seen["shell_lib_while_running"] is None  # closed while it ran
    done, total = seen["progress"]
    assert total > 20 and done == total  # the database, originals, pictures, snapshots
    assert is_encrypted(root)
    assert len(keys_shown) == 1  # shown once, by the new library's dialog
    assert encrypted.unlock(root, recovery_key=keys_shown[0]).library_id
    reopened = shell.lib
    assert reopened is not None and reopened is not lib
    assert reopened.keys is not None and reopened.root == root
    assert [c.name for c in browse.clients(reopened)] == names
    assert not action.isEnabled() and action.toolTip() == "This library is encrypted already."
    assert action.statusTip() == action.toolTip()


def test_a_weak_or_mistyped_passphrase_closes_nothing(
    shell: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = shell.lib
    seen: dict[str, Any] = {"app": shell}
    _answer(monkeypatch, qtbot, ("short", "short"), seen)
    shell.window.menus.encrypt.trigger()
    assert "too short: use at least 8 characters" in seen["problem"]
    _answer(monkeypatch, qtbot, (PASS, PASS + "!"), seen)
    shell.window.menus.encrypt.trigger()
    assert seen["problem"] == "The two passphrases typed differ; type the same one twice."
    assert shell.lib is lib and lib is not None and not is_encrypted(lib.root)


def test_a_refused_conversion_opens_the_library_again_as_it_was(
    shell: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, keys_shown: list[str]
) -> None:
    lib = shell.lib
    assert lib is not None
    root = lib.root
    (root / "quarantine").mkdir(exist_ok=True)
    (root / "quarantine" / "stray.jpg").write_bytes(b"kept aside by a repair")
    seen: dict[str, Any] = {"app": shell}
    _answer(monkeypatch, qtbot, (PASS, PASS), seen)
    shell.window.menus.encrypt.trigger()
    assert "quarantine/ holds 1 file" in seen["problem"]  # said in the dialog
    assert not is_encrypted(root) and keys_shown == []
    assert shell.lib is not None and shell.lib is not lib and shell.lib.keys is None
    assert shell.window.menus.encrypt.isEnabled()


def test_offered_only_for_a_plain_library_that_can_be_changed(shell: App, tmp_path: Path) -> None:
    action = shell.window.menus.encrypt
    shell.close()
    assert not action.isEnabled() and action.toolTip() == "Open a library first."
    reader = Library.open(tmp_path / "lib", read_only=True)
    try:
        offer(action, reader)
        assert not action.isEnabled()
        assert action.toolTip().startswith("A library open for reading only cannot be encrypted.")
        assert "opened for reading only" in action.toolTip()
    finally:
        reader.close()
    lib, _ = encrypted.create(tmp_path / "enc", PASS, MIN_KDF)
    try:
        offer(action, lib)
        assert not action.isEnabled() and "encrypted already" in action.statusTip()
    finally:
        lib.close()
