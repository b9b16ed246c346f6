"""The one field that takes an encrypted library's passphrase, or, ticked, its recovery key:
used by the prompt that opens a library (``ui.unlock``), the one that restores an encrypted
backup, and the page of a locked window (``ui.main.locking``).

The passphrase is typed without echo; the recovery key is shown as typed (it is long, and
copied from paper). What was typed becomes the keyword arguments of
``store.encrypted.unlock`` (``how``), so the callers never spell them out.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit, QVBoxLayout, QWidget

EMPTY = "Type the passphrase first."


class SecretField(QWidget):
    """A passphrase field and "Use the recovery key instead"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit(self)
        self.use_recovery = QCheckBox("Use the recovery key instead (ABCD-EFGH-…)", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line)
        layout.addWidget(self.use_recovery)
        self.setFocusProxy(self.line)
        self._on_use_recovery_toggled(False)
        self.use_recovery.toggled.connect(self._on_use_recovery_toggled)

    def _on_use_recovery_toggled(self, on: bool) -> None:
        what = "Recovery key" if on else "Passphrase"
        self.line.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        self.line.setPlaceholderText(what)
        self.line.setAccessibleName(what)

    def how(self) -> dict[str, str] | None:
        """``passphrase=`` or ``recovery_key=`` for ``store.encrypted.unlock``; None when
        nothing was typed (the caller says ``EMPTY``)."""
        typed = self.line.text()
        if not typed:
            return None
        return {"recovery_key": typed} if self.use_recovery.isChecked() else {"passphrase": typed}

    def reset(self) -> None:
        """Empty, and back to the passphrase."""
        self.line.clear()
        self.use_recovery.setChecked(False)

    def retry(self) -> None:
        """After a wrong one: what was typed selected, to type over."""
        self.line.selectAll()
        self.line.setFocus()
