"""Help ▸ Print a calibration card…: the card as a PDF to print at home, written off the GUI
thread by ``rendering.card_pdf`` (as ``tracker card`` writes it), and a sentence on how to
print it at its true size."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale, QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from tracker.core.errors import TrackerError
from tracker.core.files import refuse_inside
from tracker.ui.main.controller import WindowController

CARD_NAME = "calibration card.pdf"
FILTERS = {"a4": "PDF, A4 (*.pdf)", "letter": "PDF, Letter (*.pdf)"}
# Where Letter paper is the usual size (the Americas that use it, and the Philippines).
LETTER_TERRITORIES = {
    QLocale.Country.UnitedStates,
    QLocale.Country.Canada,
    QLocale.Country.Mexico,
    QLocale.Country.PuertoRico,
    QLocale.Country.Guatemala,
    QLocale.Country.CostaRica,
    QLocale.Country.Panama,
    QLocale.Country.DominicanRepublic,
    QLocale.Country.Colombia,
    QLocale.Country.Venezuela,
    QLocale.Country.Chile,
    QLocale.Country.Philippines,
}
HOW_TO_PRINT = (
    "Print it at actual size (100 %, not “fit to page”) and check that its 100 mm line "
    "measures 100 mm before you cut the card out."
)


def _write_card(out: Path, paper: str) -> dict[str, object]:
    """Write the card (in a worker). The card's layout brings OpenCV and numpy with it."""
    from tracker.rendering.card_pdf import write_card  # start-up time: OpenCV loads only to print

    return write_card(out, paper)


@dataclass(frozen=True)
class CardFile:
    path: Path
    paper: str  # "a4" or "letter"


def default_paper(locale: QLocale | None = None) -> str:
    """The paper people print on where they live: Letter in the US and its neighbours, else A4."""
    territory = (locale or QLocale()).territory()
    return "letter" if territory in LETTER_TERRITORIES else "a4"


def documents_folder() -> Path:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


def ask_card_file(parent: QWidget | None, start: Path, paper: str) -> CardFile | None:
    """The save dialog: where to write the card and on which paper (None: cancelled)."""
    name, chosen = QFileDialog.getSaveFileName(
        parent,
        "Print a calibration card",
        str(start),
        ";;".join(FILTERS.values()),
        FILTERS[paper],
    )
    if not name:
        return None
    paper = next((p for p, f in FILTERS.items() if f == chosen), paper)
    return CardFile(Path(name), paper)


def refusal(out: Path, library: Path | None) -> str:
    """Why the card cannot be written at ``out``, as a sentence; "" when it can."""
    folder = out.parent
    if not folder.is_dir():
        return f"The folder {folder} does not exist; choose another folder for the card."
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"You cannot save files in the folder {folder}; choose another folder for the card."
    if library is not None:
        try:
            refuse_inside(library, out)
        except TrackerError as exc:
            return str(exc)
    return ""


class CardController(WindowController):
    card_written = Signal(str)  # the file

    # Replaceable in tests.
    ask_file: Callable[[QWidget | None, Path, str], CardFile | None] = ask_card_file

    def _connect_signals(self) -> None:
        self.window.menus.print_card.triggered.connect(self._on_print_card_triggered)

    def _on_print_card_triggered(self) -> None:
        start = documents_folder() / CARD_NAME
        answer = type(self).ask_file(self.window.as_widget(), start, default_paper())
        if answer is not None:
            self.write(answer)

    def write(self, answer: CardFile) -> None:
        """Write the card where the person chose, or say why it cannot be written there."""
        w = self.window
        out = answer.path if answer.path.suffix else answer.path.with_suffix(".pdf")
        problem = refusal(out, w.lib.root if w.lib is not None and w.lib.server is None else None)
        if problem:
            w.show_error(problem)
            return
        w.statusBar().showMessage("Writing the calibration card…")
        w.runner.start(
            lambda _task: _write_card(out, answer.paper),
            finished=self._on_card_finished,
            failed=self._on_card_failed,
        )

    def _on_card_finished(self, result: dict[str, object]) -> None:
        self.window.statusBar().showMessage(f"Wrote {result['file']}. {HOW_TO_PRINT}", 30000)
        self.card_written.emit(str(result["file"]))

    def _on_card_failed(self, message: str) -> None:
        self.window.statusBar().clearMessage()
        self.window.show_error(message)
