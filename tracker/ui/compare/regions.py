"""Regions in the compare window (issue 18): the outline of the marks, and optionally of a
patch of untreated skin beside them, drawn on a view's reference photo and shown on every
photo of that view through its alignment.

The outline is kept in the reference photo's upright full-resolution pixels, as stored, and
shown on a photo through the inverse of its alignment (its pixels → the reference's): a point
placed or dragged on any aligned photo of the view lands on the same skin in the reference.
Each stored change is one undoable step (``SetRegion``); the core checks the outline and a
refusal is said in the status line. The editor takes the canvas's mouse and keys through an
event filter and paints on a transparent layer over it: the canvas knows nothing of regions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QTransform,
)
from PySide6.QtWidgets import QWidget

from tracker.core.errors import TrackerError
from tracker.core.imaging import geometry as al
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services import measure as measuring
from tracker.core.store.library import Library
from tracker.ui.compare.canvas import CompareCanvas, qtransform
from tracker.ui.compare.measure import shown_photo
from tracker.ui.history import Change, History
from tracker.ui.measure_commands import REGION_WORDS, SetRegion

Point = tuple[float, float]
KINDS = ("marks", "skin")
COLOURS = {"marks": QColor(255, 214, 0), "skin": QColor(90, 220, 120)}
HIT_PX = 8.0  # how near (on screen) a click must be to a point to take it
HELP = (
    "Click to add points, drag a point to move it, Delete removes the last (or the selected) "
    "point, Enter or a double-click closes the outline, Esc cancels."
)


def to_reference(photo: ComparePhoto, reference_id: int | None = None) -> al.Matrix | None:
    """A photo's upright pixels → its view's reference photo's (``reference_id``, else the one
    stored as the reference); None when it is not aligned to it."""
    if photo.id == reference_id or (reference_id is None and photo.is_reference):
        return al.IDENTITY
    if photo.alignment is not None:
        return photo.alignment.matrix
    return None


def reference_to_screen(
    canvas: CompareCanvas, index: int, photo: ComparePhoto, reference_id: int | None
) -> QTransform | None:
    """The reference photo's pixels → the screen, through photo ``index`` aligned as ``photo``
    says; None when it is not aligned to the reference (or cannot be inverted)."""
    matrix = to_reference(photo, reference_id)
    if matrix is None:
        return None
    try:
        back = al.invert(matrix)
    except TrackerError:
        return None
    return qtransform(back) * canvas.photo_to_screen(index)


class CanvasLayer(QWidget):
    """A transparent layer over the canvas, repainted with it, on which the marks found and
    the regions are drawn (each ``paint_steps`` entry in turn); it never takes the mouse."""

    def __init__(self, canvas: CompareCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.paint_steps: list[Callable[[QPainter], None]] = []
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setGeometry(canvas.rect())
        canvas.installEventFilter(self)
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.canvas.rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.canvas.photos or self.canvas.message:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for paint in self.paint_steps:
            painter.save()
            paint(painter)
            painter.restore()


class RegionEditor(QObject):
    """Draws and edits one region (``kind``) of the first photo's area and view."""

    said = Signal(str)  # a sentence for the status line
    stopped = Signal()  # the tool put itself away (Esc with nothing being drawn)

    def __init__(
        self,
        canvas: CompareCanvas,
        layer: CanvasLayer,
        history: History,
        photos: Callable[[], Sequence[ComparePhoto]],
    ) -> None:
        super().__init__(canvas)
        self.canvas, self.layer, self.history = canvas, layer, history
        # The window's photos as the library has them now: the canvas keeps the ones it
        # was given with their pictures, whose alignment may have changed since.
        self.current = photos
        self.lib: Library | None = None
        self.kind: str | None = None  # the region being edited; None: the tool is off
        self.visible = False  # outlines shown while the tool is off (with the marks found)
        self.stored: dict[str, list[Point] | None] = dict.fromkeys(KINDS)
        self.versions = dict.fromkeys(KINDS, 0)  # as shown, what a step names (issue 21)
        self.draft: list[Point] | None = None  # an outline being drawn, not stored yet
        self.selected: int | None = None
        self._drag: tuple[int, list[Point]] | None = None  # photo index, points before
        self._place: tuple[int, str] | None = None  # area id, view
        self.reference_id: int | None = None  # the photo the regions are drawn on
        layer.paint_steps.append(self.paint)
        canvas.installEventFilter(self)
        history.changed.connect(self._on_history_changed)

    # -- what it edits -----------------------------------------------------------------------

    def load(self, lib: Library, photos: Sequence[ComparePhoto]) -> None:
        """The regions of the first photo's area and view, read again from the library."""
        self.lib = lib
        place = (photos[0].area_id, photos[0].view) if photos else None
        if place != self._place:
            self.draft, self.selected = None, None
        self._place = place
        self.stored, self.versions = dict.fromkeys(KINDS), dict.fromkeys(KINDS, 0)
        self.reference_id = None
        if place is not None:
            try:
                regions = measuring.regions(lib, *place)
            except TrackerError as exc:
                self.said.emit(str(exc))
            else:
                self.stored = {"marks": regions.marks, "skin": regions.skin}
                self.versions = {"marks": regions.marks_version, "skin": regions.skin_version}
                self.reference_id = regions.reference_photo_id
        self.layer.update()

    def start(self, kind: str) -> None:
        """Edit ``kind``: its stored outline (read again), or a new one from the first click."""
        if self.lib is not None and self.current():
            self.load(self.lib, self.current())
        self.kind, self.draft, self.selected = kind, None, None
        what = REGION_WORDS[kind]
        if self._place is None:
            self.said.emit("There is no photo to draw on yet.")
        elif self.stored[kind]:
            self.said.emit(
                f"Editing {what}: drag a point to move it, Delete removes the selected point, "
                "Esc puts the tool away."
            )
        else:
            self.said.emit(f"Outline {what} on any aligned photo of {self._place[1]}. {HELP}")
        self.layer.update()

    def stop(self) -> None:
        self.kind, self.draft, self.selected, self._drag = None, None, None, None
        self.canvas.unsetCursor()
        self.layer.update()

    def points(self) -> list[Point] | None:
        """The outline being edited: the one drawn, else the stored one."""
        if self.kind is None:
            return None
        return self.draft if self.draft is not None else self.stored[self.kind]

    def clear(self, kind: str) -> bool:
        """Remove a stored region (one undoable step)."""
        if self._place is None or not self.stored[kind]:
            self.said.emit(f"There is no {REGION_WORDS[kind].removeprefix('the ')} to clear.")
            return False
        if self.kind == kind:
            self.draft, self.selected = None, None
        return self._store(kind, None)

    # -- storing -----------------------------------------------------------------------------

    def _store(self, kind: str, points: list[Point] | None) -> bool:
        if self.lib is None or self._place is None:
            return False
        area_id, view = self._place
        try:
            self.history.push(SetRegion(self.lib, area_id, view, kind, points, self.versions[kind]))
        except TrackerError as exc:
            self.said.emit(str(exc))
            self._on_history_changed(Change.MEASURES, frozenset())  # what is stored, fresh
            return False
        what = REGION_WORDS[kind]
        if points is None:
            self.said.emit(f"Cleared {what}. Undo takes it back.")
        else:
            use = (
                "the marks of every photo of this view are found inside it"
                if kind == "marks"
                else "the marks of every photo of this view are compared with the skin inside it"
            )
            said = f"Stored {what} of {view}: {use}, through each photo's alignment."
            self.said.emit(f"{said} Undo takes it back.")
        return True

    def close_outline(self) -> bool:
        """Store the outline being drawn."""
        if self.kind is None or self.draft is None:
            return False
        if len(self.draft) < 3:
            self.said.emit(
                f"An outline needs at least 3 points and this one has {len(self.draft)}; "
                "click to add more."
            )
            return False
        if self._store(self.kind, list(self.draft)):
            self.draft, self.selected = None, None
            return True
        return False

    # -- geometry ----------------------------------------------------------------------------

    def _shows(self, index: int) -> bool:
        photo = self.canvas.photos[index]
        return self._place is not None and (photo.area_id, photo.view) == self._place

    def _photo(self, index: int) -> ComparePhoto:
        shown = self.canvas.photos[index]
        return next((p for p in self.current() if p.id == shown.id), shown)

    def _to_screen(self, index: int) -> QTransform | None:
        if index >= len(self.canvas.photos) or not self._shows(index):
            return None
        return reference_to_screen(self.canvas, index, self._photo(index), self.reference_id)

    def _to_reference(self, index: int, pos: QPointF) -> QPointF | None:
        to_screen = self._to_screen(index)
        if to_screen is None:
            return None
        inverse, ok = to_screen.inverted()
        return inverse.map(pos) if ok else None

    def _hit(self, pos: QPointF) -> tuple[int, int] | None:
        """The photo and the point of the outline being edited under ``pos``."""
        points = self.points()
        if not points or len(self.canvas.photos) == 0:
            return None
        pane = self.canvas.pane_at(pos)
        index = shown_photo(self.canvas, pane)
        to_screen = self._to_screen(index)
        if to_screen is None:
            return None
        best: tuple[float, int] | None = None
        for n, (x, y) in enumerate(points):
            p = to_screen.map(QPointF(x, y))
            d = math.hypot(p.x() - pos.x(), p.y() - pos.y())
            if d <= HIT_PX and (best is None or d < best[0]):
                best = (d, n)
        return (index, best[1]) if best is not None else None

    def _refusal(self, index: int) -> str:
        photo = self.canvas.photos[index]
        if not self._shows(index):
            return (
                f"That photo is of {photo.area} ({photo.view}); the outline is drawn on "
                "the photos of the first photo's area and view."
            )
        return (
            f"The photo of {photo.visit_date:%d %b %Y} is not aligned to the reference photo of "
            "its view, so a point on it cannot be placed on the reference; draw on the "
            "reference or on an aligned photo, or align this one first."
        )

    # -- input -------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.kind is None or watched is not self.canvas or not self.canvas.photos:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            return self._press(event)
        if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            return self._move(event)
        if kind == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            return self._release()
        if kind == QEvent.Type.MouseButtonDblClick and isinstance(event, QMouseEvent):
            return event.button() == Qt.MouseButton.LeftButton and (
                self.close_outline() or self.draft is not None
            )
        # Enter, Delete and Esc are the tool's while it is out (Enter would apply an
        # alignment otherwise).
        if (
            kind == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and self._handles_key(event)
        ):
            event.accept()
            return True
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._key(event)
        return False

    def _press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        pos = event.position()
        hit = self._hit(pos)
        if hit is not None:
            index, n = hit
            self.selected = n
            self._drag = (index, list(self.points() or []))
            self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)
            self.layer.update()
            return True
        assert self.kind is not None
        if self.stored[self.kind] and self.draft is None:
            self.selected = None
            self.layer.update()
            return False  # a stored outline: a click beside it pans as usual
        index = shown_photo(self.canvas, self.canvas.pane_at(pos))
        point = self._to_reference(index, pos)
        if point is None:
            self.said.emit(self._refusal(index))
            return True
        photo = self.canvas.photos[index]
        inside = self.canvas.photo_to_screen(index).inverted()[0].map(pos)
        if not (0 <= inside.x() <= photo.width and 0 <= inside.y() <= photo.height):
            self.said.emit("That point is outside the photo; click on the skin itself.")
            return True
        self.draft = [*(self.draft or []), (point.x(), point.y())]
        self.selected = None
        n = len(self.draft)
        self.said.emit(f"{n} point{'' if n == 1 else 's'} of {REGION_WORDS[self.kind]}. {HELP}")
        self.layer.update()
        return True

    def _move(self, event: QMouseEvent) -> bool:
        if self._drag is None:
            over = self._hit(event.position()) is not None
            if over:
                self.canvas.setCursor(Qt.CursorShape.OpenHandCursor)
            elif self.draft is not None:
                self.canvas.setCursor(Qt.CursorShape.CrossCursor)
            return over
        index, _before = self._drag
        point = self._to_reference(index, event.position())
        points = self.points()
        if point is None or points is None or self.selected is None:
            return True
        moved = list(points)
        moved[self.selected] = (point.x(), point.y())
        assert self.kind is not None
        if self.draft is not None:
            self.draft = moved
        else:
            self.stored[self.kind] = moved  # shown while dragging; stored on release
        self.layer.update()
        return True

    def _release(self) -> bool:
        if self._drag is None:
            return False
        _index, before = self._drag
        self._drag = None
        self.canvas.unsetCursor()
        assert self.kind is not None
        if self.draft is None:
            after = self.stored[self.kind]
            if after is not None and after != before:
                self.stored[self.kind] = before  # until the step is stored
                if self._store(self.kind, list(after)):
                    self.stored[self.kind] = list(after)
        self.layer.update()
        return True

    def _handles_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return self.draft is not None
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return self.draft is not None or self.selected is not None
        return key == Qt.Key.Key_Escape

    def _key(self, event: QKeyEvent) -> bool:
        if not self._handles_key(event):
            return False
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close_outline()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_point()
        elif self.draft is not None:
            self.draft, self.selected = None, None
            self.said.emit("The outline being drawn was cancelled; nothing was stored.")
        else:
            self.stopped.emit()
        self.layer.update()
        return True

    def delete_point(self) -> None:
        """Remove the selected point, else the last one drawn."""
        assert self.kind is not None
        if self.draft is not None:
            n = self.selected if self.selected is not None else len(self.draft) - 1
            self.draft = [p for i, p in enumerate(self.draft) if i != n]
            self.selected = None
            if not self.draft:
                self.draft = None
                self.said.emit(f"No points left; click to start {REGION_WORDS[self.kind]} again.")
            return
        stored = self.stored[self.kind]
        if stored is None or self.selected is None:
            return
        if len(stored) <= 3:
            self.said.emit(
                "An outline needs at least 3 points, so this one cannot lose another; "
                f"clear {REGION_WORDS[self.kind]} to remove it."
            )
            return
        if self._store(self.kind, [p for i, p in enumerate(stored) if i != self.selected]):
            self.selected = None

    # -- painting ----------------------------------------------------------------------------

    def paint(self, painter: QPainter) -> None:
        if self.kind is None and not self.visible:
            return
        for pane, rect in enumerate(self.canvas.pane_rects()):
            index = shown_photo(self.canvas, pane)
            to_screen = self._to_screen(index) if index < len(self.canvas.photos) else None
            if to_screen is None:
                continue
            painter.save()
            painter.setClipRect(rect)
            for kind in KINDS:
                editing = kind == self.kind
                points = self.points() if editing else self.stored[kind]
                if points:
                    closed = not (editing and self.draft is not None)
                    self._outline(painter, to_screen, kind, points, closed, editing)
            painter.restore()

    def _outline(
        self,
        painter: QPainter,
        to_screen: QTransform,
        kind: str,
        points: Sequence[Point],
        closed: bool,
        editing: bool,
    ) -> None:
        colour = COLOURS[kind]
        corners = [to_screen.map(QPointF(x, y)) for x, y in points]
        shape = QPolygonF(corners)
        fill = QColor(colour)
        fill.setAlpha(40 if closed else 0)
        painter.setBrush(QBrush(fill))
        for pen in (QPen(QColor(0, 0, 0, 200), 4), QPen(colour, 2)):
            pen.setCosmetic(True)
            if not closed:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            if closed:
                painter.drawPolygon(shape)
            else:
                painter.drawPolyline(shape)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        if not editing:
            return
        for n, p in enumerate(corners):
            selected = n == self.selected
            painter.setPen(QPen(QColor(0, 0, 0), 1.5))
            painter.setBrush(QBrush(QColor(255, 255, 255) if selected else colour))
            painter.drawEllipse(p, 6 if selected else 4, 6 if selected else 4)

    def _on_history_changed(self, changes: Change, _photo_ids: frozenset[int]) -> None:
        if changes & (Change.MEASURES | Change.ALIGNMENT) and self.lib is not None:
            photos = self.current()
            if photos:
                place, draft = self._place, self.draft
                self.load(self.lib, photos)
                if self._place == place:
                    self.draft = draft  # an outline being drawn outlives an edit elsewhere
