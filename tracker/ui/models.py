"""Qt item models: thin adapters over the core's row objects, plus the thumbnail cache.

Thumbnails are read (or rebuilt) on the thread pool; a model shows a placeholder until its
thumbnail arrives and then repaints just that row, so a long timeline fills in progressively.
"""

from __future__ import annotations

import functools
import html
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

from tracker.core.errors import TrackerError
from tracker.core.queries.rows import AreaRow, ClientRow, PhotoRow, VisitRow
from tracker.core.store.library import Library
from tracker.ui.workers import Task, TaskRunner

log = logging.getLogger(__name__)

IdRole = Qt.ItemDataRole.UserRole + 1
# Photos dragged from a visit's grid, as a JSON list of ids.
PHOTO_MIME = "application/x-stria-tracker-photo-ids"
RowRole = Qt.ItemDataRole.UserRole + 2
# The size of a row's strip of thumbnails, without drawing it: a list lays every row out
# (fitting.WrappingDelegate.sizeHint) but paints only those in sight.
StripSizeRole = Qt.ItemDataRole.UserRole + 3

KIND_LABELS = {
    "baseline": "Baseline",
    "treatment": "Treatment",
    "check-in": "Check-in",
    "follow-up": "Follow-up",
}
THUMB = 96
GRID_ICON = QSize(160, 120)
STRIP_THUMBS = 4
THUMBS_PER_TASK = 8
Loaded = tuple[str, QImage]

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")


def untinted(pixmap: QPixmap) -> QIcon:
    """An icon drawn the same when its row is selected: views tint a selected item's icon with
    the highlight colour, which would change how red the marks look on the chosen visit."""
    icon = QIcon()
    icon.addPixmap(pixmap, QIcon.Mode.Normal)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)
    return icon


class ThumbnailCache(QObject):
    """Thumbnails by sha256, loaded off the GUI thread on first request.

    Bounded, least recently used first out: a practitioner browsing a 20,000-photo library
    would otherwise keep every thumbnail ever shown (about 200 kB each, 4 GB in all). The
    budget holds several screenfuls, so what is on screen (touched at every paint) stays.
    """

    ready = Signal(str)
    cleared = Signal()  # another library: whatever was drawn from the old one is stale

    def __init__(
        self, runner: TaskRunner, parent: QObject | None = None, *, budget_bytes: int = 64 << 20
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._lib: Library | None = None
        self._budget = budget_bytes
        self._bytes = 0
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._queue: list[str] = []

    def set_library(self, lib: Library | None) -> None:
        self._lib = lib
        self._images.clear()
        self._bytes = 0
        self._pending.clear()
        self._failed.clear()
        self._queue = []
        self.cleared.emit()

    def get(self, sha256: str) -> QImage | None:
        image = self._images.get(sha256)
        if image is not None:
            self._images.move_to_end(sha256)
        elif sha256 not in self._pending and sha256 not in self._failed:
            self._request(sha256)
        return image

    def held_bytes(self) -> int:
        return self._bytes

    def _request(self, sha256: str) -> None:
        """Queue a load; the requests of one turn of the event loop go out together."""
        if self._lib is None:
            return
        self._pending.add(sha256)
        self._queue.append(sha256)
        if len(self._queue) == 1:
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        """Start the queued loads, a few per task: a task costs about 0.3 ms of the GUI
        thread's time to start, and a client's timeline asks for dozens at once."""
        lib, queue, self._queue = self._lib, self._queue, []
        if lib is None:
            return
        for start in range(0, len(queue), THUMBS_PER_TASK):
            chunk = queue[start : start + THUMBS_PER_TASK]

            def load(_task: Task, chunk: list[str] = chunk) -> tuple[Library, list[Loaded]]:
                loaded = []
                try:
                    held = lib.cached("thumbs", chunk)  # one round trip to a server
                except TrackerError:
                    held = {}
                for sha256 in chunk:
                    try:
                        data = held.get(sha256) or lib.derived("thumbs", sha256)
                        loaded.append((sha256, QImage.fromData(data)))
                    except Exception as exc:  # one bad photo is a placeholder, not its batch's
                        if not isinstance(exc, TrackerError):
                            log.warning("A thumbnail could not be loaded: %s", type(exc).__name__)
                        loaded.append((sha256, QImage()))
                return lib, loaded

            self._runner.start(
                load,
                finished=self._on_task_finished,
                failed=functools.partial(self._on_task_failed, lib, chunk),
            )

    def _on_task_finished(self, result: tuple[Library, list[Loaded]]) -> None:
        lib, loaded = result
        if lib is not self._lib:
            return  # a library that has since been closed
        for sha256, image in loaded:
            self._pending.discard(sha256)
            if image.isNull():
                self._failed.add(sha256)
                continue
            self._images[sha256] = image
            self._bytes += image.sizeInBytes()
            while self._bytes > self._budget and len(self._images) > 1:
                _sha, oldest = self._images.popitem(last=False)
                self._bytes -= oldest.sizeInBytes()
            self.ready.emit(sha256)

    def _on_task_failed(self, lib: Library, chunk: list[str], _message: str) -> None:
        if lib is not self._lib:
            return
        self._pending.difference_update(chunk)
        self._failed.update(chunk)

    def is_idle(self) -> bool:
        return not self._pending


class RowListModel(QAbstractListModel, Generic[R]):
    """A list of core rows; subclasses say what each role shows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> bool:
        """Show ``rows``; False (and nothing redrawn) when they are what is shown already.

        The rows are frozen values, so comparing is cheap; resetting is not: a view measures
        every row again, and the client list of a practitioner holds hundreds.
        """
        rows = list(rows)
        if rows == self._rows:
            return False
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()
        return True

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, index: Index) -> R | None:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return self._rows[index.row()]

    def row_of_id(self, ident: int) -> int:
        for i, row in enumerate(self._rows):
            if getattr(row, "id", None) == ident:
                return i
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        if role == IdRole:
            return getattr(row, "id", None)
        if role == RowRole:
            return row
        return self.show(row, role)

    def show(self, row: R, role: int) -> Any:
        raise NotImplementedError


class ClientListModel(RowListModel[ClientRow]):
    def show(self, row: ClientRow, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return row.name
        if role == Qt.ItemDataRole.ToolTipRole:
            last = f", last visit {row.last_visit:%d %b %Y}" if row.last_visit else ""
            return f"{row.name}: {_count(row.areas, 'area')}, {_count(row.visits, 'visit')}{last}"
        return None


class AreaListModel(RowListModel[AreaRow]):
    def show(self, row: AreaRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.name}\n{_count(row.photos, 'photo')}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.name}, {_count(row.photos, 'photo')}"
        if role == Qt.ItemDataRole.ToolTipRole:
            site = f"{row.body_site}, " if row.body_site else ""
            return (
                f"{row.name}: {site}stage {row.stage.value}, rated on the {row.default_scale} scale"
            )
        return None


class TimelineModel(RowListModel[VisitRow]):
    """Visits by date: date, kind, days since baseline, a strip of thumbnails, rating summary."""

    def __init__(self, thumbs: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbs = thumbs
        self._strips: dict[int, QIcon] = {}
        thumbs.ready.connect(self._on_thumbs_ready)
        thumbs.cleared.connect(self._on_thumbs_cleared)

    def set_rows(self, rows: Sequence[VisitRow]) -> bool:
        if list(rows) == self._rows:
            return False
        self._strips.clear()
        return super().set_rows(rows)

    def show(self, row: VisitRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return "\n".join(visit_lines(row))
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return ", ".join(visit_lines(row, full=True))
        if role == Qt.ItemDataRole.DecorationRole:
            return self._strip(row) if row.photos else None  # no photos: no empty strip
        if role == StripSizeRole:
            return _strip_size(len(row.photos[:STRIP_THUMBS])) if row.photos else QSize()
        if role == Qt.ItemDataRole.ToolTipRole:
            truncated = len(row.ratings) > TIMELINE_RATINGS + 1
            parts = [row.notes, *(row.ratings if truncated else ())]
            text = "\n".join(p for p in parts if p)
            # Notes and names are the user's text: shown as such (a tooltip reads markup).
            return f"<p>{html.escape(text).replace(chr(10), '<br>')}</p>" if text else None
        return None

    def _strip(self, row: VisitRow) -> QIcon:
        """Up to four thumbnails side by side; placeholders until they are loaded. Kept until
        one of its thumbnails arrives: a view asks for it several times per row and frame."""
        cached = self._strips.get(row.id)
        if cached is not None:
            return cached
        side = THUMB // 2 + 8
        shown = row.photos[:STRIP_THUMBS]
        pixmap = QPixmap(_strip_size(len(shown)))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        for i, photo in enumerate(shown):
            image = self._thumbs.get(photo.sha256)
            x = i * (side + 2)
            if image is None:
                painter.fillRect(x, 0, side, side, QColor(128, 128, 128, 60))
                continue
            scaled = image.scaled(
                side,
                side,
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            sx, sy = (scaled.width() - side) // 2, (scaled.height() - side) // 2
            painter.drawImage(x, 0, scaled, sx, sy, side, side)
        painter.end()
        icon = untinted(pixmap)
        self._strips[row.id] = icon
        return icon

    def _on_thumbs_cleared(self) -> None:
        """Strips hold placeholders for loads the cache has dropped: draw them again."""
        self._strips.clear()
        if self._rows:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._rows) - 1), [Qt.ItemDataRole.DecorationRole]
            )

    def _on_thumbs_ready(self, sha256: str) -> None:
        for i, row in enumerate(self._rows):
            if any(p.sha256 == sha256 for p in row.photos[:STRIP_THUMBS]):
                self._strips.pop(row.id, None)
                index = self.index(i)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def _strip_size(photos: int) -> QSize:
    side = THUMB // 2 + 8
    return QSize(max(1, photos) * (side + 2), side)


TIMELINE_RATINGS = 3  # rating lines a timeline row shows before "and N more"


def visit_lines(row: VisitRow, *, full: bool = False) -> list[str]:
    """The lines of a visit's row in the timeline; ``full``: every rating (the tooltip and
    the screen reader), else the first few and how many more."""
    day = (
        "Baseline day"
        if row.days_since_baseline == 0
        else f"Day {row.days_since_baseline}"
        if row.days_since_baseline is not None
        else ""
    )
    first = f"{row.date:%d %b %Y} · {KIND_LABELS.get(row.kind.value, row.kind.value)}"
    second = " · ".join(part for part in (day, _count(len(row.photos), "photo")) if part)
    lines = [first, second]
    if full or len(row.ratings) <= TIMELINE_RATINGS + 1:
        lines.extend(row.ratings)
    else:  # a visit rated on many scales keeps its row short; the tooltip has every rating
        lines.extend(row.ratings[:TIMELINE_RATINGS])
        lines.append(f"and {len(row.ratings) - TIMELINE_RATINGS} more ratings (point to see them)")
    return lines


def scale_sentence(row: PhotoRow) -> str:
    """What the calibration card in the photo gave, or "" when it had none."""
    if row.px_per_mm is None:
        return ""
    return f"Its scale is known from the calibration card: {row.px_per_mm:.1f} pixels per mm."


class PhotoGridModel(RowListModel[PhotoRow]):
    """A visit's photos of one area. Editing a view label asks for an undoable change
    (``view_edit_requested``) instead of writing it here."""

    view_edit_requested = Signal(int, str)  # photo id, new view label

    def __init__(self, thumbs: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbs = thumbs
        thumbs.ready.connect(self._on_thumbs_ready)

    def show(self, row: PhotoRow, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return row.view
        if role == Qt.ItemDataRole.DecorationRole:
            # Always the grid's icon size, so the layout does not jump as thumbnails arrive.
            pixmap = QPixmap(GRID_ICON)
            pixmap.fill(Qt.GlobalColor.transparent)
            image = self._thumbs.get(row.sha256)
            painter = QPainter(pixmap)
            if image is None:
                painter.fillRect(pixmap.rect(), QColor(128, 128, 128, 60))
            else:
                scaled = image.scaled(
                    GRID_ICON,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                painter.drawImage(
                    (GRID_ICON.width() - scaled.width()) // 2,
                    (GRID_ICON.height() - scaled.height()) // 2,
                    scaled,
                )
            painter.end()
            return untinted(pixmap)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            n = len(row.warnings)
            warned = f", {n} capture warning{'s' if n != 1 else ''}" if n else ""
            return f"Photo, {row.view} view, taken {row.taken_at[:10]}{warned}"
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return " ".join([*row.warnings, scale_sentence(row)]).strip()
        if role == Qt.ItemDataRole.ToolTipRole:
            source = {
                "exif": "from the camera",
                "file": "from the file's date",
                "given": "as given at import",
            }
            lines = [
                row.original_name,
                f"Taken {row.taken_at.replace('T', ' ')} ({source.get(row.date_source.value, '')})",
                f"{row.width} × {row.height} {row.format}",
            ]
            if row.px_per_mm is not None:
                lines.append(scale_sentence(row))
            if row.warnings:
                lines += ["", "Capture check:", *(f"• {w}" for w in row.warnings)]
            return "\n".join(lines)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        return base | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return [PHOTO_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The dragged photos' ids, for a visit of the timeline to take them."""
        ids = sorted({int(i.data(IdRole)) for i in indexes if i.isValid()})
        data = QMimeData()
        data.setData(PHOTO_MIME, QByteArray(json.dumps(ids).encode("ascii")))
        return data

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        row = self.row_at(index)
        if row is None or role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value).strip()
        if text and text != row.view:
            self.view_edit_requested.emit(row.id, text)
        return False  # the label changes when the undo command has run and the view refreshes

    def _on_thumbs_ready(self, sha256: str) -> None:
        for i, row in enumerate(self._rows):
            if row.sha256 == sha256:
                index = self.index(i)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
