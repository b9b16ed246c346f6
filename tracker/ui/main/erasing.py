"""Erasing for good (photos, a visit, an area, a client) and removing an empty area or
client, from the menus and the photo grid.

An erase asks first, naming exactly what goes and which copies made before still hold it;
it runs off the GUI thread and cannot be undone, so it clears the undo history with a note.
Removing an empty area or client is an ordinary undoable step.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from tracker import APP_NAME
from tracker.core.errors import TrackerError
from tracker.core.services import erase
from tracker.core.services.erase import ErasePlan, Target
from tracker.ui import commands as cmd
from tracker.ui.main.controller import WindowController
from tracker.ui.workers import Task, run_with_progress


def confirm_erase(parent: QWidget | None, plans: list[ErasePlan]) -> bool:
    """Ask, naming exactly what goes; the default button is Cancel."""
    first = plans[0]
    if len(plans) == 1:
        what = first.what
        goes = first.summary()
        photos = first.photos
    else:
        what = f"these {len(plans)} photos"
        photos = sum(p.photos for p in plans)
        goes = f"{photos} photos"
    text = (
        f"<p><b>Erase {what} for good?</b></p>"
        f"<p>This takes away {goes}. "
        + (
            "Their original files, thumbnails and previews are removed from the library. "
            if photos
            else ""
        )
        + "It cannot be undone.</p>"
    )
    note = first.backups_note()
    if note:
        text += f"<p>{note}</p>"
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, text, parent=parent)
    yes = box.addButton("Erase for good", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


class EraseController(WindowController):
    # Replaceable in tests.
    confirm = staticmethod(confirm_erase)

    def _connect_signals(self) -> None:
        w = self.window
        w.panel.grid.erase_requested.connect(self._on_grid_erase_requested)
        w.menus.erase_visit.triggered.connect(self._on_erase_visit)
        w.menus.erase_area.triggered.connect(self._on_erase_area)
        w.menus.erase_client.triggered.connect(self._on_erase_client)
        w.menus.remove_area.triggered.connect(self._on_remove_area)
        w.menus.remove_client.triggered.connect(self._on_remove_client)

    def _on_grid_erase_requested(self, ids: list[int]) -> None:
        self.erase([(Target.PHOTO, i) for i in ids])

    def _on_erase_visit(self) -> None:
        if self.window.visit_id is not None:
            self.erase([(Target.VISIT, self.window.visit_id)])

    def _on_erase_area(self) -> None:
        if self.window.area_id is not None:
            self.erase([(Target.AREA, self.window.area_id)])

    def _on_erase_client(self) -> None:
        if self.window.client_id is not None:
            self.erase([(Target.CLIENT, self.window.client_id)])

    def erase(self, targets: list[tuple[Target, int]]) -> None:
        """Ask, then erase ``targets`` in the background; the history is cleared after."""
        w = self.window
        lib = w.lib
        if lib is None or not targets:
            return
        try:
            plans = [erase.plan(lib, target, ident) for target, ident in targets]
        except TrackerError as exc:
            w.show_error(str(exc))
            return
        if not type(self).confirm(w.as_widget(), plans):
            return

        def work(_task: Task) -> list[ErasePlan]:
            return [erase.erase(lib, target, ident) for target, ident in targets]

        def done(erased: list[ErasePlan]) -> None:
            w.history.clear("Erasing cannot be undone, so the undo history was cleared.")
            w.refresh()
            n = sum(p.photos for p in erased)
            w.statusBar().showMessage(
                f"Erased {erased[0].what if len(erased) == 1 else f'{n} photos'}.", 10000
            )
            notes = [note for p in erased for note in p.notes]
            if notes:  # the regions of a reference photo erased: carried on, or to redraw
                w.show_info(" ".join(notes))

        def failed(message: str) -> None:
            w.history.clear("An erase stopped part way, so the undo history was cleared.")
            w.refresh()
            w.show_error(message)

        run_with_progress(
            w.as_widget(), w.runner, "Erasing…", work, done, failed, cancellable=False
        )

    def _on_remove_area(self) -> None:
        w = self.window
        if w.lib is None or w.area_id is None:
            return
        row = next(a for a in w.areas.rows() if a.id == w.area_id)
        w.run(cmd.RemoveArea(w.lib, row.id, row.name))

    def _on_remove_client(self) -> None:
        w = self.window
        if w.lib is None or w.client_id is None:
            return
        row = next((c for c in w.clients.rows() if c.id == w.client_id), None)
        w.run(cmd.RemoveClient(w.lib, w.client_id, row.name if row else "client"))
