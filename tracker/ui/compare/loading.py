"""Work for the compare window, run in workers: decoding previews (as they are, for sampling
a neutral patch, and colour-balanced, for display) and originals for zooming past them, and
reading the photos' rows again after a step."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from PIL import Image
from PySide6.QtCore import QObject, Signal

from tracker.core.compare.render import apply_gains
from tracker.core.errors import TrackerError
from tracker.core.queries import browse
from tracker.core.queries.rows import ComparePhoto
from tracker.core.store.library import Library
from tracker.rendering.images import pil_to_qimage
from tracker.ui.compare.pyramid import Pyramid, build
from tracker.ui.workers import TaskRunner

HIRES_MAX_SIDE = 8192  # a 200 MP photo is shown at most this large when zoomed in


def load_previews(
    lib: Library, photos: Sequence[ComparePhoto]
) -> tuple[list[Image.Image], list[Pyramid]]:
    """In a worker: each photo's preview as it is (for sampling) and colour-balanced (for
    display, with its halvings, so that the canvas paints a fitted view from a small image).

    Previews not made yet (a JPEG's first view, about 65 ms each) are made side by side; the
    rest is quicker one photo after the other (measured: 34 ms against 57 ms in threads).
    """
    with ThreadPoolExecutor(max_workers=max(1, len(photos))) as pool:
        previews = list(pool.map(lambda photo: lib.derived("previews", photo.sha256), photos))
    raw, shown = [], []
    for photo, preview in zip(photos, previews, strict=True):
        with Image.open(io.BytesIO(preview)) as src:
            rgb = src.convert("RGB")
        raw.append(rgb)
        shown.append(build(pil_to_qimage(apply_gains(rgb, photo.colour_gains))))
    return raw, shown


def load_originals(lib: Library, photos: Sequence[ComparePhoto]) -> list[Pyramid]:
    """In a worker: the originals, upright and colour-balanced, for zooming past the previews
    (no halvings: the canvas keeps the previews' for zooming out again)."""
    out = []
    for photo in photos:
        rgb = lib.original_image(photo.sha256, HIRES_MAX_SIDE)
        out.append(build(pil_to_qimage(apply_gains(rgb, photo.colour_gains)), halve=False))
    return out


class RowReader(QObject):
    """Reads the shown photos' rows again after a step (their labels, alignment and colour).

    On the GUI thread the read costs about 5 ms, in the same turn of the event loop as the
    repaint it causes: applying a background alignment took one frame of 19–21 ms with it.
    So a step that comes from elsewhere (the main window, an undo there) is read in a worker;
    the background alignment reads the rows in its own worker once it has stored them and
    hands them over (``given``), so that no read runs while the window repaints; a step of
    the window's own is read at once (``at_once``), because what it does next reads them.
    Only the answer to the latest question is told; an earlier one is out of date."""

    read = Signal(list, list)  # the photo ids asked about, their rows (ComparePhoto)
    failed = Signal(str)  # why the photos could not be read (one was erased, say)

    def __init__(
        self,
        lib: Library,
        runner: TaskRunner,
        shown: Callable[[], Sequence[int]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.lib, self.runner, self.shown = lib, runner, shown
        self.asked = 0  # questions asked; the latest is the one answered
        self._now = False
        self._given: tuple[list[int], list[ComparePhoto]] | None = None

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """Within it, the rows are read here and told before ``start`` returns."""
        self._now = True
        try:
            yield
        finally:
            self._now = False

    @contextmanager
    def given(self, ids: Sequence[int], rows: list[ComparePhoto] | None) -> Iterator[None]:
        """Within it, ``rows`` (read in a worker just after the step, for ``ids``) are told
        instead of reading them again, if they are of the photos shown; None reads them."""
        self._given = (list(ids), rows) if rows is not None else None
        try:
            yield
        finally:
            self._given = None

    def start(self) -> None:
        self.asked += 1
        lib, asked, ids = self.lib, self.asked, list(self.shown())
        if self._given is not None and self._given[0] == ids:
            self.read.emit(ids, self._given[1])
        elif self._now:
            self._tell(asked, ids, *read_rows(lib, ids))
        else:
            self.runner.start(
                lambda _task: (asked, ids, *read_rows(lib, ids)),
                finished=self._on_task_finished,
                failed=self._on_task_failed,
            )

    def _on_task_finished(self, result: tuple[int, list[int], list[ComparePhoto], str]) -> None:
        self._tell(*result)

    def _on_task_failed(self, message: str) -> None:
        self.failed.emit(message)

    def _tell(self, asked: int, ids: list[int], rows: list[ComparePhoto], error: str) -> None:
        if asked != self.asked:
            return
        if error:
            self.failed.emit(error)
        else:
            self.read.emit(ids, rows)


def read_rows(lib: Library, ids: Sequence[int]) -> tuple[list[ComparePhoto], str]:
    """In a worker: the photos' rows, or else the refusal's sentence."""
    try:
        return browse.compare_photos(lib, ids), ""
    except TrackerError as exc:
        return [], str(exc)
