"""Library ▸ Consent… and Library ▸ Audit trail… (issue 20).

Consent: the current client's consents in a table (what each allows, since and until when,
whether it holds today), with Add… (purpose, whether uses may identify them, an optional
expiry, and all their photos, now and later, or the photos ticked in a list of them by date,
area and view), Withdraw, and its signed form: "Attach the signed form…" and "Open the form"
(``signed_forms``: read off the GUI thread, shown from memory, saved only where the person
chooses). A consent is a record of what a person agreed to, so neither is an undo step: a withdrawal is
how one is taken back, and the record stays. Audit trail: every entry in a table, whether the
chain holds, and Export CSV….
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QThreadPool
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracker.core.domain.consent import FORM_LABELS, PURPOSE_LABELS, Action, Purpose
from tracker.core.errors import TrackerError
from tracker.core.exports import audit_csv
from tracker.core.files import dated_name
from tracker.core.queries import browse
from tracker.core.services import audit, consent
from tracker.core.store.library import Library
from tracker.ui.main import signed_forms
from tracker.ui.main.controller import WindowController
from tracker.ui.workers import TaskRunner


def _table(headers: list[str], rows: list[list[str]], parent: QWidget) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    return table


class AddConsentDialog(QDialog):
    """What the client agreed to: a purpose, identifiable or not, until when, for which
    photos (``photos``: each photo's id and its words, oldest first)."""

    def __init__(
        self, parent: QWidget | None, client: str, photos: Sequence[tuple[int, str]] = ()
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Record consent of {client}")
        form = QFormLayout(self)
        self.purpose = QComboBox(self)
        for p in Purpose:
            self.purpose.addItem(PURPOSE_LABELS[p][0].upper() + PURPOSE_LABELS[p][1:], p.value)
        form.addRow("&Purpose:", self.purpose)
        self.identifiable = QCheckBox("Uses may &name or identify them", self)
        self.identifiable.setChecked(True)
        form.addRow("", self.identifiable)
        self.expires = QCheckBox("&Expires on:", self)
        self.expiry = QDateEdit(QDate.currentDate().addYears(1), self)
        self.expiry.setCalendarPopup(True)
        self.expiry.setEnabled(False)
        self.expires.toggled.connect(self.expiry.setEnabled)
        form.addRow(self.expires, self.expiry)
        self.all_photos = QRadioButton("&All their photos, now and later", self)
        self.some_photos = QRadioButton("&Chosen photos only:", self)
        self.all_photos.setChecked(True)
        form.addRow("Covers:", self.all_photos)
        form.addRow("", self.some_photos)
        self.photos = QListWidget(self)
        for ident, words in photos:
            item = QListWidgetItem(words, self.photos)
            item.setData(Qt.ItemDataRole.UserRole, ident)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.photos.setEnabled(False)
        self.some_photos.toggled.connect(self.photos.setEnabled)
        self.some_photos.setEnabled(bool(photos))
        form.addRow(self.photos)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def ticked(self) -> list[int] | None:
        """The photos ticked; None for all their photos."""
        if not self.some_photos.isChecked():
            return None
        items = (self.photos.item(i) for i in range(self.photos.count()))
        return [
            int(item.data(Qt.ItemDataRole.UserRole))
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    def accept(self) -> None:
        if self.ticked() == []:
            QMessageBox.information(
                self, "Record consent", "Tick the photos the consent covers, or choose all."
            )
            return
        super().accept()

    def chosen(self) -> tuple[Purpose, bool, dt.date | None]:
        expiry = self.expiry.date().toPython() if self.expires.isChecked() else None
        assert expiry is None or isinstance(expiry, dt.date)
        return Purpose(self.purpose.currentData()), self.identifiable.isChecked(), expiry


class ConsentDialog(QDialog):
    def __init__(self, parent: QWidget | None, lib: Library, client_id: int, name: str) -> None:
        super().__init__(parent)
        self.lib, self.client_id, self.name = lib, client_id, name
        self.setWindowTitle(f"Consent of {name}")
        self.resize(760, 320)
        self.box = QVBoxLayout(self)
        self.table = _table([], [], self)
        self.box.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.add = QPushButton("&Add…", self)
        self.withdraw = QPushButton("&Withdraw", self)
        self.attach = QPushButton("Attach the signed &form…", self)
        self.open_form = QPushButton("&Open the form", self)
        for button in (self.add, self.withdraw, self.attach, self.open_form):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
            button.setEnabled(lib.read_only is None or button is self.open_form)
        self.forms = signed_forms.FormActions(self, lib, TaskRunner(None, self))
        buttons.rejected.connect(self.reject)
        self.add.clicked.connect(self._on_add)
        self.withdraw.clicked.connect(self._on_withdraw)
        self.attach.clicked.connect(self._on_attach)
        self.open_form.clicked.connect(self._on_open_form)
        self.forms.attached.connect(self._on_forms_attached)
        self.box.addWidget(buttons)
        self.rows: list[consent.ConsentRow] = []
        self.fill()

    def fill(self) -> None:
        today = dt.date.today()
        self.rows = consent.consents(self.lib, self.client_id)
        shown = [
            [
                r.words,
                r.recorded_on.isoformat(),
                r.expires_on.isoformat() if r.expires_on else "—",
                r.status(today),
                r.recorded_by,
                FORM_LABELS[r.form] if r.form is not None else "—",
            ]
            for r in self.rows
        ]
        headers = ["Allows", "Given", "Expires", "Today", "Recorded by", "Signed form"]
        table = _table(headers, shown, self)
        self.box.replaceWidget(self.table, table)
        self.table.deleteLater()
        self.table = table

    def _on_add(self) -> None:
        photos = [
            (row.id, f"{day.isoformat()} · {area} · {row.view} (photo {row.id})")
            for day, area, row in browse.client_photos(self.lib, self.client_id)
        ]
        ask = AddConsentDialog(self, self.name, photos)
        if ask.exec() != QDialog.DialogCode.Accepted:
            return
        purpose, identifiable, expiry = ask.chosen()
        try:
            consent.add(
                self.lib,
                self.client_id,
                purpose,
                identifiable=identifiable,
                photo_ids=ask.ticked(),
                expires_on=expiry,
            )
        except TrackerError as exc:
            QMessageBox.warning(self, "Consent not recorded", str(exc))
        self.fill()

    def _chosen(self, what: str) -> consent.ConsentRow | None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.rows):
            QMessageBox.information(self, self.windowTitle(), f"Choose the consent {what} first.")
            return None
        return self.rows[row]

    def _on_attach(self) -> None:
        chosen = self._chosen("to attach its signed form to")
        if chosen is not None:
            self.forms.attach(chosen.id)

    def _on_forms_attached(self, consent_id: int) -> None:
        self.fill()
        at = next((n for n, r in enumerate(self.rows) if r.id == consent_id), -1)
        self.table.selectRow(at)

    def _on_open_form(self) -> None:
        chosen = self._chosen("whose signed form to open")
        if chosen is None:
            return
        if chosen.form is None:
            QMessageBox.information(
                self,
                self.windowTitle(),
                f"This consent ({chosen.words}) holds no signed form; attach it first.",
            )
            return
        self.forms.open(chosen.id)

    def _on_withdraw(self) -> None:
        chosen = self._chosen("to withdraw")
        if chosen is None:
            return
        answer = QMessageBox.question(
            self,
            "Withdraw consent",
            f"Withdraw {self.name}'s consent to {chosen.words}? Exports that need it are "
            "refused from now on; the record stays.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            consent.withdraw(self.lib, chosen.id)
        except TrackerError as exc:
            QMessageBox.warning(self, "Consent not withdrawn", str(exc))
        self.fill()


class AuditDialog(QDialog):
    def __init__(self, parent: QWidget | None, lib: Library, names: dict[int, str]) -> None:
        super().__init__(parent)
        self.lib = lib
        self.setWindowTitle("Audit trail")
        self.resize(900, 480)
        box = QVBoxLayout(self)
        self.entries = audit.entries(lib)
        problems = audit.verify(lib)
        self.verdict = QLabel(
            "The trail's chain holds: no entry was deleted or changed."
            if not problems
            else "The trail's chain is broken: " + " ".join(problems),
            self,
        )
        self.verdict.setWordWrap(True)
        box.addWidget(self.verdict)
        shown = [
            [
                e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                e.actor,
                e.words,
                "" if e.client_id is None else names.get(e.client_id, f"#{e.client_id}"),
                e.subject,
                e.detail,
            ]
            for e in self.entries
        ]
        headers = ["When", "Who", "Did", "Client", "Concerning", "Detail"]
        self.table = _table(headers, shown, self)
        box.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.export = QPushButton("&Export CSV…", self)
        buttons.addButton(self.export, QDialogButtonBox.ButtonRole.ActionRole)
        self.export.clicked.connect(self._on_export)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)

    def _on_export(self) -> None:
        start = dated_name(Path.home(), ["audit"], ".csv", dt.date.today())
        name, _ = QFileDialog.getSaveFileName(
            self, "Export the audit trail", str(start), "CSV (*.csv)"
        )
        if not name:
            return
        try:
            done = audit_csv.export(self.lib, self.entries, Path(name))
        except (TrackerError, OSError) as exc:
            QMessageBox.warning(self, "Not exported", str(exc))
            return
        self.verdict.setText(f"Wrote {done['rows']} entries to {done['file']}.")


class PrivacyController(WindowController):
    def _connect_signals(self) -> None:
        self.window.menus.consent.triggered.connect(self.show_consent)
        self.window.menus.audit.triggered.connect(self.show_audit)
        # The audit's "viewed" entries, one after the other.
        self._noting = TaskRunner(QThreadPool(self))
        self._noting.pool.setMaxThreadCount(1)

    def viewed(self, client_id: int) -> None:
        """The audit's entry that the client was looked at, written by a thread of its own in
        the order the clients were chosen: over a slow link its round trips, and on a folder
        its commit and its anchor file (about 8 ms), would hold up the switch. Waited for
        before the library is let go (``settle``); one that fails is said in the status bar."""
        lib = self.window.lib
        if lib is None:
            return
        self._noting.start(
            lambda _task: audit.record(lib, Action.VIEWED, client_id=client_id),
            failed=lambda message: self.window.statusBar().showMessage(
                f"That the client was looked at could not be noted in the audit trail: {message}",
                15000,
            ),
        )

    def settle(self) -> None:
        """Wait for the audit's entries being written (before the library is let go)."""
        self._noting.wait()

    def show_consent(self) -> None:
        w = self.window
        if w.lib is None or w.client_id is None:
            return
        name = next((c.name for c in browse.clients(w.lib) if c.id == w.client_id), "the client")
        ConsentDialog(w.as_widget(), w.lib, w.client_id, name).exec()

    def show_audit(self) -> None:
        w = self.window
        if w.lib is None:
            return
        AuditDialog(w.as_widget(), w.lib, {c.id: c.name for c in browse.clients(w.lib)}).exec()
