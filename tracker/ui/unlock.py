"""The prompt that unlocks an encrypted library when the window opens it.

The passphrase (or, ticked, the recovery key) is typed without echo; the key is derived on
the thread pool (Argon2id takes about half a second, which the GUI thread must not spend),
and a wrong one says so under the field and asks again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.ui.secret import EMPTY, SecretField
from tracker.ui.workers import TaskRunner

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys


class UnlockDialog(QDialog):
    def __init__(
        self,
        root: Path,
        runner: TaskRunner | None,
        parent: QWidget | None = None,
        intro_text: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.root = root
        self.runner = runner
        self.keys: Keys | None = None
        self.setWindowTitle(f"{APP_NAME} — unlock the library")
        # Lines of their own rather than word wrap, which a dialog sizes too short.
        intro = QLabel(
            intro_text or f"The library in {root} is encrypted.\nType its passphrase to open it.",
            self,
        )
        self.field = SecretField(self)  # the locked window's page has the same
        self.secret, self.use_recovery = self.field.line, self.field.use_recovery
        self.problem = QLabel("", self)
        self.problem.setAccessibleName("Why the library did not open")
        self.problem.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        layout = QVBoxLayout(self)
        for widget in (intro, self.field, self.problem, self.buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(420)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    def _on_buttons_accepted(self) -> None:
        how = self.field.how()
        if how is None:
            self._say(EMPTY)
            return
        # start-up time: cryptography is loaded for an encrypted library only
        from tracker.core.store import encrypted

        self._busy(True)
        root = self.root
        assert self.runner is not None
        self.runner.start(
            lambda _task: encrypted.unlock(root, **how),
            finished=self._on_unlocked,
            failed=self._on_failed,
        )

    def _on_unlocked(self, keys: Keys) -> None:
        self.keys = keys
        self.secret.clear()
        self.accept()

    def _on_failed(self, message: str) -> None:
        self._busy(False)
        self.field.retry()
        self._say(message)

    def _busy(self, busy: bool) -> None:
        for widget in (self.field, self.buttons):
            widget.setEnabled(not busy)
        if busy:
            self._say("Unlocking…")

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    @classmethod
    def ask(cls, root: Path, runner: TaskRunner, parent: QWidget | None = None) -> Keys | None:
        """The library's keys, or None when the person cancelled."""
        dialog = cls(root, runner, parent)
        dialog.exec()
        return dialog.keys


class BackupSecretDialog(UnlockDialog):
    """The passphrase or recovery key of the library an encrypted backup was made of; it is
    tried by the restore itself (on the thread pool), which says when it is wrong."""

    def __init__(self, archive: Path, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(
            archive,
            None,
            parent,
            f"{archive.name} is a backup of an encrypted library.\n"
            "Type that library's passphrase (or its recovery key) to restore it.",
        )
        self.setWindowTitle(f"{APP_NAME} — restore an encrypted backup")
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setText("Restore")
        self.how: dict[str, str] | None = None
        if problem:
            self._say(problem)

    def _on_buttons_accepted(self) -> None:
        self.how = self.field.how()
        if self.how is None:
            self._say(EMPTY)
            return
        self.secret.clear()
        self.accept()

    @classmethod
    def ask_secret(
        cls, archive: Path, problem: str = "", parent: QWidget | None = None
    ) -> dict[str, str] | None:
        """``passphrase=`` or ``recovery_key=`` for ``store.encrypted.unlock``; None when the
        person cancelled."""
        dialog = cls(archive, problem, parent)
        dialog.exec()
        return dialog.how
