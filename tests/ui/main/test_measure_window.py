"""The main window's measures (issue 18): measured in the background after a change, with
progress and cancel; the Progress tab's charts and words, pixel measures labelled without a
scale; the visit panel's figures; the control area chosen in the area form, undoably; the
import summary asking for a retest pair at baseline; a window gone mid-run stops its run."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import shiboken6
from PIL import Image, ImageDraw
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.conftest import open_window
from tracker.core.queries import browse
from tracker.core.queries.measures import area_measures
from tracker.core.services import measure
from tracker.core.store.library import Library
from tracker.ui import dialogs
from tracker.ui.commands import AddArea
from tracker.ui.main import measuring
from tracker.ui.main.import_dialogs import retest_advice
from tracker.ui.main.window import MainWindow
from tracker.ui.measure_commands import SetRegion, SetSensitivity
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

DAYS = ("2025:01:10", "2025:02:10", "2025:03:10")


def _skin(path: Path, taken: str, width: int) -> Path:
    """Skin with three red marks of ``width`` pixels: the marks narrow over the course."""
    im = Image.new("RGB", (640, 480), (214, 170, 150))
    draw = ImageDraw.Draw(im)
    for k in range(3):
        y = 140 + 80 * k
        draw.line([(120, y), (520, y - 50)], fill=(190, 92, 100), width=width)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{taken} 10:00:00"
    im.save(path, "JPEG", exif=exif, quality=95)
    return path


@pytest.fixture
def course(library: Library, tmp_path: Path) -> list[int]:
    files = [_skin(tmp_path / f"{i}.jpg", day, 14 - 4 * i) for i, day in enumerate(DAYS)]
    return [i.photo_id for i in h.import_files(library, files, area="Belly").imported]


@pytest.fixture
def main(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, library: Library, course: list[int]
) -> MainWindow:
    window = open_window(qtbot, prefs, runner, library)
    window.resize(1280, 800)
    return window


def _read(qtbot: QtBot, window: MainWindow) -> None:
    """The Progress tab's measures read (in a worker) and shown."""
    qtbot.waitUntil(lambda: not window.measuring.reading, timeout=20000)


def _measure(qtbot: QtBot, window: MainWindow) -> None:
    job = window.measuring.job
    with qtbot.waitSignal(job.busy_changed, timeout=120000, check_params_cb=lambda b: not b):
        assert job.run_now()


def test_the_photos_are_measured_in_the_background_and_shown(
    qtbot: QtBot, main: MainWindow, library: Library, course: list[int]
) -> None:
    assert measure.stale_photo_ids(library) == sorted(course)
    main.tabs.setCurrentWidget(main.progress_view)
    view = main.progress_view.measures
    assert main.measuring.reading  # read in a worker, not on the GUI thread
    _read(qtbot, main)
    assert view.measure_now.isVisible()  # three photos waiting
    assert "3 photos are waiting" in view.notes.text()
    table = main.panel.figures.table
    assert table.horizontalHeaderItem(0).text().endswith("(waiting)")  # type: ignore[union-attr]
    assert [table.item(0, 0).text()] == ["Not measured yet"]  # type: ignore[union-attr]
    with qtbot.waitSignal(main.measuring.job.measured, timeout=120000) as blocker:
        _measure(qtbot, main)
    assert blocker.args is not None and blocker.args[0] == frozenset(course)
    assert measure.stale_photo_ids(library) == []
    # Read in a worker, then shown.
    qtbot.waitUntil(lambda: not view.measure_now.isVisible(), timeout=20000)
    # No card in these photos: sizes in pixels, said so, and the millimetre charts left out.
    assert "No calibration card" in view.notes.text()
    assert view.charts and view.charting  # the first chart at once, the others a turn each
    qtbot.waitUntil(lambda: not view.charting, timeout=20000)
    shown = {series.key for _chart, series in view.charts}
    assert "mean_width_px" in shown and "mean_width_mm" not in shown
    width = next(s for _c, s in view.charts if s.key == "mean_width_px")
    values = [p.value for p in width.points if p.value is not None]
    assert len(values) == 3 and values[0] > values[-1], values  # narrower over the course
    assert "Fell by" in width.words or "No measurable change" in width.words
    # Laid out at its full height, not at the size it had before its charts: the page's
    # layout once kept the measures' first item and left a blank where the charts were.
    page = main.progress_view
    page.show_progress(page.data)
    views = [view.view.itemText(i) for i in range(view.view.count())]
    sections = dict(view.sections)
    tickets = {key: section.chart.ticket for key, section in sections.items()}
    view.show_measures(view.data, views, by_session=False, busy=False)
    # The same measures again: the sections are kept and told, their charts painted again
    # (in the worker), not built again.
    assert view.sections == sections and not view.waiting
    assert all(s.chart.ticket == tickets[k] + 1 for k, s in view.sections.items())
    qtbot.waitUntil(lambda: not view.charting, timeout=20000)
    assert all(s.chart.image is not None for s in view.sections.values())
    qtbot.waitUntil(lambda: view.height() >= view.minimumSizeHint().height(), timeout=5000)
    # The visit panel shows the current visit's photo's figures, with units.
    figures = main.panel.figures
    assert not figures.isHidden() and table.columnCount() == 1
    texts = [item.text() for r in range(table.rowCount()) if (item := table.item(r, 0))]
    assert any(t.endswith(" px") for t in texts), texts


def test_a_region_drawn_makes_the_photos_stale_and_they_are_measured_again(
    qtbot: QtBot, main: MainWindow, library: Library, course: list[int]
) -> None:
    _measure(qtbot, main)
    job = main.measuring.job
    assert not job.timer.isActive()
    photo = browse.compare_photos(library, course[:1])[0]
    square = [(60.0, 60.0), (580.0, 60.0), (580.0, 420.0), (60.0, 420.0)]
    main.run(SetRegion(library, photo.area_id, photo.view, "marks", square))
    assert job.timer.isActive()  # measured once the changes stop for a moment
    assert course[0] in measure.stale_photo_ids(library)
    _measure(qtbot, main)
    # The others are not aligned to the reference: told so, not measured wrongly.
    data = area_measures(library, photo.area_id)
    assert data.stale == 0
    failed = [p for p in data.photos if p.error]
    assert failed and all("align" in (p.error or "") for p in failed)
    main.tabs.setCurrentWidget(main.progress_view)
    _read(qtbot, main)
    assert "was not measured" in main.progress_view.measures.notes.text()


def test_measuring_can_be_cancelled_and_a_read_only_library_is_not_measured(
    qtbot: QtBot, main: MainWindow, library: Library, course: list[int]
) -> None:
    job = main.measuring.job
    said: list[str] = []
    job.said.connect(said.append)
    with qtbot.waitSignal(job.busy_changed, timeout=60000, check_params_cb=lambda b: not b):
        assert job.run_now()
        assert not job.run_now()  # one run at a time
        job.cancel()
    assert said and "stopped" in said[-1]
    assert len(measure.stale_photo_ids(library)) >= 1
    # Photos waiting are offered for measuring when the tab shows them, but not after a
    # Cancel; the next change measures again.
    main.tabs.setCurrentWidget(main.progress_view)
    _read(qtbot, main)
    assert main.progress_view.measures.measure_now.isVisible()
    assert not job.timer.isActive()
    area_id = browse.compare_photos(library, course[:1])[0].area_id
    main.run(SetSensitivity(library, area_id, 5.0))
    assert job.timer.isActive()
    job.timer.stop()
    main.tabs.setCurrentWidget(main.panel)
    main.tabs.setCurrentWidget(main.progress_view)
    _read(qtbot, main)
    assert job.timer.isActive()  # waiting, shown, not held back any more
    job.timer.stop()


def test_the_control_area_is_chosen_in_the_area_form_and_undone(
    qtbot: QtBot, main: MainWindow, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = h.only_client(library)
    stage = browse.areas(library, client_id)[0].stage
    assert main.run(AddArea(library, client_id, "Right thigh", "thighs", stage))
    areas = {a.name: a.id for a in browse.areas(library, client_id)}
    main.area_id = areas["Belly"]
    main.refresh()
    offered: list[list[tuple[int, str]]] = []

    def ask(
        parent: object,
        *,
        current: dialogs.AreaAnswer,
        controls: list[tuple[int, str]],
        **_kw: object,
    ) -> dialogs.AreaAnswer:
        offered.append(list(controls))
        return dialogs.AreaAnswer(
            current.name, current.body_site, current.stage, current.scale, areas["Right thigh"]
        )

    monkeypatch.setattr(dialogs.AreaDialog, "ask", ask)
    main.menus.edit_area.trigger()
    assert offered == [[(areas["Right thigh"], "Right thigh")]]
    assert area_measures(library, areas["Belly"]).control_area_id == areas["Right thigh"]
    assert "control" in main.history.stack.undoText()
    # The Progress tab offers to take the control's drift away, and says when it does.
    main.tabs.setCurrentWidget(main.progress_view)
    view = main.progress_view.measures
    _read(qtbot, main)
    assert view.subtract.isEnabled()
    view.subtract.setChecked(True)
    _read(qtbot, main)
    assert "Right thigh changed over the same visits is taken away" in view.notes.text()
    main.history.undo()
    _read(qtbot, main)
    assert not view.subtract.isEnabled() and not view.subtract.isChecked()
    assert area_measures(library, areas["Belly"]).control_area_id is None


def test_the_import_summary_asks_for_a_second_photo_at_baseline(
    library: Library, tmp_path: Path
) -> None:
    today = dt.date.today()
    day = today.strftime("%Y:%m:%d")
    one = h.import_files(library, [_skin(tmp_path / "a.jpg", day, 10)], area="Belly")
    advice = retest_advice(library, one, today)
    assert "one photo of" in advice and "today" in advice
    assert retest_advice(library, one, today + dt.timedelta(days=1)) == ""  # not the same day
    two = h.import_files(library, [_skin(tmp_path / "b.jpg", day, 11)], area="Belly")
    assert retest_advice(library, two, today) == ""  # the pair is there


def test_a_window_gone_mid_run_stops_its_run_and_nothing_is_said_from_it(
    qtbot: QtBot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def slow(_lib: Library, task: measuring.Task) -> None:
        task.report(0, 3, "")
        deadline = time.monotonic() + 20
        while not task.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(task.cancelled)
        task.report(1, 3, "")

    monkeypatch.setattr(measuring, "_measure", slow)
    window = QMainWindow()
    job = measuring.MeasureJob(window, window.statusBar())
    job.lib = library
    assert job.run_now()
    task = job.task
    assert task is not None
    qtbot.waitUntil(lambda: job.status.isVisibleTo(window), timeout=10000)
    shiboken6.delete(window)  # the window and its job go while the photo is measured
    assert task.done.wait(20)
    assert seen == [True]  # stopped by the job going, not by the time running out
    QApplication.processEvents()  # its progress and its end come back to a job that is gone
