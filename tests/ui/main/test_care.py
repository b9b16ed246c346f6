"""Library ▸ Check, Back up and Restore in the window, and opening damaged or busy libraries."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.core.care.test_trust import _damage_database, _photos
from tracker.app import App
from tracker.core.domain.consent import Action
from tracker.core.queries import listing
from tracker.core.services import audit
from tracker.core.store.library import Library
from tracker.ui import dialogs
from tracker.ui.main.care import CheckDialog
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner


@pytest.fixture
def root(tmp_path: Path) -> Path:
    lib_root = tmp_path / "lib"
    with Library.open(lib_root, create=True) as lib:
        h.import_files(lib, _photos(tmp_path / "in", 2), area="Hips")
    return lib_root


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The errors and notes the window would have shown in a dialog."""
    shown: list[str] = []
    # Before the window exists: its helpers keep the methods they are given.
    monkeypatch.setattr(MainWindow, "show_error", lambda self, m: shown.append(m))
    monkeypatch.setattr(MainWindow, "show_info", lambda self, m: shown.append(m))
    return shown


@pytest.fixture
def shell(qtbot: QtBot, tmp_path: Path, runner: TaskRunner, messages: list[str]) -> Iterator[App]:
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    app = App(window, prefs, runner)
    yield app
    app.close()


def test_check_finds_a_missing_original_and_offers_relink(
    qtbot: QtBot, shell: App, root: Path
) -> None:
    assert shell.open(root)
    assert shell.lib is not None
    photo = h.list_photos(shell.lib)[0]
    path = root / shell.lib.store.original_relpath(photo["sha256"], "jpg")
    os.chmod(path, 0o600)
    path.unlink()
    with qtbot.waitSignal(shell.window.care.checked, timeout=20000) as signal:
        shell.window.menus.check.trigger()
    report = signal.args[0]
    assert [p.kind for p in report.problems] == ["missing_original"]
    dialog = shell.window.care.dialog
    assert isinstance(dialog, CheckDialog)
    assert not dialog.relink.isHidden() and dialog.quarantine.isHidden()
    assert "missing" in dialog.list.item(0).text()
    dialog.close()


def test_a_changed_original_is_offered_relink_and_put_back(
    qtbot: QtBot, shell: App, messages: list[str], root: Path, tmp_path: Path
) -> None:
    assert shell.open(root)
    assert shell.lib is not None
    photo = h.list_photos(shell.lib)[0]
    path = root / shell.lib.store.original_relpath(photo["sha256"], "jpg")
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "copy.jpg").write_bytes(path.read_bytes())
    # A compare window open on it, before the file changes under it.
    others = [p["id"] for p in h.list_photos(shell.lib) if p["id"] != photo["id"]]
    compare = shell.window.compare.open([photo["id"], others[0]])
    assert compare is not None
    qtbot.waitUntil(lambda: bool(compare.canvas.photos), timeout=20000)
    os.chmod(path, 0o600)
    path.write_bytes(b"changed")
    care = shell.window.care
    with qtbot.waitSignal(care.checked, timeout=20000) as signal:
        shell.window.menus.check.trigger()
    assert [p.kind for p in signal.args[0].problems] == ["changed_original"]
    dialog = care.dialog
    assert not dialog.relink.isHidden()
    assert "Relink also puts back a changed original" in dialog.advice.text()
    dialog.close()
    # The windows forget the pictures they hold: they may show the changed file.
    with (
        qtbot.waitSignal(shell.window.thumbs.cleared, timeout=20000),
        qtbot.waitSignal(compare.loaded, timeout=20000),
    ):
        care.repair("relink", keep, [photo["sha256"]])
    assert "Put back 1 changed" in messages[-1]
    assert path.read_bytes() == (keep / "copy.jpg").read_bytes()


def test_backup_then_restore_opens_the_restored_library(
    qtbot: QtBot,
    shell: App,
    messages: list[str],
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert shell.open(root)
    care = shell.window.care
    with qtbot.waitSignal(care.backed_up, timeout=20000):
        care.backup_to(tmp_path / "b.zip")
    assert "Backed up 3 files" in messages[-1]
    assert shell.lib is not None
    assert [e.action for e in audit.entries(shell.lib)] == [Action.OPENED, Action.BACKED_UP]
    monkeypatch.setattr("tracker.ui.main.care.ask_switch", lambda *a: True)
    with qtbot.waitSignal(shell.window.library_requested, timeout=30000):
        care.restore_to(tmp_path / "b.zip", tmp_path / "restored")
    assert shell.lib is not None and shell.lib.root == tmp_path / "restored"
    assert listing.counts(shell.lib)["photos"] == 2
    restored = [e.action for e in audit.entries(shell.lib)]
    assert restored == [Action.OPENED, Action.RESTORED, Action.OPENED]  # issue 20


def test_a_damaged_library_offers_its_snapshot(shell: App, root: Path) -> None:
    with Library.open(root):
        pass  # makes the day's snapshot
    _damage_database(root)
    asked: list[str] = []

    def ask(question: str, action: str) -> bool:
        asked.append(question)
        return True

    shell._ask = ask
    assert shell.open(root)
    assert "is damaged" in asked[0] and "Restore library-" in asked[0]
    assert shell.lib is not None and listing.counts(shell.lib)["photos"] == 2


def test_a_library_open_elsewhere_can_be_opened_read_only(shell: App, root: Path) -> None:
    with Library.open(root):
        shell._ask = lambda question, action: action == "Open read-only"
        assert shell.open(root)
        assert shell.lib is not None and shell.lib.read_only is not None
        assert shell.window.windowTitle().endswith("(read-only)")
        assert shell.window.read_only.bar.text.text().startswith(
            "Read-only: nothing here can be changed."
        )
        shell.close()
    shell._ask = lambda question, action: False
    assert shell.open(root)  # free again: no question asked
    assert shell.lib is not None and shell.lib.read_only is None
    assert not shell.window.windowTitle().endswith("(read-only)")


def test_unexpected_refusals_are_shown(shell: App, messages: list[str], tmp_path: Path) -> None:
    (tmp_path / "stranger").mkdir()
    (tmp_path / "stranger" / "notes.txt").write_text("x")
    assert not shell.open(tmp_path / "stranger", create=True)
    assert "already holds other files" in messages[-1]


def test_the_backup_is_offered_a_dated_name_that_overwrites_nothing(
    qtbot: QtBot,
    shell: App,
    messages: list[str],
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert shell.open(root)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    offered: list[str] = []

    def save_as(_parent: object, _title: str, start: str, _filter: str) -> tuple[str, str]:
        offered.append(start)
        return start, ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    care = shell.window.care
    for _ in range(2):  # the second backup of the day gets a name of its own
        with qtbot.waitSignal(care.backed_up, timeout=20000):
            care.backup()
    today = dt.date.today().isoformat()
    assert [Path(p).name for p in offered] == [
        f"stria-backup-lib-{today}.zip",  # the library's folder: lib
        f"stria-backup-lib-{today}-2.zip",
    ]
    assert sorted(p.name for p in home.iterdir()) == sorted(Path(p).name for p in offered)


@pytest.mark.parametrize("answer", [True, False])
def test_a_damaged_librarys_backup_asks_before_leaving_the_damage_out(
    qtbot: QtBot,
    shell: App,
    messages: list[str],
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: bool,
) -> None:
    assert shell.open(root)
    assert shell.lib is not None
    photo = h.list_photos(shell.lib)[0]
    path = root / shell.lib.store.original_relpath(photo["sha256"], "jpg")
    os.chmod(path, 0o600)
    path.unlink()
    asked: list[str] = []

    def confirm(_parent: object, _title: str, question: str, _action: str) -> bool:
        asked.append(question)
        return answer

    monkeypatch.setattr(dialogs, "confirm", confirm)
    care = shell.window.care
    if answer:
        with qtbot.waitSignal(care.backed_up, timeout=20000):
            care.backup_to(tmp_path / "b.zip")
        assert "Left out 1 damaged original(s)" in messages[-1]
    else:
        care.backup_to(tmp_path / "b.zip")
        qtbot.waitUntil(lambda: bool(asked), timeout=20000)
    assert f"photo {photo['id']}'s original" in asked[0] and "is missing" in asked[0]
    assert "Library ▸ Check the library says how" in asked[0]
    assert (tmp_path / "b.zip").exists() == answer


def test_an_emptied_database_offers_its_snapshot(shell: App, root: Path) -> None:
    with Library.open(root):
        pass  # makes the day's snapshot
    (root / "library.sqlite3").write_bytes(b"")
    asked: list[str] = []

    def ask(question: str, action: str) -> bool:
        asked.append(question)
        return True

    shell._ask = ask
    assert shell.open(root, create=True)  # as at start-up: never a new, empty database
    assert "database file is empty (0 bytes)" in asked[0] and "Restore library-" in asked[0]
    assert shell.lib is not None and listing.counts(shell.lib)["photos"] == 2


def test_the_check_offers_quarantine_for_a_planted_link(
    qtbot: QtBot, shell: App, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret").write_text("not for the library")
    (root / "originals" / "ab").mkdir(exist_ok=True)
    (root / "originals" / "ab" / "planted.jpg").symlink_to(tmp_path / "secret")
    assert shell.open(root)
    with qtbot.waitSignal(shell.window.care.checked, timeout=20000) as signal:
        shell.window.menus.check.trigger()
    assert [p.kind for p in signal.args[0].problems] == ["link"]
    dialog = shell.window.care.dialog
    assert not dialog.quarantine.isHidden()
    assert "links are never followed" in dialog.advice.text()
    dialog.close()
