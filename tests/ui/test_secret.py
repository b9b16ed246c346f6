"""The one passphrase field (tracker.ui.secret): the locked window's page, the prompt that
opens an encrypted library, and the one that restores an encrypted backup share it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from tracker.ui.main.locking import LockedPage
from tracker.ui.secret import SecretField
from tracker.ui.unlock import BackupSecretDialog, UnlockDialog


def test_the_locked_page_and_the_prompts_share_one_field(qtbot: QtBot, tmp_path: Path) -> None:
    page, opening = LockedPage(), UnlockDialog(tmp_path, None)
    restoring = BackupSecretDialog(tmp_path / "backup.zip")
    for widget in (page, opening, restoring):
        qtbot.addWidget(widget)
        assert isinstance(widget.field, SecretField)
        assert (widget.secret, widget.use_recovery) == (
            widget.field.line,
            widget.field.use_recovery,
        )
        assert widget.findChildren(QLineEdit) == [widget.field.line]  # no second one


def test_the_field_says_how_to_unlock(qtbot: QtBot) -> None:
    field = SecretField()
    qtbot.addWidget(field)
    assert field.how() is None  # nothing typed: the caller says so
    assert field.line.echoMode() == QLineEdit.EchoMode.Password
    field.line.setText("a passphrase")
    assert field.how() == {"passphrase": "a passphrase"}
    field.use_recovery.setChecked(True)
    assert field.line.echoMode() == QLineEdit.EchoMode.Normal
    assert field.line.placeholderText() == field.line.accessibleName() == "Recovery key"
    assert field.how() == {"recovery_key": "a passphrase"}
    field.reset()
    assert field.line.text() == "" and not field.use_recovery.isChecked()
    assert field.line.accessibleName() == "Passphrase"
