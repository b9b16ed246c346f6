"""After an import, when the preview's option is on: the new photos aligned automatically in
the background (``ui.aligning.AlignJob``, with its progress and Cancel), the outcome stored in
a worker too (writing the alignments and their framing checks takes a moment) and made one
undoable step (``SetAlignment``) after the import's own, and a sentence in the status bar
saying how it went. Undo and redo wait while it runs, as they do for the import."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui.aligning import AlignJob
from tracker.ui.main.controller import Window

if TYPE_CHECKING:
    from tracker.core.services.align import AlignOutcome

log = logging.getLogger(__name__)
PAUSED = "The new photos are being aligned; undo and redo wait until that has finished."
NAMED_FAILURES = 3  # beyond this many, the sentence counts them instead of naming each


def _photos(n: int) -> str:
    return f"{n} new photo{'s' if n != 1 else ''}"


def outcome_sentence(outcome: AlignOutcome, names: Mapping[int, str]) -> str:
    """How the automatic alignment of an import's photos went, for the status bar ("" when
    there was nothing to align: each photo was the first of its view)."""
    done = len(outcome.alignments())
    failed = outcome.failed
    if not failed:
        return f"{_photos(done)} aligned automatically." if done else ""
    if len(failed) == 1:
        why = f"({names.get(failed[0].photo_id, 'a photo')}): {failed[0].error}"
    else:
        shown = [names.get(f.photo_id, "a photo") for f in failed[:NAMED_FAILURES]]
        more = "…" if len(failed) > NAMED_FAILURES else ""
        why = f"({', '.join(shown)}{more}): align them on points in the compare window."
    if not done:
        n = len(failed)
        return (
            f"The {'new photo' if n == 1 else _photos(n)} could not be aligned automatically {why}"
        )
    return f"{_photos(done)} aligned automatically; {len(failed)} could not be {why}"


class ImportAlignment(QObject):
    """Aligns an import's new photos, one run at a time: photos of an import that lands
    while a run is going wait for it to end, then have a run of their own."""

    done = Signal(str)  # the status sentence ("" when nothing needed aligning)

    def __init__(self, window: Window) -> None:
        super().__init__(window.as_widget())
        self.window = window
        self.job = AlignJob(window.as_widget(), window.runner)
        self._lib: Library | None = None
        self._names: dict[int, str] = {}
        self._waiting: list[tuple[int, str]] = []
        self._storing = False
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.job.finished.connect(self._on_job_finished)
        self.job.cancelled.connect(self._on_job_cancelled)
        self.job.failed.connect(self._on_job_failed)
        self.job.busy_changed.connect(self._on_job_busy_changed)

    @property
    def busy(self) -> bool:
        return self.job.busy or self._storing

    def start(self, lib: Library, photos: Sequence[tuple[int, str]]) -> bool:
        """Align ``photos`` (id, file name); False when they wait for the run going now (or
        there is nothing to do)."""
        if not photos or lib.read_only is not None:
            return False
        if self.busy:
            if lib is self._lib:
                self._waiting += photos
            return False
        self._lib = lib
        self._names = dict(photos)
        label = f"Aligning {'the new photo' if len(photos) == 1 else _photos(len(photos))}…"
        return self.job.start(lib, [ident for ident, _ in photos], label)

    def cancel(self) -> None:
        """Stop the run (another library is being opened); nothing of it is stored."""
        self._waiting = []
        self.job.cancel()

    def _next(self, lib: Library | None) -> None:
        """Start the photos that waited for the run that just ended."""
        waiting, self._waiting = self._waiting, []
        if waiting and lib is not None and lib is self.window.lib:
            self.start(lib, waiting)

    def _on_job_finished(self, outcome: AlignOutcome) -> None:
        lib = self._lib
        if lib is None or lib is not self.window.lib:
            self._lib = None
            return  # another library is open now: its history is not this one's
        alignments = outcome.alignments()
        if not alignments:
            self._tell(lib, outcome, stored=False)
            return
        command = cmd.SetAlignment(lib, alignments, outcome.references)
        self._storing = True
        self._pause()
        self.window.runner.start(
            lambda _task: command.do(),
            finished=lambda _r: self._on_stored(lib, command, outcome),
            failed=self._on_store_failed,
        )

    def _on_stored(self, lib: Library, command: cmd.SetAlignment, outcome: AlignOutcome) -> None:
        self._storing = False
        self._pause()
        if lib is self.window.lib:
            self.window.history.push_done(command)
        self._tell(lib, outcome, stored=True)

    def _on_store_failed(self, message: str) -> None:
        lib, self._lib, self._storing = self._lib, None, False
        self._pause()
        self.window.show_error(message)  # nothing was stored: the write is one transaction
        self._next(lib)

    def _tell(self, lib: Library, outcome: AlignOutcome, *, stored: bool) -> None:
        self._lib = None
        sentence = outcome_sentence(outcome, self._names)
        if stored:
            sentence += " Undo takes the alignment back."
        if sentence:
            self.window.statusBar().showMessage(sentence, 30000)
        self.done.emit(sentence)
        self._next(lib)

    def _on_job_cancelled(self) -> None:
        self._lib, self._waiting = None, []
        message = "The automatic alignment was stopped; nothing was changed."
        self.window.statusBar().showMessage(message, 15000)
        self.done.emit(message)

    def _on_job_failed(self, message: str) -> None:
        lib, self._lib = self._lib, None
        log.info("Automatic alignment after an import failed: %s", message)
        sentence = f"The new photos could not be aligned automatically: {message}"
        self.window.statusBar().showMessage(sentence, 30000)
        self.done.emit(sentence)
        self._next(lib)

    def _on_job_busy_changed(self, _busy: bool) -> None:
        self._pause()

    def _pause(self) -> None:
        if not self.window.importer.busy:  # else the import's own reason holds them
            self.window.history.pause(PAUSED if self.busy else "")
