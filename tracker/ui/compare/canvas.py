"""The compare canvas: draws 2–4 photos side by side, wiped, overlaid, blinked or differenced,
each through its placement in the first photo's frame, with one shared zoom and pan.

World coordinates are the first photo's upright pixels. Every pane shows the world through
``centre + offset`` at ``zoom × own zoom``; with sync on, wheel and drag change the shared centre
and zoom, so all panes move together; with sync off they change the pane's own offset and zoom,
which are kept when sync is turned back on (a deliberate offset is not lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from tracker.core.imaging import geometry as al
from tracker.core.queries.rows import ComparePhoto
from tracker.ui.compare import measure
from tracker.ui.compare.pyramid import Pyramid, flattened

MODES = ("side", "wipe", "overlay", "blink", "difference")
MIN_ZOOM, MAX_ZOOM, STEP = 0.02, 16.0, 1.25
GAP = 4
BACKGROUND = QColor(48, 48, 48)
MARKER_COLOURS = (
    QColor(255, 214, 0),
    QColor(0, 220, 255),
    QColor(255, 90, 200),
    QColor(120, 255, 120),
)


def qtransform(m: al.Matrix) -> QTransform:
    """A 3×3 placement as Qt's transform, which multiplies row vectors (its matrix is the
    transpose of ours); projective when the placement is a homography."""
    a, b, c, d, e, f, g, h, i = m
    return QTransform(a, d, g, b, e, h, c, f, i)


@dataclass
class Pane:
    offset: QPointF = field(default_factory=QPointF)  # in world pixels, added to the shared centre
    zoom: float = 1.0  # times the shared zoom


class CompareCanvas(QWidget):
    point_clicked = Signal(int, QPointF)  # photo index, point in that photo's upright pixels
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAccessibleName("Photos being compared")
        self.photos: list[ComparePhoto] = []
        self.images: list[Pyramid | None] = []  # each photo at its sizes, made in a worker
        self.to_first: list[al.Matrix] = []
        self.panes: list[Pane] = []
        self.difference: QImage | None = None
        self.difference_scale = 1.0  # difference pixels per world pixel
        self.mode = "side"
        self.sync = True
        self.zoom = 1.0
        self.centre = QPointF()
        self.wipe = 0.5
        self.wipe_vertical = True  # a vertical divider moving left and right
        self.opacity = 0.5
        self.blink_index = 0
        self.show_labels = True
        self.show_ratings = False
        self.picking = False  # clicks mark points instead of panning
        self.landmarks: list[list[QPointF]] = []
        self.ruler = measure.Ruler(self)  # on: a drag measures instead of panning
        self.message = "Loading photos…"
        self._drag: tuple[str, QPointF, int] | None = None  # ("pan"|"wipe", last pos, pane)
        self._fitted = True

    # -- content ---------------------------------------------------------------------------

    def set_photos(
        self,
        photos: Sequence[ComparePhoto],
        images: Sequence[Pyramid | None],
        to_first: Sequence[al.Matrix],
    ) -> None:
        keep_view = len(photos) == len(self.photos) and not self._fitted
        self.photos, self.images, self.to_first = list(photos), list(images), list(to_first)
        if len(self.panes) != len(photos):
            self.panes = [Pane() for _ in photos]
            self.landmarks = [[] for _ in photos]
        self.message = ""
        if not keep_view:
            self.fit()
        self.update()

    def set_placement(self, to_first: Sequence[al.Matrix]) -> None:
        self.to_first = list(to_first)
        self.update()

    def set_images(self, images: Sequence[Pyramid | None]) -> None:
        """Larger images of the same photos (the originals), kept above the smaller sizes
        already shown, which serve again when the view zooms out."""
        old = self.images if len(self.images) == len(images) else [None] * len(images)
        self.images = [
            new.over(before) if new is not None else None
            for new, before in zip(images, old, strict=True)
        ]
        self.update()

    def set_difference(self, image: QImage | None, scale: float) -> None:
        self.difference, self.difference_scale = image, scale
        self.update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if self._fitted:
            self.fit()  # one pane or several: the fitted zoom differs
        self.update()

    # -- geometry --------------------------------------------------------------------------

    def pane_rects(self) -> list[QRectF]:
        r = QRectF(self.rect())
        if self.mode != "side" or len(self.photos) < 2:
            return [r]
        n = len(self.photos)
        w = (r.width() - GAP * (n - 1)) / n
        return [QRectF(r.left() + i * (w + GAP), r.top(), w, r.height()) for i in range(n)]

    def _pane_view(self, pane: int) -> QTransform:
        """World → screen for a pane (in side mode, pane i shows photo i)."""
        rect = self.pane_rects()[pane if self.mode == "side" else 0]
        state = self.panes[pane] if pane < len(self.panes) else Pane()
        scale = self.zoom * state.zoom
        look = self.centre + state.offset
        t = QTransform()
        t.translate(rect.center().x(), rect.center().y())
        t.scale(scale, scale)
        t.translate(-look.x(), -look.y())
        return t

    def photo_to_screen(self, index: int) -> QTransform:
        """A photo's upright pixels → screen, through its placement and its pane's view."""
        pane = index if self.mode == "side" else 0
        return qtransform(self.to_first[index]) * self._pane_view(pane)

    def _image_transform(self, index: int) -> QTransform:
        image = self.images[index]
        photo = self.photos[index]
        assert image is not None
        to_photo = QTransform.fromScale(photo.width / image.width(), photo.height / image.height())
        return to_photo * self.photo_to_screen(index)

    def pane_at(self, pos: QPointF) -> int:
        for i, rect in enumerate(self.pane_rects()):
            if rect.contains(pos):
                return i
        return 0

    def fit(self) -> None:
        """Show every photo whole (a portrait beside a landscape too); forget own offsets and
        zooms. Photos are placed in the first photo's frame, so that is where they are measured."""
        if not self.photos:
            return
        world = QRectF()
        for photo, to_first in zip(self.photos, self.to_first, strict=False):
            whole = QRectF(0, 0, photo.width, photo.height)
            world = world.united(qtransform(to_first).mapRect(whole))
        rect = self.pane_rects()[0]
        self.zoom = max(
            MIN_ZOOM,
            min(MAX_ZOOM, 0.98 * min(rect.width() / world.width(), rect.height() / world.height())),
        )
        self.centre = world.center()
        for pane in self.panes:
            pane.offset, pane.zoom = QPointF(), 1.0
        self._fitted = True
        self.view_changed.emit()
        self.update()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom (screen pixels per first-photo pixel) keeping the point under ``anchor`` still."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        pane = self.pane_at(anchor) if anchor is not None else 0
        rect = self.pane_rects()[pane if self.mode == "side" else 0]
        anchor = anchor if anchor is not None else rect.center()
        if self.sync or not self.panes:
            inverse, _ = self._pane_view(pane).inverted()
            world = inverse.map(anchor)
            state = self.panes[pane] if self.panes else Pane()
            self.zoom = zoom
            scale = self.zoom * state.zoom
            self.centre = world - state.offset - (anchor - rect.center()) / scale
        else:
            state = self.panes[pane]
            inverse, _ = self._pane_view(pane).inverted()
            world = inverse.map(anchor)
            state.zoom = zoom / self.zoom
            scale = self.zoom * state.zoom
            state.offset = world - self.centre - (anchor - rect.center()) / scale
        self._fitted = False
        self.view_changed.emit()
        self.update()

    def zoom_factor(self) -> float:
        return self.zoom

    def _pan(self, pane: int, delta: QPointF) -> None:
        if self.sync:
            self.centre -= delta / self.zoom
        else:
            state = self.panes[pane]
            state.offset -= delta / (self.zoom * state.zoom)
        self._fitted = False
        self.update()

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.message or not self.photos:
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message or "No photos")
            return
        rects = self.pane_rects()
        if self.mode == "side":
            for i, rect in enumerate(rects):
                self._draw_photo(painter, i, rect)
                self._draw_landmarks(painter, i, rect)
                self._label(painter, rect, [self._label_text(i)], Qt.AlignmentFlag.AlignLeft)
        elif self.mode == "wipe" and len(self.photos) >= 2:
            rect = rects[0]
            self._draw_photo(painter, 1, rect)
            cut = self._wipe_line(rect)
            clip = (
                QRectF(rect.left(), rect.top(), cut - rect.left(), rect.height())
                if self.wipe_vertical
                else QRectF(rect.left(), rect.top(), rect.width(), cut - rect.top())
            )
            self._draw_photo(painter, 0, clip)
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            if self.wipe_vertical:
                painter.drawLine(QPointF(cut, rect.top()), QPointF(cut, rect.bottom()))
            else:
                painter.drawLine(QPointF(rect.left(), cut), QPointF(rect.right(), cut))
            first, second = ("Left", "Right") if self.wipe_vertical else ("Top", "Bottom")
            self._label(
                painter,
                rect,
                [f"{first}: {self._label_text(0)}", f"{second}: {self._label_text(1)}"],
                Qt.AlignmentFlag.AlignLeft,
            )
        elif self.mode == "overlay" and len(self.photos) >= 2:
            rect = rects[0]
            self._draw_photo(painter, 0, rect)
            painter.setOpacity(self.opacity)
            self._draw_photo(painter, 1, rect)
            painter.setOpacity(1.0)
            self._label(
                painter,
                rect,
                [self._label_text(0), f"+ {self._label_text(1)} at {round(self.opacity * 100)}%"],
                Qt.AlignmentFlag.AlignLeft,
            )
        elif self.mode == "blink" and len(self.photos) >= 2:
            rect = rects[0]
            self._draw_photo(painter, self.blink_index, rect)
            self._label(
                painter,
                rect,
                [self._label_text(self.blink_index), "Press B or Space to switch"],
                Qt.AlignmentFlag.AlignLeft,
            )
        elif self.mode == "difference":
            rect = rects[0]
            if self.difference is None:
                painter.setPen(QColor(220, 220, 220))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Computing the difference…")
            else:
                painter.save()
                painter.setClipRect(rect)
                painter.setTransform(
                    QTransform.fromScale(1 / self.difference_scale, 1 / self.difference_scale)
                    * self._pane_view(0)
                )
                painter.drawImage(QPointF(0, 0), self.difference)
                painter.restore()
            self._label(
                painter,
                rect,
                [f"Difference: {self._label_text(0)} vs {self._label_text(1)}"],
                Qt.AlignmentFlag.AlignLeft,
            )
        measure.paint(painter, self, self.ruler)

    def _draw_photo(self, painter: QPainter, index: int, clip: QRectF) -> None:
        image = self.images[index] if index < len(self.images) else None
        if image is None:
            return
        to_screen = self._image_transform(index)
        level = image.level_for(to_screen)  # the smooth transform then reads no more than it shows
        painter.save()
        painter.setClipRect(clip)
        to_level = QTransform.fromScale(
            image.width() / level.width(), image.height() / level.height()
        )
        painter.setTransform(flattened(to_level * to_screen, level.width(), level.height()))
        painter.drawImage(QPointF(0, 0), level)
        painter.restore()

    def _draw_landmarks(self, painter: QPainter, index: int, clip: QRectF) -> None:
        points = self.landmarks[index] if index < len(self.landmarks) else []
        if not points:
            return
        to_screen = self.photo_to_screen(index)
        painter.save()
        painter.setClipRect(clip)
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        for n, point in enumerate(points):
            colour = MARKER_COLOURS[n % len(MARKER_COLOURS)]
            p = to_screen.map(point)
            painter.setPen(QPen(QColor(0, 0, 0), 4))
            painter.drawEllipse(p, 7, 7)
            painter.setPen(QPen(colour, 2))
            painter.drawEllipse(p, 7, 7)
            painter.drawLine(p + QPointF(-11, 0), p + QPointF(11, 0))
            painter.drawLine(p + QPointF(0, -11), p + QPointF(0, 11))
            painter.drawText(p + QPointF(10, -10), str(n + 1))
        painter.restore()

    def _label_text(self, index: int) -> str:
        photo = self.photos[index]
        text = photo.label()
        if self.show_ratings and photo.ratings:
            text += "\n" + "\n".join(photo.ratings)
        return text

    def _label(
        self, painter: QPainter, rect: QRectF, lines: list[str], align: Qt.AlignmentFlag
    ) -> None:
        if not self.show_labels:
            return
        text = "\n".join(lines)
        metrics = painter.fontMetrics()
        box = metrics.boundingRect(
            rect.adjusted(8, 8, -8, -8).toRect(),
            int(align | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap),
            text,
        )
        background = QRectF(box).adjusted(-6, -4, 6, 4)
        painter.fillRect(background, QColor(0, 0, 0, 160))
        painter.setPen(QColor(245, 245, 245))
        painter.drawText(
            box, int(align | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap), text
        )

    def _wipe_line(self, rect: QRectF) -> float:
        if self.wipe_vertical:
            return rect.left() + rect.width() * self.wipe
        return rect.top() + rect.height() * self.wipe

    # -- input ------------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if not steps or not self.photos:
            return
        event.accept()
        pane = self.pane_at(event.position())
        current = self.zoom * (1.0 if self.sync else self.panes[pane].zoom)
        self.set_zoom(current * STEP**steps, event.position())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.photos:
            return
        pos = event.position()
        pane = self.pane_at(pos)
        if self.ruler.active:
            self.ruler.press(self, pane, pos)
            return
        if self.picking and self.mode == "side":
            inverse, ok = self.photo_to_screen(pane).inverted()
            if ok:
                self.point_clicked.emit(pane, inverse.map(pos))
            return
        rect = self.pane_rects()[0]
        if (
            self.mode == "wipe"
            and abs((pos.x() if self.wipe_vertical else pos.y()) - self._wipe_line(rect)) < 8
        ):
            self._drag = ("wipe", pos, pane)
        else:
            self._drag = ("pan", pos, pane)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self.ruler.dragging:
            self.ruler.move(self, pos)
            self.update()
            return
        if self._drag is None:
            if self.mode == "wipe" and self.photos:
                near = (
                    abs(
                        (pos.x() if self.wipe_vertical else pos.y())
                        - self._wipe_line(self.pane_rects()[0])
                    )
                    < 8
                )
                shape = (
                    Qt.CursorShape.SplitHCursor
                    if self.wipe_vertical
                    else Qt.CursorShape.SplitVCursor
                )
                self.setCursor(shape if near else Qt.CursorShape.OpenHandCursor)
            return
        kind, last, pane = self._drag
        if kind == "wipe":
            rect = self.pane_rects()[0]
            span = rect.width() if self.wipe_vertical else rect.height()
            start = rect.left() if self.wipe_vertical else rect.top()
            value = (pos.x() if self.wipe_vertical else pos.y()) - start
            self.wipe = max(0.0, min(1.0, value / span))
            self.update()
        else:
            self._pan(pane, pos - last)
        self._drag = (kind, pos, pane)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.ruler.release(self)
        self._drag = None
        self.unsetCursor()
        self.view_changed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if (
            key in (Qt.Key.Key_B, Qt.Key.Key_Space)
            and self.mode == "blink"
            and len(self.photos) >= 2
        ):
            self.blink_index = 1 - self.blink_index
            self.update()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = 40.0
            delta = {
                Qt.Key.Key_Left: QPointF(step, 0),
                Qt.Key.Key_Right: QPointF(-step, 0),
                Qt.Key.Key_Up: QPointF(0, step),
                Qt.Key.Key_Down: QPointF(0, -step),
            }[Qt.Key(key)]
            self._pan(0, delta)
        elif key == Qt.Key.Key_Escape and self.ruler.clear():
            self.update()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()
