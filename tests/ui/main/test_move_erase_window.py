"""Moving and erasing in the window: the photo grid's Move and Erase, dragging photos onto a
visit, erasing a visit, an area or a client, and removing an empty area or client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QMimeData, Qt
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tracker.core.db.models import Stage
from tracker.core.queries import browse, listing
from tracker.core.services import measure
from tracker.core.services.erase import ErasePlan
from tracker.ui import commands as cmd
from tracker.ui import dialogs
from tracker.ui.dialogs import MoveAnswer
from tracker.ui.main.erasing import EraseController
from tracker.ui.main.window import MainWindow
from tracker.ui.models import PHOTO_MIME


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[list[ErasePlan]]:
    seen: list[list[ErasePlan]] = []

    def yes(_parent: object, plans: list[ErasePlan]) -> bool:
        seen.append(plans)
        return True

    monkeypatch.setattr(EraseController, "confirm", staticmethod(yes))
    return seen


def test_a_photo_moved_from_the_grid_goes_and_undo_brings_it_back(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = window.lib
    assert lib is not None and window.visit_id is not None
    photo = window.photos.rows()[0]
    baseline = window.timeline.rows()[0]
    monkeypatch.setattr(
        dialogs.MoveDialog,
        "ask",
        classmethod(lambda cls, *a, **k: MoveAnswer(baseline.id, None, None, "left")),
    )
    window.panel.grid.setCurrentIndex(window.photos.index(0))
    window.panel.grid.move_action.trigger()
    moved = browse.photo(lib, photo.id)
    assert moved.view == "left"
    assert window.client_id is not None
    assert photo.id in [
        p.id for p in browse.timeline(lib, window.client_id, window.area_id)[0].photos
    ]
    assert window.menus.undo.text() == "&Undo move 1 photo"
    window.history.undo()
    assert browse.photo(lib, photo.id).view == photo.view
    assert photo.id in [p.id for p in window.photos.rows()]


def test_photos_dragged_onto_a_visit_move_there(window: MainWindow) -> None:
    lib = window.lib
    assert lib is not None
    ids = [p.id for p in window.photos.rows()]
    target = window.timeline.rows()[1]
    mime = QMimeData()
    mime.setData(PHOTO_MIME, QByteArray(json.dumps(ids).encode()))
    view = window.timeline_view
    rect = view.visualRect(window.timeline.index(1))
    event = QDropEvent(
        rect.center().toPointF(),
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dropEvent(event)
    assert event.isAccepted()
    moved = [p.id for p in browse.timeline(lib, window.client_id, window.area_id)[1].photos]  # type: ignore[arg-type]
    assert set(ids) <= set(moved) and target.id == window.timeline.rows()[1].id
    assert window.history.undo() and set(ids).isdisjoint(
        p.id
        for p in browse.timeline(lib, window.client_id, window.area_id)[1].photos  # type: ignore[arg-type]
    )


def test_the_grid_is_a_drag_source_of_photo_ids(window: MainWindow) -> None:
    data = window.photos.mimeData([window.photos.index(0)])
    assert json.loads(bytes(data.data(PHOTO_MIME).data())) == [window.photos.rows()[0].id]
    assert window.photos.flags(window.photos.index(0)) & Qt.ItemFlag.ItemIsDragEnabled


def test_erasing_a_client_asks_naming_what_goes_and_clears_the_history(
    qtbot: QtBot, window: MainWindow, asked: list[list[ErasePlan]], errors: list[str]
) -> None:
    lib = window.lib
    assert lib is not None and window.visit_id is not None
    window.run(dialogs_free_edit(window))
    root = lib.root
    before = {p["sha256"] for p in h.list_photos(lib)}
    with qtbot.waitSignal(window.statusBar().messageChanged, timeout=20000):
        window.menus.erase_client.trigger()
    (plan,) = asked[0]
    # Three areas: the untreated thigh too.
    assert plan.photos == len(before) and plan.visits == 6 and plan.areas == 3
    assert plan.what == "the client Me"
    qtbot.waitUntil(lambda: listing.counts(lib)["photos"] == 0, timeout=20000)
    assert listing.clients(lib) == [] and window.history.stack.count() == 0
    left = {p.name.split(".")[0] for p in (root / "originals").rglob("*") if p.is_file()}
    assert not left & before
    assert errors == []


def dialogs_free_edit(window: MainWindow) -> cmd.EditVisit:
    """An ordinary edit, to see the history cleared after an erase."""
    assert window.lib is not None and window.visit_id is not None
    return cmd.EditVisit(window.lib, window.visit_id, {"notes": "seen"})


def test_an_empty_area_is_removed_from_the_window_and_undo_brings_it_back(
    window: MainWindow, errors: list[str], tmp_path: Path
) -> None:
    lib = window.lib
    assert lib is not None and window.client_id is not None
    command = cmd.AddArea(lib, window.client_id, "Upper arm", "arm", Stage.UNKNOWN)
    window.run(command)
    window.area_id = command.area_id
    window.refresh()
    window.menus.remove_area.trigger()
    assert "Upper arm" not in [a["name"] for a in listing.areas(lib)]
    window.history.undo()
    assert "Upper arm" in [a["name"] for a in listing.areas(lib)]
    # An area holding photos is not removed: it is erased, which says so.
    window.area_id = window.areas.rows()[0].id
    window.menus.remove_area.trigger()
    assert errors and "erase the area for good instead" in errors[-1]


def test_moving_the_reference_photo_says_what_became_of_its_regions(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = window.lib
    assert lib is not None and window.area_id is not None
    photo = window.photos.rows()[0]
    square = [(40.0, 40.0), (300.0, 40.0), (300.0, 200.0), (40.0, 200.0)]
    measure.set_region(lib, window.area_id, photo.view, "marks", square)
    reference = measure.regions(lib, window.area_id, photo.view).reference_photo_id
    assert reference is not None
    # The reference's visit, shown.
    window.visit_id = next(
        r.id for r in window.timeline.rows() if reference in {p.id for p in r.photos}
    )
    window.refresh()
    told: list[str] = []
    monkeypatch.setattr(window, "show_info", told.append)
    monkeypatch.setattr(
        dialogs.MoveDialog,
        "ask",
        classmethod(lambda cls, *a, **k: MoveAnswer(window.visit_id, None, None, "left")),
    )
    row = next(n for n, p in enumerate(window.photos.rows()) if p.id == reference)
    window.panel.grid.setCurrentIndex(window.photos.index(row))
    window.panel.grid.move_action.trigger()
    assert browse.photo(lib, reference).view == "left"
    assert len(told) == 1 and "region" in told[0], told
    # A move that leaves no reference behind says nothing.
    window.history.undo()
    told.clear()
    others = [p for p in window.photos.rows() if p.id != reference and p.view == photo.view]
    if others:
        row = next(n for n, p in enumerate(window.photos.rows()) if p.id == others[0].id)
        window.panel.grid.setCurrentIndex(window.photos.index(row))
        window.panel.grid.move_action.trigger()
        assert told == []
