"""A photo viewer with zoom and pan, for looking closely at one photo's screen-size preview.

The preview is read and decoded on the thread pool (reading touches the disk); only the
conversion to QPixmap happens here, on the GUI thread. The viewer opens fitted to its window
and stays fitted as the window is resized, until the user zooms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tracker.core.errors import TrackerError
from tracker.ui.icons import icon
from tracker.ui.workers import TaskRunner

log = logging.getLogger(__name__)

MIN_ZOOM = 0.05
MAX_ZOOM = 8.0
ZOOM_STEP = 1.25  # one button press, key press or wheel notch
DEFAULT_SIZE = QSize(1000, 750)
LOADING_TEXT = "Loading photo…"
NEUTRAL_BACKGROUND = "#3c3c3c"


def clamp_zoom(factor: float) -> float:
    return max(MIN_ZOOM, min(MAX_ZOOM, factor))


def decode_preview(load: Callable[[], bytes]) -> QImage:
    """Read and decode in the worker; an unreadable preview is a sentence, not a blank view."""
    image = QImage.fromData(load())
    if image.isNull():
        raise TrackerError("This photo's preview could not be read; its file may be damaged.")
    return image


class _ImageView(QGraphicsView):
    """The graphics view, reporting wheel, double-click and resize; the dialog decides what they do."""

    wheel_zoomed = Signal(float, QPoint)  # steps (one notch = 1.0, may be fractional), viewport pos
    double_clicked = Signal(QPoint)  # viewport pos
    viewport_resized = Signal()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps == 0:  # a horizontal wheel or tilt: let it scroll
            super().wheelEvent(event)
            return
        event.accept()
        self.wheel_zoomed.emit(steps, event.position().toPoint())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self.double_clicked.emit(event.position().toPoint())
            return
        super().mouseDoubleClickEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.viewport_resized.emit()


class PhotoViewer(QDialog):
    """Shows one photo; zoom with the wheel, +/-, F (fit), 1 (100%) or double-click; drag to pan."""

    image_loaded = Signal()

    def __init__(
        self,
        load: Callable[[], bytes],
        title: str,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(f"Photo viewer: {title}")
        self._fitted = True  # follow the window size until the user picks a zoom

        self.scene = QGraphicsScene(self)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene.addItem(self.pixmap_item)

        self.view = _ImageView(self.scene, self)
        self.view.setAccessibleName("Photo")
        self.view.setAccessibleDescription(title)
        self.view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.view.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.view.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        # A neutral grey surround, so the frame does not tint how the skin's colour is judged.
        self.view.setBackgroundBrush(QColor(NEUTRAL_BACKGROUND))
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.message_label = QLabel(LOADING_TEXT, self)
        self.message_label.setAccessibleName("Photo status")
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.message_label)
        self.stack.addWidget(self.view)

        self.zoom_out_action = self._make_action(
            "Zoom out",
            "zoom-out",
            [QKeySequence("-"), QKeySequence(QKeySequence.StandardKey.ZoomOut)],
        )
        self.zoom_in_action = self._make_action(
            "Zoom in",
            "zoom-in",
            [QKeySequence("+"), QKeySequence("="), QKeySequence(QKeySequence.StandardKey.ZoomIn)],
        )
        self.fit_action = self._make_action("Fit", "fit", [QKeySequence("F")])
        self.actual_size_action = self._make_action("100%", "", [QKeySequence("1")])
        self.zoom_label = QLabel(self)
        self.zoom_label.setAccessibleName("Zoom level")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("800%") + 8)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.toolbar = QToolBar(self)
        self.toolbar.setAccessibleName("Zoom")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in self._zoom_actions():
            self.toolbar.addAction(action)
            button = self.toolbar.widgetForAction(action)
            button.setAccessibleName(action.text())
            button.setToolTip(f"{action.text()} ({action.shortcut().toString()})")
        spacer = QWidget(self.toolbar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self.toolbar.addWidget(self.zoom_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.stack, 1)

        self._set_zoom_enabled(False)
        self._resize_to_screen()
        self._connect_signals()
        runner.start(
            lambda _task: decode_preview(load),
            finished=self._on_load_finished,
            failed=self._on_load_failed,
        )

    # --- public API -----------------------------------------------------------------------

    def zoom_factor(self) -> float:
        """Scale of the photo on screen: 1.0 is one image pixel per (device-independent) pixel."""
        return self.view.transform().m11()

    def set_zoom(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom to ``factor`` (clamped to 5%–800%) keeping the point under ``anchor`` still;
        without an anchor, the centre of the view stays put."""
        self._fitted = False
        self._apply_zoom(clamp_zoom(factor), anchor)

    def fit(self) -> None:
        """Show the whole photo as large as the window allows, and keep it so on resize."""
        self._fitted = True
        rect = self.pixmap_item.boundingRect()
        if rect.isEmpty():
            return
        viewport = self.view.viewport().size()
        # Two pixels of slack so rounding never brings in scroll bars (as QGraphicsView.fitInView).
        factor = min((viewport.width() - 2) / rect.width(), (viewport.height() - 2) / rect.height())
        self._apply_zoom(clamp_zoom(factor), None)
        self.view.centerOn(self.pixmap_item)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom_factor() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom_factor() / ZOOM_STEP)

    def is_fitted(self) -> bool:
        return self._fitted

    # --- set-up ---------------------------------------------------------------------------

    def _make_action(self, text: str, icon_name: str, keys: list[QKeySequence]) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        action.setShortcuts(keys)
        self.addAction(action)  # shortcuts work wherever focus is in the dialog
        return action

    def _zoom_actions(self) -> list[QAction]:
        return [self.zoom_out_action, self.zoom_in_action, self.fit_action, self.actual_size_action]

    def _resize_to_screen(self) -> None:
        parent = self.parentWidget()
        screen = parent.screen() if parent is not None else QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(DEFAULT_SIZE)
            return
        available = screen.availableGeometry().size()
        # Leave room for the window frame so the whole window stays on screen.
        self.resize(
            min(DEFAULT_SIZE.width(), int(available.width() * 0.95)),
            min(DEFAULT_SIZE.height(), int(available.height() * 0.95)),
        )

    def _connect_signals(self) -> None:
        self.zoom_in_action.triggered.connect(self._on_zoom_in_action_triggered)
        self.zoom_out_action.triggered.connect(self._on_zoom_out_action_triggered)
        self.fit_action.triggered.connect(self._on_fit_action_triggered)
        self.actual_size_action.triggered.connect(self._on_actual_size_action_triggered)
        self.view.wheel_zoomed.connect(self._on_view_wheel_zoomed)
        self.view.double_clicked.connect(self._on_view_double_clicked)
        self.view.viewport_resized.connect(self._on_view_viewport_resized)

    # --- slots ----------------------------------------------------------------------------

    def _on_load_finished(self, image: QImage) -> None:
        self.pixmap_item.setPixmap(QPixmap.fromImage(image))  # GUI thread only
        self.scene.setSceneRect(self.pixmap_item.boundingRect())
        self.stack.setCurrentWidget(self.view)
        self._set_zoom_enabled(True)
        self.fit()
        self.view.setFocus()
        self.image_loaded.emit()

    def _on_load_failed(self, message: str) -> None:
        log.warning("Photo %r could not be shown: %s", self.windowTitle(), message)
        self.message_label.setText(message)
        self.stack.setCurrentWidget(self.message_label)

    def _on_zoom_in_action_triggered(self) -> None:
        self.zoom_in()

    def _on_zoom_out_action_triggered(self) -> None:
        self.zoom_out()

    def _on_fit_action_triggered(self) -> None:
        self.fit()

    def _on_actual_size_action_triggered(self) -> None:
        self.set_zoom(1.0)

    def _on_view_wheel_zoomed(self, steps: float, pos: QPoint) -> None:
        if self._has_image():
            self.set_zoom(self.zoom_factor() * ZOOM_STEP**steps, pos)

    def _on_view_double_clicked(self, pos: QPoint) -> None:
        if not self._has_image():
            return
        if self._fitted:
            self.set_zoom(1.0, pos)
        else:
            self.fit()

    def _on_view_viewport_resized(self) -> None:
        if self._fitted:
            self.fit()

    # --- helpers --------------------------------------------------------------------------

    def _has_image(self) -> bool:
        return not self.pixmap_item.pixmap().isNull()

    def _set_zoom_enabled(self, enabled: bool) -> None:
        for action in self._zoom_actions():
            action.setEnabled(enabled)
        self.zoom_label.setText(f"{round(self.zoom_factor() * 100)}%" if enabled else "")

    def _apply_zoom(self, factor: float, anchor: QPoint | None) -> None:
        view = self.view
        if anchor is None:
            anchor = view.viewport().rect().center()
        scene_point = view.mapToScene(anchor)
        view.setTransform(QTransform.fromScale(factor, factor))
        # Scroll so the scene point that was under the anchor is under it again.
        drift = view.mapFromScene(scene_point) - anchor
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + drift.x())
        view.verticalScrollBar().setValue(view.verticalScrollBar().value() + drift.y())
        self.zoom_label.setText(f"{round(factor * 100)}%")
