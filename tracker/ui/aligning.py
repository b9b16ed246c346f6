"""Automatic alignment as a background job: ``align_photos`` on the thread pool behind a
non-modal progress dialog with a Cancel button, its outcome handed back on the GUI thread.

Nothing is stored by the job (``store=False``): whoever started it applies the outcome as one
undoable step (``SetAlignment``), so that one Undo takes a whole run back, and a cancelled run
stores nothing at all. The window keeps painting and answering while photos are registered:
the work (decoding previews, features, the estimator) is all in the worker.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from tracker.core.store.library import Library
from tracker.ui.workers import Task, TaskRunner, progress_dialog

if TYPE_CHECKING:
    from tracker.core.services.align import AlignOutcome


def _align(lib: Library, photo_ids: Sequence[int], task: Task) -> AlignOutcome:
    """In the worker: register each photo to its area and view's reference, storing nothing."""
    # start-up time: the alignment loads OpenCV and numpy, on first use only
    from tracker.core.services.align import align_photos

    return align_photos(
        lib,
        list(photo_ids),
        store=False,
        progress=task.report,
        cancelled=lambda: task.cancelled,
        # A core left to the GUI thread, and the features found in processes of their own:
        # with every core registering in this process, its frames wait (BENCHMARKS.md).
        workers=max(1, (os.cpu_count() or 1) - 1),
        processes=max(1, (os.cpu_count() or 1) - 1),
    )


class AlignJob(QObject):
    """One automatic alignment at a time, for a window (``parent``).

    ``start`` returns False (and does nothing) while a run is going. Exactly one of
    ``finished`` (the AlignOutcome), ``cancelled`` or ``failed`` (a sentence) follows each
    start, on the GUI thread; ``progress_changed`` (done, total) comes on the way.
    """

    finished = Signal(object)  # the AlignOutcome, nothing of it stored yet
    cancelled = Signal()
    failed = Signal(str)
    progress_changed = Signal(int, int)
    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget, runner: TaskRunner) -> None:
        super().__init__(parent)
        self.window = parent
        self.runner = runner
        self.task: Task | None = None
        self.dialog: QProgressDialog | None = None
        self._label = ""

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(
        self, lib: Library, photo_ids: Sequence[int], label: str = "Aligning photos…"
    ) -> bool:
        """Align ``photo_ids`` (each to its area and view's reference) in the background."""
        if self.busy:
            return False
        ids = list(dict.fromkeys(photo_ids))
        self._label = label
        # Two lines from the start, as while it runs: the dialog is sized for them once.
        text = f"{label}\n0 of {len(ids)} photos"
        dialog = progress_dialog(self.window, "Align photos", text, max(len(ids), 1))
        dialog.canceled.connect(self.cancel)
        self.dialog = dialog
        self.task = self.runner.start(
            lambda task: _align(lib, ids, task),
            finished=self._on_task_finished,
            failed=self._on_task_failed,
            progress=self._on_task_progress,
        )
        self.busy_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Stop after the photo being registered; nothing is stored."""
        if self.task is None:
            return
        self.task.cancel()
        if self.dialog is not None:
            self.dialog.setLabelText("Stopping after the photo being aligned…")

    def _on_task_progress(self, done: int, total: int, _what: str) -> None:
        self.progress_changed.emit(done, total)
        if self.dialog is None:
            return
        if self.task is not None and not self.task.cancelled:
            self.dialog.setLabelText(f"{self._label}\n{done} of {total} photos")
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(done)

    def _end(self) -> bool:
        """Close the dialog; whether the run was cancelled."""
        stopped = self.task is not None and self.task.cancelled
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        self.task = None
        self.busy_changed.emit(False)
        return stopped

    def _on_task_finished(self, outcome: AlignOutcome) -> None:
        if self._end() or outcome.cancelled:
            self.cancelled.emit()
        else:
            self.finished.emit(outcome)

    def _on_task_failed(self, message: str) -> None:
        if self._end():
            self.cancelled.emit()  # stopped by Cancel: not a failure to report
        else:
            self.failed.emit(message)
