"""The preferences dialog: who uses the library (patient or practitioner mode) and the name
recorded with the ratings a practitioner makes. Like the small dialogs (``ui.dialogs``), its
classmethod ``ask(...)`` returns the answer or None, so tests can replace it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tracker.core.text import MAX_NAME
from tracker.ui.settings import DEFAULT_LOCK_MINUTES, MAX_LOCK_MINUTES, Mode


@dataclass(frozen=True)
class PreferencesAnswer:
    mode: Mode
    rater_name: str  # the user's name on the ratings they make in practitioner mode
    lock_minutes: int = DEFAULT_LOCK_MINUTES  # 0: never
    lock_plain: bool = False  # a plain library locks when idle too


class PreferencesDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None,
        mode: Mode,
        rater_name: str,
        lock_minutes: int = DEFAULT_LOCK_MINUTES,
        lock_plain: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Who uses this library?</b>", self))
        self.patient = QRadioButton("&Just me: I am tracking my own treatment", self)
        self.practitioner = QRadioButton("I am a &practitioner with several clients", self)
        (self.patient if mode is Mode.PATIENT else self.practitioner).setChecked(True)
        layout.addWidget(self.patient)
        layout.addWidget(self.practitioner)
        note = QLabel(
            "Practitioner mode shows a client list with search. Nothing in the library changes.",
            self,
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.rater_name = QLineEdit(rater_name, self)
        self.rater_name.setMaxLength(MAX_NAME)
        self.rater_name.setPlaceholderText("e.g. Dr Lee")
        self.rater_name.setAccessibleName("Your name on the ratings you make")
        form.addRow("Your &name as a rater:", self.rater_name)
        layout.addLayout(form)
        self.name_note = QLabel(
            "Recorded with every rating you make, so two practitioners' ratings of one visit "
            "stay apart. In “Just me” mode your ratings are the patient's.",
            self,
        )
        self.name_note.setWordWrap(True)
        self.name_note.setStyleSheet("color: palette(placeholder-text)")
        layout.addWidget(self.name_note)
        lock_form = QFormLayout()
        self.lock_minutes = QSpinBox(self)
        self.lock_minutes.setRange(0, MAX_LOCK_MINUTES)
        self.lock_minutes.setSpecialValueText("never")
        self.lock_minutes.setSuffix(" min")
        self.lock_minutes.setValue(lock_minutes)
        self.lock_minutes.setAccessibleName("Lock after this many minutes idle")
        lock_form.addRow("&Lock after idle:", self.lock_minutes)
        layout.addLayout(lock_form)
        self.lock_plain = QCheckBox("Lock a library that is not &encrypted too", self)
        self.lock_plain.setChecked(lock_plain)
        layout.addWidget(self.lock_plain)
        lock_note = QLabel(
            "Locked, the window hides every name and photo until the passphrase is typed "
            "(Library ▸ Lock, Ctrl+L, locks it at once). For a library that is not encrypted "
            "it only covers the screen: its files stay readable in the folder.",
            self,
        )
        lock_note.setWordWrap(True)
        lock_note.setStyleSheet("color: palette(placeholder-text)")
        layout.addWidget(lock_note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.practitioner.toggled.connect(self.rater_name.setEnabled)
        self.rater_name.setEnabled(self.practitioner.isChecked())

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        mode: Mode,
        rater_name: str,
        lock_minutes: int = DEFAULT_LOCK_MINUTES,
        lock_plain: bool = False,
    ) -> PreferencesAnswer | None:
        dialog = cls(parent, mode, rater_name, lock_minutes, lock_plain)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return PreferencesAnswer(
            Mode.PATIENT if dialog.patient.isChecked() else Mode.PRACTITIONER,
            dialog.rater_name.text().strip(),
            dialog.lock_minutes.value(),
            dialog.lock_plain.isChecked(),
        )
