"""What a dialog said when locking the window closed it (``ui.main.locking``), to say it again
once the window is unlocked instead of losing it.

A message box with one button (an error, a result) is said again as it was. Anything else (a
question, a file dialog, a form) was cancelled, and its caller has moved on: what comes back
is a sentence naming it, so the person knows to choose it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from tracker import APP_NAME


@dataclass(frozen=True)
class Kept:
    title: str
    text: str
    icon: QMessageBox.Icon

    def box(self, parent: QWidget) -> QMessageBox:
        """A box saying it, deleted when closed."""
        box = QMessageBox(self.icon, self.title, self.text, QMessageBox.StandardButton.Ok, parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return box


def kept_from(dialog: QDialog, title: str | None = None) -> Kept:
    """What ``dialog`` said, or that it was closed; ``title``, when given, is its own (the
    lock put another on it)."""
    title = (title or dialog.windowTitle()).replace("[*]", "").strip() or APP_NAME
    if isinstance(dialog, QMessageBox) and len(dialog.buttons()) <= 1:
        text = dialog.text()
        if dialog.informativeText():
            text += "\n\n" + dialog.informativeText()
        return Kept(title, text, dialog.icon())
    if isinstance(dialog, QMessageBox):
        asked = dialog.text().strip().splitlines()[0] if dialog.text().strip() else title
        name = f"The question “{asked if len(asked) <= 90 else asked[:89] + '…'}”"
    else:
        name = f"“{title}”"
    return Kept(
        APP_NAME,
        f"{name} was closed when the window locked, so nothing was done; choose it again "
        "if it is still needed.",
        QMessageBox.Icon.Information,
    )
