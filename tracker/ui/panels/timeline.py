"""The timeline of visits: a list a visit's photos can be dragged onto, to move them there."""

from __future__ import annotations

import json

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from tracker.ui.models import PHOTO_MIME, IdRole, TimelineModel


class TimelineView(QListView):
    photos_dropped = Signal(int, list)  # visit id, photo ids

    def __init__(self, model: TimelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setIconSize(QSize(240, 56))
        self.setSpacing(3)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAccessibleName("Timeline of visits")
        self.setWordWrap(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)

    def _target(self, event: QDragMoveEvent | QDropEvent) -> int | None:
        if not event.mimeData().hasFormat(PHOTO_MIME):
            return None
        index = self.indexAt(event.position().toPoint())
        return int(index.data(IdRole)) if index.isValid() else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(PHOTO_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._target(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        visit = self._target(event)
        if visit is None:
            event.ignore()
            return
        ids = json.loads(bytes(event.mimeData().data(PHOTO_MIME).data()).decode("ascii"))
        event.acceptProposedAction()
        self.photos_dropped.emit(visit, [int(i) for i in ids])
