"""Save dialogs remember their folder per kind of file and propose names saying what, whose,
which area and when; a restore makes its folder and asks before the window switches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.core.care.test_trust import _photos
from tracker.app import App
from tracker.core.domain.consent import DEFAULT_PURPOSE
from tracker.core.queries import browse, listing
from tracker.core.store.library import Library
from tracker.ui.main import care as care_module
from tracker.ui.main import consenting
from tracker.ui.main.care import restore_target
from tracker.ui.main.exports import ExportController
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

TODAY = dt.date.today().isoformat()


class SaveDialog:
    """Stands in for the save dialog: says where it opened and what it proposed, and answers
    with a file in the folder it is told (or cancels)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offered: list[Path] = []
        self.answer_in: Path | None = None
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self)

    def __call__(self, _parent: object, _title: str, start: str, filters: str) -> tuple[str, str]:
        self.offered.append(Path(start))
        if self.answer_in is None:
            return "", ""
        self.answer_in.mkdir(parents=True, exist_ok=True)
        return str(self.answer_in / Path(start).name), filters.split(";;")[0]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: folder))
    return folder


def test_each_kind_of_file_opens_where_the_last_one_went(
    qtbot: QtBot, window: MainWindow, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = SaveDialog(monkeypatch)
    # The purpose is asked and the consent checked (``consenting``); not what is tested here.
    monkeypatch.setattr(consenting, "ask_purpose", lambda *a: DEFAULT_PURPOSE)
    monkeypatch.setattr(ExportController, "_allowed", lambda *a: True)
    monkeypatch.setattr(window.exports, "report", lambda *a: None)
    client = next(c.name for c in window.clients.rows() if c.id == window.client_id)
    window.progress_view.report.click()
    assert dialog.offered[-1].parent == home  # the first time: the home folder
    dialog.answer_in = tmp_path / "reports"
    window.progress_view.report.click()
    window.progress_view.report.click()
    assert dialog.offered[-1].parent == tmp_path / "reports"
    dialog.answer_in = None
    window.progress_view.csv.click()
    assert dialog.offered[-1].parent == home, "a CSV has a folder of its own"
    areas = [a.name for a in window.areas.rows()]
    words = [client, *areas] if len(areas) == 1 else [client]
    assert dialog.offered[-1].name == "-".join(["ratings", *words, TODAY]) + ".csv"
    assert dialog.offered[1].name == "-".join(["progress-report", *words, TODAY]) + ".pdf"
    # Kept between runs, in the preferences.
    again = MainWindow(window.prefs, window.runner)
    qtbot.addWidget(again)
    assert again.prefs.last_folder("report") == tmp_path / "reports"


def test_a_folder_that_is_gone_is_not_offered(prefs: Preferences, tmp_path: Path) -> None:
    prefs.set_last_folder("report", tmp_path / "gone")
    assert prefs.last_folder("report") is None


def test_the_compare_export_opens_where_the_last_one_went(
    qtbot: QtBot, window: MainWindow, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = SaveDialog(monkeypatch)
    assert window.lib is not None
    photo = window.photos.rows()[0].id
    partner = browse.baseline_partner(window.lib, photo)
    assert partner is not None
    compare = window.compare.open([partner, photo])
    assert compare is not None
    monkeypatch.setattr(compare, "export_to", lambda out, full_size=False: None)
    dialog.answer_in = tmp_path / "pictures"
    compare.export_action.trigger()
    compare.export_action.trigger()
    assert [p.parent for p in dialog.offered] == [home, tmp_path / "pictures"]
    area = next(a.name for a in window.areas.rows() if a.id == window.area_id)
    assert area in dialog.offered[-1].name and TODAY in dialog.offered[-1].name


# -- backup and restore ----------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    lib_root = tmp_path / "clinic"
    with Library.open(lib_root, create=True) as lib:
        h.import_files(lib, _photos(tmp_path / "in", 2), area="Hips")
    return lib_root


@pytest.fixture
def shell(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> Iterator[App]:
    shown: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, m: shown.append(m))
    monkeypatch.setattr(MainWindow, "show_info", lambda self, m: shown.append(m))
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    app = App(window, prefs, runner)
    app.shown = shown  # type: ignore[attr-defined]
    yield app
    app.close()


def test_the_backup_is_named_after_the_library_and_opens_where_the_last_one_went(
    qtbot: QtBot,
    shell: App,
    root: Path,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert shell.open(root)
    dialog = SaveDialog(monkeypatch)
    dialog.answer_in = tmp_path / "usb"
    care = shell.window.care
    for _ in range(2):
        with qtbot.waitSignal(care.backed_up, timeout=20000):
            care.backup()
    assert [p.parent for p in dialog.offered] == [home, tmp_path / "usb"]
    assert dialog.offered[1].name == f"stria-backup-clinic-{TODAY}-2.zip"  # the first is there
    opened: list[str] = []

    def open_archive(_parent: object, _title: str, start: str, _filter: str) -> tuple[str, str]:
        opened.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_archive)
    care.restore()
    assert opened == [str(tmp_path / "usb")], "the archive is looked for beside the backups"


def test_restore_goes_into_a_new_folder_unless_the_one_chosen_is_empty(tmp_path: Path) -> None:
    archive = tmp_path / "stria-backup-2026-12-01.zip"
    empty, missing, full, library = (tmp_path / n for n in ("empty", "new", "docs", "lib"))
    empty.mkdir()
    full.mkdir()
    (full / "letter.txt").write_text("x")
    assert restore_target(empty, archive) == empty
    assert restore_target(missing, archive) == missing
    assert restore_target(full, archive) == full / "stria-backup-2026-12-01 restored"
    (full / "stria-backup-2026-12-01 restored").mkdir()
    assert restore_target(full, archive) == full / "stria-backup-2026-12-01 restored 2"
    Library.open(library, create=True).close()
    assert restore_target(library, archive) == tmp_path / "stria-backup-2026-12-01 restored"


@pytest.mark.parametrize("switch", [True, False])
def test_restore_makes_its_folder_and_asks_before_switching(
    qtbot: QtBot,
    shell: App,
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    switch: bool,
) -> None:
    assert shell.open(root)
    care = shell.window.care
    with qtbot.waitSignal(care.backed_up, timeout=20000):
        care.backup_to(tmp_path / "b.zip")
    asked: list[tuple[Path, Path]] = []

    def ask(_parent: object, restored: Path, current: Path) -> bool:
        asked.append((restored, current))
        return switch

    monkeypatch.setattr(care_module, "ask_switch", ask)
    dest = tmp_path / "not" / "there" / "restored"
    care.restore_to(tmp_path / "b.zip", dest)
    qtbot.waitUntil(lambda: bool(asked), timeout=30000)
    assert asked == [(dest, root)]
    assert shell.lib is not None
    if switch:
        assert shell.lib.root == dest
        assert listing.counts(shell.lib)["photos"] == 2
    else:
        assert shell.lib.root == root
        assert f"This window stays on {root}" in shell.shown[-1]  # type: ignore[attr-defined]
        with Library.open(dest) as restored:
            assert listing.counts(restored)["photos"] == 2
