"""The main window's workflows, driven as a user would through its widgets and actions."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCharts import QValueAxis
from PySide6.QtCore import QMimeData, QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QIcon, QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QTableWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.conftest import TODAY, SeenDialogs, activate, open_window, photo_file, score_box
from tracker.core.db.models import RaterRole, Stage, VisitKind
from tracker.core.domain.consent import Purpose
from tracker.core.errors import ValidationError
from tracker.core.imaging import decode as imaging
from tracker.core.queries import browse, listing
from tracker.core.services import consent
from tracker.core.store.library import Library
from tracker.ui import dialogs, preferences_dialog
from tracker.ui.dialogs import AreaAnswer, NewVisit
from tracker.ui.main.imports import ImportActions
from tracker.ui.main.window import MainWindow
from tracker.ui.models import (
    AreaListModel,
    ClientListModel,
    PhotoGridModel,
    RowListModel,
    StripSizeRole,
    ThumbnailCache,
    TimelineModel,
)
from tracker.ui.settings import Mode, Preferences
from tracker.ui.workers import TaskRunner

R = TypeVar("R")


# -- start -------------------------------------------------------------------------------------


def test_an_empty_library_shows_the_welcome_and_start_tracking_adds_the_area(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, prefs, runner, library)
    assert window.stack.currentWidget() is window.welcome
    monkeypatch.setattr(
        dialogs.AreaDialog,
        "ask",
        classmethod(lambda cls, *a, **k: AreaAnswer("Lower abdomen", "abdomen", Stage.RUBRA)),
    )
    monkeypatch.setattr(ImportActions, "choose_files", lambda self: None)
    qtbot.mouseClick(window.welcome.start, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.splitter
    assert [a.name for a in window.areas.rows()] == ["Lower abdomen"]
    window.menus.undo.trigger()
    assert window.client_id is not None
    assert browse.areas(library, window.client_id) == []
    assert window.stack.currentWidget() is window.welcome


def test_the_sample_library_shows_its_course(window: MainWindow) -> None:
    assert window.stack.currentWidget() is window.splitter
    assert window.timeline.rowCount() == 6
    assert window.panel.detail is not None and window.panel.detail.date == TODAY - dt.timedelta(
        days=14
    )
    assert window.photos.rowCount() == 2
    editor = window.panel.ratings
    assert editor.values(editor.column(RaterRole.PATIENT))  # the sample's ratings are shown


def test_thumbnails_arrive_off_the_gui_thread(qtbot: QtBot, window: MainWindow) -> None:
    window.photos.index(0).data(Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(window.thumbs.is_idle, timeout=10000)
    sha = window.photos.rows()[0].sha256
    assert window.thumbs.get(sha) is not None


def test_patient_mode_hides_clients_and_practitioner_mode_finds_them(
    qtbot: QtBot,
    window: MainWindow,
    prefs: Preferences,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not window.sidebar.client_box.isVisible()
    monkeypatch.setattr(
        preferences_dialog.PreferencesDialog,
        "ask",
        classmethod(
            lambda cls, *a: preferences_dialog.PreferencesAnswer(Mode.PRACTITIONER, "Dr Lee")
        ),
    )
    window.menus.preferences.trigger()
    assert prefs.mode is Mode.PRACTITIONER and window.sidebar.client_box.isVisible()
    answer = dialogs.ClientAnswer("Ana Lima", dt.date(1991, 4, 2), 4, "prefers evening visits")
    monkeypatch.setattr(dialogs.ClientDialog, "ask", classmethod(lambda cls, *a, **k: answer))
    window.menus.add_client.trigger()
    assert [c.name for c in window.clients.rows()] == ["Ana Lima", "Me"]
    assert window.lib is not None and window.client_id is not None
    assert vars(browse.client_fields(window.lib, window.client_id)) == {
        **vars(answer),
        "version": 1,
    }
    assert window.history.stack.count() == 1  # the client and its details: one step
    assert window.timeline.rowCount() == 0  # the new client has no visits yet
    window.menus.find_client.trigger()
    qtbot.keyClicks(window.sidebar.search, "me")
    assert [c.name for c in window.clients.rows()] == ["Me"]


# -- edits and undo -----------------------------------------------------------------------------


def test_new_visit_then_undo_and_redo(
    qtbot: QtBot, window: MainWindow, sample: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        dialogs.NewVisitDialog,
        "ask",
        classmethod(lambda cls, *a: NewVisit(TODAY, VisitKind.FOLLOW_UP, "3 months after")),
    )
    window.menus.new_visit.trigger()
    assert window.timeline.rowCount() == 7
    assert window.panel.detail is not None and window.panel.detail.kind is VisitKind.FOLLOW_UP
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.timeline.rowCount() == 6
    qtbot.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.client_id is not None
    assert [r.date for r in browse.timeline(sample, window.client_id)][-1] == TODAY


def test_a_refused_edit_is_shown_and_leaves_nothing_to_undo(
    window: MainWindow, errors: list[str]
) -> None:
    first = window.timeline.rows()[0].date
    window.panel.date.setDate(dialogs.qdate(first))  # the last visit onto the baseline's date
    assert errors and "already has a visit on" in errors[0]
    assert not window.history.stack.canUndo()
    assert window.panel.date.date() == dialogs.qdate(window.timeline.rows()[-1].date)


def test_rating_edits_merge_into_one_undo_step(window: MainWindow, sample: Library) -> None:
    box = score_box(window, RaterRole.PATIENT, "colour")
    before = box.value()
    box.setValue(before + 1)
    box.setValue(before + 2)
    visit, area = window.visit_id, window.area_id
    assert visit is not None and area is not None
    assert browse.rating(sample, visit, area, RaterRole.PATIENT, "ctd")["colour"] == before + 2
    assert window.history.stack.count() == 1
    window.menus.undo.trigger()
    assert browse.rating(sample, visit, area, RaterRole.PATIENT, "ctd")["colour"] == before
    assert score_box(window, RaterRole.PATIENT, "colour").value() == before


def test_clearing_every_score_removes_the_rating(window: MainWindow, sample: Library) -> None:
    for column, key in list(window.panel.ratings.boxes):
        if column.role is RaterRole.PRACTITIONER:
            box = score_box(window, column.role, key)
            box.setValue(box.minimum())
    assert window.visit_id is not None and window.area_id is not None
    assert (
        browse.rating(sample, window.visit_id, window.area_id, RaterRole.PRACTITIONER, "ctd") == {}
    )


def test_treatment_record_edit_and_undo(qtbot: QtBot, window: MainWindow, sample: Library) -> None:
    def recorded(key: str) -> object:
        assert window.visit_id is not None and window.area_id is not None
        record = browse.treatment(sample, window.visit_id, window.area_id)
        assert record is not None
        return record[key]

    form = window.panel.treatment
    form.needle_depth.setValue(1.5)
    assert recorded("needle_depth_mm") == 1.5
    form.reaction.setFocus()
    form.reaction.selectAll()
    qtbot.keyClicks(form.reaction, "mild redness")
    qtbot.keyClick(form.reaction, Qt.Key.Key_Return)
    assert recorded("reaction") == "mild redness"
    window.menus.undo.trigger()
    window.menus.undo.trigger()
    assert recorded("needle_depth_mm") == 2.0


def test_view_label_edit_and_photo_removal_are_undoable(
    window: MainWindow, sample: Library
) -> None:
    index = window.photos.index(0)
    photo_id = window.photos.rows()[0].id
    window.photos.setData(index, "left")
    assert browse.photo(sample, photo_id).view == "left"
    window.panel.grid.setCurrentIndex(window.photos.index(0))
    window.panel.grid.remove_action.trigger()
    assert photo_id not in [p.id for p in window.photos.rows()]
    assert h.check(sample).ok  # the original stays
    window.menus.undo.trigger()
    assert photo_id in [p.id for p in window.photos.rows()]
    window.menus.undo.trigger()
    assert browse.photo(sample, photo_id).view == "front"


def test_remove_visit_asks_and_is_undoable(
    window: MainWindow, sample: Library, monkeypatch: pytest.MonkeyPatch, errors: list[str]
) -> None:
    monkeypatch.setattr(
        dialogs.NewVisitDialog,
        "ask",
        classmethod(lambda cls, *a: NewVisit(TODAY, VisitKind.FOLLOW_UP, "")),
    )
    window.menus.new_visit.trigger()
    score_box(window, RaterRole.PATIENT, "depth").setValue(3)
    visit = window.visit_id
    assert visit is not None
    window.menus.remove_visit.trigger()
    assert window.timeline.rowCount() == 6
    window.menus.undo.trigger()
    assert window.area_id is not None
    assert browse.rating(sample, visit, window.area_id, RaterRole.PATIENT, "ctd") == {"depth": 3}
    # A visit with photos is not removed; the reason is shown.
    window.timeline_view.setCurrentIndex(window.timeline.index(0))
    window.menus.remove_visit.trigger()
    # The treated areas' two views each, the abdomen's retest and the untreated thigh's one.
    assert "holds 6 photos" in errors[-1]


def test_area_details_change_the_rating_scale(
    window: MainWindow, sample: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(a for a in window.areas.rows() if a.id == window.area_id)
    answer = AreaAnswer(row.name, "abdomen", Stage.ALBA, "posas2-observer")
    monkeypatch.setattr(dialogs.AreaDialog, "ask", classmethod(lambda cls, *a, **k: answer))
    window.menus.edit_area.trigger()
    editor = window.panel.ratings
    assert editor.default_scale.key == "posas2-observer"
    # The observer scale is there to rate (by a practitioner: the user is the patient), and
    # the ratings already made on the colour/texture/depth scale are still shown.
    observer = editor.column(RaterRole.PRACTITIONER, "posas2-observer")
    assert {k for c, k in editor.boxes if c == observer} == {
        "vascularity",
        "pigmentation",
        "thickness",
        "relief",
        "pliability",
        "surface_area",
        "overall",
    }
    assert editor.values(editor.column(RaterRole.PATIENT, "ctd"))
    window.menus.undo.trigger()
    assert editor.default_scale.key == "ctd"


def test_next_and_previous_visit(window: MainWindow) -> None:
    last = window.visit_id
    window.menus.previous_visit.trigger()
    assert window.visit_id == window.timeline.rows()[-2].id
    window.menus.next_visit.trigger()
    assert window.visit_id == last
    assert not window.menus.next_visit.isEnabled()


# -- import -------------------------------------------------------------------------------------


def test_import_shows_plan_then_summary_with_every_refusal(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    instant_dialogs: SeenDialogs,
) -> None:
    good = photo_file(tmp_path / "new.jpg", "2026:11:20 09:00:00", 1)
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4\n...")
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.imports.import_paths([good, bad])
    plan = instant_dialogs["plan"]
    # A visit the import makes is a treatment, as any new visit after the baseline is.
    assert [p.new_kind for p in plan] == [VisitKind.TREATMENT, None]
    assert not plan[1].lands and "a PDF document" in plan[1].problem
    report = instant_dialogs["report"]
    assert len(report.imported) == 1 and "scan.pdf" in report.rejected[0].error
    assert window.timeline.rowCount() == 7
    # The preview the import left out is made in the background afterwards.
    sha = report.imported[0].sha256
    lib = window.lib
    assert lib is not None
    qtbot.waitUntil(lambda: lib.store.has_cache("previews", sha), timeout=10000)


def test_the_event_loop_keeps_running_during_a_big_import(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    instant_dialogs: SeenDialogs,
) -> None:
    files = [
        photo_file(tmp_path / f"p{i:03}.jpg", f"2026:10:{1 + i % 28:02} 09:00:00", i)
        for i in range(200)
    ]
    events: list[str] = []
    timer = QTimer()
    timer.timeout.connect(lambda: events.append("tick"))
    timer.start(1)
    progress: list[int] = []

    def on_progress(stage: str, done: int, total: int, file: str) -> None:
        if stage == "import":
            progress.append(done)
            events.append("progress")

    window.importer.progress_changed.connect(on_progress)
    with qtbot.waitSignal(window.importer.finished, timeout=120000):
        window.imports.import_paths(files)
    timer.stop()
    assert len(instant_dialogs["report"].imported) == 200
    assert progress == list(range(1, 201))
    # The GUI thread kept handling timer events between the import's progress reports.
    first, last = events.index("progress"), len(events) - 1 - events[::-1].index("progress")
    assert "tick" in events[first:last]


def test_cancel_stops_an_import_and_keeps_what_was_saved(
    qtbot: QtBot,
    window: MainWindow,
    sample: Library,
    tmp_path: Path,
    instant_dialogs: SeenDialogs,
) -> None:
    files = [photo_file(tmp_path / f"c{i:03}.jpg", "2026:11:21 09:00:00", i) for i in range(60)]
    before = listing.counts(sample)["photos"]

    def cancel_soon(stage: str, done: int, total: int, file: str) -> None:
        if stage == "import" and done == 5:
            window.importer.cancel()

    window.importer.progress_changed.connect(cancel_soon)
    with qtbot.waitSignal(window.importer.finished, timeout=60000):
        window.imports.import_paths(files)
    report = instant_dialogs["report"]
    assert report.cancelled and 5 <= len(report.imported) < 60
    assert listing.counts(sample)["photos"] == before + len(report.imported)
    assert h.check(sample).ok


def test_cancel_during_the_check_stops_before_the_preview(
    qtbot: QtBot,
    window: MainWindow,
    sample: Library,
    tmp_path: Path,
    instant_dialogs: SeenDialogs,
) -> None:
    files = [photo_file(tmp_path / f"k{i:03}.jpg", "2026:11:21 09:00:00", i) for i in range(60)]
    before = listing.counts(sample)["photos"]

    def cancel_soon(stage: str, done: int, total: int, file: str) -> None:
        if stage == "check" and done == 3:
            window.importer.cancel()

    window.importer.progress_changed.connect(cancel_soon)
    window.imports.import_paths(files)
    assert window.importer.busy
    qtbot.waitUntil(lambda: not window.importer.busy, timeout=60000)
    assert "plan" not in instant_dialogs  # no preview: the person stopped it
    assert listing.counts(sample)["photos"] == before


def test_files_dropped_on_a_visit_go_to_that_visit(
    qtbot: QtBot,
    window: MainWindow,
    sample: Library,
    tmp_path: Path,
    instant_dialogs: SeenDialogs,
) -> None:
    photo = photo_file(tmp_path / "drop.jpg", "2020:01:01 09:00:00", 3)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    grid = window.panel.grid
    assert grid.viewport().acceptDrops()  # else the drop goes past the grid to the window
    event = QDropEvent(
        QPoint(10, 10).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        grid.dropEvent(event)
    visit = window.panel.detail
    assert visit is not None and visit.date == TODAY - dt.timedelta(days=14)
    # Taken in 2020, but dropped on this visit: it goes here, dated as given.
    dropped = [p for p in window.photos.rows() if p.original_name == "drop.jpg"]
    assert dropped and dropped[0].date_source.value == "given"


# -- models, preferences, errors ----------------------------------------------------------------


def test_item_models_pass_the_model_tester(
    qapp: QApplication, qtmodeltester: ModelTester, sample: Library, runner: TaskRunner
) -> None:
    # qapp: the strips are QPixmaps, which need the application even when this test runs alone.
    thumbs = ThumbnailCache(runner)
    thumbs.set_library(sample)
    client = browse.clients(sample)[0].id
    area = browse.areas(sample, client)[0].id

    def check(model: RowListModel[R], rows: Sequence[R]) -> None:
        model.set_rows(rows)
        qtmodeltester.check(model, force_py=True)

    check(ClientListModel(), browse.clients(sample))
    check(AreaListModel(), browse.areas(sample, client))
    check(TimelineModel(thumbs), browse.timeline(sample, client, area))
    check(PhotoGridModel(thumbs), list(browse.timeline(sample, client, area)[0].photos))
    runner.wait()


def test_thumbnail_cache_keeps_to_its_budget_and_drops_the_least_recently_used(
    qtbot: QtBot, sample: Library, runner: TaskRunner
) -> None:
    shas = [p["sha256"] for p in h.list_photos(sample)[:4]]
    one = QImage.fromData(sample.derived("thumbs", shas[0])).sizeInBytes()
    thumbs = ThumbnailCache(runner, budget_bytes=int(2.5 * one))

    def load(sha: str) -> None:
        if thumbs.get(sha) is None:
            with qtbot.waitSignal(thumbs.ready, timeout=10000):
                pass
        assert thumbs.get(sha) is not None

    thumbs.set_library(sample)
    load(shas[0])
    load(shas[1])
    thumbs.get(shas[0])  # seen again: now the most recent
    load(shas[2])
    assert thumbs.held_bytes() <= 2.5 * one
    assert thumbs._images.keys() == {shas[0], shas[2]}
    load(shas[1])  # dropped ones come back on request
    assert thumbs._images.keys() == {shas[2], shas[1]}
    runner.wait()


def test_a_thumbnail_that_cannot_be_made_stays_a_placeholder(
    qtbot: QtBot, sample: Library, runner: TaskRunner
) -> None:
    """Its original gone and its cache lost: the others in the same batch still arrive."""
    photos = h.list_photos(sample)[:3]
    lost = photos[0]
    ext = imaging.EXTENSIONS[lost["format"]]
    (sample.root / sample.store.original_relpath(lost["sha256"], ext)).unlink()
    for kind in ("thumbs", "previews"):
        cached = sample.root / "cache" / kind / lost["sha256"][:2] / f"{lost['sha256']}.jpg"
        cached.unlink(missing_ok=True)
    thumbs = ThumbnailCache(runner)
    thumbs.set_library(sample)
    arrived: list[str] = []
    thumbs.ready.connect(arrived.append)
    for p in photos:
        assert thumbs.get(p["sha256"]) is None
    qtbot.waitUntil(thumbs.is_idle, timeout=10000)
    assert sorted(arrived) == sorted(p["sha256"] for p in photos[1:])
    assert thumbs.get(lost["sha256"]) is None and thumbs.is_idle()  # not asked for again
    runner.wait()


def _strip_image(model: TimelineModel, row: int, mode: QIcon.Mode = QIcon.Mode.Normal) -> QImage:
    icon = model.index(row).data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon)
    return icon.pixmap(icon.availableSizes()[0], mode).toImage()


def _placeholder(model: TimelineModel, row: int) -> bool:
    image = _strip_image(model, row)
    return image.pixelColor(image.width() // 8, image.height() // 2).alpha() < 255


def test_a_selected_visits_thumbnails_are_not_tinted(qtbot: QtBot, window: MainWindow) -> None:
    """A tint would change how red the marks look on the visit that is chosen."""
    qtbot.waitUntil(window.thumbs.is_idle, timeout=10000)
    qtbot.waitUntil(lambda: not _placeholder(window.timeline, 0), timeout=10000)
    normal = _strip_image(window.timeline, 0)
    assert _strip_image(window.timeline, 0, QIcon.Mode.Selected) == normal


def test_before_a_library_is_open_nothing_that_needs_one_is_offered(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner
) -> None:
    """The window is up while an encrypted library's passphrase is asked: its toolbar must
    not offer Import photos or New visit then (seen under Xvfb)."""
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    offered = [a.text() for a in window.menus.need_library if a.isEnabled()]
    assert offered == []
    assert window.menus.open.isEnabled() and window.menus.sample.isEnabled()


def test_a_rows_strip_is_laid_out_without_being_drawn(window: MainWindow) -> None:
    """Laying the timeline out asks each row's strip size (StripSizeRole), never the strip:
    drawing every row's thumbnails took 20-30 ms of each client switch in a large library.
    The size it gives is the size the drawn strip has."""
    model = window.timeline
    for i in range(model.rowCount()):
        size = model.index(i).data(StripSizeRole)
        icon = model.index(i).data(Qt.ItemDataRole.DecorationRole)
        assert isinstance(icon, QIcon) and icon.availableSizes()[0] == size
    model._strips.clear()
    window.timeline_view.doItemsLayout()
    sizes = [window.timeline_view.sizeHintForIndex(model.index(i)) for i in range(model.rowCount())]
    assert all(s.height() > 0 for s in sizes)
    assert model._strips == {}


def test_strips_are_drawn_again_in_another_library_with_the_same_visits(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library, tmp_path: Path
) -> None:
    """A restored copy has equal rows, so nothing resets: the cache's change must redraw."""
    import shutil

    shutil.copytree(sample.root, tmp_path / "copy", ignore=shutil.ignore_patterns("lock"))
    copy = Library.open(tmp_path / "copy")
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    window.set_library(sample)
    rows = range(window.timeline.rowCount())
    for i in rows:  # drawn before any thumbnail arrived: placeholders, loads pending
        window.timeline.index(i).data(Qt.ItemDataRole.DecorationRole)
    window.set_library(copy)
    window.show()
    qtbot.waitUntil(window.thumbs.is_idle, timeout=10000)
    qtbot.waitUntil(lambda: not any(_placeholder(window.timeline, i) for i in rows), timeout=10000)
    window.set_library(None)
    copy.close()


def test_one_unreadable_thumbnail_does_not_cost_its_batch(
    qtbot: QtBot, sample: Library, runner: TaskRunner
) -> None:
    shas = [p["sha256"] for p in h.list_photos(sample)[:8]]
    (sample.root / "cache" / "thumbs" / shas[0][:2] / f"{shas[0]}.jpg").unlink()
    # Its thumbnail is made again from the original, which is a folder now: reading it
    # raises IsADirectoryError, not one of the app's own errors.
    original = next((sample.root / "originals").rglob(f"{shas[0]}.*"))
    original.chmod(0o600)
    original.unlink()
    original.mkdir()
    thumbs = ThumbnailCache(runner)
    thumbs.set_library(sample)
    arrived: list[str] = []
    thumbs.ready.connect(arrived.append)
    for sha in shas:
        thumbs.get(sha)
    qtbot.waitUntil(thumbs.is_idle, timeout=10000)
    assert sorted(arrived) == sorted(shas[1:])
    runner.wait()


def test_setting_the_same_rows_again_does_not_reset_the_view(qtbot: QtBot, sample: Library) -> None:
    model = ClientListModel()
    rows = browse.clients(sample)
    assert model.set_rows(rows)
    with qtbot.assertNotEmitted(model.modelReset):
        assert not model.set_rows(browse.clients(sample))
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        assert model.set_rows(rows[:-1] if len(rows) > 1 else [])


def test_layout_and_mode_are_remembered(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library, errors: list[str]
) -> None:
    prefs.mode = Mode.PRACTITIONER
    window = open_window(qtbot, prefs, runner, sample)
    window.splitter.setSizes([300, 260, 720])
    sizes = window.splitter.sizes()
    window.close()
    assert prefs.geometry("splitter") is not None and prefs.geometry("window") is not None
    # The offscreen screen is 800 x 600 and clamps a restored 1280-wide window; restore the
    # columns into a window of the same width as before.
    prefs._s.remove("layout/window")
    again = open_window(qtbot, prefs, runner, sample)
    assert again.splitter.sizes() == sizes
    assert again.sidebar.client_box.isVisible()


def test_excepthook_logs_and_shows_instead_of_dying(tmp_path: Path) -> None:
    from tracker.ui.errors import install_excepthook

    shown: list[str] = []
    old = sys.excepthook
    try:
        install_excepthook(
            lambda: None,
            tmp_path / "tracker.log",
            show=lambda parent, message: shown.append(message),
        )
        try:
            raise KeyError("boom")
        except KeyError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        try:
            raise ValidationError("The area name is empty; give it a name.")
        except ValidationError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = old
    assert "KeyError" in shown[0] and "tracker.log" in shown[0]
    assert shown[1] == "The area name is empty; give it a name."


def test_core_errors_are_shown_as_a_dialog_with_their_sentence(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library
) -> None:
    window = open_window(qtbot, prefs, runner, sample)
    seen: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.close()

    QTimer.singleShot(0, close_box)
    window.show_error("There is no area named 'Knee' for Me.")
    assert seen == ["There is no area named 'Knee' for Me."]


def test_progress_tab_shows_the_chart_and_edits_the_interval(
    qtbot: QtBot, window: MainWindow, sample: Library, tmp_path: Path
) -> None:
    from tracker.core.queries.progress import progress

    window.tabs.setCurrentWidget(window.progress_view)
    view = window.progress_view
    assert window.area_id is not None
    rated = progress(sample, window.area_id).rated
    # The sample rates colour/texture/depth and, from the patient, the improvement VAS: both
    # are shown, though the area's scale is the first.
    keys = [i.scale.key for _v, i in view.charts]
    assert keys == [i.scale.key for i in rated] == ["ctd", "improvement-vas"]
    chart_view, ctd = view.charts[0]
    qtbot.waitUntil(chart_view.isVisible)  # a layout shows what it is given on the next turn
    assert chart_view.chart() is not None
    assert len(ctd.series) == 6 and len(ctd.changes) == 6  # 3 items x 2 raters
    tables = view.findChildren(QTableWidget)
    assert tables[0].rowCount() == 6 and len(tables) == 2
    view.interval.setValue(21)
    assert window.area_id is not None
    assert progress(sample, window.area_id).interval_days == 21
    window.menus.undo.trigger()
    assert progress(sample, window.area_id).interval_days == 35
    view.axis.setCurrentIndex(1)  # by session: the baseline at 0, then sessions 1 to 5
    axis = view.charts[0][0].chart().axes()[0]
    assert isinstance(axis, QValueAxis) and axis.min() == -0.5
    out = tmp_path / "report.pdf"
    consent.add(sample, window.client_id or 0, Purpose.CARE, identifiable=True)  # issue 20
    with qtbot.waitSignal(window.exports.report_written, timeout=60000):
        window.exports.report(out)
    assert out.read_bytes().startswith(b"%PDF")


def test_compare_is_offered_only_when_there_are_photos_to_compare(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, library: Library, errors: list[str]
) -> None:
    window = open_window(qtbot, prefs, runner, library)
    assert not window.menus.compare_baseline.isEnabled() and not window.menus.compare.isEnabled()


def test_compare_actions_are_on_for_the_sample(window: MainWindow) -> None:
    assert window.menus.compare_baseline.isEnabled() and window.menus.compare.isEnabled()
