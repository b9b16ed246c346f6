"""The compare window: 2–4 photos in one of five modes, aligned automatically or by landmarks
and colour-balanced on a neutral patch, both stored non-destructively and undoable, measured
(scale bar, ruler) and exported as an image.

Previews (never originals) are loaded and colour-balanced on the thread pool; the canvas only
paints. The geometry of each photo in the first photo's frame comes from the core
(``tracker.core.compare.placement``), the same that the exports use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QMessageBox,
    QWidget,
)

from tracker import APP_NAME
from tracker.core.compare import render as compare_core
from tracker.core.compare.render import CompareOptions, export, placement, render
from tracker.core.errors import TrackerError
from tracker.core.imaging import geometry as al
from tracker.core.queries import browse
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services.photos import align_by_landmarks
from tracker.core.store.library import Library
from tracker.rendering.images import pil_to_qimage
from tracker.ui.commands import SetAlignment, SetGains
from tracker.ui.compare.auto_align import AutoAligner
from tracker.ui.compare.canvas import MODES, STEP
from tracker.ui.compare.layout import MODE_LABELS, CompareLayout
from tracker.ui.compare.loading import RowReader, load_originals, load_previews
from tracker.ui.compare.marks_overlay import MeasureTools
from tracker.ui.compare.picker import PhotoPicker, photo_choices
from tracker.ui.compare.pyramid import Pyramid
from tracker.ui.history import Change, Command, History
from tracker.ui.models import ThumbnailCache
from tracker.ui.saving import ask_save_file
from tracker.ui.settings import Preferences
from tracker.ui.workers import Task, TaskRunner

EXPORT_FILTERS = (
    "JPEG, screen size (*.jpg)",
    "JPEG, full size (*.jpg)",
    "PNG, screen size (*.png)",
    "PNG, full size (*.png)",
)


class CompareWindow(CompareLayout):
    """The behaviour of the compare window; its widgets are laid out by ``CompareLayout``."""

    loaded = Signal()
    originals_loaded = Signal()
    exported = Signal(str)
    prefs: Preferences | None = None  # given by the main window: where the exports went

    def __init__(
        self,
        lib: Library,
        photo_ids: Sequence[int],
        runner: TaskRunner,
        history: History,
        parent: QWidget | None = None,
        client_id: int | None = None,
    ) -> None:
        super().__init__(history, parent)
        self.client_id = client_id  # for choosing photos of the client's other areas
        self.lib, self.runner = lib, runner
        # Issue 20: asks the purpose and checks consent (None: write nothing), then records it.
        self.consent_gate: Callable[[list[int], Path], Callable[[], object] | None] | None = None
        self.photo_ids = list(photo_ids)
        self.photos: list[ComparePhoto] = []
        self.raw: list[Image.Image] = []  # the previews as they are, for sampling colour
        self.neutral_level: float | None = None
        self.hires_requested = False
        self.rows = RowReader(lib, runner, lambda: self.photo_ids, self)
        self.auto = AutoAligner(self, lib, runner, history, self._show_error, self.rows)
        self.thumbs = ThumbnailCache(runner, self)  # for the picker's thumbnails
        self.thumbs.set_library(lib)
        self._connect_signals()
        self.measure_tools = MeasureTools(self, self)  # regions and the marks found
        self._on_mode_changed()
        self.reload()

    def _connect_signals(self) -> None:
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.vertical.toggled.connect(self._on_vertical_toggled)
        self.opacity.valueChanged.connect(self._on_opacity_value_changed)
        self.amplify.valueChanged.connect(self._on_amplify_value_changed)
        self.zoom_in.triggered.connect(lambda: self.canvas.set_zoom(self.canvas.zoom * STEP))
        self.zoom_out.triggered.connect(lambda: self.canvas.set_zoom(self.canvas.zoom / STEP))
        self.fit.triggered.connect(self.canvas.fit)
        self.actual.triggered.connect(lambda: self.canvas.set_zoom(1.0))
        self.zoom_button.zoom_chosen.connect(self.canvas.set_zoom)
        self.sync.toggled.connect(self._on_sync_toggled)
        self.aligned.toggled.connect(self._on_aligned_toggled)
        self.labels.toggled.connect(self._on_labels_toggled)
        self.ratings.toggled.connect(self._on_labels_toggled)
        self.choose.triggered.connect(self._on_choose_triggered)
        self.align.toggled.connect(self._on_align_toggled)
        self.apply_align.triggered.connect(self._on_apply_align_triggered)
        self.clear_marks.triggered.connect(self._on_clear_marks_triggered)
        self.reset_align.triggered.connect(self._on_reset_align_triggered)
        self.auto_align.triggered.connect(self._on_auto_align_triggered)
        self.align_view.triggered.connect(self._on_align_view_triggered)
        self.auto.applied.connect(self._on_auto_applied)
        self.auto.job.busy_changed.connect(self._on_auto_busy_changed)
        self.ruler.toggled.connect(self._on_ruler_toggled)
        self.canvas.ruler.measured.connect(self.status.setText)
        self.neutral.toggled.connect(self._on_neutral_toggled)
        self.reset_colour.triggered.connect(self._on_reset_colour_triggered)
        self.export_action.triggered.connect(self._on_export_triggered)
        self.canvas.point_clicked.connect(self._on_canvas_point_clicked)
        self.canvas.view_changed.connect(self._on_canvas_view_changed)
        self.history.changed.connect(self.on_history_changed)
        self.rows.read.connect(self._on_rows_read)
        self.rows.failed.connect(self._show_error)
        self.rows.failed.connect(self.close)  # a photo shown went (erased in the main window)

    # -- loading -----------------------------------------------------------------------------

    def reload(self, *, images: bool = True, rows: list[ComparePhoto] | None = None) -> None:
        """Re-read the photos' labels, alignment and colour from the library, or show ``rows``
        read in a worker after a step; decode the previews if asked or a colour changed."""
        try:
            rows = browse.compare_photos(self.lib, self.photo_ids) if rows is None else rows
        except TrackerError as exc:
            self._show_error(str(exc))
            self.close()
            return
        gains, self.photos = [p.colour_gains for p in self.photos], rows
        if self.canvas.photos:
            self.canvas.set_placement(placement(self.photos, self.aligned.isChecked()))
        if images or [p.colour_gains for p in rows] != gains:
            self._load_images()
        if self.canvas.mode == "difference":
            self._compute_difference()

    def _load_images(self) -> None:
        """Decode the previews (with their colour balance) on the thread pool."""
        self.hires_requested = False
        photos = list(self.photos)
        self.runner.start(
            lambda _t: load_previews(self.lib, photos),
            finished=self._on_previews_loaded,
            failed=self._show_error,
        )

    def _on_previews_loaded(self, result: tuple[list[Image.Image], list[Pyramid]]) -> None:
        self.raw, shown = result
        self.canvas.set_photos(self.photos, shown, placement(self.photos, self.aligned.isChecked()))
        self.loaded.emit()
        self._load_originals_if_zoomed()

    def _load_originals_if_zoomed(self) -> None:
        """Past the previews' resolution, decode the originals in a worker; until they arrive
        the previews stay on screen, so zooming and panning never wait."""
        if self.hires_requested or not self.photos or len(self.canvas.images) != len(self.photos):
            return
        need = any(
            image is not None
            and image.width() < photo.width
            and self.canvas.zoom * photo.width / image.width() > 1.05
            for photo, image in zip(self.photos, self.canvas.images, strict=True)
        )
        if not need:
            return
        self.hires_requested = True
        photos = list(self.photos)
        self.status.setText("Loading the full-resolution photos for this zoom…")
        self.runner.start(
            lambda _t: (photos, load_originals(self.lib, photos)),
            finished=self._on_originals_loaded,
            failed=self._show_error,
        )

    def _on_originals_loaded(self, result: tuple[list[ComparePhoto], list[Pyramid]]) -> None:
        photos, images = result
        if [p.id for p in photos] != [p.id for p in self.photos] or not self.hires_requested:
            return  # the photos or their colour changed meanwhile
        self.canvas.set_images(images)
        self.status.setText("Showing the full-resolution photos.")
        self.originals_loaded.emit()

    def _compute_difference(self) -> None:
        self.canvas.set_difference(None, 1.0)
        if len(self.photo_ids) < 2:
            return
        ids = self.photo_ids[:2]
        options = CompareOptions(
            mode="difference",
            labels=False,
            aligned=self.aligned.isChecked(),
            amplify=self.amplify.value(),
            max_side=2048,
        )
        first = self.photos[0]

        def work(_task: Task) -> tuple[QImage, float]:
            image = render(self.lib, ids, options)
            return pil_to_qimage(image), image.width / first.width

        self.runner.start(
            work, finished=lambda r: self.canvas.set_difference(*r), failed=self._show_error
        )

    # -- slots -------------------------------------------------------------------------------

    def _on_mode_changed(self, *_args: object) -> None:
        mode = self.mode.currentData()
        for key, actions in self.mode_widgets.items():
            for action in actions:
                action.setVisible(key == mode)
        if mode != "side" and len(self.photo_ids) > 2:
            self.status.setText(f"{MODE_LABELS[mode]} shows the first two photos.")
        if mode != "side":
            self.align.setChecked(False)
            self.neutral.setChecked(False)
        self.canvas.set_mode(mode)
        if mode == "difference":
            self._compute_difference()
        self._update_guide()
        self.canvas.setFocus()

    def _update_guide(self) -> None:
        """The instructions of the tool that is on, else the difference mode's legend."""
        tools = (("landmarks", self.align), ("neutral", self.neutral), ("ruler", self.ruler))
        tool = next((name for name, action in tools if action.isChecked()), None)
        self.guide.show_for(tool, self.canvas.mode, self.amplify.value())

    def _on_vertical_toggled(self, on: bool) -> None:
        self.canvas.wipe_vertical = on
        self.canvas.update()

    def _on_opacity_value_changed(self, value: int) -> None:
        self.canvas.opacity = value / 100
        self.canvas.update()

    def _on_amplify_value_changed(self, _value: float) -> None:
        if self.canvas.mode == "difference":
            self._compute_difference()
            self._update_guide()

    def _on_sync_toggled(self, on: bool) -> None:
        self.canvas.sync = on
        self.status.setText(
            ""
            if on
            else "Each photo now zooms and pans on its own; tick Move together to link them again."
        )

    def _on_aligned_toggled(self, on: bool) -> None:
        if self.photos:
            self.canvas.set_placement(placement(self.photos, on))
        if self.canvas.mode == "difference":
            self._compute_difference()

    def _on_labels_toggled(self, _on: bool) -> None:
        self.canvas.show_labels = self.labels.isChecked()
        self.canvas.show_ratings = self.ratings.isChecked()
        self.canvas.update()

    def _on_canvas_view_changed(self) -> None:
        self.zoom_button.show_zoom(self.canvas.zoom)
        self._load_originals_if_zoomed()

    def on_history_changed(self, changes: Change, photo_ids: frozenset[int]) -> None:
        """A step was done or undone here or in the main window: reload only what it changed
        of these photos. Labels show visits and ratings; the canvas shows alignment; the
        previews are decoded again only when a colour balance of one of them changed."""
        labels = bool(changes & (Change.VISITS | Change.RATINGS))
        pictures = bool(changes & (Change.ALIGNMENT | Change.COLOUR | Change.PHOTOS)) and bool(
            set(self.photo_ids) & photo_ids
        )
        if not (labels or pictures):
            return
        self.rows.start()  # in a worker, or given: the repaint then has its frame alone

    def _on_rows_read(self, ids: list[int], rows: list[ComparePhoto]) -> None:
        if ids == self.photo_ids:  # else other photos were chosen meanwhile, and read
            self.reload(images=False, rows=rows)

    def _on_choose_triggered(self) -> None:
        if not self.photos:
            return
        choices, every, _ = photo_choices(self.lib, self.photos[0].area_id, self.client_id)
        chosen = PhotoPicker.ask(self, choices, self.photo_ids, every, self.thumbs)
        if chosen:
            self.photo_ids = chosen
            self.canvas.photos = []
            self.canvas.message = "Loading photos…"
            self.reload()

    # -- alignment ---------------------------------------------------------------------------

    def _on_auto_align_triggered(self) -> None:
        if self.photos:
            self.auto.align(self.photo_ids)

    def _on_align_view_triggered(self) -> None:
        if self.photos:
            self.auto.align_view(self.photos[0].area_id, self.photos[0].view)

    def _on_auto_busy_changed(self, busy: bool) -> None:
        self.auto_align.setEnabled(not busy)
        self.align_view.setEnabled(not busy)
        if busy:
            self.status.setText("Aligning in the background; the window stays usable.")

    def _on_auto_applied(self, text: str, stored: bool) -> None:
        if stored:
            self.aligned.setChecked(True)
        self.status.setText(text)

    def _on_ruler_toggled(self, on: bool) -> None:
        self.canvas.ruler.active = on
        if on:
            self.align.setChecked(False)
            self.neutral.setChecked(False)
        else:
            self.canvas.ruler.clear()
        self.status.setText("")
        self._update_guide()
        self.canvas.update()

    def _on_align_toggled(self, on: bool) -> None:
        if on:
            self.ruler.setChecked(False)
            self.neutral.setChecked(False)
            self.mode.setCurrentIndex(MODES.index("side"))
            self.aligned.setChecked(False)  # mark points on the photos as they are
        self.status.setText("")
        self._update_guide()
        self.canvas.picking = on or self.neutral.isChecked()

    def _on_canvas_point_clicked(self, index: int, point: QPointF) -> None:
        if self.neutral.isChecked():
            self._pick_neutral(index, point)
            return
        photo = self.photos[index]
        if not (0 <= point.x() <= photo.width and 0 <= point.y() <= photo.height):
            self.status.setText("That point is outside the photo; click on the photo itself.")
            return
        self.canvas.landmarks[index].append(point)
        counts = " · ".join(str(len(p)) for p in self.canvas.landmarks)
        self.status.setText(
            f"Points marked on each photo: {counts}. Mark the same points, in the same order, on every photo."
        )
        self.canvas.update()

    def _on_clear_marks_triggered(self) -> None:
        for marks in self.canvas.landmarks:
            marks.clear()
        self.canvas.update()

    def _on_apply_align_triggered(self) -> None:
        if not self.align.isChecked():
            return
        marks = [[(p.x(), p.y()) for p in m] for m in self.canvas.landmarks]
        try:
            plan = align_by_landmarks(self.lib, self.photos, marks)
        except TrackerError as exc:
            self._show_error(str(exc))
            return
        alignments: dict[int, al.Alignment | None] = dict(plan.alignments)
        references = [plan.reference] if plan.reference is not None else []
        if not self._run(SetAlignment(self.lib, alignments, references, self._seen())):
            return
        self.align.setChecked(False)
        self._on_clear_marks_triggered()
        self.aligned.setChecked(True)
        report = " ".join(
            f"{photo.visit_date:%d %b}: {plan.alignments[photo.id].words()}"
            for photo, _fit in plan.fits
        )
        text = f"{report} Undo takes it back."
        if plan.worst_error > 3:
            text += (
                f" The points disagree by up to {plan.worst_error:.0f} pixels: check that each number marks "
                "the same spot on every photo, zoom in to place them, or spread them further apart."
            )
        self.status.setText(text)

    def _on_reset_align_triggered(self) -> None:
        cleared = [p.id for p in self.photos if p.alignment is not None]
        if cleared:
            self._run(SetAlignment(self.lib, dict.fromkeys(cleared), seen=self._seen()))

    # -- colour -------------------------------------------------------------------------------

    def _on_neutral_toggled(self, on: bool) -> None:
        if on:
            self.ruler.setChecked(False)
            self.align.setChecked(False)
            self.mode.setCurrentIndex(MODES.index("side"))
            self.neutral_level = None
        self.status.setText("")
        self._update_guide()
        self.canvas.picking = on or self.align.isChecked()

    def _pick_neutral(self, index: int, point: QPointF) -> None:
        photo, image = self.photos[index], self.raw[index]
        try:
            patch = al.patch_mean(
                image,
                point.x() * image.width / photo.width,
                point.y() * image.height / photo.height,
            )
            gains = al.neutral_gains(patch, self.neutral_level if index != 0 else None)
        except TrackerError as exc:
            self._show_error(str(exc))
            return
        if index == 0:
            self.neutral_level = sum(patch) / 3
        self._run(SetGains(self.lib, {photo.id: gains}, self._seen()))
        self.status.setText(
            f"Colour balanced on {photo.visit_date:%d %b %Y}. Click a neutral patch on another photo, or untick Pick neutral patch."
        )

    def _on_reset_colour_triggered(self) -> None:
        balanced = {p.id: None for p in self.photos if p.colour_gains is not None}
        if balanced:
            self._run(SetGains(self.lib, balanced, self._seen()))

    # -- export ------------------------------------------------------------------------------

    def export_options(self) -> CompareOptions:
        mode = self.canvas.mode
        if mode == "blink":
            mode = "side"
        return CompareOptions(
            mode=mode,
            aligned=self.aligned.isChecked(),
            labels=self.labels.isChecked(),
            ratings=self.labels.isChecked() and self.ratings.isChecked(),
            wipe=self.canvas.wipe if self.canvas.wipe_vertical else 0.5,
            opacity=self.canvas.opacity,
            amplify=self.amplify.value(),
            caption=self.caption.text().strip(),
        )

    def _file_words(self) -> list[str]:
        """What an export is called: a comparison, whose, of which area(s)."""
        clients = list(dict.fromkeys(p.client for p in self.photos))
        areas = list(dict.fromkeys(p.area for p in self.photos))
        return ["comparison", *clients[:1], *areas[:2]]

    def _on_export_triggered(self) -> None:
        chosen = ask_save_file(
            self, self.prefs, "compare", "Export the comparison", self._file_words(), EXPORT_FILTERS
        )
        if chosen is not None:
            self.export_to(chosen[0], full_size="full size" in chosen[1])

    def export_to(self, out: Path, *, full_size: bool = False) -> None:
        """Write the comparison as shown; ``full_size`` reads the originals (up to 8192 px a
        photo) instead of the screen-size previews."""
        options = self.export_options()
        if full_size:
            options = replace(options, max_side=compare_core.full_size(self.photos))
        ids = self.photo_ids if options.mode == "side" else self.photo_ids[:2]
        after = self.consent_gate(ids, out) if self.consent_gate else (lambda: None)
        if after is None:
            return
        self.status.setText(f"Exporting to {out.name}…")
        self.runner.start(
            lambda _t: export(self.lib, ids, out, options),
            finished=lambda r: self._on_exported(str(r["file"]), after),
            failed=self._show_error,
        )

    def _on_exported(self, file: str, after: Callable[[], object]) -> None:
        after()  # the main window's audit entry (issue 20)
        self.status.setText(f"Saved {file}. It carries no camera, location or device data.")
        self.exported.emit(file)

    # -- helpers -----------------------------------------------------------------------------

    def _run(self, command: Command) -> bool:
        try:
            with self.rows.at_once():  # what this window does next reads the step's rows
                self.history.push(command)
        except TrackerError as exc:
            self._show_error(str(exc))
            self.reload(images=False)  # what is stored: another workstation's change, fresh
            return False
        return True

    def _seen(self) -> dict[int, int]:  # the photos' versions as shown, which its edits name
        return {p.id: p.version for p in self.photos}

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, APP_NAME, message)
