"""The window's exports obey consent (issue 20): a practitioner is refused with the sentence,
a patient is asked once; opening, choosing a client and exporting are in the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_window
from tracker.core.domain.consent import Action, Purpose
from tracker.core.services import audit, consent
from tracker.core.store.library import Library
from tracker.ui.main import consenting
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Mode, Preferences
from tracker.ui.workers import TaskRunner


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
        "kept in the library, and you can withdraw it at any time (Client ▸ Consent…)."
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
