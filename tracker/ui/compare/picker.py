"""Choosing 2–4 photos to compare: of the area, or of every area of the client."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
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

Choices = list[tuple[str, int]]


def photo_choices(
    lib: Library, area_id: int, client_id: int | None
) -> tuple[Choices, Choices, list[int]]:
    """The area's photos and every photo of the client, as (label, photo id) for the picker, and
    a sensible first pick: the area's first photo and the latest one of the same view."""
    rows = browse.area_photos(lib, area_id)
    area = [(f"{day:%d %b %Y} · {row.view} · {row.original_name}", row.id) for day, row in rows]
    same_view = [row.id for _, row in rows if row.view == rows[0][1].view]
    default = [same_view[0], same_view[-1]] if len(same_view) >= 2 else [r.id for _, r in rows[:2]]
    every = (
        [
            (f"{day:%d %b %Y} · {name} · {row.view} · {row.original_name}", row.id)
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
