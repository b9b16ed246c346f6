"""The visit's photos of one area, as a grid of thumbnails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from tracker.ui.models import GRID_ICON, IdRole, PhotoGridModel


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
