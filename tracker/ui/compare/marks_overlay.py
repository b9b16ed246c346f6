"""The marks found, over the photos of the compare window (issue 18), and the tools of the
measures: the overlay on and off, its sensitivity nudged, and the regions drawn.

The marks are found in a worker (``marks_overlay``: the photo decoded, balanced and searched
inside its region), one task a photo; the mask comes back as a translucent QImage and is
painted over the photo on the canvas's layer. *Fewer marks* and *More marks* step the area's
sensitivity along ``STEPS`` (stored as one undoable step, ``SetSensitivity``) and find the
marks again; the background job measures the area's photos again after it, as after any
region drawn.
"""

from __future__ import annotations

import bisect
from typing import Protocol

import shiboken6
from PySide6.QtCore import QPointF, QSize, SignalInstance
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QTransform
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QToolBar, QToolButton

from tracker.core.errors import TrackerError
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services import measure as measuring
from tracker.core.store.library import Library
from tracker.ui.compare.canvas import MODES, CompareCanvas
from tracker.ui.compare.measure import shown_photo
from tracker.ui.compare.regions import CanvasLayer, RegionEditor
from tracker.ui.history import Change, History
from tracker.ui.measure_commands import SetSensitivity
from tracker.ui.workers import Task, TaskRunner

DEFAULT = 4.0  # the engine's DEFAULT_SENSITIVITY (tracker.core.imaging.marks), not loaded here
STEPS = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0)
"""The sensitivities the nudge steps through: deviations above the skin's own variation a
pixel must be to seed a mark (higher finds fewer, stronger marks; the core accepts 1.5–8)."""
TINT = QColor(0, 200, 255)  # cyan: seen on red (rubra) and on pale (alba) marks alike
TINT_OPACITY = 0.45

# The shortcuts of the measures' tools, unused by the compare window's other actions.
KEYS = {
    "marks": "G",
    "skin": "Shift+G",
    "overlay": "M",
    "fewer": "[",
    "more": "]",
}


def next_step(current: float, fewer: bool) -> float | None:
    """The sensitivity one step towards fewer (higher) or more (lower) marks; None at the end."""
    if fewer:
        i = bisect.bisect_right(STEPS, current + 1e-9)
        return STEPS[i] if i < len(STEPS) else None
    i = bisect.bisect_left(STEPS, current - 1e-9)
    return STEPS[i - 1] if i > 0 else None


def tinted(mask_png: bytes) -> QImage:
    """A 1-bit mask (marks white) as a cyan image whose alpha is the mask. In the worker."""
    mask = QImage.fromData(mask_png)
    if mask.isNull():
        raise TrackerError("The marks found could not be read back; find them again.")
    grey = mask.convertToFormat(QImage.Format.Format_Grayscale8)
    image = QImage(grey.size(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(TINT)
    image.setAlphaChannel(grey)
    return image


def _find(lib: Library, photo_id: int, _task: Task) -> tuple[int, QImage]:
    overlay = measuring.marks_overlay(lib, photo_id)
    return photo_id, tinted(overlay.mask_png)


class Host(Protocol):
    """What of the compare window the tools use."""

    lib: Library
    runner: TaskRunner
    history: History
    canvas: CompareCanvas
    status: QLabel
    photos: list[ComparePhoto]
    mode: QComboBox
    align: QAction
    neutral: QAction
    ruler: QAction
    loaded: SignalInstance


class MarksOverlay:
    """The masks of the marks found in the photos shown, painted translucent over them."""

    def __init__(self, host: Host, layer: CanvasLayer) -> None:
        self.host, self.layer = host, layer
        self.on = False
        self.masks: dict[int, QImage] = {}
        self.pending: set[int] = set()
        self.refused: list[str] = []  # why a photo shown has no marks, a sentence each
        self._said = ""  # the overlay's last sentence in the status line
        self._generation = 0  # results of an earlier request are dropped
        layer.paint_steps.insert(0, self.paint)  # under the outlines

    def show(self, on: bool) -> None:
        self.on = on
        if on:
            self.find()
        else:
            self._generation += 1
            self.masks, self.pending = {}, set()
            self.layer.update()

    def find(self) -> None:
        """Find the marks in every photo shown, each in a worker of its own."""
        host = self.host
        self._generation += 1
        generation = self._generation
        self.masks, self.refused = {}, []
        photos = list(host.canvas.photos)
        self.pending = {p.id for p in photos}
        if photos:
            self._say("Finding the marks in the photos shown…", newest=True)
        for photo in photos:
            self._start(photo.id, generation)
        self.layer.update()

    def _start(self, photo_id: int, generation: int) -> None:
        lib = self.host.lib

        def work(task: Task) -> tuple[int, QImage]:
            return _find(lib, photo_id, task)

        def found(result: tuple[int, QImage]) -> None:
            self._on_found(generation, result)

        def failed(message: str) -> None:
            self._on_failed(generation, photo_id, message)

        self.host.runner.start(work, finished=found, failed=failed)

    def _alive(self, generation: int) -> bool:
        return generation == self._generation and shiboken6.isValid(self.layer)

    def _on_found(self, generation: int, result: tuple[int, QImage]) -> None:
        if not self._alive(generation):
            return
        photo_id, image = result
        self.masks[photo_id] = image
        self.pending.discard(photo_id)
        self._done()
        self.layer.update()

    def _on_failed(self, generation: int, photo_id: int, message: str) -> None:
        if not self._alive(generation):
            return
        self.pending.discard(photo_id)
        photo = next((p for p in self.host.canvas.photos if p.id == photo_id), None)
        when = f"{photo.visit_date:%d %b %Y}" if photo else f"photo {photo_id}"
        self.refused.append(f"No marks shown on the photo of {when}: {message}")
        self._done()

    def _done(self) -> None:
        """Every photo shown answered: one sentence, the refusals first (all of them in the
        status line's tooltip when there are several)."""
        if self.pending:
            return
        if not self.refused:
            self._say(
                "The marks found are tinted: check that they cover the marks and nothing else. "
                "Fewer ([) or More (]) nudges how faint a mark may be."
            )
            return
        more = len(self.refused) - 1
        self._say(self.refused[0] + (f" (and {more} more photo{'s' * (more > 1)})" if more else ""))
        if more:
            self.host.status.setToolTip("\n".join(self.refused))

    def _say(self, text: str, *, newest: bool = False) -> None:
        """The overlay's sentence in the status line. Its answers come late: one is shown
        only while the line still holds the overlay's own sentence, so that what the person
        did since keeps its sentence (the refusals stay in ``refused``); ``newest``: the
        sentence of the person's own request, shown always."""
        status = self.host.status
        if not newest and status.text() not in (self._said, ""):
            return
        status.setText(text)
        self._said = text

    def paint(self, painter: QPainter) -> None:
        if not self.on:
            return
        canvas = self.host.canvas
        painter.setOpacity(TINT_OPACITY)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for pane, rect in enumerate(canvas.pane_rects()):
            index = shown_photo(canvas, pane)
            if index >= len(canvas.photos):
                continue
            photo = canvas.photos[index]
            image = self.masks.get(photo.id)
            if image is None or image.width() == 0:
                continue
            painter.save()
            painter.setClipRect(rect)
            to_photo = QTransform.fromScale(
                photo.width / image.width(), photo.height / image.height()
            )
            painter.setTransform(to_photo * canvas.photo_to_screen(index))
            painter.drawImage(QPointF(0, 0), image)
            painter.restore()


class MeasureTools:
    """The measures' toolbar of a compare window: regions, the marks found and their nudge."""

    def __init__(self, host: Host, widget: QMainWindow) -> None:
        self.host = host
        self.read_only = False
        self.layer = CanvasLayer(host.canvas)
        self.overlay = MarksOverlay(host, self.layer)
        self.editor = RegionEditor(host.canvas, self.layer, host.history, lambda: host.photos)

        def action(text: str, key: str, tip: str, checkable: bool = False) -> QAction:
            made = QAction(text, widget)
            if key:
                made.setShortcut(QKeySequence(KEYS[key]))
            made.setCheckable(checkable)
            made.setToolTip(tip + (f" ({KEYS[key]})" if key else ""))
            widget.addAction(made)
            return made

        self.draw_marks = action(
            "Outline marks", "marks", "Outline the marks on the view's photos", True
        )
        self.draw_skin = action(
            "Outline untreated skin",
            "skin",
            "Outline a patch of untreated skin beside the marks",
            True,
        )
        self.clear_marks = action("Clear the marks' outline", "", "Measure the whole photo again")
        self.clear_skin = action(
            "Clear the skin patch", "", "Take the skin beside the marks found again"
        )
        self.show_marks = action(
            "Marks found", "overlay", "Tint the marks found in each photo", True
        )
        self.fewer = action("Fewer", "fewer", "Find fewer, stronger marks")
        self.more = action("More", "more", "Find fainter marks too")
        toolbar = QToolBar("Measures", widget)
        toolbar.setObjectName("compare-measures")
        toolbar.setIconSize(QSize(20, 20))
        for entry in (self.draw_marks, self.show_marks, self.fewer, self.more):
            toolbar.addAction(entry)
        button = toolbar.widgetForAction(self.draw_marks)
        if isinstance(button, QToolButton):
            menu = QMenu(button)
            menu.addAction(self.draw_skin)
            menu.addSeparator()
            menu.addAction(self.clear_marks)
            menu.addAction(self.clear_skin)
            button.setMenu(menu)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        # On the first row, after the view's controls, where there is room at 1024 px (the
        # Ruler is on the second row, with the tools, to leave it).
        tools = widget.findChild(QToolBar, "compare-tools")
        if tools is not None and widget.toolBarBreak(tools):
            widget.removeToolBarBreak(tools)
            widget.insertToolBar(tools, toolbar)
            widget.insertToolBarBreak(tools)
        else:
            widget.addToolBar(toolbar)
        self.toolbar = toolbar
        self._set_nudge_enabled()
        self._connect_signals()

    def _connect_signals(self) -> None:
        host = self.host
        self.draw_marks.toggled.connect(lambda on: self._on_draw_toggled("marks", on))
        self.draw_skin.toggled.connect(lambda on: self._on_draw_toggled("skin", on))
        self.clear_marks.triggered.connect(lambda: self.editor.clear("marks"))
        self.clear_skin.triggered.connect(lambda: self.editor.clear("skin"))
        self.show_marks.toggled.connect(self._on_show_marks_toggled)
        self.fewer.triggered.connect(lambda: self.nudge(fewer=True))
        self.more.triggered.connect(lambda: self.nudge(fewer=False))
        self.editor.said.connect(host.status.setText)
        self.editor.stopped.connect(self._on_editor_stopped)
        for other in (host.align, host.neutral, host.ruler):
            other.toggled.connect(self._on_other_tool_toggled)
        host.loaded.connect(self._on_host_loaded)
        host.history.changed.connect(self._on_history_changed)

    # -- regions -----------------------------------------------------------------------------

    def _on_draw_toggled(self, kind: str, on: bool) -> None:
        other = self.draw_skin if kind == "marks" else self.draw_marks
        if on:
            other.setChecked(False)
            host = self.host
            for tool in (host.align, host.neutral, host.ruler):
                tool.setChecked(False)
            host.mode.setCurrentIndex(MODES.index("side"))
            self.editor.start(kind)
            host.canvas.setFocus()
        elif not other.isChecked():
            dropped = self.editor.draft is not None
            self.editor.stop()
            self.host.status.setText(
                "The outline being drawn was not closed, so it was not stored." if dropped else ""
            )

    def _on_editor_stopped(self) -> None:
        self.draw_marks.setChecked(False)
        self.draw_skin.setChecked(False)

    def _on_other_tool_toggled(self, on: bool) -> None:
        if on:
            self._on_editor_stopped()

    # -- the marks found ---------------------------------------------------------------------

    def _on_show_marks_toggled(self, on: bool) -> None:
        self.editor.visible = on
        self.overlay.show(on)
        self._set_nudge_enabled()
        if not on:
            self.host.status.setText("")

    def _set_nudge_enabled(self) -> None:
        on = self.show_marks.isChecked() and not self.read_only
        self.fewer.setEnabled(on)
        self.more.setEnabled(on)

    def set_read_only(self) -> None:
        """A read-only library: the marks found can be shown, nothing drawn, cleared or nudged."""
        self.read_only = True
        for edit in (self.draw_marks, self.draw_skin, self.clear_marks, self.clear_skin):
            edit.setChecked(False)
            edit.setEnabled(False)
        self._set_nudge_enabled()

    def nudge(self, *, fewer: bool) -> bool:
        """One step of the first photo's area's sensitivity, as one undoable step."""
        host = self.host
        if not host.photos or not self.show_marks.isChecked():
            return False
        photo = host.photos[0]
        try:
            stored = measuring.sensitivity(host.lib, photo.area_id)
        except TrackerError as exc:
            host.status.setText(str(exc))
            return False
        current = DEFAULT if stored is None else stored
        value = next_step(current, fewer)
        if value is None:
            host.status.setText(
                f"The sensitivity of {photo.area} is at its {'highest' if fewer else 'lowest'} "
                f"({current:g}): no {'fewer' if fewer else 'fainter'} marks can be asked for."
            )
            return False
        try:
            host.history.push(SetSensitivity(host.lib, photo.area_id, value))
        except TrackerError as exc:
            host.status.setText(str(exc))
            return False
        host.status.setText(
            f"Sensitivity of {photo.area}: {current:g} → {value:g} "
            f"({'fewer, stronger' if fewer else 'more, fainter'} marks). Undo takes it back; "
            "the photos are measured again in the background."
        )
        return True

    # -- keeping up --------------------------------------------------------------------------

    def _on_host_loaded(self) -> None:
        host = self.host
        self.editor.load(host.lib, host.photos)
        if self.overlay.on:
            self.overlay.find()

    def _on_history_changed(self, changes: Change, photo_ids: frozenset[int]) -> None:
        """A region, the sensitivity or a photo's colour changed (here, in the main window, or
        by undo): the marks shown are found again."""
        if not self.overlay.on:
            return
        shown = {p.id for p in self.host.canvas.photos}
        if changes & Change.MEASURES or (changes & Change.COLOUR and shown & photo_ids):
            self.overlay.find()
