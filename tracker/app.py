"""Assembling the GUI: the one place that creates the application, the preferences, the thread
pool and the main window, and that opens and closes libraries."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QProgressDialog

from tracker import APP_NAME
from tracker.core.care.repair import restore_snapshot
from tracker.core.crypto.layout import is_encrypted
from tracker.core.demo.sample import create_demo
from tracker.core.errors import DatabaseDamaged, FolderReadOnly, LibraryLocked, TrackerError
from tracker.core.files import private_umask
from tracker.core.paths import ENV_LIBRARY, default_library, log_dir
from tracker.core.store.library import Library
from tracker.ui.errors import install_excepthook, setup_logging
from tracker.ui.icons import icon
from tracker.ui.main.connect import SCHEMES, ConnectDialog, split
from tracker.ui.main.encrypting import ask_to_encrypt, offer, refusal
from tracker.ui.main.new_library import ask_new_library
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Mode, Preferences
from tracker.ui.unlock import UnlockDialog
from tracker.ui.workers import TaskRunner

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys

log = logging.getLogger(__name__)

DESKTOP_NAME = "stria-tracker"


def starting_library(given: Path | str | None, prefs: Preferences) -> Path | str:
    """``--library`` if given, else ``TRACKER_LIBRARY``, else the last library folder used,
    else the last clinic library's address when no folder was ever used (a clinic's
    workstation: not asked to make a library folder of its own at every start), else the
    default; a clinic library's address (``str``) as given."""
    if isinstance(given, str):
        return given
    if given is not None:
        return given.expanduser()
    env = os.environ.get(ENV_LIBRARY, "").strip()
    if env.startswith(SCHEMES):
        return env
    if env:
        return default_library()
    last = prefs.last_library
    if last is not None and last.is_dir():
        return last
    if last is None and prefs.last_clinic:
        return prefs.last_clinic
    return default_library()


def _show_progress(dialog: Any, done: int, total: int) -> None:
    dialog.setMaximum(total)
    dialog.setValue(done)


class App:
    """Owns the open library: the window shows it, and only this class opens or closes it."""

    def __init__(self, window: MainWindow, prefs: Preferences, runner: TaskRunner) -> None:
        self.window = window
        self.prefs = prefs
        self.runner = runner
        self.lib: Library | None = None
        self._ask = _ask_dialog(window)
        # The library asked for at start-up: a folder, or a clinic library's address (without
        # its password, which is used once).
        self._wanted: Path | str | None = None
        window.library_requested.connect(self.open)
        window.sample_requested.connect(self.make_sample)
        window.menus.connect_clinic.triggered.connect(self.connect_clinic)
        window.menus.encrypt.triggered.connect(self.encrypt)
        # After the window's own slot, which starts tracking in an open library.
        window.welcome.start_requested.connect(self._on_welcome_start_requested)

    def start(self, given: Path | str | None, password: str | None = None) -> bool:
        """Open the library the window starts on (``starting_library``): the default, or a
        named new, folder is made, asking first how (``new_library``); an existing folder
        that is not a library is refused with a sentence, and the welcome page offers the
        other ways in. A clinic library's address opens as File ▸ Connect does, the dialog
        filled in with it (and ``password``, or the address's own: then it connects at once);
        cancelled, no library is open, as for a folder that did not open."""
        wanted = starting_library(given, self.prefs)
        if isinstance(wanted, str):
            self._wanted = split(wanted)[0]
            return self._connect(wanted, password or "")
        self._wanted = wanted
        return self.open(wanted, create=True)

    def _on_welcome_start_requested(self) -> None:
        # No library: its question was cancelled (or it failed). Ask again, then start.
        wanted = self._wanted
        if self.lib is not None or wanted is None:
            return
        opened = (
            self._connect(wanted) if isinstance(wanted, str) else self.open(wanted, create=True)
        )
        if opened:
            self.window.welcome.start_requested.emit()

    def open(self, root: Path, *, create: bool = False, keys: Keys | None = None) -> bool:
        """Open the library at ``root`` in the window; on failure keep the current one.
        ``keys`` unlock an encrypted one without asking (it was just encrypted)."""
        if self.window.importer.busy:
            self.window.show_error(
                "An import is running; let it finish or cancel it before opening another library."
            )
            return False
        if _would_make(root):
            # A new library: ask whether to encrypt it (an encrypted one is made there).
            practitioner = self.prefs.mode is Mode.PRACTITIONER
            made = ask_new_library(root, self.runner, practitioner, self.window)
            if made is None:
                self._wanted = root  # Start tracking asks again, when no library is open
                return False  # cancelled: nothing made, the current library stays
            if made[1] is not None:
                self._switch(made[1])
                return True
            create = True
        keys = keys or self.window.care.take_keys(root)  # a backup restored: unlocked
        if keys is None and is_encrypted(root):
            keys = UnlockDialog.ask(root, self.runner, self.window)
            if keys is None:
                return False  # cancelled: the current library stays
        try:
            lib = Library.open(root, create=create, keys=keys)
        except DatabaseDamaged as exc:
            if (
                exc.snapshot is None
                or exc.root is None
                or not self._ask(
                    f"{exc}\n\nRestore {exc.snapshot.name} now?", "Restore the snapshot"
                )
            ):
                self.window.show_error(str(exc))
                return False
            try:
                restore_snapshot(exc.root, exc.snapshot, keys.database_key() if keys else None)
                lib = Library.open(root, keys=keys)
            except TrackerError as again:
                self.window.show_error(str(again))
                return False
        except (LibraryLocked, FolderReadOnly) as exc:
            # Held by another copy of the app, or a folder that cannot be written: reading is
            # still possible, if the person wants it.
            if not self._ask(f"{exc}\n\nOpen it for reading only?", "Open read-only"):
                self.window.show_error(str(exc))
                return False
            try:
                lib = Library.open(root, allow_read_only=True, keys=keys)
            except TrackerError as again:
                self.window.show_error(str(again))
                return False
        except TrackerError as exc:
            self.window.show_error(str(exc))
            return False
        self._switch(lib)
        return True

    def _switch(self, lib: Library | None) -> None:
        old = self.lib
        self.window.set_library(lib)
        self.lib = lib
        offer(self.window.menus.encrypt, lib)
        if lib is not None and lib.server is None:
            self.prefs.last_library = lib.root
        if old is not None:
            self.runner.wait(10000)  # no worker may still be reading it
            old.close()

    def close(self) -> None:
        self._switch(None)

    def connect_clinic(self) -> None:
        """File ▸ Connect to a clinic library…: a library in the clinic's server
        (``ui.main.connect``), opened in the window in place of the current one."""
        self._connect(self.prefs.last_clinic)

    def _connect(self, address: str, password: str = "") -> bool:
        """The Connect dialog filled in with ``address`` (and ``password``); whether the
        window now shows the library it opened (not for a front-desk login, which gets the
        front desk's own window, nor when cancelled: the current library stays)."""
        if self.window.importer.busy:
            self.window.show_error(
                "An import is running; let it finish or cancel it before opening another library."
            )
            return False
        answer = ConnectDialog.ask(address, self.runner, self.window, password)
        if answer is None:
            return False
        lib, kept = answer
        self.prefs.last_clinic = kept
        if lib is None:  # a front-desk login, in the front desk's own window
            return False
        self._switch(lib)
        return True

    def encrypt(self) -> None:
        """Library ▸ Encrypt this library…: closed, encrypted, and opened again unlocked
        (``ui.main.encrypting``); opened again as it was when it failed."""
        lib = self.lib
        if lib is None or refusal(lib):
            return
        if self.window.importer.busy:
            self.window.show_error(
                "An import is running; let it finish or cancel it before encrypting the library."
            )
            return
        closed = ask_to_encrypt(lib.root, self.runner, self.close, self.window)
        if closed is not None:
            self.open(lib.root, keys=closed.keys)

    def make_sample(self) -> None:
        """Ask where to put the sample library, make it on the thread pool, then open it."""
        start = str(self.lib.root.parent if self.lib and not self.lib.server else Path.home())
        folder = QFileDialog.getExistingDirectory(
            self.window, "Choose an empty folder for the sample library", start
        )
        if not folder:
            return
        target = Path(folder)
        if target.exists() and any(target.iterdir()):
            target = target / "Sample library"
        progress = QProgressDialog("Making the sample library…", "", 0, 0, self.window)
        progress.setWindowTitle(APP_NAME)
        progress.setCancelButton(None)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)

        def done(_summary: object) -> None:
            progress.close()
            self.open(target)

        def failed(message: str) -> None:
            progress.close()
            self.window.show_error(message)

        self.runner.start(
            lambda task: create_demo(target, progress=lambda d, t: task.report(d, t, "")),
            finished=done,
            failed=failed,
            progress=lambda d, t, _w: _show_progress(progress, d, t),
        )


def _would_make(root: Path) -> bool:
    """Whether opening ``root`` makes a new library: a folder not there yet, or empty."""
    try:
        return not root.exists() or (root.is_dir() and not any(root.iterdir()))
    except OSError:
        return False  # cannot be looked into: opening it says why


def _ask_dialog(window: Any) -> Callable[[str, str], bool]:
    def ask(question: str, action: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, question, parent=window)
        yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    return ask


def run_gui(library: Path | str | None, password: str | None = None) -> int:
    """Open the window on ``library`` (or the last or default one): a folder, or a clinic
    library's address (``password`` its login's, when the address holds none); returns the
    exit status."""
    private_umask()
    QCoreApplication.setOrganizationName("StriaTracker")
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setDesktopFileName(DESKTOP_NAME)
    app.setWindowIcon(icon("app"))
    log_file = setup_logging(log_dir())
    prefs = Preferences()
    runner = TaskRunner()
    window = MainWindow(prefs, runner)
    install_excepthook(lambda: window, log_file)
    shell = App(window, prefs, runner)
    window.show()
    shell.start(library, password)
    status = app.exec()
    shell.close()
    return status
