"""File ▸ Connect to a clinic library… (issue 21): a library in the clinic's PostgreSQL server,
opened in the window as a folder library is.

The person types the library's address (``postgresql://LOGIN@HOST/DATABASE``, as the clinic's
admin gave it; the last one is kept, without its password) and their own password, which is
typed without echo, never kept and never shown. Connecting runs on the thread pool: a server
over a slow link, or one that does not answer, must not freeze the window; what the server
says (a wrong password, a database that is not a clinic library, a server not reached) is
shown under the fields as one sentence, and the fields stay for another try.

A login that may change nothing opens the library for reading only, as
``ServerLibrary.open_server(allow_read_only=True)`` decides from the server. A front-desk login
(one that reads by column only: ``ServerLibrary.withheld`` is its sentence) gets the front
desk's own window (``ui.frontdesk``), which owns the library and closes it when it closes; the
main window, whose queries read whole rows, keeps the library it had. Another workstation's
changes reach that window as they reach the main one (``live.LiveChanges``).

An encrypted clinic library (``core.store.server_keys``) says so at the first try; the dialog
then shows a field for the clinic's passphrase (or its recovery key), typed without echo and
used once, for the keys unwrapped on the thread pool (Argon2id takes about half a second).

``tracker --library ADDRESS`` (or ``TRACKER_LIBRARY=ADDRESS``) with no command opens the window
on this same dialog, filled in with the address (``tracker.app.App.start``); a password that
came with it (the address's own, else ``TRACKER_CLINIC_PASSWORD``) is put in the password
field, never in the address's, and the dialog then connects as soon as it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker import APP_NAME
from tracker.core.errors import LibraryError, UsageError
from tracker.core.paths import NOT_A_PORT, SCHEMES
from tracker.core.queries import browse, front_desk, listing
from tracker.ui.frontdesk.window import FrontDeskWindow
from tracker.ui.main.live import LiveChanges
from tracker.ui.secret import EMPTY, SecretField
from tracker.ui.settings import fit_on_screen
from tracker.ui.workers import TaskRunner

if TYPE_CHECKING:
    from tracker.core.store.library import Library

PLACEHOLDER = "postgresql://LOGIN@HOST/DATABASE"
INTRO = (
    "A clinic library is kept in the clinic's own database server, so that every workstation\n"
    "works on the same clients. Type its address and your own password, as the clinic's\n"
    "admin gave them to you."
)


def parse(address: str, password: str) -> tuple[str, str]:
    """The address to connect to (with the password, when one is typed) and the address as
    it is shown and kept (with none); a UsageError with a sentence when it is not one."""
    given = address.strip()
    if not given:
        raise UsageError(f"Type the clinic library's address, as {PLACEHOLDER}.")
    if not given.startswith(SCHEMES):
        raise UsageError(
            f"'{given}' is not a clinic library's address: it begins with postgresql://, as "
            f"{PLACEHOLDER}."
        )
    try:
        url = make_url(given)
    except ArgumentError:
        raise UsageError(
            f"'{given}' is not a database address; give it as {PLACEHOLDER}."
        ) from None
    except ValueError:  # make_url's own, for a port that is not a number
        raise UsageError(NOT_A_PORT) from None
    if not url.database:
        raise UsageError(f"The address names no database; give it as {PLACEHOLDER}.")
    # As typed, unless it holds a password (SQLAlchemy's rendering escapes the query).
    kept = given if url.password is None else url._replace(password=None).render_as_string(False)
    if password:
        url = url.set(password=password)
    return url.render_as_string(hide_password=False), kept


def split(address: str) -> tuple[str, str]:
    """``address`` as its field shows it, without its password, and that password ("" when
    it holds none, or is no address at all: ``parse`` says so when it is used)."""
    try:
        url = make_url(address.strip())
    except (ArgumentError, ValueError):
        return address, ""
    if url.password is None:
        return address, ""
    return url._replace(password=None).render_as_string(False), str(url.password)


class ConnectDialog(QDialog):
    """Asks for the address and password, and connects on the thread pool."""

    def __init__(
        self, address: str, runner: TaskRunner, parent: QWidget | None = None, password: str = ""
    ) -> None:
        super().__init__(parent)
        address, own = split(address)
        self.runner = runner
        self.lib: Library | None = None
        self.kept = ""
        self.desk: FrontDeskWindow | None = None  # opened for a front-desk login
        self.connecting = False
        self.setWindowTitle(f"{APP_NAME} — connect to a clinic library")
        intro = QLabel(INTRO, self)
        self.address = QLineEdit(address, self)
        self.address.setPlaceholderText(PLACEHOLDER)
        self.address.setAccessibleName("The clinic library's address")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Your password")
        self.password.setText(own or password)  # shown as dots only; cleared once used
        self.secret = SecretField(self)  # shown once the library says it is encrypted
        form = QFormLayout()
        form.addRow("&Address:", self.address)
        form.addRow("&Password:", self.password)
        form.addRow("Clinic pass&phrase:", self.secret)
        form.setRowVisible(self.secret, False)
        self._form = form
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Why the library did not open")
        self.problem.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setText("&Connect")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        # Grown to fit what is said under the fields (a wrapped label does not grow it).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.problem.setMinimumWidth(460)
        (self.password if address else self.address).setFocus()
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    def _on_buttons_accepted(self) -> None:
        try:
            url, self.kept = parse(self.address.text(), self.password.text())
        except UsageError as exc:
            self._say(str(exc))
            return
        how = self.secret.how() if self._form.isRowVisible(self.secret) else None
        if self._form.isRowVisible(self.secret) and how is None:
            self._say(EMPTY)
            return
        self._busy(True)
        self.runner.start(
            lambda _task: _open(url, how), finished=self._on_opened, failed=self._failed
        )

    def _on_opened(self, opened: Library | str) -> None:
        if isinstance(opened, str):  # encrypted: its passphrase, then again
            self._busy(False)
            self._form.setRowVisible(self.secret, True)
            self.secret.setFocus()
            self._say(opened)
            return
        self.lib = opened
        self.password.clear()
        self.secret.reset()
        self.accept()

    def _failed(self, message: str) -> None:
        self._busy(False)
        if self._form.isRowVisible(self.secret):
            self.secret.retry()
        else:
            self.password.selectAll()
            self.password.setFocus()
        self._say(message)

    def reject(self) -> None:
        if not self.connecting:  # Escape while connecting: the library would open unseen
            super().reject()

    def _busy(self, busy: bool) -> None:
        self.connecting = busy
        for widget in (self.address, self.password, self.secret, self.buttons):
            widget.setEnabled(not busy)
        if busy:
            self._say("Connecting…")

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        self.adjustSize()

    @classmethod
    def ask(
        cls, address: str, runner: TaskRunner, parent: QWidget | None = None, password: str = ""
    ) -> tuple[Library | None, str] | None:
        """The opened library and its address as kept (no password), or None when cancelled.
        For a front-desk login the library is None: the front desk's window it opened
        (``open_desk``) has it; the address is kept all the same. Given a password (in
        ``address`` or as ``password``: ``tracker --library ADDRESS``), the dialog connects
        as soon as it shows, as Connect does; else it waits for the person's."""
        dialog = cls(address, runner, parent, password)
        if dialog.password.text():
            QTimer.singleShot(0, dialog, dialog._on_buttons_accepted)
        dialog.exec()
        dialog.password.clear()  # cancelled too: the dialog stays, hidden, with its parent
        if dialog.lib is None:
            return None
        if listing.withheld(dialog.lib) is not None:
            dialog.desk = open_desk(dialog.lib, dialog.kept, runner, parent)
            return None, dialog.kept
        return dialog.lib, dialog.kept


def open_desk(
    lib: Library, address: str, runner: TaskRunner, parent: QWidget | None = None
) -> FrontDeskWindow:
    """The front desk's window on ``lib`` (which it closes when it closes), shown, loading,
    and reloading on another workstation's changes. A window of its own (``parent`` keeps it
    alive), so that the main window stays as it was."""
    desk = FrontDeskWindow(lib, runner, title_of(address), parent)
    # Nothing of the desk's window is lost by a reload (the search is kept): never busy.
    desk.listen(LiveChanges(desk.refresh, lambda: False, desk.say, desk))
    desk.show()
    fit_on_screen(desk)  # the status bar, where failures are said, stays on a small screen
    desk.refresh()
    return desk


def title_of(address: str) -> str:
    """A clinic library's address as the window's title shows it: its database, its server
    and the login (no password, no escaped query)."""
    url = make_url(address)
    host = url.host or url.query.get("host") or "this computer"
    login = f" as {url.username}" if url.username else ""
    return f"clinic library {url.database} on {host}{login}"


def _open(url: str, how: dict[str, str] | None) -> Library | str:
    """The library opened; or, encrypted and ``how`` not given, the sentence saying so."""
    # start-up time: the server's modules (psycopg, libpq) load for a clinic library only
    from tracker.core.db.server_errors import PermissionRefused

    # start-up time: as above (an unlock, and a wrong passphrase, entered in the audit trail)
    from tracker.core.services import clinic_keys

    # start-up time: as above
    from tracker.core.store.server_keys import PassphraseNeeded

    how = how or {}
    try:
        lib = clinic_keys.open_server(
            url,
            allow_read_only=True,
            passphrase=how.get("passphrase"),
            recovery_key=how.get("recovery_key"),
        )
    except PassphraseNeeded as exc:
        return f"{exc} Type it to open the library."
    try:
        if listing.withheld(lib) is not None:
            front_desk.clients(lib)  # what the front desk's window shows first
        else:
            browse.clients(lib)  # what the window shows first: a login that may not see it
    except PermissionRefused as exc:
        lib.close()
        raise LibraryError(
            f"{exc} The window shows a clinic library to its practitioners, assistants and admins."
        ) from None
    except BaseException:
        lib.close()
        raise
    return lib
