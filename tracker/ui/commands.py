"""Undoable edits. Each command calls the core (``tracker.core.queries.workspace``) in redo and undo,
never widgets; the window refreshes itself when the undo stack changes.

``push`` runs a command's first redo *before* it goes on the stack, so an edit the core refuses
(a rating out of range, a taken date) is shown as a sentence and leaves no command behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from tracker.core.db.models import RaterRole, Stage, VisitKind
from tracker.core.queries import workspace as ws
from tracker.core.store.library import Library

MERGE_RATING = 1


class Command(QUndoCommand):
    def __init__(self, lib: Library, text: str) -> None:
        super().__init__(text)
        self.lib = lib
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:
            return  # the first redo already ran in push()
        self.do()

    def undo(self) -> None:
        self.revert()

    def do(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError


def push(stack: QUndoStack, command: Command) -> None:
    """Apply ``command`` now (raising the core's error if it is refused), then make it undoable."""
    command.do()
    stack.push(command)
    command._pushed = True


class AddClient(Command):
    def __init__(self, lib: Library, name: str) -> None:
        super().__init__(lib, f"add client {name}")
        self.name = name
        self.client_id: int | None = None

    def do(self) -> None:
        self.client_id = ws.add_client(self.lib, self.name, client_id=self.client_id)

    def revert(self) -> None:
        assert self.client_id is not None
        ws.remove_empty_client(self.lib, self.client_id)


class EditClient(Command):
    def __init__(self, lib: Library, client_id: int, fields: Mapping[str, Any]) -> None:
        super().__init__(lib, "edit client")
        self.client_id, self.fields = client_id, dict(fields)
        self.old: dict[str, Any] = {}

    def do(self) -> None:
        self.old = ws.update_client(self.lib, self.client_id, **self.fields)

    def revert(self) -> None:
        ws.update_client(self.lib, self.client_id, **self.old)


class AddArea(Command):
    def __init__(
        self,
        lib: Library,
        client_id: int,
        name: str,
        body_site: str,
        stage: Stage,
        scale: str = "ctd",
    ) -> None:
        super().__init__(lib, f"add area {name}")
        self.client_id, self.name, self.body_site, self.stage = client_id, name, body_site, stage
        self.scale = scale
        self.area_id: int | None = None

    def do(self) -> None:
        self.area_id = ws.add_area(
            self.lib,
            self.client_id,
            self.name,
            body_site=self.body_site,
            stage=self.stage,
            default_scale=self.scale,
            area_id=self.area_id,
        )

    def revert(self) -> None:
        assert self.area_id is not None
        ws.remove_empty_area(self.lib, self.area_id)


class EditArea(Command):
    def __init__(self, lib: Library, area_id: int, fields: Mapping[str, Any]) -> None:
        super().__init__(lib, "edit area")
        self.area_id, self.fields = area_id, dict(fields)
        self.old: dict[str, Any] = {}

    def do(self) -> None:
        self.old = ws.update_area(self.lib, self.area_id, **self.fields)

    def revert(self) -> None:
        ws.update_area(self.lib, self.area_id, **self.old)


class AddVisit(Command):
    def __init__(
        self, lib: Library, client_id: int, day: dt.date, kind: VisitKind, notes: str = ""
    ) -> None:
        super().__init__(lib, f"add visit on {day:%d %b %Y}")
        self.client_id, self.day, self.kind, self.notes = client_id, day, kind, notes
        self.visit_id: int | None = None
        self.snapshot: ws.VisitSnapshot | None = None

    def do(self) -> None:
        if self.snapshot is not None:  # redo after undo: bring back what was there, ratings too
            self.visit_id = ws.restore_visit(self.lib, self.snapshot)
        else:
            self.visit_id = ws.add_visit(self.lib, self.client_id, self.day, self.kind, self.notes)

    def revert(self) -> None:
        assert self.visit_id is not None
        self.snapshot = ws.remove_visit(self.lib, self.visit_id)


class EditVisit(Command):
    def __init__(self, lib: Library, visit_id: int, fields: Mapping[str, Any]) -> None:
        super().__init__(lib, "edit visit " + ", ".join(fields))
        self.visit_id, self.fields = visit_id, dict(fields)
        self.old: dict[str, Any] = {}

    def do(self) -> None:
        self.old = ws.update_visit(self.lib, self.visit_id, **self.fields)

    def revert(self) -> None:
        ws.update_visit(self.lib, self.visit_id, **self.old)


class RemoveVisit(Command):
    def __init__(self, lib: Library, visit_id: int) -> None:
        super().__init__(lib, "remove visit")
        self.visit_id = visit_id
        self.snapshot: ws.VisitSnapshot | None = None

    def do(self) -> None:
        self.snapshot = ws.remove_visit(self.lib, self.visit_id)

    def revert(self) -> None:
        assert self.snapshot is not None
        ws.restore_visit(self.lib, self.snapshot)


class SetTreatment(Command):
    def __init__(
        self, lib: Library, visit_id: int, area_id: int, fields: Mapping[str, Any]
    ) -> None:
        super().__init__(lib, "edit treatment record")
        self.visit_id, self.area_id, self.fields = visit_id, area_id, dict(fields)
        self.old: dict[str, Any] | None = None

    def do(self) -> None:
        self.old = ws.set_treatment(self.lib, self.visit_id, self.area_id, self.fields)

    def revert(self) -> None:
        ws.set_treatment(self.lib, self.visit_id, self.area_id, self.old)


class SetRating(Command):
    """One rater's values for an area at a visit. Successive changes to the same rating merge
    into one undo step, so stepping a score from 7 to 4 is undone in one go."""

    def __init__(
        self,
        lib: Library,
        visit_id: int,
        area_id: int,
        role: RaterRole,
        scale: str,
        values: Mapping[str, float],
    ) -> None:
        super().__init__(lib, f"rate ({role.value})")
        self.key = (visit_id, area_id, role, scale)
        self.values = dict(values)
        self.old: dict[str, float] = {}

    def id(self) -> int:
        return MERGE_RATING

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetRating) or other.key != self.key:
            return False
        self.values = other.values
        return True

    def do(self) -> None:
        visit_id, area_id, role, scale = self.key
        self.old = ws.set_rating(self.lib, visit_id, area_id, role, scale, self.values)

    def revert(self) -> None:
        visit_id, area_id, role, scale = self.key
        ws.set_rating(self.lib, visit_id, area_id, role, scale, self.old)


class SetPhotoView(Command):
    def __init__(self, lib: Library, photo_id: int, view: str) -> None:
        super().__init__(lib, f"label photo {view}")
        self.photo_id, self.view = photo_id, view
        self.old = ""

    def do(self) -> None:
        self.old = ws.set_photo_view(self.lib, self.photo_id, self.view)

    def revert(self) -> None:
        ws.set_photo_view(self.lib, self.photo_id, self.old)


class RemovePhotos(Command):
    """Removal hides photos; their originals stay in the library (undo brings them back, and
    importing the same file again restores them too)."""

    def __init__(self, lib: Library, photo_ids: list[int]) -> None:
        n = len(photo_ids)
        super().__init__(lib, f"remove {n} photo{'s' if n != 1 else ''}")
        self.photo_ids = list(photo_ids)

    def do(self) -> None:
        ws.remove_photos(self.lib, self.photo_ids)

    def revert(self) -> None:
        ws.restore_photos(self.lib, self.photo_ids)
