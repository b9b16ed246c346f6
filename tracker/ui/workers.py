"""Work off the GUI thread: a QRunnable per task, reporting back through queued signals.

Workers never touch widgets and return plain data or QImage (never QPixmap). A task that
uses the library opens its own database sessions through ``Library``; none cross threads.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from tracker import APP_NAME
from tracker.core.errors import TrackerError

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    progress = Signal(int, int, str)  # done, total, what
    finished = Signal(object)  # the function's result
    failed = Signal(str)  # a sentence for the user


class Task(QRunnable):
    """Run ``fn(task)`` on the thread pool. ``fn`` may call ``task.report`` and read ``task.cancelled``.

    A TrackerError becomes ``failed`` with its sentence; anything unexpected is logged with its
    traceback and reported as a sentence too, so a worker never dies silently.
    """

    def __init__(self, fn: Callable[[Task], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.signals = TaskSignals()
        self._cancel = threading.Event()
        self.done = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def report(self, done: int, total: int, what: str = "") -> None:
        self.signals.progress.emit(done, total, what)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except TrackerError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # the edge of a worker: report, never die silently
            log.error("Background task failed:\n%s", traceback.format_exc())
            self.signals.failed.emit(
                f"Something went wrong in the background ({type(exc).__name__}: {exc}). "
                "Details are in the log file."
            )
        else:
            self.signals.finished.emit(result)
        finally:
            self.done.set()


GIL_SWITCH_S = 0.001
"""How long a worker's Python code may hold the interpreter before the GUI thread gets a turn
(CPython's default is 5 ms). Workers register photos and decode while the window paints; at
1 ms, a view of 20 photos aligned in the background left 3 gaps over 16 ms between the GUI's
frames instead of 9, and took no longer (``python -m tracker.bench --only align``)."""


class TaskRunner(QObject):
    """Starts tasks on one pool and keeps them alive until they finish."""

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        sys.setswitchinterval(GIL_SWITCH_S)
        self.pool = pool or QThreadPool.globalInstance()
        self._running: set[Task] = set()

    def start(
        self,
        fn: Callable[[Task], Any],
        *,
        finished: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> Task:
        task = Task(fn)
        if finished:
            task.signals.finished.connect(finished)
        if failed:
            task.signals.failed.connect(failed)
        if progress:
            task.signals.progress.connect(progress)
        task.signals.finished.connect(lambda _r, t=task: self._running.discard(t))
        task.signals.failed.connect(lambda _m, t=task: self._running.discard(t))
        self._running.add(task)
        self.pool.start(task)
        return task

    def wait(self, msecs: int = 30000) -> bool:
        """Cancel nothing, just wait for running tasks (used when closing a library)."""
        return self.pool.waitForDone(msecs)


def progress_dialog(parent: QWidget, title: str, label: str, total: int) -> QProgressDialog:
    """A progress dialog for work in the background, shown only when it takes a moment, with
    a Cancel button, that stays open until closed. Not modal: a modal QProgressDialog runs
    the event loop inside setValue(), which would let the end of the task arrive in the middle
    of a progress update; the window stays usable meanwhile."""
    dialog = QProgressDialog(label, "Cancel", 0, total, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    return dialog


def run_with_progress(
    parent: QWidget,
    runner: TaskRunner,
    label: str,
    work: Callable[[Task], Any],
    done: Callable[[Any], None],
    show_error: Callable[[str], None],
    *,
    cancellable: bool = True,
) -> Task:
    """Run ``work`` in the background behind a non-modal progress dialog (shown only when the
    work takes a moment), which its Cancel button cancels; ``done`` gets the result."""
    dialog = progress_dialog(parent, APP_NAME, label, 0)
    if not cancellable:
        dialog.setCancelButton(None)

    def finished(result: Any) -> None:
        dialog.close()
        done(result)

    def failed(message: str) -> None:
        dialog.close()
        show_error(message)

    def progress(d: int, t: int, _what: str) -> None:
        dialog.setMaximum(t)
        dialog.setValue(d)

    task = runner.start(work, finished=finished, failed=failed, progress=progress)
    dialog.canceled.connect(task.cancel)
    return task
