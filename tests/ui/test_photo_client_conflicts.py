"""The window's moves, labels and removals of photos, and its client and area dialogs, name
the version they showed (issue 21): an edit, an undo or a redo after another workstation
changed the same photo, client or area is refused with its sentence, the window shows the
fresh values (a dialog opens again with them), and nothing of the other's edit is lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from tracker.core.db import engine as db
from tracker.core.db.models import Area, Photo
from tracker.core.queries import browse
from tracker.core.queries.editors import area_fields
from tracker.core.queries.rows import PhotoRow
from tracker.core.services import clients, photos
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui import dialogs
from tracker.ui.dialogs import MoveAnswer
from tracker.ui.main.window import MainWindow

FRESH = "its fresh values are shown."


@pytest.fixture
def other(window: MainWindow) -> Iterator[Library]:
    """Another workstation's handle on the window's library (past the writer lock)."""
    assert window.lib is not None
    lib = Library(window.lib.root, db.make_engine(window.lib.root / "library.sqlite3"))
    yield lib
    lib.engine.dispose()


def _shown(window: MainWindow) -> PhotoRow:
    """The first photo of the grid, as the grid shows it."""
    return window.photos.rows()[0]


def _other_visit(window: MainWindow) -> int:
    return next(r.id for r in window.timeline.rows() if r.id != window.visit_id)


def test_a_move_after_another_workstation_changed_the_photo_is_refused(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.lib is not None
    shown = _shown(window)
    photos.set_photo_view(other, shown.id, "close-up", seen=shown.version)  # the other desk
    target = _other_visit(window)
    command = cmd.MovePhotos(
        window.lib, [shown.id], visit_id=target, seen={shown.id: shown.version}
    )
    assert not window.run(command)
    assert errors == [
        f"Photo {shown.id} ({shown.original_name}) was changed by someone else after it was "
        f"shown here, so this change was not stored; {FRESH}"
    ]
    assert window.history.stack.count() == 0
    fresh = browse.photo(other, shown.id)
    assert fresh.view == "close-up" and fresh.version == shown.version + 1  # the other's kept
    assert next(p for p in window.photos.rows() if p.id == shown.id).version == fresh.version
    # From the version shown now, the move goes through; the other desk labels the photo
    # again, and the undo, which would put back the label this window found, is refused.
    assert window.run(
        cmd.MovePhotos(window.lib, [shown.id], visit_id=target, seen={shown.id: fresh.version})
    )
    moved = browse.photo(other, shown.id)
    photos.set_photo_view(other, shown.id, "left", seen=moved.version)
    assert not window.history.undo()
    assert len(errors) == 2 and "could not be undone" in errors[1] and FRESH in errors[1]
    assert browse.photo(other, shown.id).view == "left"
    assert window.history.stack.count() == 0


def test_the_windows_own_moves_undo_and_redo_and_a_redo_after_another_is_refused(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.lib is not None
    shown = _shown(window)
    home, target = window.visit_id, _other_visit(window)

    def visit() -> int | None:
        with other.session() as s:
            return s.scalar(select(Photo.visit_id).where(Photo.id == shown.id))

    assert window.run(
        cmd.MovePhotos(window.lib, [shown.id], visit_id=target, seen={shown.id: shown.version})
    )
    for _ in range(2):
        assert window.history.undo() and visit() == home
        assert window.history.redo() and visit() == target
    assert window.history.undo() and errors == []
    photos.set_photo_view(other, shown.id, "desk view")  # the other desk, no check
    assert not window.history.redo()
    assert "could not be redone" in errors[0] and FRESH in errors[0] and visit() == home


def test_a_label_and_a_removal_send_the_version_shown(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.lib is not None
    first, second = window.photos.rows()[:2]
    photos.set_photo_view(other, first.id, "close-up")
    assert not window.run(cmd.SetPhotoView(window.lib, first.id, "left", first.version))
    assert not window.run(
        cmd.RemovePhotos(
            window.lib, [second.id, first.id], {p.id: p.version for p in (first, second)}
        )
    )
    assert len(errors) == 2 and all(e.startswith(f"Photo {first.id} ") for e in errors)
    assert browse.photo(other, second.id).version == second.version  # nothing removed
    assert window.history.stack.count() == 0
    # The window's own removal and its undo go through; after the other desk brings a photo
    # back, the redo is refused.
    fresh = {p.id: p.version for p in window.photos.rows() if p.id in (first.id, second.id)}
    assert len(fresh) == 2
    assert window.run(cmd.RemovePhotos(window.lib, list(fresh), fresh))
    assert window.history.undo() and window.history.redo()
    photos.restore_photos(other, [second.id])
    assert not window.history.undo()  # the undo restores both: one was back already
    assert len(errors) == 3 and "could not be undone" in errors[2]


class Dialog:
    """A dialog's ``ask`` that records what it was opened with, runs ``meanwhile`` (the
    other desk's edit while the dialog is open) the first time, and answers with the first
    of ``changes`` made to what it shows (None: Cancel)."""

    def __init__(self, changes: list[dict[str, Any] | None], meanwhile: Callable[[], object]):
        self.changes, self.meanwhile = changes, meanwhile
        self.opened: list[Any] = []

    def ask(self, *_args: object, current: Any = None, **_kw: object) -> Any:
        self.opened.append(current)
        if len(self.opened) == 1:
            self.meanwhile()
        change = self.changes.pop(0)
        return None if change is None else replace(current, **change)


def test_the_client_dialog_after_another_workstation_opens_again_with_the_fresh_values(
    window: MainWindow, other: Library, errors: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.client_id is not None
    client = window.client_id
    start = browse.client_fields(other, client)
    mine = {"notes": "mine"}
    dialog = Dialog(
        [mine, None], lambda: clients.update_client(other, client, notes="from the desk")
    )
    monkeypatch.setattr(dialogs.ClientDialog, "ask", dialog.ask)
    window.menus.edit_client.trigger()
    assert len(errors) == 1 and errors[0].startswith(f"The client {start.name} was changed")
    assert errors[0].endswith(FRESH)
    assert [c.notes for c in dialog.opened] == [start.notes, "from the desk"]
    assert browse.client_fields(other, client).notes == "from the desk"
    assert window.history.stack.count() == 0
    # From the fresh values the edit goes through; its undo after the other desk's next
    # change is refused, and that change stays.
    dialog = Dialog([mine], lambda: None)
    monkeypatch.setattr(dialogs.ClientDialog, "ask", dialog.ask)
    window.menus.edit_client.trigger()
    assert len(errors) == 1 and browse.client_fields(other, client).notes == "mine"
    clients.update_client(other, client, notes="desk again")
    assert not window.history.undo()
    assert "could not be undone" in errors[1] and FRESH in errors[1]
    assert browse.client_fields(other, client).notes == "desk again"


def test_the_area_dialog_after_another_workstation_opens_again_with_the_fresh_values(
    window: MainWindow, other: Library, errors: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.area_id is not None
    area = window.area_id
    start = area_fields(other, area)
    mine = {"body_site": "left flank"}
    dialog = Dialog([mine, None], lambda: clients.update_area(other, area, body_site="belly"))
    monkeypatch.setattr(dialogs.AreaDialog, "ask", dialog.ask)
    window.menus.edit_area.trigger()
    assert len(errors) == 1 and errors[0].startswith(f"The area '{start.name}' of ")
    assert FRESH in errors[0]
    assert [a.body_site for a in dialog.opened] == [start.body_site, "belly"]
    assert area_fields(other, area).body_site == "belly"
    assert window.history.stack.count() == 0
    dialog = Dialog([mine], lambda: None)
    monkeypatch.setattr(dialogs.AreaDialog, "ask", dialog.ask)
    window.menus.edit_area.trigger()
    assert len(errors) == 1 and area_fields(other, area).body_site == "left flank"
    assert window.history.undo() and area_fields(other, area).body_site == "belly"
    assert window.history.redo() and area_fields(other, area).body_site == "left flank"


def test_the_grids_move_label_and_removal_send_the_versions_shown(
    window: MainWindow, other: Library, errors: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the grid's own actions (tracker.ui.main.visits): the move dialog is open
    while the other desk relabels the photo; the move is refused and moves nothing."""
    assert window.lib is not None
    shown = _shown(window)
    target = _other_visit(window)

    def ask(*_a: object, **_k: object) -> MoveAnswer:
        photos.set_photo_view(other, shown.id, "close-up")  # while the dialog is open
        return MoveAnswer(target, None, None, None)

    monkeypatch.setattr(dialogs.MoveDialog, "ask", ask)
    window.panel.grid.setCurrentIndex(window.photos.index(0))
    window.panel.grid.move_action.trigger()
    assert len(errors) == 1 and errors[0].startswith(f"Photo {shown.id} ")
    assert window.history.stack.count() == 0
    with other.session() as s:
        assert s.scalar(select(Photo.visit_id).where(Photo.id == shown.id)) == window.visit_id
    fresh = _shown(window)  # reloaded: the grid shows the other desk's label
    photos.set_photo_view(other, fresh.id, "left")
    window.photos.view_edit_requested.emit(fresh.id, "right")
    photos.set_photo_view(other, fresh.id, "right")
    window.panel.grid.remove_requested.emit([fresh.id])
    assert len(errors) == 3 and all(e.startswith(f"Photo {fresh.id} ") for e in errors[1:])
    with other.session() as s:
        assert s.scalar(select(Photo.deleted_at).where(Photo.id == fresh.id)) is None
    assert window.history.stack.count() == 0


def test_the_session_interval_names_the_areas_version_shown(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.area_id is not None
    area = window.area_id
    clients.update_area(other, area, body_site="belly")  # meanwhile, not reloaded here
    window._on_progress_interval_changed(21)
    assert len(errors) == 1 and errors[0].startswith("The area '") and FRESH in errors[0]
    assert area_fields(other, area).body_site == "belly"
    assert window.history.stack.count() == 0
    window.refresh()  # what the sentence's fresh values are: then the change is stored
    window._on_progress_interval_changed(21)
    assert len(errors) == 1 and window.history.stack.count() == 1
    with other.session() as s:
        assert s.get(Area, area).interval_days == 21  # type: ignore[union-attr]
