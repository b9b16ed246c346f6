"""The client dialog's date of birth: what is saved is what was typed, or nothing."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot

from tracker.ui.dialogs import ClientAnswer, ClientDialog


def _dialog(qtbot: QtBot, born: dt.date | None = dt.date(1990, 1, 1)) -> ClientDialog:
    current = ClientAnswer("Chloé Smith", born, None, "")
    dialog = ClientDialog(None, "Client details", "Save", current)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def _ok(qtbot: QtBot, dialog: ClientDialog) -> None:
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_select_all_and_typing_saves_the_date_typed(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    assert dialog.dob.text() == "1 Jan 1990"
    dialog.dob.setFocus()
    qtbot.keyClick(dialog.dob, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.dob, "14 Mar 1988")
    assert dialog.dob_read.text() == "Read as 14 March 1988."
    _ok(qtbot, dialog)
    assert dialog.result() == ClientDialog.DialogCode.Accepted
    assert dialog.date_of_birth() == dt.date(1988, 3, 14)


def test_clearing_saves_no_date(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.dob.selectAll()
    qtbot.keyClick(dialog.dob, Qt.Key.Key_Delete)
    assert dialog.dob_read.text() == "Not recorded."
    _ok(qtbot, dialog)
    assert dialog.result() == ClientDialog.DialogCode.Accepted
    assert dialog.date_of_birth() is None


def test_a_client_without_one_keeps_none(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, None)
    assert dialog.dob.text() == ""
    _ok(qtbot, dialog)
    assert dialog.date_of_birth() is None


def test_what_is_not_a_date_keeps_the_dialog_open_saying_why(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.dob.setText("31 Feb 1988")
    assert "February 1988 has no day 31" in dialog.dob_read.text()
    _ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() != ClientDialog.DialogCode.Accepted
    assert "February 1988 has no day 31" in dialog.problem.text()
    dialog.dob.setText("14 Mar 2999")
    _ok(qtbot, dialog)
    assert dialog.problem.text() == "The date of birth 14 Mar 2999 is in the future."


def test_the_label_underlines_its_letter_and_leads_to_the_field(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    label = dialog.form.labelForField(dialog.dob)
    assert isinstance(label, QLabel)
    assert label.buddy() is dialog.dob  # so "&b" is a mnemonic, not a literal "&"
    qtbot.keyClick(dialog, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    assert dialog.focusWidget() is dialog.dob
