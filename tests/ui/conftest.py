"""Shared fixtures for the window tests: a sample library, the main window on it with its
dialogs answered, and photos made on the spot."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypedDict

import pytest
from PIL import Image
from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QApplication, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.demo.sample import create_demo
from tracker.core.services.import_plan import PlannedFile
from tracker.core.services.import_report import ImportReport
from tracker.core.store.library import Library
from tracker.ui import dialogs
from tracker.ui.main.import_dialogs import ImportRequest
from tracker.ui.main.import_flow import ImportController
from tracker.ui.main.import_preview import Prepared
from tracker.ui.main.plan_model import Choices, PlanModel
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    """A thread pool of the test's own, drained before the next test starts."""
    pool = QThreadPool()
    yield TaskRunner(pool)
    assert pool.waitForDone(20000)


TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "lib"
    create_demo(folder, today=TODAY)
    return folder


@pytest.fixture
def prefs(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, message: shown.append(message))
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    monkeypatch.setattr("tracker.ui.main.visits.confirm", lambda *a: True)
    return shown


def open_window(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, lib: Library | None
) -> MainWindow:
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    window.set_library(lib)
    window.show()
    return window


def activate(qtbot: QtBot, widget: QWidget) -> None:
    """Make ``widget``'s window the active one, as a click on it does, and wait until it is:
    a window's shortcuts (Ctrl+Z) reach only the active window, and after a dialog closes the
    activation comes back late on a loaded machine."""
    with qtbot.waitActive(widget):
        widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window())


def score_box(
    window: MainWindow, role: RaterRole, key: str, scale: str = "ctd", name: str | None = None
) -> QSpinBox:
    """The spin box of one item of the ratings editor: the first column of ``role`` on
    ``scale`` (by ``name``, when given). A whole-number item, as every item of the "ctd" scale
    that the sample and new areas use is."""
    column = window.panel.ratings.column(role, scale, name)
    box = window.panel.ratings.boxes[(column, key)]
    assert isinstance(box, QSpinBox)
    return box


@pytest.fixture
def sample(tmp_path: Path, sample_template: Path) -> Iterator[Library]:
    shutil.copytree(sample_template, tmp_path / "sample")
    lib = Library.open(tmp_path / "sample")
    yield lib
    lib.close()


@pytest.fixture
def window(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, sample: Library, errors: list[str]
) -> MainWindow:
    return open_window(qtbot, prefs, runner, sample)


def photo_file(path: Path, taken: str, seed: int) -> Path:
    im = Image.effect_noise((120, 90), 20 + seed).convert("RGB")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    im.save(path, "JPEG", exif=exif)
    return path


class SeenDialogs(TypedDict, total=False):
    """What the import's dialogs were given: the plan to preview, the first report; and
    what the preview is to answer (``new_kind``: the kind chosen for every new visit)."""

    plan: Sequence[PlannedFile]
    report: ImportReport
    new_kind: VisitKind


@pytest.fixture
def instant_dialogs(monkeypatch: pytest.MonkeyPatch) -> SeenDialogs:
    seen: SeenDialogs = {}

    def preview(parent: QWidget | None, request: ImportRequest, prepared: Prepared) -> Choices:
        """The preview as if the person changed nothing (but the kind, when told)."""
        seen["plan"] = prepared.plan
        model = PlanModel(
            prepared.plan,
            request.area_id,
            prepared.areas,
            prepared.visits,
            prepared.has_baseline,
            request.date,
        )
        if "new_kind" in seen:
            for day in model.new_days():
                model.set_kind(day, seen["new_kind"])
        return model.choices()

    monkeypatch.setattr(ImportController, "ask_preview", preview)
    monkeypatch.setattr(
        ImportController,
        "show_summary",
        lambda parent, report, _advice: seen.setdefault("report", report),
    )
    return seen
