"""The visit's photos of one area, as a grid of thumbnails, with the capture checks' badges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from tracker.core.queries.rows import PhotoRow
from tracker.ui.models import GRID_ICON, IdRole, PhotoGridModel, RowRole

# The badges carry their own light and dark edges, so they read on any thumbnail and on a
# light or a dark palette, and say what they mean by shape and letters, not by colour alone.
AMBER = QColor(245, 179, 1)
INK = QColor(25, 25, 25)
HALO = QColor(255, 255, 255, 230)
PLATE = QColor(25, 25, 25, 200)
BADGE = 18.0  # px


def draw_warning_badge(painter: QPainter, top_right: QPointF) -> QRectF:
    """A warning sign (an exclamation mark in a triangle) hanging from ``top_right``."""
    box = QRectF(top_right.x() - BADGE - 3, top_right.y() + 3, BADGE + 2, BADGE)
    triangle = QPainterPath()
    triangle.moveTo(box.center().x(), box.top())
    triangle.lineTo(box.right(), box.bottom())
    triangle.lineTo(box.left(), box.bottom())
    triangle.closeSubpath()
    painter.setPen(
        QPen(HALO, 3.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    )
    painter.drawPath(triangle)
    painter.setPen(
        QPen(INK, 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    )
    painter.setBrush(AMBER)
    painter.drawPath(triangle)
    x = box.center().x()
    painter.setPen(QPen(INK, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(QPointF(x, box.top() + 6), QPointF(x, box.bottom() - 6))
    painter.drawPoint(QPointF(x, box.bottom() - 3))
    return box


def draw_mm_badge(painter: QPainter, bottom_left: QPointF) -> QRectF:
    """A small "mm" plate standing on ``bottom_left``: the photo's scale is known."""
    font = QFont(painter.font())
    font.setPixelSize(11)
    font.setBold(True)
    painter.setFont(font)
    width = painter.fontMetrics().horizontalAdvance("mm") + 8
    box = QRectF(bottom_left.x() + 3, bottom_left.y() - 3 - 15, width, 15)
    painter.setPen(QPen(HALO, 1))
    painter.setBrush(PLATE)
    painter.drawRoundedRect(box, 4, 4)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "mm")
    return box


class BadgeDelegate(QStyledItemDelegate):
    """Draws a thumbnail as usual, then its badges over the picture's corners: a warning
    sign when a capture check warned (the tooltip says which), "mm" when a calibration card
    gave the photo its scale."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        row = index.data(RowRole)
        if not isinstance(row, PhotoRow) or not (row.warnings or row.px_per_mm is not None):
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        icon = QRectF(
            style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, widget)
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if row.warnings:
            draw_warning_badge(painter, icon.topRight())
        if row.px_per_mm is not None:
            draw_mm_badge(painter, icon.bottomLeft())
        painter.restore()


class PhotoGrid(QListView):
    """The visit's photos of the area. Double-click opens one; F2 relabels its view; Delete
    removes it from the visit; a photo dragged onto a visit of the timeline moves there; files
    dropped here are imported into this visit."""

    open_requested = Signal(int)
    remove_requested = Signal(list)
    move_requested = Signal(list)
    erase_requested = Signal(list)
    files_dropped = Signal(list)

    def __init__(self, model: PhotoGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegate(BadgeDelegate(self))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(GRID_ICON)
        self.setGridSize(QSize(GRID_ICON.width() + 16, GRID_ICON.height() + 36))
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        # Photos are dragged out onto a visit of the timeline (to move them); files dropped in
        # are imported. Drops arrive at the viewport, which must accept them itself, or they
        # go to the window.
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setMinimumHeight(170)
        self.setAccessibleName("Photos of this visit")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.open_action = QAction("Open photo", self)
        self.rename_action = QAction("Change view label", self)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.compare_action = QAction("Compare with baseline", self)
        self.compare_selected_action = QAction("Compare selected photos", self)
        self.move_action = QAction("Move to another visit or area…", self)
        self.remove_action = QAction("Remove from visit…", self)
        self.remove_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.erase_action = QAction("Erase for good…", self)
        for action in (
            self.open_action,
            self.compare_action,
            self.compare_selected_action,
            self.rename_action,
            self.move_action,
            self.remove_action,
            self.erase_action,
        ):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.addAction(action)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.doubleClicked.connect(self._on_self_double_clicked)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.rename_action.triggered.connect(self._on_rename_action_triggered)
        self.remove_action.triggered.connect(self._on_remove_action_triggered)
        self.move_action.triggered.connect(self._on_move_action_triggered)
        self.erase_action.triggered.connect(self._on_erase_action_triggered)

    def selected_ids(self) -> list[int]:
        return [i.data(IdRole) for i in self.selectionModel().selectedIndexes()]

    def _on_self_double_clicked(self, index: Any) -> None:
        self.open_requested.emit(index.data(IdRole))

    def _on_open_action_triggered(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.open_requested.emit(ids[0])

    def _on_rename_action_triggered(self) -> None:
        if self.currentIndex().isValid():
            self.edit(self.currentIndex())

    def _on_remove_action_triggered(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.remove_requested.emit(ids)

    def _on_move_action_triggered(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.move_requested.emit(ids)

    def _on_erase_action_triggered(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.erase_requested.emit(ids)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
