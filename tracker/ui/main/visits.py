"""Edits of visits and their photos, from the menus, the visit panel and the photo grid."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt

from tracker.core.queries import browse
from tracker.ui import commands as cmd
from tracker.ui.dialogs import MoveDialog, NewVisitDialog, confirm
from tracker.ui.main.controller import WindowController
from tracker.ui.models import KIND_LABELS
from tracker.ui.panels.ratings_editor import RaterColumn
from tracker.ui.viewer import PhotoViewer

VIEWS = ("front", "left", "right", "back", "close-up")


class VisitController(WindowController):
    def _connect_signals(self) -> None:
        w = self.window
        w.menus.new_visit.triggered.connect(self._on_new_visit_triggered)
        w.menus.remove_visit.triggered.connect(self._on_remove_visit_triggered)
        w.menus.previous_visit.triggered.connect(lambda: self.step(-1))
        w.menus.next_visit.triggered.connect(lambda: self.step(1))
        w.panel.visit_edited.connect(self._on_panel_visit_edited)
        w.panel.treatment_edited.connect(self._on_panel_treatment_edited)
        w.panel.rating_edited.connect(self._on_panel_rating_edited)
        w.panel.grid.open_requested.connect(self._on_grid_open_requested)
        w.panel.grid.remove_requested.connect(self._on_grid_remove_requested)
        w.panel.grid.move_requested.connect(self._on_grid_move_requested)
        w.timeline_view.photos_dropped.connect(self._on_timeline_photos_dropped)
        w.photos.view_edit_requested.connect(self._on_photos_view_edit_requested)

    def step(self, step: int) -> None:
        """Move to the previous (-1) or next (+1) visit on the timeline."""
        w = self.window
        row = w.timeline.row_of_id(w.visit_id) if w.visit_id is not None else -1
        target = row + step
        if 0 <= target < w.timeline.rowCount():
            w.timeline_view.setCurrentIndex(w.timeline.index(target))

    def _on_new_visit_triggered(self) -> None:
        w = self.window
        if w.lib is None or w.client_id is None:
            return
        taken = browse.visit_dates(w.lib, w.client_id)
        kind = browse.suggested_visit_kind(w.lib, w.client_id)
        answer = NewVisitDialog.ask(w.as_widget(), dt.date.today(), kind, taken)
        if answer is None:
            return
        command = cmd.AddVisit(w.lib, w.client_id, answer.day, answer.kind, answer.notes)
        if w.run(command):
            w.visit_id = command.visit_id
            w.refresh()

    def _on_remove_visit_triggered(self) -> None:
        w = self.window
        if w.lib is None or w.visit_id is None:
            return
        detail = browse.visit_detail(w.lib, w.visit_id)
        if confirm(
            w.as_widget(),
            "Remove visit",
            f"Remove the visit on {detail.date:%d %B %Y} with its treatment records and ratings? You can undo this.",
            "Remove visit",
        ):
            w.run(cmd.RemoveVisit(w.lib, w.visit_id))

    def _on_panel_visit_edited(self, fields: dict[str, Any]) -> None:
        w = self.window
        if w.lib is not None and w.visit_id is not None:
            # The visit's version the panel loaded: an edit from an older one is refused.
            detail = w.panel.detail
            seen = detail.version if detail is not None and detail.id == w.visit_id else None
            w.run(cmd.EditVisit(w.lib, w.visit_id, fields, seen))

    def _on_panel_treatment_edited(self, fields: dict[str, Any]) -> None:
        w = self.window
        area = w.panel.area
        if w.lib is not None and w.visit_id is not None and w.area_id is not None:
            # The record's version the editor loaded: an edit from an older one is refused.
            seen = area.treatment_version if area and area.area.id == w.area_id else None
            w.run(cmd.SetTreatment(w.lib, w.visit_id, w.area_id, fields, seen))

    def _on_panel_rating_edited(self, column: RaterColumn, values: dict[str, float | None]) -> None:
        """One rater's column as the editor shows it: that rater's rating on that scale is
        edited under its name, or made."""
        w = self.window
        area = w.panel.area
        if w.lib is not None and w.visit_id is not None and area is not None:
            shown = (r for r in area.ratings if (r.scale_key, r.role, r.rater_name) == column.key)
            seen = next((r.version for r in shown), 0)  # 0: the editor showed no rating
            w.run(
                cmd.SetRating(
                    w.lib,
                    w.visit_id,
                    area.area.id,
                    column.role,
                    column.scale,
                    values,
                    column.name,
                    column.method,
                    seen,
                )
            )

    def _on_photos_view_edit_requested(self, photo_id: int, view: str) -> None:
        if self.window.lib is not None:
            seen = self._shown_versions([photo_id]).get(photo_id)
            self.window.run(cmd.SetPhotoView(self.window.lib, photo_id, view, seen))

    def _on_grid_remove_requested(self, ids: list[int]) -> None:
        w = self.window
        if w.lib is None:
            return
        seen = self._shown_versions(ids)  # as the grid showed them when asked
        what = "this photo" if len(ids) == 1 else f"these {len(ids)} photos"
        if confirm(
            w.as_widget(),
            "Remove photos",
            f"Remove {what} from the visit? The original files stay in the library, and you can undo this.",
            "Remove",
        ):
            w.run(cmd.RemovePhotos(w.lib, ids, seen))

    def _on_grid_move_requested(self, ids: list[int]) -> None:
        w = self.window
        if w.lib is None or w.visit_id is None or w.area_id is None:
            return
        seen = self._shown_versions(ids)  # as the grid showed them when asked
        first = browse.photo(w.lib, ids[0])
        visits = [
            (r.id, f"{r.date:%d %b %Y} · {KIND_LABELS[r.kind.value]}") for r in w.timeline.rows()
        ]
        areas = [(a.id, a.name) for a in w.areas.rows()]
        answer = MoveDialog.ask(
            w.as_widget(), len(ids), visits, areas, list(VIEWS), (w.visit_id, w.area_id, first.view)
        )
        if answer is not None:
            self._move(
                cmd.MovePhotos(
                    w.lib,
                    ids,
                    visit_id=answer.visit_id,
                    day=answer.day,
                    area_id=answer.area_id,
                    view=answer.view,
                    seen=seen,
                )
            )

    def _shown_versions(self, ids: list[int]) -> dict[int, int]:
        """photo id -> the version the grid shows (issue 21): what a move, a label or a
        removal names, so that it is refused when another workstation changed the photo."""
        wanted = set(ids)
        return {r.id: r.version for r in self.window.photos.rows() if r.id in wanted}

    def _move(self, command: cmd.MovePhotos) -> None:
        """Move, then say what became of the regions drawn on a reference photo that left
        its view (carried to the next, or to be drawn again): never silently."""
        if self.window.run(command) and command.undo_info and command.undo_info.notes:
            self.window.show_info(" ".join(command.undo_info.notes))

    def _on_timeline_photos_dropped(self, visit_id: int, ids: list[int]) -> None:
        """Photos dragged from the grid onto a visit: they move to it (same area and view)."""
        w = self.window
        if w.lib is not None and ids and visit_id != w.visit_id:
            self._move(
                cmd.MovePhotos(w.lib, ids, visit_id=visit_id, seen=self._shown_versions(ids))
            )

    def _on_grid_open_requested(self, photo_id: int) -> None:
        w = self.window
        if w.lib is None:
            return
        lib = w.lib
        row = browse.photo(lib, photo_id)
        viewer = PhotoViewer(
            lambda: lib.derived("previews", row.sha256),
            f"{row.view} — {row.taken_at[:10]}",
            w.runner,
            w.as_widget(),
        )
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()
