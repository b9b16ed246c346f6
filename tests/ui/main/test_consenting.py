"""The window's exports obey consent (issue 20): a practitioner is refused with the sentence,
a patient is asked once; opening, choosing a client and exporting are in the audit trail."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QTableWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_window
from tracker.core.domain.consent import PURPOSE_LABELS, Action, Purpose
from tracker.core.queries import browse
from tracker.core.services import audit, consent
from tracker.core.store.library import Library
from tracker.rendering import report
from tracker.ui.main import consenting, privacy
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Mode, Preferences
from tracker.ui.workers import TaskRunner


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the consent dialogs said; the patient answers yes."""
    said: list[str] = []

    def warning(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        said.append(text)
        return QMessageBox.StandardButton.Ok

    def question(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        said.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", warning)
    monkeypatch.setattr(QMessageBox, "question", question)
    return said


def test_a_practitioner_is_refused_without_consent_and_nothing_is_written(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    sample: Library,
    asked: list[str],
    tmp_path: Path,
) -> None:
    prefs.mode = Mode.PRACTITIONER
    window = open_window(qtbot, prefs, runner, sample)
    out = tmp_path / "r.pdf"
    window.exports.report(out, purpose=Purpose.TEACHING)
    assert len(asked) == 1 and "has no recorded consent to teaching" in asked[0]
    assert not out.exists() and consent.consents(sample) == []
    assert [e.action for e in audit.entries(sample)] == [Action.OPENED]


def test_a_patient_is_asked_once_and_the_export_is_recorded(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    sample: Library,
    asked: list[str],
    tmp_path: Path,
) -> None:
    prefs.mode = Mode.PATIENT
    window = open_window(qtbot, prefs, runner, sample)
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    with qtbot.waitSignal(window.exports.report_written, timeout=60000):
        window.exports.report(first, purpose=Purpose.SHARING)
    assert asked == [
        "Use your own photos and records for sharing with another clinician? Your answer is "
        "kept in the library, and you can withdraw it at any time (Library ▸ Consent of the client…)."
    ]
    (row,) = consent.consents(sample)
    assert (row.purpose, row.identifiable, row.photo_ids) == (Purpose.SHARING, True, None)
    with qtbot.waitSignal(window.exports.report_written, timeout=60000):
        window.exports.report(second, purpose=Purpose.SHARING)
    assert len(asked) == 1 and first.exists() and second.exists()
    trail = [(e.action, e.detail) for e in audit.entries(sample)]
    assert trail == [
        (Action.OPENED, ""),
        (Action.CONSENT, "recorded: sharing, identifiable"),
        (Action.PRINTED, "sharing: a.pdf"),
        (Action.PRINTED, "sharing: b.pdf"),
    ]
    assert audit.verify(sample) == []


def test_the_purpose_is_asked_with_the_care_record_first(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[tuple[list[str], int]] = []

    def get_item(*args: object) -> tuple[str, bool]:
        items, current = args[3], args[4]
        assert isinstance(items, list) and isinstance(current, int)
        offered.append((items, current))
        return items[3], True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    assert consenting.ask_purpose(window, "Report") is Purpose.TEACHING
    ((items, current),) = offered
    assert items[current] == "The care record" and len(items) == 6


def test_consent_is_added_and_withdrawn_from_its_dialog(
    window: MainWindow, sample: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.menus.consent.isEnabled() and window.menus.audit.isEnabled()
    assert window.client_id is not None
    dialog = privacy.ConsentDialog(window, sample, window.client_id, "Me")

    def record(ask: privacy.AddConsentDialog) -> int:
        ask.purpose.setCurrentIndex(list(Purpose).index(Purpose.PUBLICATION))
        ask.identifiable.setChecked(False)
        ask.expires.setChecked(True)
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(privacy.AddConsentDialog, "exec", record)
    dialog.add.click()
    assert dialog.table.rowCount() == 1
    assert _cell(dialog.table, 0, 0) == "publication, de-identified, all photos"
    assert _cell(dialog.table, 0, 3) == "valid"
    (row,) = consent.consents(sample)
    assert row.expires_on is not None and row.expires_on > dt.date.today()
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    dialog.table.selectRow(0)
    dialog.withdraw.click()
    assert _cell(dialog.table, 0, 3) == "withdrawn"
    assert [e.detail for e in audit.entries(sample)][-2:] == [
        "recorded: publication, de-identified",
        "withdrawn: publication",
    ]


def test_the_audit_dialog_shows_the_trail_and_a_broken_chain(
    window: MainWindow, sample: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit.record(sample, Action.BACKED_UP, detail="b.zip")
    dialog = privacy.AuditDialog(window, sample, {1: "Me"})
    assert dialog.table.rowCount() == 2 and "holds" in dialog.verdict.text()
    assert _cell(dialog.table, 1, 2) == "backed up"
    out = tmp_path / "audit.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(out), ""))
    dialog.export.click()
    assert out.read_text(encoding="utf-8").count("\n") == 3
    assert "Wrote 2 entries" in dialog.verdict.text()
    conn = sqlite3.connect(sample.root / "library.sqlite3")
    conn.executescript(
        "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'someone' WHERE id = 1;"
    )
    conn.close()
    broken = privacy.AuditDialog(window, sample, {})
    assert "Audit entry 1 was changed after it was written." in broken.verdict.text()


def test_the_compare_window_asks_the_purpose_and_obeys_consent(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    sample: Library,
    asked: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefs.mode = Mode.PRACTITIONER
    window = open_window(qtbot, prefs, runner, sample)
    teaching = PURPOSE_LABELS[Purpose.TEACHING].capitalize()
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a: (teaching, True))
    compare = window.compare.open([1, 6])
    assert compare is not None
    out = tmp_path / "c.png"
    compare.export_to(out)
    assert len(asked) == 1 and "Me has no recorded consent to teaching" in asked[0]
    assert not out.exists()
    consent.add(sample, 1, Purpose.TEACHING, identifiable=False, photo_ids=[1, 6])
    with qtbot.waitSignal(compare.exported, timeout=60000):
        compare.export_to(out)
    assert out.exists() and len(asked) == 1
    last = audit.entries(sample)[-1]
    assert (last.action, last.subject, last.detail) == (
        Action.EXPORTED,
        "client 1; photos 1, 6",
        "teaching: c.png",
    )
    compare.close()


def test_a_consent_may_cover_the_photos_ticked(
    window: MainWindow, sample: Library, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    assert window.client_id is not None
    dialog = privacy.ConsentDialog(window, sample, window.client_id, "Me")
    theirs = consent.photos_of(sample, window.client_id)
    assert len(theirs) >= 2
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: said.append(text))

    def record(ask: privacy.AddConsentDialog) -> int:
        assert ask.photos.count() == len(theirs) and not ask.photos.isEnabled()
        assert "photo " in ask.photos.item(0).text()
        ask.some_photos.setChecked(True)
        assert ask.photos.isEnabled()
        ask.accept()  # none ticked yet: it says so and stays open
        assert said == ["Tick the photos the consent covers, or choose all."]
        for row in (0, 1):
            item = ask.photos.item(row)
            assert item is not None
            item.setCheckState(Qt.CheckState.Checked)
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(privacy.AddConsentDialog, "exec", record)
    dialog.add.click()
    shown = browse.client_photos(sample, window.client_id)
    first_two = sorted(photo.id for _day, _area, photo in shown[:2])
    (row,) = consent.consents(sample)
    assert row.photo_ids is not None and sorted(row.photo_ids) == first_two
    assert _cell(dialog.table, 0, 0) == "the care record, identifiable, photos {}, {}".format(
        *first_two
    )


def test_the_reports_charts_are_drawn_one_a_turn_so_the_window_keeps_answering(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = window.lib
    assert lib is not None and window.client_id is not None
    consent.add(lib, window.client_id, Purpose.CARE, identifiable=True)
    turns: list[int] = []  # how many turns of the event loop had passed at each chart
    ticks = [0]
    draw = report._chart_image

    def counted(*args: Any) -> Any:
        turns.append(ticks[0])
        return draw(*args)

    monkeypatch.setattr(report, "_chart_image", counted)
    ticker = QTimer()
    ticker.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    ticker.start(0)
    out = tmp_path / "report.pdf"
    try:
        with qtbot.waitSignal(window.exports.report_written, timeout=60000):
            window.exports.report(out)
            assert turns == []  # nothing drawn before the window turned again
    finally:
        ticker.stop()
    assert out.read_bytes().startswith(b"%PDF")
    assert len(turns) >= 4 and turns == sorted(set(turns))  # each chart in a turn of its own
