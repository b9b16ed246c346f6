"""Library ▸ Check, Back up and Restore: long work on the thread pool with progress and cancel,
results shown as sentences, and repairs that the person chooses (none deletes a photo or
its original). A clinic library's are the server's (``care_server``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url

from tracker.core.care import backups, repair, restore
from tracker.core.care.check import CheckReport, check_library
from tracker.core.db.engine import DB_NAME
from tracker.core.domain.consent import Action
from tracker.core.errors import (
    LibraryError,
    OriginalsDamaged,
    PassphraseNeeded,
    UsageError,
    WrongPassphrase,
)
from tracker.core.services import audit
from tracker.core.store.library import Library
from tracker.ui import dialogs
from tracker.ui.saving import ask_save_file
from tracker.ui.settings import Preferences
from tracker.ui.unlock import BackupSecretDialog
from tracker.ui.workers import Task, TaskRunner, run_with_progress

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys

BACKUP_FILTER = ("Backup archive (*.zip)",)
ADVICE = {
    "missing_original": "Relink finds missing originals in a folder (a backup, a phone export) by their contents.",
    "orphan_file": "Quarantine moves files that belong to no photo out of the way; nothing is deleted.",
    "changed_original": "Relink also puts back a changed original from a folder that holds it as it was imported (the changed file is kept in quarantine); otherwise restore it from a backup archive.",
    "database": "Restore the database from a snapshot (File ▸ Restore) or from a backup archive.",
    "link": "Quarantine moves links out of the originals folder (links are never followed); then relink the originals they stood for.",
}
# A clinic library's (``care_server``): no folder, so nothing is moved or kept in quarantine.
SERVER_ADVICE = {
    "missing_original": "Relink finds missing originals and signed forms in a folder (a backup, a phone export) by their contents and stores them on the server again.",
    "changed_original": "Relink also puts back a damaged original or signed form from a folder that holds it as it was imported: the damaged stored copy is replaced (its bytes are not the photo's; the server's own backups hold the database as it was).",
    "orphan_file": "Removing the stray thumbnails and previews deletes those of photos no longer in the library; a stray original is only named and stays where it is (a clinic library has no folder to move it to).",
    "cache": "Rebuild thumbnails makes the damaged thumbnails and previews again from their originals.",
}
SERVER_ADVICE["missing_form"] = SERVER_ADVICE["missing_original"]
SERVER_ADVICE["changed_form"] = SERVER_ADVICE["changed_original"]


class CheckDialog(QDialog):
    """The problems a check found, each a sentence, with the repairs that apply."""

    repaired = Signal()

    def __init__(
        self, parent: QWidget | None, report: CheckReport, *, server: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Library check")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        if report.ok:
            text = f"<b>The library is in good order.</b> {report.photos_checked} photos checked, every original matches what was imported."
        else:
            text = f"<b>{len(report.problems)} problem{'s' if len(report.problems) != 1 else ''} found</b> ({report.photos_checked} photos checked). Nothing has been changed."
        if report.cancelled:
            text += " The check was stopped before the end."
        self.summary = QLabel(text, self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setAccessibleName("Problems found")
        for p in report.problems:
            self.list.addItem(p.detail)
        self.list.setVisible(not report.ok)
        layout.addWidget(self.list)
        kinds = {p.kind for p in report.problems}
        hints = SERVER_ADVICE if server else ADVICE
        advice = list(dict.fromkeys(hints[k] for k in sorted(kinds) if k in hints))
        self.advice = QLabel(" ".join(advice), self)
        self.advice.setWordWrap(True)
        layout.addWidget(self.advice)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        self.relink = QPushButton("Relink from a folder…", self)
        self.quarantine = QPushButton(
            "Remove stray thumbnails and previews" if server else "Move stray files to quarantine",
            self,
        )
        self.rebuild = QPushButton("Rebuild thumbnails", self)
        for button in (self.relink, self.quarantine, self.rebuild):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        # After addButton, which shows the buttons it is given.
        relinked = {"missing_original", "changed_original"} | (
            {"missing_form", "changed_form"} if server else {"link"}
        )
        self.relink.setVisible(bool(kinds & relinked))
        self.quarantine.setVisible(bool(kinds & {"orphan_file", "link"}))
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)


class LibraryCare(QObject):
    """Runs check, backup and restore for the window."""

    checked = Signal(object)  # CheckReport
    backed_up = Signal(str)
    restored = Signal(str)
    repaired = Signal()  # originals or the cache changed: pictures shown may be stale

    def __init__(
        self,
        window: QWidget,
        runner: TaskRunner,
        show_error: Callable[[str], None],
        show_info: Callable[[str], None],
        prefs: Preferences | None = None,
    ) -> None:
        super().__init__(window)
        self.window, self.runner = window, runner
        self.show_error, self.show_info = show_error, show_info
        self.prefs = prefs
        self.lib: Library | None = None
        self._unlocked: dict[Path, Keys] = {}  # restored encrypted libraries, not yet opened

    def _run(
        self,
        label: str,
        work: Callable[[Task], Any],
        done: Callable[[Any], None],
        cancellable: bool = True,
    ) -> Task:
        return run_with_progress(
            self.window, self.runner, label, work, done, self.show_error, cancellable=cancellable
        )

    # -- check -----------------------------------------------------------------------------

    def check(self) -> None:
        lib = self.lib
        if lib is None:
            return
        self._run(
            "Checking every photo in the library…",  # a clinic library's: the server's check
            lambda task: check_library(lib, progress=task.report, cancel=lambda: task.cancelled),
            self._on_checked,
        )

    def _on_checked(self, report: CheckReport) -> None:
        self.checked.emit(report)
        server = self.lib is not None and self.lib.server is not None
        dialog = CheckDialog(self.window, report, server=server)
        kinds = ("changed_original", "changed_form") if server else ("changed_original",)
        changed = [p.sha256 for p in report.problems if p.kind in kinds]
        dialog.relink.clicked.connect(dialog.accept)
        dialog.relink.clicked.connect(lambda: self.relink(changed))
        dialog.quarantine.clicked.connect(dialog.accept)
        dialog.quarantine.clicked.connect(lambda: self.repair("quarantine"))
        dialog.rebuild.clicked.connect(dialog.accept)
        dialog.rebuild.clicked.connect(lambda: self.repair("rebuild"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialog = dialog

    def relink(self, changed: list[str] | None = None) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Folder that holds the photos as they were imported", str(Path.home())
        )
        if folder:
            self.repair("relink", Path(folder), changed or [])

    def repair(
        self, what: str, folder: Path | None = None, changed: list[str] | None = None
    ) -> None:
        lib = self.lib
        if lib is None:
            return

        def work(task: Task) -> str:
            if lib.server is not None:
                # start-up time: the server's care is loaded for a clinic library only
                from tracker.ui.main import care_server

                return care_server.repair(lib, what, folder, changed or [], task)
            if what == "relink":
                assert folder is not None
                return repair.relink_summary(
                    repair.relink(lib, folder, changed or []), bool(changed)
                )
            if what == "quarantine":
                r = repair.quarantine_orphans(lib)
                return f"Moved {r['moved']} stray file(s) to {r['folder'] or 'quarantine'}; nothing was deleted."
            r = repair.rebuild_cache(lib)
            return f"Rebuilt the thumbnails and previews of {r['rebuilt']} photo(s)."

        def done(message: str) -> None:
            self.repaired.emit()
            self.show_info(message)

        # A server's relink and rebuild stop between two photos at Cancel (a photo each
        # transaction); a folder's repairs and a server's quarantine run to the end.
        cancellable = lib.server is not None and what != "quarantine"
        self._run("Repairing…", work, done, cancellable=cancellable)

    # -- backup and restore ------------------------------------------------------------------

    def backup(self) -> None:
        """Back up… : a clinic library's backup that would be refused (an encrypted one, or
        a login whose backup the server would not enter in the audit trail) is refused
        before the file is chosen, the server asked on the thread pool."""
        lib = self.lib
        if lib is None:
            return
        if lib.server is None:
            self._choose_backup(lib.root.name)
            return
        # start-up time: the server's care is loaded for a clinic library only
        from tracker.ui.main import care_server

        name = make_url(lib.server).database or ""

        def asked(_result: None) -> None:
            if self.lib is lib:  # not another library opened meanwhile
                self._choose_backup(name)

        self.runner.start(
            lambda _task: care_server.may_back_up(lib), finished=asked, failed=self.show_error
        )

    def _choose_backup(self, name: str) -> None:
        words = ["stria-backup", name]
        chosen = ask_save_file(
            self.window, self.prefs, "backup", "Back up the library", words, BACKUP_FILTER
        )
        if chosen is not None:
            self.backup_to(chosen[0])

    def backup_to(self, out: Path, *, force: bool = False) -> None:
        """Back up to ``out``; a damaged library is not backed up without asking: the person
        is told what is damaged and may back up the rest (``force``). A clinic library's
        backup enters itself in the audit trail on the thread, as the command line's does."""
        lib = self.lib
        assert lib is not None

        def work(task: Task) -> dict[str, Any] | OriginalsDamaged:
            try:
                if lib.server is not None:
                    # start-up time: the server's care is loaded for a clinic library only
                    from tracker.ui.main import care_server

                    return care_server.backup(lib, out, force=force, task=task)
                return backups.backup(
                    lib, out, force=force, progress=task.report, cancel=lambda: task.cancelled
                )
            except OriginalsDamaged as exc:
                return exc  # a question for the GUI thread, not a failure

        self._run(
            "Backing up every photo and the database…",
            work,
            lambda result: self._on_backed_up(out, result),
        )

    def _on_backed_up(self, out: Path, result: dict[str, Any] | OriginalsDamaged) -> None:
        if isinstance(result, OriginalsDamaged):
            remedy = (
                "repair it first (Library ▸ Check the library says how), or back up the rest, "
                "leaving those out"
            )
            if dialogs.confirm(
                self.window,
                "Back up a damaged library",
                f"{backups.refusal(result.damage, remedy)}\n\nBack up the rest now?",
                "Back up the rest",
            ):
                self.backup_to(out, force=True)
            return
        if self.lib is not None and self.lib.server is None:  # a server's: in care_server
            audit.record(self.lib, Action.BACKED_UP, detail=Path(result["file"]).name)
        self.backed_up.emit(result["file"])
        left_out = backups.left_out_summary(result["left_out"])
        self.show_info(
            f"Backed up {result['files']} files to {result['file']}. Keep it on another disk."
            + (f" {left_out}" if left_out else "")
        )

    def _folder(self, kind: str) -> Path | None:
        return self.prefs.last_folder(kind) if self.prefs is not None else None

    def restore(self) -> None:
        start = self._folder("backup") or Path.home()  # the backups are where they were made
        archive, _ = QFileDialog.getOpenFileName(
            self.window, "Choose a backup archive", str(start), BACKUP_FILTER[0]
        )
        if not archive:
            return
        folder = QFileDialog.getExistingDirectory(
            self.window,
            "Choose a folder for the restored library (unless it is empty, a new one is made in it)",
            str(self._folder("restore") or Path(archive).parent),
        )
        if folder:
            if self.prefs is not None:
                self.prefs.set_last_folder("backup", Path(archive).parent)
                self.prefs.set_last_folder("restore", Path(folder))
            self.restore_to(Path(archive), restore_target(Path(folder), Path(archive)))

    def restore_to(self, archive: Path, dest: Path, how: dict[str, str] | None = None) -> None:
        """Restore ``archive`` into ``dest`` (its missing parent folders made first); then ask
        before the window leaves the library it shows for the restored one. An encrypted
        backup asks for its passphrase or recovery key (``how``), and again when wrong."""

        def unlock(folder: Path) -> Keys:
            # start-up time: cryptography is loaded for an encrypted library only
            from tracker.core.store import encrypted

            assert how is not None
            keys = encrypted.unlock(folder, **how)
            self._unlocked[dest] = keys  # the restored library opens without asking again
            return keys

        def work(task: Task) -> dict[str, Any] | LibraryError:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(
                    f"The folder {dest.parent} cannot be made ({exc.strerror or exc}); "
                    "choose another folder for the restored library."
                ) from exc
            try:
                return restore.restore(
                    archive, dest, progress=task.report, unlock=unlock if how else None
                )
            except (PassphraseNeeded, WrongPassphrase) as exc:
                return exc  # a question for the GUI thread; nothing was written

        self._run(
            "Restoring and checking every file…",
            work,
            lambda result: self._on_restored(archive, dest, result),
            cancellable=False,
        )

    def take_keys(self, root: Path) -> Keys | None:
        """The keys of the encrypted library just restored into ``root``, once; else None."""
        return self._unlocked.pop(root, None)

    def _on_restored(
        self, archive: Path, dest: Path, result: dict[str, Any] | LibraryError
    ) -> None:
        if isinstance(result, LibraryError):
            problem = str(result) if isinstance(result, WrongPassphrase) else ""
            how = BackupSecretDialog.ask_secret(archive, problem, self.window)
            if how is not None:
                self.restore_to(archive, dest, how)
            return
        restored, current = Path(result["library"]), self.lib
        keys = self._unlocked.pop(dest, None)  # kept only for the switch that follows
        if current is None or ask_switch(self.window, restored, current.server or current.root):
            if keys is not None:
                self._unlocked[restored] = keys
            self.restored.emit(str(restored))
            self._unlocked.clear()
            return
        self.show_info(
            f"Restored {result['files']} files into {restored}. This window stays on "
            f"{current.server or current.root}; open the restored library with File ▸ Open library when you "
            "need it."
        )


def restore_target(folder: Path, archive: Path) -> Path:
    """Where a restore goes: the folder chosen if it is empty or not there yet, else a new
    folder in it named after the archive ("stria-backup-2026-12-01 restored", "… 2"), beside
    the library when a library's folder was chosen."""
    if (folder / DB_NAME).exists():
        folder = folder.parent
    try:
        empty = not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))
    except OSError:
        empty = False  # cannot be looked into: the restore says why
    if empty:
        return folder
    candidate, n = folder / f"{archive.stem} restored", 2
    while candidate.exists():
        candidate, n = folder / f"{archive.stem} restored {n}", n + 1
    return candidate


def ask_switch(parent: QWidget, restored: Path, current: Path | str) -> bool:
    """Whether the window is to show the restored library now, leaving ``current``."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Library restored",
        f"The backup was restored into {restored} and checked.\n\nThis window shows the "
        f"library in {current}. Switch it to the restored library? Changes made after that "
        "would go into the restored one.",
        parent=parent,
    )
    switch = box.addButton("Switch to the restored library", QMessageBox.ButtonRole.AcceptRole)
    name = current.name if isinstance(current, Path) else current  # a folder, or a server's
    stay = box.addButton(f"Stay in {name}", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    box.exec()
    return box.clickedButton() is switch
