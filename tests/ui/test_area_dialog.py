"""The area dialog: the control-area choice shows only where there is an area to choose."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tracker.ui.dialogs import AreaDialog


def test_without_other_areas_no_control_choice_shows(qtbot: QtBot) -> None:
    dialog = AreaDialog(None, "New area", "Add area")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    # Not in the form, it would sit unlaid at the dialog's corner over the first row.
    assert not dialog.control.isVisible()
    assert dialog.control.currentData() is None


def test_with_another_area_the_control_is_a_row_of_the_form(qtbot: QtBot) -> None:
    dialog = AreaDialog(None, "Edit area", "Save", controls=[(7, "Right thigh")])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.control.isVisible()
    assert dialog.form.labelForField(dialog.control) is not None
    assert dialog.control.itemText(1) == "Right thigh (left untreated)"
