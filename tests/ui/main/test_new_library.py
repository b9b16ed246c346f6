"""Making a new library from the window, encrypted or not (tracker.ui.main.new_library), and
opening an encrypted one that is then cancelled (tracker.app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tracker.app import App
from tracker.core.crypto.keys import MIN_KDF, MIN_PASSPHRASE
from tracker.core.crypto.layout import is_encrypted
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.ui.main.new_library import (
    MIN_LENGTH,
    NewLibraryDialog,
    RecoveryKeyDialog,
    strength_hint,
)
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Mode, Preferences
from tracker.ui.unlock import UnlockDialog
from tracker.ui.workers import TaskRunner

PASS = "a passphrase for the window"


@pytest.fixture(autouse=True)
def cheap_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NewLibraryDialog, "kdf", MIN_KDF)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, m: said.append(m))
    return said


@pytest.fixture
def shell(qtbot: QtBot, prefs: Preferences, runner: TaskRunner, shown: list[str]) -> Iterator[App]:
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    app = App(window, prefs, runner)
    yield app
    app.close()


def test_a_short_or_mistyped_passphrase_is_refused_with_a_sentence(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    dialog = NewLibraryDialog(tmp_path / "new", runner, encrypt=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.passphrase.echoMode() == dialog.passphrase.EchoMode.Password
    dialog.make_button.click()
    assert "too short: use at least 8 characters" in dialog.problem.text()
    dialog.passphrase.setText("short")
    assert dialog.hint.text().startswith("At least 8 characters (3 more)")
    assert strength_hint("two words here").startswith("Long enough.")
    assert strength_hint("four plain words together") == "A strong passphrase."
    assert MIN_LENGTH == MIN_PASSPHRASE
    dialog.passphrase.setText(PASS)
    dialog.again.setText(PASS + "!")
    dialog.make_button.click()
    assert dialog.problem.text() == "The two passphrases typed differ; type the same one twice."
    assert dialog.isVisible() and not (tmp_path / "new").exists()


def test_an_encrypted_library_is_made_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    root = tmp_path / "new"
    dialog = NewLibraryDialog(root, runner, encrypt=True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.passphrase.setText(PASS)
    dialog.again.setText(PASS)
    dialog.make_button.click()
    assert not dialog.passphrase.isEnabled()  # busy while the keys are derived
    assert dialog.problem.text().startswith("Making the keys")
    dialog.reject()  # Escape: not while the library is being made
    assert dialog.isVisible() and dialog.busy.isVisible()
    qtbot.waitUntil(lambda: dialog.lib is not None, timeout=20000)
    assert not dialog.isVisible() and dialog.passphrase.text() == ""
    assert dialog.lib is not None
    dialog.lib.close()
    assert is_encrypted(root)
    keys = encrypted.unlock(root, recovery_key=dialog.recovery_key)
    assert keys == encrypted.unlock(root, passphrase=PASS)


def test_the_recovery_key_closes_only_once_written_down(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = RecoveryKeyDialog(tmp_path, "ABCD-EFGH")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.key.text() == "ABCD-EFGH"
    assert not dialog.close_button.isEnabled()
    dialog.reject()  # Escape
    assert dialog.isVisible()
    dialog.copy.click()
    assert QGuiApplication.clipboard().text() == "ABCD-EFGH"
    dialog.written.setChecked(True)
    dialog.close_button.click()
    assert not dialog.isVisible()


@pytest.mark.parametrize(("mode", "ticked"), [(Mode.PRACTITIONER, True), (Mode.PATIENT, False)])
def test_encryption_is_ticked_in_practitioner_mode_and_offered_in_patient_mode(
    shell: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: Mode, ticked: bool
) -> None:
    shell.prefs.mode = mode
    asked: list[bool] = []

    def ask(root: Path, runner: Any, encrypt: bool, parent: Any) -> None:
        asked.append(encrypt)

    monkeypatch.setattr("tracker.app.ask_new_library", ask)
    assert not shell.open(tmp_path / "new", create=True)  # cancelled: nothing made
    assert asked == [ticked] and not (tmp_path / "new").exists() and shell.lib is None
    dialog = NewLibraryDialog(tmp_path / "new", shell.runner, ticked)
    assert dialog.encrypt.isChecked() is ticked
    assert dialog.new.isHidden() is not ticked


def test_an_empty_folder_opened_becomes_a_plain_or_an_encrypted_library(
    shell: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plain").mkdir()
    monkeypatch.setattr("tracker.app.ask_new_library", lambda *a: (False, None))
    assert shell.open(tmp_path / "plain")
    assert shell.lib is not None and shell.lib.keys is None
    made, _ = encrypted.create(tmp_path / "locked", PASS, MIN_KDF)
    monkeypatch.setattr("tracker.app.ask_new_library", lambda *a: (True, made))
    assert shell.open(tmp_path / "other")
    assert shell.lib is made and shell.lib.keys is not None


def test_cancelling_the_unlock_leaves_the_window_calm(
    shell: App, shown: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, _ = encrypted.create(tmp_path / "locked", PASS, MIN_KDF)
    lib.close()
    monkeypatch.setattr(UnlockDialog, "ask", classmethod(lambda cls, *a: None))
    assert not shell.open(lib.root)
    assert shell.lib is None and shown == []
    assert shell.window.stack.currentWidget() is shell.window.welcome
    QApplication.processEvents()


def test_opening_an_encrypted_library_asks_for_its_passphrase(
    shell: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, _ = encrypted.create(tmp_path / "locked", PASS, MIN_KDF)
    lib.close()
    keys = encrypted.unlock(lib.root, passphrase=PASS)
    monkeypatch.setattr(UnlockDialog, "ask", classmethod(lambda cls, *a: keys))
    assert shell.open(lib.root)
    assert isinstance(shell.lib, Library) and shell.lib.keys == keys


def test_print_puts_the_recovery_key_on_a_page(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567"
    dialog = RecoveryKeyDialog(tmp_path / "A library with a rather long name", key)
    qtbot.addWidget(dialog)
    out = tmp_path / "key.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    monkeypatch.setattr(RecoveryKeyDialog, "ask_printer", staticmethod(lambda parent: printer))
    dialog.show()
    dialog.print_button.click()
    assert dialog.print_button.text() == "Printed"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out).pages)
    assert key in "".join(text.split())  # (the PDF's text spaces the key's letters apart)
    assert "A library with a rather long name" in text
    assert "Keep it apart from the" in text
    monkeypatch.setattr(RecoveryKeyDialog, "ask_printer", staticmethod(lambda parent: None))
    out.unlink()
    dialog.print_button.click()  # cancelled in the print dialog: nothing printed
    assert not out.exists()


def test_a_cancelled_new_library_question_is_asked_again_by_start_tracking(
    shell: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[tuple[bool, Any] | None] = [None, (False, None)]
    asked: list[Path] = []

    def ask(root: Path, runner: Any, encrypt: bool, parent: Any) -> tuple[bool, Any] | None:
        asked.append(root)
        return answers.pop(0)

    areas: list[str] = []

    def ask_for_area(title: str, *_rest: Any) -> bool:
        areas.append(title)
        return False  # cancelled: no photos are asked for

    monkeypatch.setattr("tracker.app.ask_new_library", ask)
    monkeypatch.setattr(shell.window.client_edits, "ask_for_area", ask_for_area)
    root = tmp_path / "first"
    assert not shell.open(root, create=True)  # the first start's question, cancelled
    assert shell.lib is None and shell.window.stack.currentWidget() is shell.window.welcome
    shell.window.welcome.start.click()
    assert asked == [root, root]  # asked again
    assert shell.lib is not None and shell.lib.root == root and shell.lib.keys is None
    assert areas == ["Start tracking"]  # and tracking starts in the library made
    shell.window.welcome.start.click()  # a library is open: nothing is asked
    assert asked == [root, root] and areas == ["Start tracking", "Start tracking"]


def test_a_new_folder_given_at_start_up_asks_how_to_make_it(
    shell: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[Path, bool]] = []

    def ask(root: Path, runner: Any, encrypt: bool, parent: Any) -> None:
        asked.append((root, encrypt))

    monkeypatch.setattr("tracker.app.ask_new_library", ask)
    shell.prefs.mode = Mode.PRACTITIONER
    assert not shell.start(tmp_path / "not there yet")  # `tracker --library NEW_FOLDER`
    assert asked == [(tmp_path / "not there yet", True)]
    assert not (tmp_path / "not there yet").exists() and shell.lib is None
