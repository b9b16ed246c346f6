"""The compare window's automatic alignment: *Align automatically* (the photos shown) and
*Align all photos of this view*, each a background job (``AlignJob``), applied when done as
one undoable step, and told in words: how well it went, and which photos were refused and why
(landmarks stay the way for those).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from tracker.core.errors import TrackerError
from tracker.core.queries import browse
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services.align import AlignOutcome, view_photo_ids
from tracker.core.store.library import Library
from tracker.ui.aligning import AlignJob
from tracker.ui.commands import SetAlignment
from tracker.ui.compare.loading import RowReader, read_rows
from tracker.ui.history import History
from tracker.ui.workers import Task, TaskRunner

FALLBACK = (
    "Landmarks remain the way for those: tick Mark landmarks (L), click the same points on "
    "each photo, then Apply alignment."
)


def _pixels(residual: float) -> str:
    n = max(1, math.ceil(residual - 1e-9))
    return "1 pixel" if n == 1 else f"{n} pixels"


def summary(outcome: AlignOutcome) -> str:
    """What a run did, in a sentence or two: the alignment's own words for one photo, the
    weakest agreement for several, and how many were refused."""
    aligned = [a.alignment for a in outcome.aligned if a.alignment.method == "auto"]
    refused = len(outcome.failed)
    if len(aligned) == 1:
        text = aligned[0].words()
    elif aligned:
        least = min(a.points or 0 for a in aligned)
        worst = max((a.residual_px for a in aligned if a.residual_px is not None), default=None)
        within = f" within {_pixels(worst)}" if worst is not None else ""
        text = (
            f"Aligned {len(aligned)} photos automatically: in each, {least} or more skin "
            f"features agree{within}."
        )
    elif refused:
        text = "No photo could be aligned automatically."
    else:
        text = "Nothing to align: every photo shown is the reference of its view."
    if aligned:
        text += " Undo takes it back."
    if aligned and refused:
        text += f" {refused} {'photo was' if refused == 1 else 'photos were'} refused."
    return text


class AutoAligner(QObject):
    """Runs one automatic alignment at a time for the compare window and applies it."""

    # The status sentence once a run ends, and whether alignments were stored.
    applied = Signal(str, bool)

    def __init__(
        self,
        window: QWidget,
        lib: Library,
        runner: TaskRunner,
        history: History,
        show_error: Callable[[str], None],
        rows: RowReader | None = None,
    ) -> None:
        super().__init__(window)
        self.lib, self.runner, self.history, self.show_error = lib, runner, history, show_error
        self.rows = rows  # the window's, given the rows read after storing
        self.storing = False
        self.job = AlignJob(window, runner)
        self.job.finished.connect(self._on_job_finished)
        self.job.cancelled.connect(self._on_job_cancelled)
        self.job.failed.connect(self._on_job_failed)

    def align(self, photo_ids: Sequence[int]) -> bool:
        """The photos (each to the reference photo of its area and view), in the background."""
        if self.job.busy or self.storing:
            self.show_error("Photos are being aligned already; wait for it or cancel it.")
            return False
        n = len(photo_ids)
        label = f"Aligning {n} photo{'' if n == 1 else 's'} from the skin itself…"
        return self.job.start(self.lib, photo_ids, label)

    def align_view(self, area_id: int, view: str) -> bool:
        """Every photo of an area and view."""
        try:
            ids = view_photo_ids(self.lib, area_id, view)
        except TrackerError as exc:
            self.show_error(str(exc))
            return False
        return self.align(ids)

    def cancel(self) -> None:
        self.job.cancel()

    def _on_job_finished(self, outcome: AlignOutcome) -> None:
        """Store the outcome as one step. Writing a view's alignments (and their framing
        checks) takes a moment, so it is done in a worker too, and made undoable when done.
        The same worker then reads the rows of the photos shown, for the window to show
        without reading them itself (a read in a worker while the window repaints slows the
        repaint: the two take turns with the interpreter)."""
        alignments = outcome.alignments()
        if not alignments:
            self._tell(outcome, stored=False)
            return
        command = SetAlignment(self.lib, alignments, outcome.references, outcome.seen)
        self.storing = True
        history = self.history  # the main window's: it outlives this compare window
        lib, ids = self.lib, list(self.rows.shown()) if self.rows is not None else []
        asked = self.rows.asked if self.rows is not None else 0

        def store(_task: Task) -> list[ComparePhoto] | None:
            command.do()
            rows, error = read_rows(lib, ids) if ids else ([], "")
            return rows if ids and not error else None  # None: the window reads them

        def stored(rows: list[ComparePhoto] | None) -> None:
            valid = shiboken6.isValid(self)
            given: AbstractContextManager[None] = nullcontext()
            if valid and self.rows is not None:
                # Rows read before another step of these photos are out of date: read again.
                given = self.rows.given(ids, rows if self.rows.asked == asked else None)
            with given:
                history.push_done(command)  # undoable even if the window was closed meanwhile
            if valid:
                self.storing = False
                self._tell(outcome, stored=True)

        self.runner.start(store, finished=stored, failed=self._on_store_failed)

    def _on_store_failed(self, message: str) -> None:
        self.storing = False
        self.show_error(message)
        if self.rows is not None:  # refused for another workstation's change: show it
            self.rows.start()
        self.applied.emit("", False)

    def _tell(self, outcome: AlignOutcome, *, stored: bool) -> None:
        if outcome.failed:
            self.show_error(self.refusals(outcome))
        self.applied.emit(summary(outcome), stored)

    def refusals(self, outcome: AlignOutcome) -> str:
        """The photos refused, each by its date, with the reason in the refusal's sentence."""
        ids = [f.photo_id for f in outcome.failed]
        try:
            named = {p.id: f"{p.visit_date:%d %b %Y}" for p in browse.compare_photos(self.lib, ids)}
        except TrackerError:
            named = {}
        lines = [
            f"• {named.get(f.photo_id, f'Photo {f.photo_id}')}: {f.error}" for f in outcome.failed
        ]
        n = len(lines)
        head = "This photo was" if n == 1 else f"These {n} photos were"
        return f"{head} not aligned automatically:\n\n" + "\n".join(lines) + f"\n\n{FALLBACK}"

    def _on_job_cancelled(self) -> None:
        self.applied.emit("Automatic alignment cancelled; nothing was changed.", False)

    def _on_job_failed(self, message: str) -> None:
        self.show_error(message)
        self.applied.emit("", False)
