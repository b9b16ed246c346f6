"""Cancelling the automatic alignment that follows an import: nothing of it is stored, the
import stays one undoable step, and the window is calm (no error, no dialog left, undo free)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.core.imaging import synthetic
from tests.ui.conftest import open_window
from tracker.core.queries import listing
from tracker.core.store.library import Library
from tracker.ui.main.import_align import PAUSED
from tracker.ui.main.import_dialogs import ImportRequest
from tracker.ui.main.import_flow import ImportController
from tracker.ui.main.import_preview import Prepared
from tracker.ui.main.plan_model import Choices, PlanModel
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner


def _jpeg(image: Image.Image, path: Path, taken: str) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import's preview accepted as offered (aligning after it on), no summary shown."""

    def preview(_parent: QWidget | None, request: ImportRequest, prepared: Prepared) -> Choices:
        model = PlanModel(
            prepared.plan,
            request.area_id,
            prepared.areas,
            prepared.visits,
            prepared.has_baseline,
            request.date,
        )
        return dataclasses.replace(model.choices(), align=request.align)

    monkeypatch.setattr(ImportController, "ask_preview", preview)
    monkeypatch.setattr(ImportController, "show_summary", lambda _p, _r, _a: None)


def _cancel_button(window: MainWindow) -> QPushButton:
    dialog = window.imports.aligning.job.dialog
    assert dialog is not None, "no progress dialog while aligning"
    (button,) = [b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel"]
    return button


def test_cancelling_the_alignment_after_an_import_stores_nothing_and_leaves_the_window_calm(
    qtbot: QtBot,
    tmp_path: Path,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    accepted: None,
) -> None:
    pair = synthetic.pair(7)
    first = _jpeg(pair.reference, tmp_path / "first.jpg", "2026:10:01 09:00:00")
    again = _jpeg(pair.photo, tmp_path / "again.jpg", "2026:10:29 09:00:00")
    h.import_files(library, [first], area="Belly")
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    window = open_window(qtbot, prefs, runner, library)
    assert window.prefs.align_after_import
    aligning = window.imports.aligning
    pressed: list[bool] = []

    def press_cancel(busy: bool) -> None:
        # The moment the run starts, as a person pressing Cancel in its progress dialog.
        if busy and not pressed:
            pressed.append(True)
            _cancel_button(window).click()

    aligning.job.busy_changed.connect(press_cancel)
    with qtbot.waitSignal(aligning.done, timeout=60000) as done:
        window.imports.import_paths([again])
    assert pressed == [True]
    assert done.args == ["The automatic alignment was stopped; nothing was changed."]
    assert window.statusBar().currentMessage() == done.args[0]
    # Nothing of the run was stored, and the import is the step that undo takes back.
    assert listing.counts(library)["photos"] == 2
    assert all(p["alignment"] is None for p in h.list_photos(library))
    assert window.history.stack.count() == 1
    assert window.history.stack.undoText() == "import of 1 photo"
    # Calm: no error, no progress dialog left, nothing running, undo free again.
    assert errors == []
    assert aligning.job.dialog is None and not aligning.busy
    assert window.menus.undo.isEnabled()
    assert window.history.undo()  # not refused with PAUSED
    assert listing.counts(library)["photos"] == 1
    qtbot.wait(100)  # nothing arrives late: no sentence replaces the calm one
    assert errors == [] and not aligning.busy
    assert PAUSED not in window.statusBar().currentMessage()
