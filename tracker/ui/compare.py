"""The compare window: 2–4 photos in one of five modes, aligned by landmarks and colour-balanced
on a neutral patch, both stored non-destructively and undoable, and exported as an image.

Previews (never originals) are loaded and colour-balanced on the thread pool; the canvas only
paints. The geometry of each photo in the first photo's frame comes from the core
(``tracker.core.compare.placement``), the same that the exports use.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSlider,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.core.compare import render as compare_core
from tracker.core.compare.render import (
    CompareOptions,
    apply_gains,
    export,
    placement,
    render,
)
from tracker.core.errors import TrackerError
from tracker.core.imaging import geometry as al
from tracker.core.queries import workspace as ws
from tracker.core.store.library import Library
from tracker.rendering.images import pil_to_qimage
from tracker.ui.commands import Command, push
from tracker.ui.compare_canvas import MODES, STEP, CompareCanvas
from tracker.ui.icons import icon
from tracker.ui.workers import Task, TaskRunner

MODE_LABELS = {
    "side": "Side by side",
    "wipe": "Wipe",
    "overlay": "Overlay",
    "blink": "Blink",
    "difference": "Difference",
}


def load_previews(
    lib: Library, photos: Sequence[ws.ComparePhoto]
) -> tuple[list[QImage], list[QImage]]:
    """In a worker: each photo's preview as it is (for sampling) and colour-balanced (for display).

    Previews not made yet (a JPEG's first view, about 65 ms each) are made side by side; the
    rest is quicker one photo after the other (measured: 34 ms against 57 ms in threads).
    """
    with ThreadPoolExecutor(max_workers=max(1, len(photos))) as pool:
        previews = list(pool.map(lambda photo: lib.derived("previews", photo.sha256), photos))
    raw, shown = [], []
    for photo, preview in zip(photos, previews, strict=True):
        with Image.open(io.BytesIO(preview)) as src:
            rgb = src.convert("RGB")
        raw.append(pil_to_qimage(rgb))
        shown.append(pil_to_qimage(apply_gains(rgb, photo.colour_gains)))
    return raw, shown


EXPORT_FILTERS = (
    "JPEG, screen size (*.jpg)",
    "JPEG, full size (*.jpg)",
    "PNG, screen size (*.png)",
    "PNG, full size (*.png)",
)
HIRES_MAX_SIDE = 8192  # a 200 MP photo is shown at most this large when zoomed in


def load_originals(lib: Library, photos: Sequence[ws.ComparePhoto]) -> list[QImage]:
    """In a worker: the originals, upright and colour-balanced, for zooming past the previews."""
    out = []
    for photo in photos:
        rgb = lib.original_image(photo.sha256, HIRES_MAX_SIDE)
        out.append(pil_to_qimage(apply_gains(rgb, photo.colour_gains)))
    return out


class SetAlignment(Command):
    """Store transforms for photos (and the reference photo of their area and view)."""

    def __init__(
        self,
        lib: Library,
        matrices: dict[int, al.Matrix | None],
        reference: tuple[int, str, int] | None = None,
    ) -> None:
        super().__init__(lib, "align photos" if any(matrices.values()) else "reset alignment")
        self.matrices = matrices
        self.reference = reference  # (area id, view, photo id) to make the reference
        self.old: dict[int, al.Matrix | None] = {}
        self.old_reference: int | None = None

    def do(self) -> None:
        if self.reference is not None:
            area, view, photo = self.reference
            self.old_reference = ws.set_reference_photo(self.lib, area, view, photo)
        self.old = {pid: ws.set_alignment(self.lib, pid, m) for pid, m in self.matrices.items()}

    def revert(self) -> None:
        for pid, m in self.old.items():
            ws.set_alignment(self.lib, pid, m)
        if self.reference is not None:
            area, view, _ = self.reference
            ws.set_reference_photo(self.lib, area, view, self.old_reference)


class SetGains(Command):
    def __init__(self, lib: Library, photo_id: int, gains: al.Gains | None) -> None:
        super().__init__(lib, "balance colour" if gains else "reset colour")
        self.photo_id, self.gains = photo_id, gains
        self.old: al.Gains | None = None

    def do(self) -> None:
        self.old = ws.set_colour_gains(self.lib, self.photo_id, self.gains)

    def revert(self) -> None:
        ws.set_colour_gains(self.lib, self.photo_id, self.old)


Choices = list[tuple[str, int]]


def photo_choices(
    lib: Library, area_id: int, client_id: int | None
) -> tuple[Choices, Choices, list[int]]:
    """The area's photos and every photo of the client, as (label, photo id) for the picker, and
    a sensible first pick: the area's first photo and the latest one of the same view."""
    rows = ws.area_photos(lib, area_id)
    area = [(f"{day:%d %b %Y} · {row.view} · {row.original_name}", row.id) for day, row in rows]
    same_view = [row.id for _, row in rows if row.view == rows[0][1].view]
    default = [same_view[0], same_view[-1]] if len(same_view) >= 2 else [r.id for _, r in rows[:2]]
    every = (
        [
            (f"{day:%d %b %Y} · {name} · {row.view} · {row.original_name}", row.id)
            for day, name, row in ws.client_photos(lib, client_id)
        ]
        if client_id is not None
        else []
    )
    return area, every, default


class PhotoPicker(QDialog):
    """Choose 2–4 photos of an area (or, ticking a box, of every area of the client) to compare."""

    def __init__(
        self,
        parent: QWidget | None,
        choices: Sequence[tuple[str, int]],
        chosen: Sequence[int],
        wider: Sequence[tuple[str, int]] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose photos to compare")
        self.resize(460, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Tick 2 to 4 photos. The first ticked is the one the others are shown against.",
                self,
            )
        )
        self.list = QListWidget(self)
        self.list.setAccessibleName("Photos")
        self.choices, self.wider = list(choices), list(wider)
        self._fill(self.choices, chosen)
        layout.addWidget(self.list)
        self.every_area = QCheckBox("Show the photos of every area", self)
        self.every_area.setVisible(bool(wider))
        self.every_area.toggled.connect(self._on_every_area_toggled)
        layout.addWidget(self.every_area)
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #c0392b")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _fill(self, choices: Sequence[tuple[str, int]], chosen: Sequence[int]) -> None:
        self.list.clear()
        for text, pid in choices:
            item = QListWidgetItem(text, self.list)
            item.setData(Qt.ItemDataRole.UserRole, pid)
            item.setCheckState(Qt.CheckState.Checked if pid in chosen else Qt.CheckState.Unchecked)

    def _on_every_area_toggled(self, on: bool) -> None:
        self._fill(self.wider if on else self.choices, self.chosen())

    def chosen(self) -> list[int]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def _on_buttons_accepted(self) -> None:
        n = len(self.chosen())
        if not 2 <= n <= 4:
            self.problem.setText(f"Tick 2 to 4 photos; {n} {'is' if n == 1 else 'are'} ticked.")
            return
        self.accept()

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        choices: Sequence[tuple[str, int]],
        chosen: Sequence[int],
        wider: Sequence[tuple[str, int]] = (),
    ) -> list[int] | None:
        dialog = cls(parent, choices, chosen, wider)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


class CompareWindow(QMainWindow):
    loaded = Signal()
    originals_loaded = Signal()
    exported = Signal(str)

    def __init__(
        self,
        lib: Library,
        photo_ids: Sequence[int],
        runner: TaskRunner,
        undo_stack: QUndoStack,
        parent: QWidget | None = None,
        client_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.client_id = client_id  # for choosing photos of the client's other areas
        self.setWindowTitle(f"Compare — {APP_NAME}")
        self.setWindowFlag(Qt.WindowType.Window)
        self.resize(1240, 780)
        self.lib, self.runner, self.undo_stack = lib, runner, undo_stack
        self.photo_ids = list(photo_ids)
        self.photos: list[ws.ComparePhoto] = []
        self.raw: list[QImage] = []
        self.neutral_level: float | None = None
        self.hires_requested = False
        self.canvas = CompareCanvas(self)
        self.setCentralWidget(self.canvas)
        # One line that never changes the window's layout: a wrapping status would resize the
        # canvas under the pointer while landmarks are being clicked.
        self.status = QLabel(self)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.status, 1)
        self.zoom_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self._build_toolbars()
        self._connect_signals()
        self._on_mode_changed()
        self.reload()

    # -- building ----------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        icon_name: str,
        keys: Sequence[QKeySequence | str] = (),
        checkable: bool = False,
    ) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QAction().icon(), text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        self.addAction(action)
        return action

    def _build_toolbars(self) -> None:
        view = QToolBar("View", self)
        view.setObjectName("compare-view")
        view.setIconSize(QSize(20, 20))
        self.mode = QComboBox(self)
        for key in MODES:
            self.mode.addItem(MODE_LABELS[key], key)
        self.mode.setAccessibleName("Comparison mode")
        view.addWidget(QLabel(" Mode: ", self))
        view.addWidget(self.mode)
        self.vertical = QCheckBox("Divider upright", self)
        self.vertical.setChecked(True)
        self.vertical.setToolTip(
            "A vertical divider that moves left and right; untick for a horizontal one"
        )
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(120)
        self.opacity.setAccessibleName("Opacity of the second photo")
        self.amplify = QDoubleSpinBox(self)
        self.amplify.setRange(1, 20)
        self.amplify.setValue(4)
        self.amplify.setPrefix("×")
        self.amplify.setAccessibleName("Amplify the difference")
        self.mode_widgets = {
            "wipe": [view.addWidget(self.vertical)],
            "overlay": [view.addWidget(QLabel(" Opacity ", self)), view.addWidget(self.opacity)],
            "difference": [view.addWidget(QLabel(" Amplify ", self)), view.addWidget(self.amplify)],
        }
        view.addSeparator()
        self.zoom_in = self._action(
            "Zoom in", "zoom-in", ["+", "=", QKeySequence(QKeySequence.StandardKey.ZoomIn)]
        )
        self.zoom_out = self._action(
            "Zoom out", "zoom-out", ["-", QKeySequence(QKeySequence.StandardKey.ZoomOut)]
        )
        self.fit = self._action("Fit", "fit", ["F"])
        self.actual = self._action("100%", "", ["1"])
        for action in (self.zoom_in, self.zoom_out, self.fit, self.actual):
            view.addAction(action)
        self.sync = QCheckBox("Move together", self)
        self.sync.setChecked(True)
        self.sync.setToolTip("Zoom and pan every photo at once; untick to move one on its own")
        self.aligned = QCheckBox("Aligned", self)
        self.aligned.setChecked(True)
        self.aligned.setToolTip("Show the photos through their stored alignment")
        self.labels = QCheckBox("Labels", self)
        self.labels.setChecked(True)
        self.ratings = QCheckBox("Ratings", self)
        for box in (self.sync, self.aligned, self.labels, self.ratings):
            view.addWidget(box)
        self.addToolBar(view)
        self.addToolBarBreak()

        tools = QToolBar("Tools", self)
        tools.setObjectName("compare-tools")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setIconSize(QSize(20, 20))
        self.choose = self._action("Choose photos…", "compare", ["Ctrl+K"])
        self.align = self._action("Mark landmarks", "", ["L"], checkable=True)
        self.apply_align = self._action("Apply alignment", "", ["Return"])
        self.clear_marks = self._action("Clear marks", "", [])
        self.reset_align = self._action("Reset alignment", "", [])
        self.neutral = self._action("Pick neutral patch", "", ["N"], checkable=True)
        self.reset_colour = self._action("Reset colour", "", [])
        self.export_action = self._action("Export…", "import", ["Ctrl+E"])
        self.caption = QLineEdit(self)
        self.caption.setPlaceholderText("Caption for the export (optional)")
        self.caption.setAccessibleName("Caption for the exported image")
        self.caption.setMaxLength(300)
        self.caption.setMinimumWidth(220)
        self.undo = self.undo_stack.createUndoAction(self, "Undo")
        self.undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo = self.undo_stack.createRedoAction(self, "Redo")
        self.redo.setShortcuts(
            [QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)]
        )
        self.addAction(self.undo)
        self.addAction(self.redo)
        entries: tuple[QAction | None, ...] = (
            self.choose,
            None,
            self.align,
            self.apply_align,
            self.clear_marks,
            self.reset_align,
            None,
            self.neutral,
            self.reset_colour,
            None,
            self.undo,
            self.redo,
            None,
            self.export_action,
        )
        for entry in entries:
            tools.addSeparator() if entry is None else tools.addAction(entry)
        # Undo and redo name the edit they take back ("Undo add area Belly left"): as icons,
        # with that text as their tooltip, so the caption field keeps its room.
        for action, name in ((self.undo, "undo"), (self.redo, "redo")):
            action.setIcon(icon(name))
            button = tools.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tools.addWidget(self.caption)
        self.addToolBar(tools)

    def _connect_signals(self) -> None:
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.vertical.toggled.connect(self._on_vertical_toggled)
        self.opacity.valueChanged.connect(self._on_opacity_value_changed)
        self.amplify.valueChanged.connect(self._on_amplify_value_changed)
        self.zoom_in.triggered.connect(lambda: self.canvas.set_zoom(self.canvas.zoom * STEP))
        self.zoom_out.triggered.connect(lambda: self.canvas.set_zoom(self.canvas.zoom / STEP))
        self.fit.triggered.connect(self.canvas.fit)
        self.actual.triggered.connect(lambda: self.canvas.set_zoom(1.0))
        self.sync.toggled.connect(self._on_sync_toggled)
        self.aligned.toggled.connect(self._on_aligned_toggled)
        self.labels.toggled.connect(self._on_labels_toggled)
        self.ratings.toggled.connect(self._on_labels_toggled)
        self.choose.triggered.connect(self._on_choose_triggered)
        self.align.toggled.connect(self._on_align_toggled)
        self.apply_align.triggered.connect(self._on_apply_align_triggered)
        self.clear_marks.triggered.connect(self._on_clear_marks_triggered)
        self.reset_align.triggered.connect(self._on_reset_align_triggered)
        self.neutral.toggled.connect(self._on_neutral_toggled)
        self.reset_colour.triggered.connect(self._on_reset_colour_triggered)
        self.export_action.triggered.connect(self._on_export_triggered)
        self.canvas.point_clicked.connect(self._on_canvas_point_clicked)
        self.canvas.view_changed.connect(self._on_canvas_view_changed)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)

    # -- loading -----------------------------------------------------------------------------

    def reload(self, *, images: bool = True) -> None:
        """Re-read the photos' labels, alignment and colour from the library."""
        try:
            self.photos = ws.compare_photos(self.lib, self.photo_ids)
        except TrackerError as exc:
            self._show_error(str(exc))
            self.close()
            return
        if self.canvas.photos:
            self.canvas.set_placement(placement(self.photos, self.aligned.isChecked()))
        if images:
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

    def _on_previews_loaded(self, result: tuple[list[QImage], list[QImage]]) -> None:
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

    def _on_originals_loaded(self, result: tuple[list[ws.ComparePhoto], list[QImage]]) -> None:
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
        self.canvas.setFocus()

    def _on_vertical_toggled(self, on: bool) -> None:
        self.canvas.wipe_vertical = on
        self.canvas.update()

    def _on_opacity_value_changed(self, value: int) -> None:
        self.canvas.opacity = value / 100
        self.canvas.update()

    def _on_amplify_value_changed(self, _value: float) -> None:
        if self.canvas.mode == "difference":
            self._compute_difference()

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
        self.zoom_label.setText(f"{round(self.canvas.zoom * 100)}%")
        self._load_originals_if_zoomed()

    def _on_undo_stack_index_changed(self, _index: int) -> None:
        # Any edit lands here (a rating in the main window too): decode the previews again only
        # when a colour balance changed, since that is all they depend on.
        gains = [p.colour_gains for p in self.photos]
        self.reload(images=False)
        if [p.colour_gains for p in self.photos] != gains:
            self._load_images()

    def _on_choose_triggered(self) -> None:
        if not self.photos:
            return
        choices, every, _ = photo_choices(self.lib, self.photos[0].area_id, self.client_id)
        chosen = PhotoPicker.ask(self, choices, self.photo_ids, every)
        if chosen:
            self.photo_ids = chosen
            self.canvas.photos = []
            self.canvas.message = "Loading photos…"
            self.reload()

    # -- alignment ---------------------------------------------------------------------------

    def _on_align_toggled(self, on: bool) -> None:
        if on:
            self.neutral.setChecked(False)
            self.mode.setCurrentIndex(MODES.index("side"))
            self.aligned.setChecked(False)  # mark points on the photos as they are
            text = (
                "Click the same landmarks on each photo, in the same order (a mole, a scar, the navel, "
                "the end of a mark). 2 points fix shift, turn and size; 3 or more fit a full transform. "
                "Then press Apply alignment (Enter)."
            )
            self.status.setText(text)
            self.status.setToolTip(text)
        else:
            self.status.setText("")
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
            plan = ws.align_by_landmarks(self.lib, self.photos, marks)
        except TrackerError as exc:
            self._show_error(str(exc))
            return
        matrices: dict[int, al.Matrix | None] = dict(plan.matrices)
        if not self._run(SetAlignment(self.lib, matrices, plan.reference)):
            return
        self.align.setChecked(False)
        self._on_clear_marks_triggered()
        self.aligned.setChecked(True)
        report = "; ".join(
            f"{photo.visit_date:%d %b}: {fit.kind}, error {fit.rms_error:.1f} px"
            for photo, fit in plan.fits
        )
        text = f"Aligned ({report}, in the first photo's pixels). Undo takes it back."
        if plan.worst_error > 3:
            text += (
                f" The marks disagree by up to {plan.worst_error:.0f} px: check that each number marks "
                "the same spot on every photo, zoom in to place them, or spread them further apart."
            )
        self.status.setText(text)

    def _on_reset_align_triggered(self) -> None:
        matrices: dict[int, al.Matrix | None] = {
            p.id: None for p in self.photos if p.alignment is not None
        }
        if matrices:
            self._run(SetAlignment(self.lib, matrices))

    # -- colour -------------------------------------------------------------------------------

    def _on_neutral_toggled(self, on: bool) -> None:
        if on:
            self.align.setChecked(False)
            self.mode.setCurrentIndex(MODES.index("side"))
            self.status.setText(
                "Click a neutral patch on each photo: the grey card if there is one, else evenly lit "
                "untreated skin. The first photo's patch sets the brightness the others are matched to."
            )
            self.neutral_level = None
        else:
            self.status.setText("")
        self.canvas.picking = on or self.align.isChecked()

    def _pick_neutral(self, index: int, point: QPointF) -> None:
        photo, image = self.photos[index], self.raw[index]
        x = round(point.x() * image.width() / photo.width)
        y = round(point.y() * image.height() / photo.height)
        sums, n = [0.0, 0.0, 0.0], 0
        for yy in range(max(0, y - 5), min(image.height(), y + 6)):
            for xx in range(max(0, x - 5), min(image.width(), x + 6)):
                c = image.pixelColor(xx, yy)
                sums[0] += c.red()
                sums[1] += c.green()
                sums[2] += c.blue()
                n += 1
        if not n:
            return
        patch = (sums[0] / n, sums[1] / n, sums[2] / n)
        level = self.neutral_level if index != 0 else None
        try:
            gains = al.neutral_gains(patch, level)
        except TrackerError as exc:
            self._show_error(str(exc))
            return
        if index == 0:
            self.neutral_level = sum(patch) / 3
        self._run(SetGains(self.lib, photo.id, gains))
        self.status.setText(
            f"Colour balanced on {photo.visit_date:%d %b %Y}. Click a neutral patch on another photo, or untick Pick neutral patch."
        )

    def _on_reset_colour_triggered(self) -> None:
        for photo in self.photos:
            if photo.colour_gains is not None:
                self._run(SetGains(self.lib, photo.id, None))

    # -- export ------------------------------------------------------------------------------

    def export_options(self) -> CompareOptions:
        mode = self.canvas.mode
        if mode == "blink":
            mode = "side"
        return CompareOptions(
            mode=mode,
            aligned=self.aligned.isChecked(),
            labels=self.labels.isChecked(),
            wipe=self.canvas.wipe if self.canvas.wipe_vertical else 0.5,
            opacity=self.canvas.opacity,
            amplify=self.amplify.value(),
            caption=self.caption.text().strip(),
        )

    def _on_export_triggered(self) -> None:
        name, chosen = QFileDialog.getSaveFileName(
            self,
            "Export the comparison",
            str(Path.home() / "comparison.jpg"),
            ";;".join(EXPORT_FILTERS),
        )
        if name:
            self.export_to(Path(name), full_size="full size" in chosen)

    def export_to(self, out: Path, *, full_size: bool = False) -> None:
        """Write the comparison as shown; ``full_size`` reads the originals (up to 8192 px a
        photo) instead of the screen-size previews."""
        options = self.export_options()
        if full_size:
            options = replace(options, max_side=compare_core.full_size(self.photos))
        ids = self.photo_ids if options.mode == "side" else self.photo_ids[:2]
        self.status.setText(f"Exporting to {out.name}…")
        self.runner.start(
            lambda _t: export(self.lib, ids, out, options),
            finished=lambda r: self._on_exported(str(r["file"])),
            failed=self._show_error,
        )

    def _on_exported(self, file: str) -> None:
        self.status.setText(f"Saved {file}. It carries no camera, location or device data.")
        self.exported.emit(file)

    # -- helpers -----------------------------------------------------------------------------

    def _run(self, command: Command) -> bool:
        try:
            push(self.undo_stack, command)
        except TrackerError as exc:
            self._show_error(str(exc))
            return False
        return True

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, APP_NAME, message)
