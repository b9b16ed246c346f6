"""Choosing 2–4 photos to compare: of the area, or of every area of the client, each shown by
its thumbnail (from the library's cache, loaded off the GUI thread) beside its date and view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracker.core.queries import browse
from tracker.core.store.library import Library
from tracker.ui.models import ThumbnailCache, untinted

THUMB = QSize(96, 72)
ShaRole = Qt.ItemDataRole.UserRole + 1


class Choice(NamedTuple):
    label: str
    photo_id: int
    sha256: str = ""  # its thumbnail's key; "" shows none


Choices = list[Choice]


def photo_choices(
    lib: Library, area_id: int, client_id: int | None
) -> tuple[Choices, Choices, list[int]]:
    """The area's photos and every photo of the client, as (label, photo id) for the picker, and
    a sensible first pick: the area's first photo and the latest one of the same view."""
    rows = browse.area_photos(lib, area_id)
    area = [
        Choice(f"{day:%d %b %Y} · {row.view} · {row.original_name}", row.id, row.sha256)
        for day, row in rows
    ]
    same_view = [row.id for _, row in rows if row.view == rows[0][1].view]
    default = [same_view[0], same_view[-1]] if len(same_view) >= 2 else [r.id for _, r in rows[:2]]
    every = (
        [
            Choice(
                f"{day:%d %b %Y} · {name} · {row.view} · {row.original_name}", row.id, row.sha256
            )
            for day, name, row in browse.client_photos(lib, client_id)
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
        choices: Sequence[Choice],
        chosen: Sequence[int],
        wider: Sequence[Choice] = (),
        thumbs: ThumbnailCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose photos to compare")
        self.resize(560, 600)
        self.thumbs = thumbs
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Tick 2 to 4 photos. The first ticked is the one the others are shown against.",
                self,
            )
        )
        self.list = QListWidget(self)
        self.list.setAccessibleName("Photos")
        self.list.setIconSize(THUMB)
        self.list.setSpacing(2)
        if thumbs is not None:
            thumbs.ready.connect(self._on_thumbs_ready)
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

    def _fill(self, choices: Sequence[Choice], chosen: Sequence[int]) -> None:
        self.list.clear()
        blank = QPixmap(THUMB)
        blank.fill(Qt.GlobalColor.transparent)  # the row keeps its height until its thumbnail comes
        for text, pid, sha256 in choices:
            item = QListWidgetItem(text, self.list)
            item.setData(Qt.ItemDataRole.UserRole, pid)
            item.setData(ShaRole, sha256)
            item.setCheckState(Qt.CheckState.Checked if pid in chosen else Qt.CheckState.Unchecked)
            item.setIcon(untinted(blank))
            self._show_thumb(item)

    def _show_thumb(self, item: QListWidgetItem) -> None:
        sha256 = item.data(ShaRole)
        image = self.thumbs.get(sha256) if self.thumbs is not None and sha256 else None
        if image is not None:
            pixmap = QPixmap.fromImage(image).scaled(
                THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            item.setIcon(untinted(pixmap))

    def _on_thumbs_ready(self, sha256: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ShaRole) == sha256:
                self._show_thumb(item)

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
        choices: Sequence[Choice],
        chosen: Sequence[int],
        wider: Sequence[Choice] = (),
        thumbs: ThumbnailCache | None = None,
    ) -> list[int] | None:
        dialog = cls(parent, choices, chosen, wider, thumbs)
        answer = dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
        dialog.deleteLater()  # it would go on answering the cache's signals
        return answer
