"""The window's record and ratings editors name the version they loaded (issue 21): an edit,
an undo or a redo after another workstation changed the same record is refused with its
sentence, the window shows the fresh values, and nothing of the other's edit is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tracker.core.db import engine as db
from tracker.core.db.models import RaterRole
from tracker.core.queries import browse
from tracker.core.queries.rows import AreaAtVisit
from tracker.core.services import ratings, visits
from tracker.core.store.library import Library
from tracker.ui.main.window import MainWindow
from tracker.ui.panels.ratings_editor import RaterColumn

FRESH = "its fresh values are shown."


@pytest.fixture
def other(window: MainWindow) -> Iterator[Library]:
    """Another workstation's handle on the window's library (past the writer lock)."""
    assert window.lib is not None
    lib = Library(window.lib.root, db.make_engine(window.lib.root / "library.sqlite3"))
    yield lib
    lib.engine.dispose()


def _shown(window: MainWindow) -> AreaAtVisit:
    assert window.panel.area is not None
    return window.panel.area


def test_a_record_edit_after_another_workstation_is_refused_and_reloaded(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.visit_id is not None and window.area_id is not None
    visit, area = window.visit_id, window.area_id
    loaded = _shown(window).treatment_version
    visits.set_treatment(other, visit, area, {"pain": 7}, seen=loaded)  # the other desk
    window.panel.treatment_edited.emit({"pain": 2})
    assert len(errors) == 1 and errors[0].startswith("The treatment record of ")
    assert errors[0].endswith(FRESH)
    assert (_shown(window).treatment or {}).get("pain") == 7  # the other desk's, reloaded
    assert window.history.stack.count() == 0  # nothing to undo: nothing was done
    # Now the editor shows the fresh version, the same edit goes through, and undoes.
    window.panel.treatment_edited.emit({"pain": 2})
    assert len(errors) == 1 and browse.treatment(other, visit, area)["pain"] == 2  # type: ignore[index]
    assert window.history.undo()
    assert browse.treatment(other, visit, area)["pain"] == 7  # type: ignore[index]


def test_an_undo_after_another_workstation_is_a_conflict_and_loses_nothing(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.visit_id is not None and window.area_id is not None
    visit, area = window.visit_id, window.area_id
    area_row = _shown(window)
    column = RaterColumn(area_row.area.default_scale, RaterRole.PRACTITIONER, "Dr Conflict")
    window.panel.rating_edited.emit(column, {"colour": 5})
    window.panel.rating_edited.emit(column, {"texture": 4})  # merged into one step
    assert errors == [] and window.history.stack.count() == 1
    row = next(r for r in _shown(window).ratings if r.rater_name == "Dr Conflict")
    ratings.rate(
        other,
        visit,
        area,
        RaterRole.PRACTITIONER,
        {"colour": 9},
        scale=column.scale,
        rater_name="Dr Conflict",
        seen=row.version,
    )
    assert not window.history.undo()
    assert len(errors) == 1 and "could not be undone" in errors[0] and FRESH in errors[0]
    assert window.history.stack.count() == 0
    fresh = next(r for r in _shown(window).ratings if r.rater_name == "Dr Conflict")
    assert fresh.values == {"colour": 9, "texture": 4} and fresh.version == row.version + 1


def test_the_windows_own_steps_undo_and_redo_in_any_number(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    """Each step moves the version on; undo and redo check the values the step before left,
    so a run of this window's own edits undoes and redoes whole, and a redo after the other
    desk's change is refused."""
    assert window.visit_id is not None and window.area_id is not None
    visit, area = window.visit_id, window.area_id

    def pain() -> object:
        return (browse.treatment(other, visit, area) or {}).get("pain")

    start = pain()
    for value in (3, 4, 5):
        window.panel.treatment_edited.emit({"pain": value})
    assert pain() == 5 and errors == []
    for expected in (4, 3, start):
        assert window.history.undo() and pain() == expected
    for expected in (3, 4):
        assert window.history.redo() and pain() == expected
    visits.set_treatment(other, visit, area, {"pain": 9})  # the other desk, no check
    assert not window.history.redo()
    assert "could not be redone" in errors[0] and FRESH in errors[0] and pain() == 9
    assert (_shown(window).treatment or {}).get("pain") == 9


def test_a_visit_notes_edit_after_another_workstation_is_refused_and_an_undo_too(
    window: MainWindow, other: Library, errors: list[str]
) -> None:
    assert window.visit_id is not None and window.panel.detail is not None
    visit = window.visit_id
    loaded = window.panel.detail.version
    visits.update_visit(other, visit, notes="from the front desk", seen=loaded)
    window.panel.visit_edited.emit({"notes": "from this room"})
    assert len(errors) == 1 and errors[0].startswith("The visit on ") and FRESH in errors[0]
    assert window.panel.detail.notes == "from the front desk"  # the other's, reloaded
    assert window.history.stack.count() == 0
    # From the fresh version the edit goes through; the other desk changes it again, and
    # the undo, which would put back what this window found, is refused: nothing is lost.
    window.panel.visit_edited.emit({"notes": "from this room"})
    assert len(errors) == 1 and browse.visit_detail(other, visit).notes == "from this room"
    visits.update_visit(other, visit, notes="front desk again")
    assert not window.history.undo()
    assert len(errors) == 2 and "could not be undone" in errors[1]
    assert browse.visit_detail(other, visit).notes == "front desk again"
