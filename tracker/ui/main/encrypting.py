"""Library ▸ Encrypt this library…: a plain library encrypted in place from the window, as
``tracker encrypt`` does it (``core.care.encrypt``).

The dialog says what it does, that the window cannot undo it, and that a backup first is
wise; it takes a new passphrase twice, by the command line's rules. Then the library is
closed (the conversion holds its writer lock, and runs on a closed library), encrypted on
the thread pool with the files counted in a progress bar, and the recovery key shown once
(``new_library.RecoveryKeyDialog``); the caller (``tracker.app``) opens it again, unlocked
with the keys the worker derived. It has no Cancel once started: the core's conversion
cannot be stopped midway (its crash safety is for a killed process, not for a cancel), so
the dialog says so and stays until it ends. A failure leaves the library as it was (plain,
or encrypted when only moving the files in place failed, which the next open finishes), and
the caller opens it again either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.core.errors import ValidationError
from tracker.core.store.library import Library
from tracker.ui.main.new_library import NewPassphrase, RecoveryKeyDialog
from tracker.ui.workers import Task, TaskRunner

if TYPE_CHECKING:
    from tracker.core.crypto.keys import KdfParams, Keys

OFFER = "Encrypt the database and every photo of this library with a passphrase, in place."
WIDTH = 480


def refusal(lib: Library | None) -> str:
    """Why ``lib`` cannot be encrypted from the window; "" when it can."""
    if lib is None:
        return "Open a library first."
    if lib.server is not None:
        return "A library in a clinic's database server is not encrypted from this window."
    if lib.keys is not None:
        return "This library is encrypted already."
    if lib.read_only is not None:
        return f"A library open for reading only cannot be encrypted. {lib.read_only}"
    return ""


def offer(action: QAction, lib: Library | None) -> None:
    """Library ▸ Encrypt this library… on for a plain library that can be changed; off, with
    the reason in its tooltip and status tip, for any other."""
    reason = refusal(lib)
    action.setEnabled(not reason)
    action.setToolTip(reason or OFFER)
    action.setStatusTip(reason or OFFER)


class EncryptDialog(QDialog):
    """Asks for the new passphrase, then closes the library (``close_library``) and encrypts
    it. Finished, ``started`` says whether the library was closed (the caller opens it
    again), ``recovery_key`` and ``keys`` what a conversion that went through gave."""

    kdf: KdfParams | None = None  # Argon2id's cost: None is the default; tests use less

    def __init__(
        self,
        root: Path,
        runner: TaskRunner,
        close_library: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.root, self.runner, self.close_library = root, runner, close_library
        self.started = False
        self.recovery_key = ""
        self.keys: Keys | None = None
        self.setWindowTitle(f"{APP_NAME} — encrypt this library")
        name = QLabel(f"<b>{_elided(self, root.name)}</b>", self)
        name.setToolTip(str(root))
        intro = self._text(
            "Its database and every photo, thumbnail, preview and snapshot will be encrypted "
            "in place. From then on it opens with the passphrase, or with a recovery key "
            "shown once at the end."
        )
        warning = self._text(
            "<b>This cannot be undone from the window.</b> Back up the library first "
            "(Library ▸ Back up…): the archive is a plain copy, so keep it somewhere safe, or "
            "delete it once the encrypted library opens."
        )
        self.no_cancel = self._text(
            "The library is closed while it is encrypted. Once started, it cannot be stopped "
            "midway: it runs to the end, about as long as copying the library's folder."
        )
        self.new = NewPassphrase(self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # until the first file is counted
        self.progress.setFormat("%v of %m files")
        self.progress.setAccessibleName("Files encrypted")
        self.progress.hide()
        self.problem = self._text("")
        self.problem.setAccessibleName("Why the library was not encrypted")
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.encrypt_button = self.buttons.addButton(
            "&Encrypt", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.encrypt_button.setDefault(True)
        layout = QVBoxLayout(self)
        shown: list[QWidget] = [name, intro, warning, self.no_cancel, self.new]
        for widget in [*shown, self.progress, self.problem, self.buttons]:
            layout.addWidget(widget)
        # Sized to what it shows: the progress bar, once shown, gets room of its own.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        self.new.setFocus()
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    def _text(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setFixedWidth(WIDTH)
        return label

    def _on_buttons_accepted(self) -> None:
        try:
            passphrase = self.new.chosen()
        except ValidationError as exc:
            self._say(str(exc))
            return
        if not self.started:
            self.close_library()
            self.started = True
        self._busy(True)
        root, kdf = self.root, self.kdf
        self.runner.start(
            lambda task: _work(task, root, passphrase, kdf),
            finished=self._on_encrypted,
            failed=self._on_failed,
            progress=self._on_progress,
        )

    def _on_progress(self, done: int, total: int, _what: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_encrypted(self, result: tuple[str, Keys]) -> None:
        self.recovery_key, self.keys = result
        self.new.clear()
        self._busy(False)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._busy(False)
        self._say(message)

    def reject(self) -> None:  # not while encrypting: it cannot be stopped midway
        if self.buttons.isEnabled():
            super().reject()

    def _busy(self, busy: bool) -> None:
        self.new.setEnabled(not busy)
        self.buttons.setEnabled(not busy)
        self.progress.setVisible(busy)
        if busy:
            self._say("Encrypting; this cannot be stopped midway…")

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


def _work(task: Task, root: Path, passphrase: str, kdf: KdfParams | None) -> tuple[str, Keys]:
    """On the thread pool: the conversion, then the keys to open the library with."""
    # start-up time: cryptography and SQLCipher are loaded to encrypt only
    from tracker.core.care.encrypt import encrypt_library
    from tracker.core.crypto.keys import DEFAULT_KDF
    from tracker.core.store import encrypted  # start-up time: as the two above

    def progress(done: int, total: int) -> None:
        task.report(done, total, "")

    recovery = encrypt_library(root, passphrase, progress, kdf or DEFAULT_KDF)
    return recovery, encrypted.unlock(root, passphrase=passphrase)


def _elided(widget: QWidget, text: str) -> str:
    """``text`` cut in the middle to fit the dialog's width (a long folder name)."""
    return widget.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, WIDTH)


@dataclass(frozen=True)
class Closed:
    """The library was closed for encrypting: open it again, with ``keys`` when it was
    encrypted (its recovery key shown by then), else as it is."""

    keys: Keys | None


def ask_to_encrypt(
    root: Path, runner: TaskRunner, close_library: Callable[[], None], parent: QWidget
) -> Closed | None:
    """None when the person cancelled before anything was closed."""
    dialog = EncryptDialog(root, runner, close_library, parent)
    dialog.exec()
    if not dialog.started:
        return None
    if dialog.keys is not None:
        RecoveryKeyDialog(root, dialog.recovery_key, parent).exec()
    return Closed(dialog.keys)
