"""An untreated control area is never treated (issue 18 review): photographed at the treated
area's treatment visits, it has no sessions. Its course reads "Untreated control: photographed
at 4 visits" in the report and the Progress tab, and the timeline, the visit panel and the
progress query count no session of it, while the treated area's sessions are unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests import helpers as h
from tests.rendering.conftest import DAYS, photo
from tracker.core.queries import browse
from tracker.core.queries.progress import progress
from tracker.core.services import measure
from tracker.core.store.library import Library
from tracker.rendering import report_parts
from tracker.rendering.report import build_document
from tracker.ui.panels.progress_view import ProgressView

TODAY = dt.date(2025, 5, 1)


def _area(lib: Library, name: str) -> int:
    return next(a.id for a in browse.areas(lib, h.only_client(lib)) if a.name == name)


def test_an_untreated_control_has_no_sessions_anywhere(
    qapp: QApplication, course: Library, tmp_path: Path
) -> None:
    files = [photo(tmp_path / f"c{i}.jpg", d, 50 + i) for i, d in enumerate(DAYS)]
    h.import_files(course, files, area="Left hip")
    treated, control = _area(course, "Lower abdomen"), _area(course, "Left hip")
    # Photographed at three treatment visits, it would count three sessions if it were treated.
    assert progress(course, control, TODAY).sessions_done == 3
    measure.set_control(course, treated, control)

    data = progress(course, control, TODAY)
    assert data.untreated and data.photographed == 4
    assert data.sessions_done == 0 and data.next_session is None
    assert [v.session for v in data.visits] == [None] * 4
    assert data.course_words == "Untreated control: photographed at 4 visits"
    assert data.baseline == DAYS[0] and data.days_since_baseline == (TODAY - DAYS[0]).days
    text = report_parts.course(data)
    assert "<b>Untreated control:</b> photographed at 4 visits" in text
    assert "session" not in text.lower()
    # The treated area's course is as it was.
    mine = progress(course, treated, TODAY)
    assert not mine.untreated and mine.sessions_done == 3
    assert "Sessions done:</b> 3" in report_parts.course(mine)

    client = h.only_client(course)
    assert not any(r.is_session for r in browse.timeline(course, client, control))
    assert [r.is_session for r in browse.timeline(course, client, treated)] == [
        False,
        True,
        True,
        True,
    ]
    for row in browse.timeline(course, client):
        at = {a.area.name: a for a in browse.visit_detail(course, row.id).areas}
        assert at["Left hip"].session is None
    document = build_document(course, client, today=TODAY)
    said = " ".join(p for p in document.parts if isinstance(p, str))
    assert "<b>Untreated control:</b> photographed at 4 visits" in said
    assert said.count("Sessions done:") == 1  # the treated area's only

    view = ProgressView()
    view.axis.setCurrentIndex(view.axis.findData(True))  # by session, as chosen before
    view.show_progress(data)
    assert not view.by_session and view.axis.isHidden() and view.interval.isHidden()
    assert view.summary.text().startswith("Untreated control: photographed at 4 visits, baseline")
    assert "session" not in view.summary.text()
    view.show_progress(mine)
    assert view.summary.text().startswith("<b>3</b> sessions done")
    assert view.by_session and not view.axis.isHidden() and not view.interval.isHidden()
    # Un-marked, it counts the treatment visits it was photographed at again.
    measure.set_is_control(course, control, False)
    again = progress(course, control, TODAY)
    assert not again.untreated and again.sessions_done == 3
