"""Issue 14 in the window: a visit rated on several scales by several named raters shows every
rating; new ratings carry the user's name and role and how they were made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QGroupBox, QLabel
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.conftest import open_window, photo_file, score_box
from tracker.core.db.models import RaterRole, RatingMethod
from tracker.core.queries import browse
from tracker.core.queries import ratings as rating_rows
from tracker.core.store.library import Library
from tracker.ui.main.window import MainWindow
from tracker.ui.panels.ratings_editor import AddRatingDialog, RaterColumn
from tracker.ui.settings import Mode, Preferences
from tracker.ui.workers import TaskRunner

D0, D1 = dt.date(2025, 1, 6), dt.date(2025, 2, 3)
OBSERVER = dict(
    vascularity=6, pigmentation=7, thickness=5, relief=6, pliability=4, surface_area=5, overall=7
)


@pytest.fixture
def rated(library: Library, tmp_path: Path) -> Library:
    """Hips, photographed at two visits; the second rated on ctd by the patient, on POSAS
    observer by Dr Lee and Dr Kim, and on GAIS by both."""
    files = [
        photo_file(tmp_path / "a.jpg", "2025:01:06 10:00:00", 1),
        photo_file(tmp_path / "b.jpg", "2025:02:03 10:00:00", 2),
    ]
    h.import_files(library, files, area="Hips")
    h.rate(library, area="Hips", day=D1, role=RaterRole.PATIENT, values={"colour": 6})
    for name, grade in (("Dr Lee", 2), ("Dr Kim", 3)):
        P = RaterRole.PRACTITIONER
        h.rate(
            library,
            area="Hips",
            day=D1,
            role=P,
            values=OBSERVER,
            scale="posas2-observer",
            rater_name=name,
        )
        h.rate(
            library,
            area="Hips",
            day=D1,
            role=P,
            values={"overall": grade},
            scale="gais",
            rater_name=name,
        )
    return library


def _at_second_visit(window: MainWindow) -> None:
    window.timeline_view.setCurrentIndex(window.timeline.index(1))
    assert window.panel.detail is not None and window.panel.detail.date == D1


def test_every_rating_of_a_visit_is_shown_and_edited_under_its_rater(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, rated: Library, errors: list[str]
) -> None:
    window = open_window(qtbot, prefs, runner, rated)
    _at_second_visit(window)
    editor = window.panel.ratings
    shown = {(c.scale, c.role, c.name) for c in editor.columns}
    assert shown == {
        ("ctd", RaterRole.PATIENT, ""),
        ("posas2-observer", RaterRole.PRACTITIONER, "Dr Kim"),
        ("posas2-observer", RaterRole.PRACTITIONER, "Dr Lee"),
        ("gais", RaterRole.PRACTITIONER, "Dr Kim"),
        ("gais", RaterRole.PRACTITIONER, "Dr Lee"),
    }
    lee = editor.column(RaterRole.PRACTITIONER, "posas2-observer", "Dr Lee")
    assert editor.totals[lee].text() == "<b>33</b>"  # 6+7+5+6+4+5, the overall apart
    score_box(window, RaterRole.PRACTITIONER, "relief", "posas2-observer", "Dr Kim").setValue(2)
    assert window.visit_id is not None and window.area_id is not None
    kim = browse.rating(
        rated, window.visit_id, window.area_id, RaterRole.PRACTITIONER, "posas2-observer", "Dr Kim"
    )
    assert kim["relief"] == 2
    assert (
        browse.rating(
            rated,
            window.visit_id,
            window.area_id,
            RaterRole.PRACTITIONER,
            "posas2-observer",
            "Dr Lee",
        )["relief"]
        == 6
    )
    kim_column = editor.column(RaterRole.PRACTITIONER, "posas2-observer", "Dr Kim")
    assert editor.totals[kim_column].text() == "<b>29</b>"
    # The timeline's line for the visit names each number and each rater.
    lines = window.timeline.rows()[1].ratings
    assert "Dr Kim (practitioner) · POSAS observer: total 29 (6–60), overall 7" in lines
    assert "Dr Lee (practitioner) · GAIS: much improved (2)" in lines
    assert "Me (patient) · Colour/texture/depth: colour 6" in lines
    window.menus.undo.trigger()
    assert (
        editor.totals[editor.column(RaterRole.PRACTITIONER, "posas2-observer", "Dr Kim")].text()
        == "<b>33</b>"
    )


def test_a_practitioners_new_rating_carries_their_name_and_method(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    rated: Library,
    errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefs.mode, prefs.rater_name = Mode.PRACTITIONER, "Dr Ode"
    window = open_window(qtbot, prefs, runner, rated)
    _at_second_visit(window)
    editor = window.panel.ratings
    # The user's own column on the area's scale, under their name: not the patient's.
    assert ("ctd", RaterRole.PRACTITIONER, "Dr Ode") in {c.key for c in editor.columns}
    score_box(window, RaterRole.PRACTITIONER, "depth", "ctd", "Dr Ode").setValue(4)
    # Add a rating: the patient's POSAS from the photos. Nothing is stored until a value is.
    added = RaterColumn("posas2-patient", RaterRole.PATIENT, "", RatingMethod.PHOTOS)
    monkeypatch.setattr(AddRatingDialog, "ask", classmethod(lambda cls, *a: added))
    before = len(rating_rows.listing(rated))
    editor.add_button.click()
    assert ("posas2-patient", RaterRole.PATIENT, "") in {c.key for c in editor.columns}
    assert len(rating_rows.listing(rated)) == before
    score_box(window, RaterRole.PATIENT, "itching", "posas2-patient").setValue(3)
    rows = {(r["scale"], r["rater_name"]): r for r in rating_rows.listing(rated)}
    assert rows[("ctd", "Dr Ode")]["values"] == {"depth": 4}
    assert rows[("ctd", "Dr Ode")]["method"] == "in-person"
    assert rows[("posas2-patient", "")]["method"] == "photos"
    assert rows[("posas2-patient", "")]["values"] == {"itching": 3}
    # POSAS patient stands beside POSAS observer when the window has room for both (they go
    # one under the other when it has not: test_layout_window): one row for the family.
    window.resize(1600, 1000)
    boxes = {b.title(): b for b in editor.host.findChildren(QGroupBox)}
    patient, observer = boxes["POSAS 2.0, patient scale"], boxes["POSAS 2.0, observer scale"]
    qtbot.waitUntil(lambda: patient.x() != observer.x())
    assert patient.y() == observer.y()
    # Changing how a rating was made is an edit of that rating.
    combo = editor.methods[editor.column(RaterRole.PRACTITIONER, "ctd", "Dr Ode")]
    combo.setCurrentIndex(combo.findData(RatingMethod.PHOTOS))
    combo.activated.emit(combo.currentIndex())
    assert {r["method"] for r in rating_rows.listing(rated) if r["rater_name"] == "Dr Ode"} == {
        "photos"
    }


def test_the_progress_tab_shows_every_instrument(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, rated: Library, errors: list[str]
) -> None:
    window = open_window(qtbot, prefs, runner, rated)
    window.tabs.setCurrentWidget(window.progress_view)
    keys = [i.scale.key for _v, i in window.progress_view.charts]
    assert keys == ["ctd", "posas2-observer", "gais"]
    assert "1 session done" in window.progress_view.summary.text().replace("<b>", "").replace(
        "</b>", ""
    )


def test_the_mouse_wheel_scrolls_the_panel_and_changes_no_value_it_passes_over(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, rated: Library, errors: list[str]
) -> None:
    """Seen under Xvfb: scrolling down the visit panel over the treatment form cleared the
    number of passes and saved it."""
    window = open_window(qtbot, prefs, runner, rated)
    _at_second_visit(window)
    box = score_box(window, RaterRole.PATIENT, "colour")
    passes = window.panel.treatment.passes
    for widget in (box, passes):
        before = widget.value()
        centre = QPointF(widget.rect().center())
        event = QWheelEvent(
            centre,
            QPointF(widget.mapToGlobal(centre.toPoint())),
            QPoint(0, 0),
            QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(widget, event)
        assert widget.value() == before
    assert not window.history.stack.canUndo()


def test_names_are_shown_as_text_not_markup(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, rated: Library, errors: list[str]
) -> None:
    h.rate(
        rated,
        area="Hips",
        day=D1,
        role=RaterRole.PRACTITIONER,
        values={"colour": 4},
        rater_name="<b>Dr</b> &amp;",
    )
    window = open_window(qtbot, prefs, runner, rated)
    _at_second_visit(window)
    heads = [label.text() for label in window.panel.ratings.host.findChildren(QLabel)]
    assert "<b>&lt;b&gt;Dr&lt;/b&gt; &amp;amp;</b><br><small>practitioner</small>" in heads
