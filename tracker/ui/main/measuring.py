"""Measuring in the background (issue 18): after an import, an alignment, a region, a colour
balance or a sensitivity change, the photos whose measures are stale (never measured, or
measured from inputs that changed since: ``stale_photo_ids``) are measured again by
``measure_photos`` in a worker, its photos in processes of their own as the alignment's are,
with the progress in the status bar and a Cancel button beside it; then the Progress tab and
the visit panel show what changed. Changes that come while it runs are measured once it ends.

``MeasureController`` also fills the Progress tab's measures and the visit panel's figures
from the core's queries.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from tracker.core.errors import TrackerError
from tracker.core.queries.measures import AreaMeasures, PhotoMeasure, area_measures, photo_measures
from tracker.core.queries.rows import PhotoRow
from tracker.core.store.library import Library
from tracker.ui.history import Change
from tracker.ui.main.controller import Window
from tracker.ui.panels.measure_view import MeasureView, PhotoFigures
from tracker.ui.workers import Task, TaskRunner

if TYPE_CHECKING:
    from tracker.core.services.measure import MeasureOutcome

log = logging.getLogger(__name__)

Figures = tuple[str, PhotoMeasure | None]  # a photo's view and its measures, for the panel

DELAY_MS = 3000
"""How long after the last change the measuring starts: a run of edits (points dragged,
the sensitivity stepped, photos moved one after another) is measured once."""
STALE_AFTER = Change.PHOTOS | Change.ALIGNMENT | Change.COLOUR | Change.MEASURES


def _measure(lib: Library, task: Task) -> MeasureOutcome | None:
    """In the worker: measure every stale photo of the library, storing each result."""
    # start-up time: measuring loads OpenCV and numpy, on first use only
    from tracker.core.services.measure import measure_photos, stale_photo_ids

    ids = stale_photo_ids(lib)
    if not ids or task.cancelled:
        return None
    task.report(0, len(ids), "")
    return measure_photos(
        lib,
        ids,
        progress=task.report,
        cancelled=lambda: task.cancelled,
        # A core left to the GUI thread, as the alignment leaves one (BENCHMARKS.md).
        processes=max(1, (os.cpu_count() or 1) - 1),
    )


class StatusWidget(QWidget):
    """ "Measuring 3 of 20 photos…", a bar and Cancel, in the main window's status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(110)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Measuring progress")
        self.cancel = QToolButton(self)
        self.cancel.setText("Cancel")
        self.cancel.setToolTip("Stop measuring; the photos left are measured after the next change")
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def show_progress(self, done: int, total: int) -> None:
        self.label.setText(f"Measuring {min(done + 1, total)} of {total} photos…")
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)
        self.show()


class MeasureJob(QObject):
    """One measuring run at a time for the main window's library."""

    measured = Signal(object)  # frozenset of the photo ids measured or refused
    busy_changed = Signal(bool)
    said = Signal(str)  # a sentence for the status bar

    def __init__(self, parent: QObject, status_bar: QStatusBar) -> None:
        super().__init__(parent)
        # A pool of its own, one run at a time: the window's pool stays free for thumbnails
        # and previews, and waiting for the window's tasks never waits for a measuring run.
        pool = QThreadPool(self)
        pool.setMaxThreadCount(1)
        self.runner = TaskRunner(pool, self)
        self.lib: Library | None = None
        self.task: Task | None = None
        self.again = False  # a change came while measuring
        self.held = False  # cancelled: nothing is offered until the next change
        self.status = StatusWidget()
        status_bar.addPermanentWidget(self.status)
        self.status.cancel.clicked.connect(self.cancel)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self.run_now)

    @property
    def busy(self) -> bool:
        return self.task is not None

    def set_library(self, lib: Library | None) -> None:
        """Work on ``lib`` from now on; a run on the library before is cancelled (what it
        finished is stored, in its library). Nothing is measured until something changes or
        the Progress tab shows photos waiting (``offer``)."""
        self.cancel()
        self.task = None
        self.held = False
        self.status.hide()
        self.lib = lib

    def schedule(self) -> None:
        """Measure what is stale once the changes stop for a moment."""
        if self.lib is None or self.lib.read_only is not None:
            return
        self.held = False
        if self.busy:
            self.again = True
        else:
            self.timer.start()

    def offer(self) -> None:
        """Photos are waiting where the person looks: measure them soon, unless measuring was
        cancelled since the last change."""
        if not (self.held or self.busy or self.timer.isActive()):
            self.schedule()

    def run_now(self) -> bool:
        lib = self.lib
        if lib is None or lib.read_only is not None or self.busy:
            return False
        self.timer.stop()
        self.again = self.held = False

        def work(task: Task) -> MeasureOutcome | None:
            return _measure(lib, task)

        # The run's signals come back through plain functions that ask first whether the job
        # is still there: a window closed mid-run deletes the job (and its signals) before the
        # photo being measured comes back, and emitting from a deleted QObject raises.
        def finished(outcome: MeasureOutcome | None) -> None:
            if shiboken6.isValid(self):
                self._on_task_finished(lib, outcome)

        def failed(message: str) -> None:
            if shiboken6.isValid(self):
                self._on_task_failed(message)

        def progress(done: int, total: int, what: str) -> None:
            if shiboken6.isValid(self):
                self._on_task_progress(done, total, what)

        task = self.runner.start(work, finished=finished, failed=failed, progress=progress)
        self.task = task
        # The job going (its window closed, or deleted without closing) stops the run after
        # the photo being measured, so that the pool it leaves waits for one photo at most.
        self.destroyed.connect(lambda _obj=None, t=task: t.cancel())
        self.busy_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Stop after the photo being measured; nothing more is measured until a change."""
        self.timer.stop()
        self.again = False
        self.held = True
        if self.task is not None:
            self.task.cancel()
            self.status.label.setText("Stopping after the photo being measured…")

    def _on_task_progress(self, done: int, total: int, _what: str) -> None:
        if self.task is not None and not self.task.cancelled and shiboken6.isValid(self.status):
            self.status.show_progress(done, total)

    def _end(self) -> bool:
        stopped = self.task is not None and self.task.cancelled
        self.task = None
        if shiboken6.isValid(self.status):
            self.status.hide()
        self.busy_changed.emit(False)
        return stopped

    def _on_task_finished(self, lib: Library, outcome: MeasureOutcome | None) -> None:
        stopped = self._end() or (outcome is not None and outcome.cancelled)
        if lib is not self.lib:
            return  # another library is shown now
        if outcome is not None:
            ids = frozenset(m.photo_id for m in outcome.measured) | frozenset(
                pid for pid, _ in outcome.failed
            )
            if ids:
                self.measured.emit(ids)
            n = len(outcome.measured)
            text = f"Measured {n} photo{'' if n == 1 else 's'}"
            if outcome.failed:
                text += f"; {len(outcome.failed)} could not be (the Progress tab says why)"
            self.said.emit(text + ("; stopped before the rest." if stopped else "."))
        elif stopped:
            self.said.emit("Measuring stopped; the photos left are measured after the next change.")
        if self.again and not stopped:
            self.schedule()

    def _on_task_failed(self, message: str) -> None:
        stopped = self._end()
        if not stopped:
            log.warning("Measuring in the background failed: %s", message)
            self.said.emit(f"The photos could not be measured: {message}")


def current_control(lib: Library, area_id: int) -> int | None:
    """The untreated area ``area_id`` is compared with, for its form."""
    return area_measures(lib, area_id).control_area_id


class MeasureController(QObject):
    """The main window's measures: the background job, the Progress tab's section and the
    visit panel's figures."""

    def __init__(self, window: Window) -> None:
        super().__init__(window.as_widget())
        self.window = window
        self.job = MeasureJob(self, window.statusBar())
        self.view: MeasureView = window.progress_view.measures
        self.figures: PhotoFigures = window.panel.figures
        self.chosen_view: dict[int, str] = {}  # the view shown, per area
        self._photos: list[PhotoRow] = []
        self._reading = self._shown = 0  # the tab's reads started, and the one shown
        window.as_widget().installEventFilter(self)
        self._connect_signals()

    def _connect_signals(self) -> None:
        w = self.window
        w.history.changed.connect(self._on_history_changed)
        self.job.measured.connect(self._on_job_measured)
        self.job.busy_changed.connect(self._on_job_busy_changed)
        self.job.said.connect(lambda text: w.statusBar().showMessage(text, 8000))
        self.view.view_chosen.connect(self._on_view_chosen)
        self.view.subtract_toggled.connect(self._on_subtract_toggled)
        self.view.measure_requested.connect(self.job.run_now)
        w.progress_view.axis.currentIndexChanged.connect(lambda _i: self.refresh_tab())

    def set_library(self, lib: Library | None) -> None:
        self.chosen_view = {}
        self.job.set_library(lib)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The window closing: a run stops after the photo being measured, and none starts.
        if watched is self.window.as_widget() and event.type() == QEvent.Type.Close:
            self.job.cancel()
        return False

    def _on_history_changed(self, changes: Change, _photo_ids: frozenset[int]) -> None:
        if changes & STALE_AFTER:
            self.job.schedule()
        if changes & Change.MEASURES:
            self.refresh_tab()

    def _on_job_measured(self, ids: frozenset[int]) -> None:
        """New measures: read in a worker (the query took 20-40 ms of a GUI turn), then shown
        if the window still shows what they were read for."""
        w = self.window
        lib, area_id = w.lib, w.area_id
        if lib is None:
            return
        photos = list(self._photos) if ids & {p.id for p in self._photos} else None
        tab = w.progress_view.isVisibleTo(w.as_widget()) and w.progress_view.data is not None
        view = self.chosen_view.get(area_id) if area_id is not None else None
        subtract = self.view.subtract.isChecked()

        def read(_task: Task) -> tuple[AreaMeasures | None, list[Figures] | None]:
            data = None
            if tab and area_id is not None:
                data = area_measures(lib, area_id, view, subtract_control=subtract)
                if view is not None and not data.photos:
                    data = area_measures(lib, area_id, None, subtract_control=subtract)
            rows = _figures(lib, photos) if photos else None
            return data, rows

        self._reading += 1  # the tab's measures are being read (``reading``)
        token = self._reading

        def done(result: tuple[AreaMeasures | None, list[Figures] | None]) -> None:
            if not shiboken6.isValid(self):
                return
            if token == self._reading:
                self._shown = token
            if (w.lib, w.area_id) != (lib, area_id):
                return  # another library or area is shown now: it was read when shown
            chosen = self.chosen_view.get(area_id or 0)
            if (chosen, self.view.subtract.isChecked()) != (view, subtract):
                return  # chosen since: read and shown then
            data, rows = result
            if data is not None and w.progress_view.isVisibleTo(w.as_widget()):
                self._show_tab(data)
            if rows is not None and photos == self._photos:
                self.figures.show_figures(rows)

        def failed(message: str) -> None:
            if shiboken6.isValid(self) and token == self._reading:
                self._shown = token
            self._on_read_failed(message)

        w.runner.start(read, finished=done, failed=failed)

    def _on_read_failed(self, message: str) -> None:
        if shiboken6.isValid(self):
            self.window.statusBar().showMessage(message, 8000)

    def _on_job_busy_changed(self, busy: bool) -> None:
        # The button only: reading and charting the measures again here, and again when they
        # come (``measured``, just after), held the window twice as long at the end of a run.
        self.view.set_busy(busy)

    def _on_view_chosen(self, view: str) -> None:
        if self.window.area_id is not None:
            self.chosen_view[self.window.area_id] = view
            self.refresh_tab()

    def _on_subtract_toggled(self, _on: bool) -> None:
        self.refresh_tab()

    def refresh_tab(self) -> None:
        """The measures of the current area, when the Progress tab shows (it is filled again
        each time it is shown): read in a worker (the query took 20-40 ms of a GUI turn),
        then shown if the tab still shows what they were read for."""
        w = self.window
        if not w.progress_view.isVisibleTo(w.as_widget()):
            return
        self._reading += 1  # a read started before this one is not shown
        if w.lib is None or w.area_id is None or w.progress_view.data is None:
            self.view.show_measures(None, [], by_session=False, busy=self.job.busy)
            self._shown = self._reading
            return
        lib, area_id, token = w.lib, w.area_id, self._reading
        view = self.chosen_view.get(area_id)
        subtract = self.view.subtract.isChecked()  # unticked by the view without a control

        def read(_task: Task) -> AreaMeasures:
            data = area_measures(lib, area_id, view, subtract_control=subtract)
            if view is not None and not data.photos:
                data = area_measures(lib, area_id, None, subtract_control=subtract)
            return data

        def done(data: AreaMeasures) -> None:
            if not shiboken6.isValid(self) or token != self._reading:
                return  # read again since
            self._shown = token
            if (w.lib, w.area_id) == (lib, area_id) and w.progress_view.isVisibleTo(w.as_widget()):
                self._show_tab(data)

        def failed(message: str) -> None:
            if shiboken6.isValid(self) and token == self._reading:
                self._shown = token
            self._on_read_failed(message)

        w.runner.start(read, finished=done, failed=failed)

    @property
    def reading(self) -> bool:
        """The Progress tab's measures are being read (``refresh_tab``)."""
        return self._reading != self._shown

    def _show_tab(self, data: AreaMeasures) -> None:
        w = self.window
        views = list(dict.fromkeys(sorted(p.view for p in self._area_photos(w))))
        if data.view is not None and data.view not in views:
            views.insert(0, data.view)
        by_session = bool(w.progress_view.axis.currentData())
        self.view.show_measures(data, views, by_session=by_session, busy=self.job.busy)
        if data.stale or data.unmeasured:
            self.job.offer()
        w.progress_view.measures_shown()

    def _area_photos(self, w: Window) -> Sequence[PhotoRow]:
        return [p for row in w.timeline.rows() for p in row.photos]

    def refresh_panel(self, photos: Sequence[PhotoRow]) -> None:
        """The figures of the visit's photos of the area shown."""
        self._photos = list(photos)
        lib = self.window.lib
        if lib is None or not photos:
            self.figures.show_figures([])
            return
        try:
            rows = _figures(lib, photos)
        except TrackerError as exc:
            self.window.statusBar().showMessage(str(exc), 8000)
            return
        self.figures.show_figures(rows)


def _figures(lib: Library, photos: Sequence[PhotoRow]) -> list[Figures]:
    """Each photo's view and stored measure, in one session (``photo_measures``)."""
    found = photo_measures(lib, [p.id for p in photos])
    return [(p.view, found.get(p.id)) for p in photos]
