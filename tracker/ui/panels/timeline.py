"""The timeline of visits: a list a visit's photos can be dragged onto, to move them there.

Its rows (``fitting.wrap_list``) show the thumbnails beside the text when the list is wide
enough for both and above it when it is narrow (a 1024-pixel screen, 200 % text), the text
wrapped to the list's width, so no word is cut and there is no sideways scrolling."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from tracker.ui.models import PHOTO_MIME, IdRole, TimelineModel
from tracker.ui.panels.fitting import wrap_list


class TimelineView(QListView):
    photos_dropped = Signal(int, list)  # visit id, photo ids

    def __init__(self, model: TimelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSpacing(3)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAccessibleName("Timeline of visits")
        # Rows are as wide as the list and their text wraps: nothing to scroll sideways to.
        wrap_list(self, bold_first=True)
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
