"""The main window on a small screen, with long names, on a dark palette: nothing to scroll
sideways, headings that do not move what is under them, tab order down a rater's column, a
treatment record in two columns when there is room, and a new session offered the last one."""

from __future__ import annotations

import datetime as dt
import itertools

from PySide6.QtCharts import QChartView
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_window
from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.queries import browse
from tracker.core.services import clients
from tracker.core.store.library import Library
from tracker.rendering.chart_style import PRINT, is_dark, screen_colours
from tracker.ui import commands as cmd
from tracker.ui.main.window import MainWindow
from tracker.ui.panels.forms import TreatmentForm
from tracker.ui.settings import Mode, Preferences
from tracker.ui.workers import TaskRunner

LONG = "Maria-Magdalena Vasconcelos de Albuquerque-Schönberger"


def _settle(qtbot: QtBot, window: QWidget) -> None:
    qtbot.waitExposed(window)
    QApplication.processEvents()
    qtbot.wait(50)  # the list views lay their rows out on the next turn of the loop


def _lengthen_names(lib: Library) -> None:
    me = browse.clients(lib)[0].id
    clients.update_client(lib, me, name=LONG)
    for area in browse.areas(lib, me):
        clients.update_area(lib, area.id, name=f"{area.name} and upper thighs (Basel clinic)")


def test_at_1024_by_700_with_long_names_nothing_scrolls_sideways(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.lib is not None
    _lengthen_names(window.lib)
    window.refresh()
    window.resize(1024, 700)
    window.splitter.setSizes([200, 170, 654])
    _settle(qtbot, window)
    view = window.timeline_view
    assert view.horizontalScrollBar().maximum() == 0
    assert window.panel.horizontalScrollBar().maximum() == 0
    assert window.sidebar.area_list.horizontalScrollBar().maximum() == 0
    # Each row is as wide as the list, and taller when the list is narrower (its text wraps).
    first = window.timeline.index(0)
    narrow = view.visualRect(first)
    assert narrow.width() <= view.viewport().width()
    window.splitter.setSizes([200, 420, 404])
    _settle(qtbot, window)
    assert view.visualRect(first).height() < narrow.height()


def test_the_heading_does_not_move_the_record_from_visit_to_visit(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(1024, 700)
    _settle(qtbot, window)
    body = window.panel.widget()
    assert body is not None
    tops = set()
    for row in range(window.timeline.rowCount()):
        window.timeline_view.setCurrentIndex(window.timeline.index(row))
        _settle(qtbot, window)
        tops.add(window.panel.treatment.mapTo(body, window.panel.treatment.rect().topLeft()).y())
    assert len(tops) == 1, tops


def test_tab_goes_down_a_raters_column_then_to_the_next(qtbot: QtBot, window: MainWindow) -> None:
    editor = window.panel.ratings
    patient = editor.column(RaterRole.PATIENT, "ctd")
    practitioner = editor.column(RaterRole.PRACTITIONER, "ctd")
    chain: list[QWidget] = [editor.methods[patient]]
    chain += [editor.boxes[(patient, k)] for k in ("colour", "texture", "depth")]
    chain += [editor.methods[practitioner], editor.boxes[(practitioner, "colour")]]
    window.activateWindow()
    qtbot.waitActive(window)
    chain[0].setFocus()
    for before, after in itertools.pairwise(chain):
        here = QApplication.focusWidget()
        assert here is not None and (here is before or here.parentWidget() is before)
        qtbot.keyClick(here, Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        assert focused is not None
        assert focused is after or focused.parentWidget() is after, (before, focused)


def test_the_record_takes_two_columns_when_there_is_room(qtbot: QtBot) -> None:
    form = TreatmentForm()
    qtbot.addWidget(form)
    form.resize(900, 300)
    form.show()
    qtbot.waitExposed(form)

    def place(widget: QWidget) -> tuple[int, int, int, int]:
        found = form._grid.getItemPosition(form._grid.indexOf(widget))
        assert isinstance(found, tuple)
        return found

    def column(widget: QWidget) -> int:
        return place(widget)[1]

    assert column(form.pain) > column(form.device)
    assert place(form.reaction)[3] > 1  # the reaction, a phrase, across both columns
    form.resize(380, 500)
    qtbot.waitUntil(lambda: column(form.pain) == column(form.device))


def test_a_new_session_is_offered_the_last_record_and_takes_it_only_when_asked(
    window: MainWindow,
) -> None:
    lib, me, area, visit = window.lib, window.client_id, window.area_id, window.visit_id
    assert lib is not None and me is not None and area is not None and visit is not None
    last = browse.visit_detail(lib, visit)
    earlier = next(a for a in last.areas if a.area.id == area).treatment
    assert earlier is not None
    add = cmd.AddVisit(lib, me, dt.date.today() + dt.timedelta(days=1), VisitKind.TREATMENT, "")
    assert window.run(add)
    new = add.visit_id
    assert new is not None
    window.visit_id = new
    window.refresh()
    form = window.panel.treatment
    assert not form.previous_row.isHidden()
    assert form.previous_text.text().startswith(f"Last time ({last.date:%d %b %Y}):")
    assert browse.treatment(lib, new, area) is None  # not copied unasked
    form.use_previous.click()
    copied = browse.treatment(lib, new, area)
    assert copied is not None
    for key in ("device", "needle_depth_mm", "passes", "topical"):
        assert copied[key] == earlier[key]
    assert copied["pain"] is None and copied["reaction"] is None  # the visit's own
    assert form.previous_row.isHidden()
    window.menus.undo.trigger()
    assert browse.treatment(lib, new, area) is None
    # A check-in is not a treatment: nothing is offered.
    window.panel.kind.setCurrentIndex(list(VisitKind).index(VisitKind.CHECK_IN))
    window.panel.kind.activated.emit(window.panel.kind.currentIndex())
    assert form.previous_row.isHidden()


def _dark() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1f1f1f"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


def test_the_charts_follow_a_dark_palette(qtbot: QtBot, window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.progress_view)
    view = window.progress_view
    assert view.charts
    assert screen_colours(view.palette()) is PRINT  # the light default: the print colours
    view.setPalette(_dark())
    qtbot.waitUntil(lambda: bool(view.charts) and is_dark(view.palette()))
    chart_view: QChartView = view.charts[0][0]
    chart = chart_view.chart()
    assert chart.backgroundBrush().color() == QColor("#1f1f1f")
    assert chart.titleBrush().color() == QColor("#e6e6e6")
    assert all(axis.labelsColor() == QColor("#e6e6e6") for axis in chart.axes())


def test_search_finds_a_client_without_accents_or_by_date_of_birth(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library
) -> None:
    prefs.mode = Mode.PRACTITIONER
    clients.add_client(sample, "Chloé Smith", {"date_of_birth": dt.date(1988, 3, 14)})
    window = open_window(qtbot, prefs, runner, sample)
    for typed in ("chloe", "CHLOE", "14 Mar 1988", "1988-03-14"):
        window.sidebar.search.setText(typed)
        assert [c.name for c in window.clients.rows()] == ["Chloé Smith"], typed
    window.sidebar.search.clear()
    assert len(window.clients.rows()) == 2


def test_at_200_percent_text_the_one_column_record_fits_a_1024_screens_panel(
    qtbot: QtBot,
) -> None:
    """At 1024x700 the visit panel is about 500 px wide. With text at twice its size, the
    treatment record's one column must fit it: its choice boxes ask for ten letters, not for
    their longest choice ("hyaluronic acid" made it 509 px, under a sideways scroll bar)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    normal = app.font()
    big = normal
    big.setPointSizeF(normal.pointSizeF() * 2)
    app.setFont(big)
    try:
        form = TreatmentForm()
        qtbot.addWidget(form)
        form.set_record(None)
        form.resize(480, 600)
        form.show()
        qtbot.waitExposed(form)
        assert form.minimumSizeHint().width() <= 495
        longest = QComboBox()  # what a choice box asks for when it fits its longest choice
        longest.setEditable(True)
        longest.addItems([form.device.itemText(i) for i in range(form.device.count())])
        assert form.device.minimumSizeHint().width() < longest.minimumSizeHint().width()
        longest.deleteLater()
    finally:
        normal.setPointSizeF(normal.pointSizeF() / 2)
        app.setFont(normal)
