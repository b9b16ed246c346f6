"""The undo history never lies: every step it offers is one the library can take, a refused
step says why and leaves the stack and the database as they were, and what cannot be undone
(repairs) clears it with a note."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import event

from tests import helpers as h
from tests.ui.conftest import SeenDialogs, activate, open_window, photo_file
from tracker.core.db.models import RaterRole, Stage
from tracker.core.errors import DatabaseBusy
from tracker.core.imaging.geometry import Alignment, Gains
from tracker.core.queries import browse, listing
from tracker.core.queries.rows import ComparePhoto
from tracker.core.services import clients
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui import dialogs
from tracker.ui.dialogs import AreaAnswer
from tracker.ui.history import Change, History
from tracker.ui.main.imports import ImportActions
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner


def _start_tracking_and_import(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, files: list[Path]
) -> None:
    """Start tracking (adds the area) and import ``files`` into it, as a new user does."""
    monkeypatch.setattr(
        dialogs.AreaDialog,
        "ask",
        classmethod(lambda cls, *a, **k: AreaAnswer("Lower abdomen", "abdomen", Stage.RUBRA)),
    )
    monkeypatch.setattr(ImportActions, "choose_files", lambda self: self.import_paths(list(files)))
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        qtbot.mouseClick(window.welcome.start, Qt.MouseButton.LeftButton)
    # The new photos are then aligned in the background, and undo waits for that run.
    qtbot.waitUntil(lambda: not window.imports.aligning.busy, timeout=60000)


def test_start_tracking_import_then_undo_and_redo_each_step(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    instant_dialogs: SeenDialogs,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    files = [
        photo_file(tmp_path / "first.jpg", "2026:09:01 09:00:00", 1),
        photo_file(tmp_path / "second.jpg", "2026:10:01 09:00:00", 2),
    ]
    window = open_window(qtbot, prefs, runner, library)
    _start_tracking_and_import(qtbot, window, monkeypatch, files)
    stack = window.history.stack
    assert stack.count() == 2 and window.menus.undo.text() == "&Undo import of 2 photos"
    assert [v["kind"] for v in listing.visits(library)] == ["baseline", "treatment"]
    assert window.timeline.rowCount() == 2 and len(h.list_photos(library)) == 2

    # Ctrl+Z takes the whole import back: no photo, no visit it made, no file left behind.
    activate(qtbot, window)  # the import's dialogs had it
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert errors == []
    assert h.list_photos(library) == [] and listing.visits(library) == []
    assert window.timeline.rowCount() == 0
    assert list((library.root / "originals").rglob("*.jpg")) == []
    assert h.check(library).ok
    # Ctrl+Z again takes the area back: the library is as it was.
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert errors == [] and listing.areas(library) == []
    assert window.stack.currentWidget() is window.welcome
    assert stack.index() == 0

    # Redo brings each back, under the same ids, with their files.
    assert window.history.redo() and [a["name"] for a in listing.areas(library)] == [
        "Lower abdomen"
    ]
    assert window.history.redo() and len(h.list_photos(library)) == 2
    assert [v["kind"] for v in listing.visits(library)] == ["baseline", "treatment"]
    assert h.check(library).ok
    assert window.timeline.rowCount() == 2
    # The window agrees with what `tracker list` reads.
    assert [p.id for r in window.timeline.rows() for p in r.photos] == [
        p["id"] for p in h.list_photos(library)
    ]


def test_an_undone_import_leaves_no_file_once_the_library_is_closed(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    instant_dialogs: SeenDialogs,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    window = open_window(qtbot, prefs, runner, library)
    _start_tracking_and_import(
        qtbot, window, monkeypatch, [photo_file(tmp_path / "a.jpg", "2026:09:01 09:00:00", 1)]
    )
    assert window.history.undo()
    held = list((library.root / "tmp" / "undone").iterdir())
    assert len(held) == 1  # kept for a redo while the library is open
    window.set_library(None)
    library.close()
    assert list((library.root / "tmp" / "undone").iterdir()) == []
    with Library.open(library.root) as again:
        assert h.check(again).ok and h.list_photos(again) == []


def test_an_undo_the_library_refuses_is_shown_and_clears_the_history(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
) -> None:
    window = open_window(qtbot, prefs, runner, library)
    me = h.only_client(library)
    command = cmd.AddArea(library, me, "Hips", "hip", Stage.ALBA)
    assert window.run(command)
    # Something the history did not make now hangs on the area (here: a visit's rating).
    h.add_visit(library, day=dt.date(2026, 1, 5))
    h.rate(
        library, area="Hips", day=dt.date(2026, 1, 5), role=RaterRole.PATIENT, values={"colour": 4}
    )
    notes: list[str] = []
    window.history.noted.connect(notes.append)
    assert not window.history.undo()
    assert errors and "could not be undone" in errors[0] and "holds" in errors[0]
    assert "The undo history was cleared" in errors[0]
    assert window.history.stack.count() == 0 and not window.menus.undo.isEnabled()
    assert notes and "cleared" in notes[0]
    assert [a["name"] for a in listing.areas(library)] == ["Hips"]  # nothing was changed


def test_a_busy_database_keeps_the_step_to_try_again(qapp: QApplication, library: Library) -> None:
    history = History()
    me = h.only_client(library)
    history.push(cmd.AddArea(library, me, "Hips", "", Stage.UNKNOWN))
    failures: list[str] = []
    history.failed.connect(failures.append)

    def busy(*_args: object) -> None:
        raise DatabaseBusy("The library is busy (another program is writing to it); try again.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clients, "remove_empty_area", busy)
        assert not history.undo()
    assert failures and "busy" in failures[0]
    assert history.stack.count() == 1 and history.stack.index() == 1  # still there, still done
    assert history.undo() and listing.areas(library) == []


def test_a_repair_clears_the_history_with_a_note(qtbot: QtBot, window: MainWindow) -> None:
    assert window.lib is not None and window.visit_id is not None
    window.run(cmd.EditVisit(window.lib, window.visit_id, {"notes": "seen"}))
    assert window.history.stack.count() == 1
    window.care.show_info = lambda _message: None
    with qtbot.waitSignal(window.care.repaired, timeout=20000):
        window.care.repair("rebuild")
    assert window.history.stack.count() == 0
    assert "cannot be undone" in window.statusBar().currentMessage()


def test_reset_colour_of_every_photo_is_one_step_and_one_transaction(
    library: Library, qapp: QApplication, tmp_path: Path
) -> None:
    files = [photo_file(tmp_path / f"{i}.jpg", "2026:09:01 09:00:00", i) for i in range(3)]
    ids = [i.photo_id for i in h.import_files(library, files, area="Belly").imported]
    history = History()
    changes: list[Change] = []
    history.changed.connect(lambda c, _ids: changes.append(c))
    commits: list[int] = []
    event.listen(library.engine, "commit", lambda _conn: commits.append(1))
    history.push(cmd.SetGains(library, dict.fromkeys(ids, (1.1, 1.0, 0.9))))
    assert len(commits) == 1 and history.stack.count() == 1 and changes == [Change.COLOUR]
    history.push(cmd.SetGains(library, dict.fromkeys(ids)))
    assert all(p.colour_gains is None for p in browse.compare_photos(library, ids))
    assert history.undo()
    assert all(p.colour_gains == (1.1, 1.0, 0.9) for p in browse.compare_photos(library, ids))
    area = browse.photo(library, ids[0]).area_id
    commits.clear()
    by_hand = Alignment(
        (1.0, 0.0, 5.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), "landmarks", "similarity", 2, 0.4
    )
    history.push(
        cmd.SetAlignment(library, dict.fromkeys(ids[1:], by_hand), [(area, "front", ids[0])])
    )
    assert len(commits) == 1
    tilt = (1.0, 0.02, 3.0, -0.01, 1.0, 2.0, 1e-5, 2e-5, 1.0)
    auto = Alignment(tilt, "auto", "homography", 812, 0.7)
    history.push(cmd.SetAlignment(library, {ids[1]: auto}))
    assert browse.compare_photos(library, [ids[1]])[0].alignment == auto
    assert history.undo()  # the landmarks come back with how they were made
    assert [p.alignment for p in browse.compare_photos(library, ids)] == [None, by_hand, by_hand]
    assert history.undo()  # and the reference photo that first alignment set goes
    assert all(p.alignment is None for p in browse.compare_photos(library, ids))
    assert browse.reference_photo(library, area, "front") is None
    assert history.redo() and history.redo()
    assert browse.compare_photos(library, [ids[1]])[0].alignment == auto
    assert browse.reference_photo(library, area, "front") == ids[0]


def test_a_step_refused_before_it_is_made_leaves_nothing_to_undo(
    qapp: QApplication, library: Library
) -> None:
    history = History()
    me = h.only_client(library)
    history.push(cmd.AddArea(library, me, "Hips", "", Stage.UNKNOWN))
    with pytest.raises(Exception, match="already has an area named 'Hips'"):
        history.push(cmd.AddArea(library, me, "Hips", "", Stage.UNKNOWN))
    assert history.stack.count() == 1


def test_an_undo_reloads_only_what_shows_what_it_changed(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = window.lib
    assert lib is not None and window.visit_id is not None and window.area_id is not None
    photos = [p.id for p in window.photos.rows()]
    partner = browse.baseline_partner(lib, photos[0])
    assert partner is not None
    compare = window.compare.open([partner, photos[0]])
    assert compare is not None
    qtbot.waitUntil(lambda: bool(compare.photos), timeout=20000)
    calls: list[str] = []
    monkeypatch.setattr(window, "refresh", lambda: calls.append("everything"))
    real_timeline = window._refresh_timeline
    real_reload = compare.reload

    def refresh_timeline() -> None:
        calls.append("timeline")
        real_timeline()

    def reload(*, images: bool = True, rows: list[ComparePhoto] | None = None) -> None:
        calls.append("compare")
        real_reload(images=images, rows=rows)

    def gains() -> Gains | None:
        return next(p.colour_gains for p in compare.photos if p.id == photos[0])

    def settled() -> None:
        """Let a reload the compare window reads in a worker (``RowReader``) arrive."""
        assert compare.runner.wait(20000)
        qtbot.wait(50)  # the answers the workers posted are told

    monkeypatch.setattr(window, "_refresh_timeline", refresh_timeline)
    monkeypatch.setattr(compare, "reload", reload)
    before = gains()
    window.run(cmd.SetTreatment(lib, window.visit_id, window.area_id, {"pain": 2}))
    window.history.undo()
    settled()
    assert calls == ["timeline", "timeline"]  # no client list, no compare window
    calls.clear()
    # The main window shows no colour balance; the compare window reads its rows again, in a
    # worker, after the step and after its undo, and shows the colour each time.
    window.run(cmd.SetGains(lib, {photos[0]: (1.1, 1.0, 0.9)}))
    qtbot.waitUntil(lambda: calls == ["compare"], timeout=20000)
    assert gains() == (1.1, 1.0, 0.9)
    window.history.undo()
    qtbot.waitUntil(lambda: calls == ["compare", "compare"], timeout=20000)
    assert gains() == before
    settled()
    assert calls == ["compare", "compare"]
    calls.clear()
    other = next(
        p.id for r in window.timeline.rows() for p in r.photos if p.id not in (partner, photos[0])
    )
    window.run(cmd.SetGains(lib, {other: (1.1, 1.0, 0.9)}))
    settled()
    assert calls == []  # a photo the compare window does not show


def test_an_unexpected_failure_of_an_undo_clears_the_history(
    qapp: QApplication, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = History()
    me = h.only_client(library)
    history.push(cmd.AddArea(library, me, "Hips", "", Stage.UNKNOWN))
    failures: list[str] = []
    history.failed.connect(failures.append)

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(clients, "remove_empty_area", broken)
    assert not history.undo()
    assert failures and "something unexpected" in failures[0]
    assert history.stack.count() == 0  # no step is left that could not be taken


def test_an_import_stopped_by_a_full_disk_keeps_its_photos_undoable(
    qtbot: QtBot,
    window: MainWindow,
    errors: list[str],
    instant_dialogs: SeenDialogs,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tracker.core.errors import DiskFull
    from tracker.core.services import imports
    from tracker.core.services.import_reading import Prepared

    lib = window.lib
    assert lib is not None
    files = [photo_file(tmp_path / f"f{i}.jpg", "2026:11:20 09:00:00", i) for i in range(4)]
    real = imports._Batch.record
    calls = {"n": 0}

    def record_two_then_fail(
        self: imports._Batch, prep: Prepared, item: imports.ImportItem
    ) -> imports.Imported:
        calls["n"] += 1
        if calls["n"] > 2:
            lib.store.discard_staged(prep.staged)
            raise DiskFull("The disk holding the library is full.")
        return real(self, prep, item)

    monkeypatch.setattr(imports._Batch, "record", record_two_then_fail)
    before = len(h.list_photos(lib))
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.imports.import_paths(files)
    assert errors and "disk holding the library is full" in errors[0]
    assert "2 photos before it were imported" in errors[0]
    assert len(h.list_photos(lib)) == before + 2
    assert window.menus.undo.text() == "&Undo import of 2 photos"
    assert window.history.undo() and len(h.list_photos(lib)) == before
    assert h.check(lib).ok


def test_undo_and_redo_wait_while_an_import_runs(window: MainWindow, errors: list[str]) -> None:
    lib = window.lib
    assert lib is not None and window.visit_id is not None
    window.run(cmd.EditVisit(lib, window.visit_id, {"notes": "x"}))
    window.importer.busy_changed.emit(True)
    assert not window.menus.undo.isEnabled()
    assert not window.history.undo() and "import is running" in errors[-1]
    window.importer.busy_changed.emit(False)
    assert window.menus.undo.isEnabled() and window.history.undo()
