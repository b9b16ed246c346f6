"""Every undoable edit of the window, as a command that calls the core's services (see
``tracker.ui.history`` for how the history runs them and keeps in step with the library)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from tracker.core.db.models import Area, Client, RaterRole, RatingMethod, Stage, VisitKind
from tracker.core.imaging.geometry import Alignment, Gains
from tracker.core.services import clients, move, photos, ratings, versions, visits
from tracker.core.services.import_report import ImportReport
from tracker.core.services.import_undo import ImportRows, ImportUndo, reimport, unimport
from tracker.core.services.visits import VisitSnapshot
from tracker.core.store.library import Library
from tracker.ui.history import Change, Checked, Command

MERGE_RATING = 1
Seen = Mapping[int, int] | None  # photo id -> the version shown


# -- clients and areas ------------------------------------------------------------------------


class AddClient(Command):
    changes = Change.CLIENTS

    def __init__(self, lib: Library, name: str, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(lib, f"add client {name}")
        self.name, self.fields = name, dict(fields or {})
        self.client_id: int | None = None

    def do(self) -> None:
        self.client_id = clients.add_client(
            self.lib, self.name, self.fields, client_id=self.client_id
        )

    def revert(self) -> None:
        assert self.client_id is not None
        clients.remove_empty_client(self.lib, self.client_id)


class EditClient(Checked):
    """A client's details; ``seen`` is the client's version the dialog opened with."""

    changes = Change.CLIENTS

    def __init__(
        self, lib: Library, client_id: int, fields: Mapping[str, Any], seen: int | None = None
    ) -> None:
        super().__init__(lib, "edit client", seen)
        self.client_id, self.fields = client_id, dict(fields)
        self.old: dict[str, Any] = {}

    def do(self) -> None:
        checks = self.checks(self.old)
        self.old = clients.update_client(self.lib, self.client_id, **checks, **self.fields)

    def revert(self) -> None:
        expect = versions.Expect(self.fields)
        clients.update_client(self.lib, self.client_id, expect=expect, **self.old)


class AddArea(Command):
    changes = Change.AREAS

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
        self.area_id = clients.add_area(
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
        clients.remove_empty_area(self.lib, self.area_id)


class EditArea(Checked):
    """An area's details; ``seen`` is the area's version the dialog opened with."""

    changes = Change.AREAS

    def __init__(
        self, lib: Library, area_id: int, fields: Mapping[str, Any], seen: int | None = None
    ) -> None:
        super().__init__(lib, "edit area", seen)
        self.area_id, self.fields = area_id, dict(fields)
        self.old: dict[str, Any] = {}

    def do(self) -> None:
        checks = self.checks(self.old)
        self.old = clients.edit_area(self.lib, self.area_id, self.fields, **checks)

    def revert(self) -> None:
        clients.edit_area(self.lib, self.area_id, self.old, expect=versions.Expect(self.fields))


class RemoveArea(Command):
    """Remove an area that holds nothing (Area ▸ Remove area)."""

    changes = Change.AREAS

    def __init__(self, lib: Library, area_id: int, name: str) -> None:
        super().__init__(lib, f"remove area {name}")
        self.area_id = area_id
        self.row: dict[str, Any] = {}

    def do(self) -> None:
        self.row = clients.remove_empty_area(self.lib, self.area_id)

    def revert(self) -> None:
        clients.restore_row(self.lib, Area, self.row)


class RemoveClient(Command):
    """Remove a client that has no areas or visits (Client ▸ Remove client)."""

    changes = Change.CLIENTS

    def __init__(self, lib: Library, client_id: int, name: str) -> None:
        super().__init__(lib, f"remove client {name}")
        self.client_id = client_id
        self.row: dict[str, Any] = {}

    def do(self) -> None:
        self.row = clients.remove_empty_client(self.lib, self.client_id)

    def revert(self) -> None:
        clients.restore_row(self.lib, Client, self.row)


# -- visits, treatment records, ratings ------------------------------------------------------


class AddVisit(Command):
    changes = Change.VISITS

    def __init__(
        self, lib: Library, client_id: int, day: dt.date, kind: VisitKind, notes: str = ""
    ) -> None:
        super().__init__(lib, f"add visit on {day:%d %b %Y}")
        self.client_id, self.day, self.kind, self.notes = client_id, day, kind, notes
        self.visit_id: int | None = None
        self.snapshot: VisitSnapshot | None = None

    def do(self) -> None:
        if self.snapshot is not None:  # redo after undo: bring back what was there, ratings too
            self.visit_id = visits.restore_visit(self.lib, self.snapshot)
        else:
            self.visit_id = visits.add_visit(
                self.lib, self.client_id, self.day, self.kind, self.notes
            )

    def revert(self) -> None:
        assert self.visit_id is not None
        self.snapshot = visits.remove_visit(self.lib, self.visit_id)


class EditVisit(Checked):
    """A visit's date, kind or notes; ``seen`` is the visit's version the panel loaded."""

    changes = Change.VISITS

    def __init__(
        self, lib: Library, visit_id: int, fields: Mapping[str, Any], seen: int | None = None
    ) -> None:
        super().__init__(lib, "edit visit " + ", ".join(fields), seen)
        self.visit_id, self.fields = visit_id, dict(fields)
        self.old: dict[str, Any] = {}

    def do(self) -> None:
        checks = self.checks(self.old)
        self.old = visits.update_visit(self.lib, self.visit_id, **checks, **self.fields)

    def revert(self) -> None:
        # the fields as the step left them (a kind as its enum)
        left = {k: VisitKind(v) if k == "kind" else v for k, v in self.fields.items()}
        visits.update_visit(self.lib, self.visit_id, expect=versions.Expect(left), **self.old)


class RemoveVisit(Command):
    changes = Change.VISITS

    def __init__(self, lib: Library, visit_id: int) -> None:
        super().__init__(lib, "remove visit")
        self.visit_id = visit_id
        self.snapshot: VisitSnapshot | None = None

    def do(self) -> None:
        self.snapshot = visits.remove_visit(self.lib, self.visit_id)

    def revert(self) -> None:
        assert self.snapshot is not None
        visits.restore_visit(self.lib, self.snapshot)


class SetTreatment(Checked):
    """Fields of an area's treatment record at a visit (None clears a field): the rule of
    ``visits.set_treatment``, undone by putting the whole record back. ``seen`` is the
    record's version the editor loaded (0: none)."""

    changes = Change.TREATMENT

    def __init__(
        self,
        lib: Library,
        visit_id: int,
        area_id: int,
        fields: Mapping[str, Any],
        seen: int | None = None,
    ) -> None:
        super().__init__(lib, "edit treatment record", seen)
        self.visit_id, self.area_id, self.fields = visit_id, area_id, dict(fields)
        self.old: dict[str, Any] | None = None
        self.left: dict[str, Any] | None = None  # the record as the edit left it

    def do(self) -> None:
        checks = self.checks(self.old)
        done = visits.edit_treatment(self.lib, self.visit_id, self.area_id, self.fields, **checks)
        self.old, self.left = done.old, done.new

    def revert(self) -> None:
        visits.put_treatment(
            self.lib, self.visit_id, self.area_id, self.old, expect=versions.Expect(self.left)
        )


class SetRating(Command):
    """One rater's values for an area at a visit on one scale (None clears an item), by the
    rule of ``ratings.rate``; undone by putting the rating back exactly as it was (its id,
    method and when it was made, or no rating). Successive changes to the same rating merge
    into one undo step, so stepping a score from 7 to 4 is undone in one go. ``seen`` is the
    rating's version the editor loaded (0: none), checked as ``SetTreatment``'s is."""

    changes = Change.RATINGS

    def __init__(
        self,
        lib: Library,
        visit_id: int,
        area_id: int,
        role: RaterRole,
        scale: str,
        values: Mapping[str, float | None],
        rater_name: str = "",
        method: RatingMethod | None = None,
        seen: int | None = None,
    ) -> None:
        who = f"{role.value} {rater_name}" if rater_name else role.value
        super().__init__(lib, f"rate ({who})")
        self.key = (visit_id, area_id, role, scale, rater_name)
        self.values: dict[str, float | None] = dict(values)
        self.method = method
        self.before: ratings.RatingSnapshot | None = None
        self._first = True
        self.seen = seen
        self.left: dict[str, float] = {}  # the values as the edit left them

    def id(self) -> int:
        return MERGE_RATING

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetRating) or other.key != self.key:
            return False
        self.values.update(other.values)
        self.method = other.method or self.method
        self.left = other.left  # the values the merged step left
        return True

    def do(self) -> None:
        visit_id, area_id, role, scale, name = self.key
        change = ratings.rate(
            self.lib,
            visit_id,
            area_id,
            role,
            self.values,
            scale=scale,
            rater_name=name,
            method=self.method,
            # A redo expects the rating as the undo left it (see SetTreatment.do).
            seen=self.seen if self._first else None,
            expect=None if self._first else versions.Expect(_values(self.before)),
        )
        self.left = change.values
        if self._first:  # a redo keeps the rating from before the first edit
            self.before, self._first = change.before, False

    def revert(self) -> None:
        visit_id, area_id, role, scale, name = self.key
        expect = versions.Expect(self.left)
        ratings.put_back(self.lib, visit_id, area_id, role, name, scale, self.before, expect=expect)


def _values(before: ratings.RatingSnapshot | None) -> dict[str, float]:
    return {i["item_key"]: i["value"] for i in before.items} if before is not None else {}


# -- photos -----------------------------------------------------------------------------------


class SetPhotoView(Checked):
    """A photo's view label; ``seen`` is the photo's version the grid showed."""

    changes = Change.PHOTOS

    def __init__(self, lib: Library, photo_id: int, view: str, seen: int | None = None) -> None:
        super().__init__(lib, f"label photo {view}", seen)
        self.photo_id, self.view = photo_id, view
        self.old = ""

    def do(self) -> None:
        checks = self.checks(self.old)
        self.old = photos.set_photo_view(self.lib, self.photo_id, self.view, **checks)

    def revert(self) -> None:
        expect = versions.Expect(self.view)  # the label the step left
        photos.set_photo_view(self.lib, self.photo_id, self.old, expect=expect)

    def photo_ids(self) -> frozenset[int]:
        return frozenset({self.photo_id})


class RemovePhotos(Checked):
    """Removal hides photos; their originals stay in the library (undo brings them back, and
    importing the same file again restores them too). ``seen``: photo id -> the version the
    grid showed."""

    changes = Change.PHOTOS

    def __init__(self, lib: Library, photo_ids: Iterable[int], seen: Seen = None) -> None:
        self.ids = list(photo_ids)
        n = len(self.ids)
        super().__init__(lib, f"remove {n} photo{'s' if n != 1 else ''}", seen)

    def do(self) -> None:
        photos.remove_photos(self.lib, self.ids, **self.checks(dict.fromkeys(self.ids, False)))

    def revert(self) -> None:
        expect = versions.Expect(dict.fromkeys(self.ids, True))
        photos.restore_photos(self.lib, self.ids, expect=expect)

    def photo_ids(self) -> frozenset[int]:
        return frozenset(self.ids)


class MovePhotos(Checked):
    """Photos to another visit (or a new one on a date), area or view: ``move.move_photos``,
    undone by ``move.unmove`` (their transforms and the references come back too), which
    expects them where the move left them. ``seen``: photo id -> the version the grid showed."""

    changes = Change.PHOTOS | Change.VISITS | Change.ALIGNMENT

    def __init__(
        self,
        lib: Library,
        photo_ids: Iterable[int],
        *,
        visit_id: int | None = None,
        day: dt.date | None = None,
        area_id: int | None = None,
        view: str | None = None,
        seen: Mapping[int, int] | None = None,
    ) -> None:
        self.ids = list(photo_ids)
        n = len(self.ids)
        super().__init__(lib, f"move {n} photo{'s' if n != 1 else ''}", seen)
        self.target = {"visit_id": visit_id, "day": day, "area_id": area_id, "view": view}
        self.undo_info: move.MoveUndo | None = None

    def do(self) -> None:
        # A redo: the photos where the undo put them back.
        checks = self.checks(self.undo_info.found() if self.undo_info else None)
        self.undo_info = move.move_photos(self.lib, self.ids, **self.target, **checks)  # type: ignore[arg-type]

    def revert(self) -> None:
        assert self.undo_info is not None
        move.unmove(self.lib, self.undo_info, expect=versions.Expect(self.undo_info.left))

    def photo_ids(self) -> frozenset[int]:
        return frozenset(self.ids)


class ImportPhotos(Command):
    """An import that ran in the background, made undoable after it finished: undo takes it
    back whole (``import_undo.unimport``), redo puts it back under the same ids."""

    changes = Change.PHOTOS | Change.VISITS

    def __init__(self, lib: Library, report: ImportReport) -> None:
        self.info = ImportUndo.of(report)
        n = len(self.info.photo_ids) + len(self.info.brought_back)
        super().__init__(lib, f"import of {n} photo{'s' if n != 1 else ''}")
        self.rows: ImportRows | None = None

    def do(self) -> None:
        assert self.rows is not None  # only a redo comes here: the import itself ran already
        reimport(self.lib, self.info, self.rows)

    def revert(self) -> None:
        self.rows = unimport(self.lib, self.info)

    def photo_ids(self) -> frozenset[int]:
        return frozenset(self.info.photo_ids + self.info.brought_back)


class SetAlignment(Checked):
    """Alignments of several photos (and the reference photos of their areas and views),
    stored and undone in one transaction each way, with how each was made. ``seen``: photo
    id -> the version the compare window showed, or an automatic run read (None: after an
    import, not checked)."""

    changes = Change.ALIGNMENT

    def __init__(
        self,
        lib: Library,
        alignments: Mapping[int, Alignment | None],
        references: Iterable[photos.Reference] = (),
        seen: Seen = None,
    ) -> None:
        text = "align photos" if any(alignments.values()) else "reset alignment"
        super().__init__(lib, text, seen)
        self.alignments = dict(alignments)
        self.references = list(references)  # (area id, view, photo id) to make the reference
        self.old: dict[int, Alignment | None] = {}
        self.old_references: list[photos.Reference] = []

    def do(self) -> None:
        checks = self.checks(self.old)
        self.old, self.old_references = photos.set_alignments(
            self.lib, self.alignments, self.references, **checks
        )

    def revert(self) -> None:
        expect = versions.Expect(self.alignments)  # the alignments the step left
        photos.set_alignments(self.lib, self.old, reversed(self.old_references), expect=expect)

    def photo_ids(self) -> frozenset[int]:
        return frozenset(self.alignments)


class SetGains(Checked):
    """Colour balance of one or more photos (None resets it), one step and one transaction;
    ``seen``: photo id -> the version the compare window showed."""

    changes = Change.COLOUR

    def __init__(self, lib: Library, gains: Mapping[int, Gains | None], seen: Seen = None) -> None:
        super().__init__(lib, "balance colour" if any(gains.values()) else "reset colour", seen)
        self.gains = dict(gains)
        self.old: dict[int, Gains | None] = {}

    def do(self) -> None:
        self.old = photos.set_colour_gains(self.lib, self.gains, **self.checks(self.old))

    def revert(self) -> None:
        photos.set_colour_gains(self.lib, self.old, expect=versions.Expect(self.gains))

    def photo_ids(self) -> frozenset[int]:
        return frozenset(self.gains)
