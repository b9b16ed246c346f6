"""Making a new library from the window: encrypted (the passphrase typed twice, the keys
derived on the thread pool) or not, then the recovery key shown once.

Encryption is ticked by default in practitioner mode (other people's photos) and offered,
unticked, in patient mode.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.core.errors import ValidationError
from tracker.ui.workers import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from tracker.core.crypto.keys import KdfParams
    from tracker.core.store.library import Library


MIN_LENGTH = 8  # as tracker.core.crypto.keys.MIN_PASSPHRASE (not imported: start-up time)


class NewLibraryDialog(QDialog):
    """Asks how to make the library at ``root``; accepted, ``encrypt`` says which, and an
    encrypted one is made (``lib`` open, ``recovery_key`` to show once)."""

    kdf: KdfParams | None = None  # Argon2id's cost: None is the default; tests use less

    def __init__(
        self, root: Path, runner: TaskRunner, encrypt: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.root, self.runner = root, runner
        self.lib: Library | None = None
        self.recovery_key = ""
        self.setWindowTitle(f"{APP_NAME} — a new library")
        intro = QLabel(f"A new library will be made in\n{root}", self)
        self.encrypt = QCheckBox("&Encrypt this library (recommended)", self)
        self.encrypt.setChecked(encrypt)
        self.encrypt.setToolTip(
            "The photos and the database are kept encrypted on the disk; the library opens "
            "with its passphrase, or with a recovery key shown once now."
        )
        self.new = NewPassphrase(self)
        self.passphrase, self.again, self.hint = self.new.passphrase, self.new.again, self.new.hint
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # no end known: it moves while the keys are made
        self.busy.setAccessibleName("Making the keys")
        self.busy.hide()
        self.problem = QLabel("", self)
        self.problem.setAccessibleName("Why the library was not made")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.make_button = self.buttons.addButton(
            "Make the library", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.make_button.setDefault(True)
        layout = QVBoxLayout(self)
        shown: list[QWidget] = [intro, self.encrypt, self.new]
        for widget in [*shown, self.busy, self.problem, self.buttons]:
            layout.addWidget(widget)
        self.setMinimumWidth(460)
        self._on_encrypt_toggled(encrypt)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.encrypt.toggled.connect(self._on_encrypt_toggled)

    def _on_encrypt_toggled(self, on: bool) -> None:
        self.new.setVisible(on)
        self.problem.hide()
        self.adjustSize()

    def _on_buttons_accepted(self) -> None:
        if not self.encrypt.isChecked():
            self.accept()  # the caller makes a plain library
            return
        # start-up time: cryptography is loaded for an encrypted library only
        from tracker.core.crypto.keys import DEFAULT_KDF
        from tracker.core.store import encrypted

        try:
            typed = self.new.chosen()
        except ValidationError as exc:
            self._say(str(exc))
            return
        self._busy(True)
        root, kdf = self.root, self.kdf or DEFAULT_KDF
        self.runner.start(
            lambda _task: encrypted.create(root, typed, kdf),
            finished=self._on_created,
            failed=self._on_failed,
        )

    def _on_created(self, made: tuple[Library, str]) -> None:
        self.lib, self.recovery_key = made
        self.new.clear()
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._busy(False)
        self._say(message)

    def reject(self) -> None:  # not while the library is being made: it would be left open
        if self.buttons.isEnabled():
            super().reject()

    def _busy(self, busy: bool) -> None:
        for widget in (self.encrypt, self.new, self.buttons):
            widget.setEnabled(not busy)
        self.busy.setVisible(busy)
        if busy:
            self._say("Making the keys (a second or two)…")

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


class NewPassphrase(QWidget):
    """A new passphrase typed twice, without echo, with a line saying how strong it is; the
    rules are the command line's (``crypto.keys.check_passphrase``). Used for a new library
    and for encrypting an existing one (``ui.main.encrypting``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.passphrase = self._field(f"Passphrase (at least {MIN_LENGTH} characters)")
        self.again = self._field("The same passphrase again")
        self.hint = QLabel(strength_hint(""), self)
        self.hint.setAccessibleName("How strong the passphrase is")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.passphrase, self.again, self.hint):
            layout.addWidget(widget)
        self.setFocusProxy(self.passphrase)
        self.passphrase.textChanged.connect(self._on_passphrase_text_changed)

    def _field(self, text: str) -> QLineEdit:
        field = QLineEdit(self)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setPlaceholderText(text)
        field.setAccessibleName(text)
        return field

    def _on_passphrase_text_changed(self, text: str) -> None:
        self.hint.setText(strength_hint(text))

    def chosen(self) -> str:
        """The passphrase typed; ValidationError, with its sentence, unless it may lock a
        library and was typed the same twice."""
        # start-up time: cryptography is loaded for an encrypted library only
        from tracker.core.crypto.keys import check_passphrase

        typed = self.passphrase.text()
        check_passphrase(typed)
        if self.again.text() != typed:
            raise ValidationError("The two passphrases typed differ; type the same one twice.")
        return typed

    def clear(self) -> None:
        self.passphrase.clear()
        self.again.clear()


def strength_hint(typed: str) -> str:
    """A line under the passphrase: how far it is from the shortest allowed, then how strong."""
    if len(typed) < MIN_LENGTH:
        return (
            f"At least {MIN_LENGTH} characters ({MIN_LENGTH - len(typed)} more); a few words "
            "are easier to remember than symbols."
        )
    if len(typed) < 16 or len(set(typed.split())) < 3:
        return "Long enough. Longer is stronger: three or four words are hard to guess."
    return "A strong passphrase."


class RecoveryKeyDialog(QDialog):
    """The recovery key, shown this once: Close only after "I have written it down"."""

    def __init__(self, root: Path, recovery_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root, self.recovery_key = root, recovery_key
        self.setWindowTitle(f"{APP_NAME} — the recovery key")
        intro = QLabel("The library is encrypted. Its recovery key, shown only this once:", self)
        self.key = QLabel(recovery_key, self)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(font.pointSize() + 4)
        self.key.setFont(font)
        self.key.setAccessibleName("Recovery key")
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        advice = QLabel(
            "Print it or write it down, and keep it apart from the computer.\n"
            "It opens the library if the passphrase is forgotten; nothing else can.",
            self,
        )
        self.written = QCheckBox("I have &written it down", self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy = QPushButton("&Copy", self)
        self.print_button = QPushButton("&Print…", self)
        for button in (self.copy, self.print_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setEnabled(False)
        layout = QVBoxLayout(self)
        for widget in (intro, self.key, advice, self.written, self.buttons):
            layout.addWidget(widget)
        self.written.toggled.connect(self.close_button.setEnabled)
        self.buttons.rejected.connect(self._on_close)
        self.copy.clicked.connect(self._on_copy_clicked)
        self.print_button.clicked.connect(self._on_print_clicked)

    def _on_close(self) -> None:
        if self.written.isChecked():
            self.accept()

    def reject(self) -> None:  # Escape and the title bar's close: only once written down
        if self.written.isChecked():
            super().reject()

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.recovery_key)
        self.copy.setText("Copied")

    def _on_print_clicked(self) -> None:
        printer = self.ask_printer(self)
        if printer is not None:
            self.print_to(printer)
            self.print_button.setText("Printed")

    @staticmethod
    def ask_printer(parent: QWidget) -> QPrinter | None:
        """The printer the person chose in the print dialog; None when cancelled."""
        # start-up time: the print support module is loaded only to print
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
            return None
        return printer

    def print_to(self, printer: QPrinter) -> None:
        """The key on a page of its own, with the library it opens and what to do with it."""
        page = QTextDocument()
        page.setHtml(
            f"<p>{APP_NAME}: the recovery key of the library in {escape(str(self.root))}</p>"
            f"<pre style='font-size: 16pt'>{escape(self.recovery_key)}</pre>"
            "<p>It opens the library if the passphrase is forgotten. Keep it apart from the "
            "computer.</p>"
        )
        page.print_(printer)


def ask_new_library(
    root: Path, runner: TaskRunner, encrypt: bool, parent: QWidget | None = None
) -> tuple[bool, Library | None] | None:
    """None when cancelled; else (encrypt, the encrypted library made, its key shown)."""
    dialog = NewLibraryDialog(root, runner, encrypt, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    if dialog.lib is not None:
        RecoveryKeyDialog(root, dialog.recovery_key, parent).exec()
    return dialog.encrypt.isChecked(), dialog.lib
