"""A second copy of the app on a library another copy holds: read-only with the reason in
one bar, every edit off, the other copy's changes shown, and writable once it is let go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.core.care.test_trust import _photos
from tracker.app import App
from tracker.core.queries import browse
from tracker.core.services import clients
from tracker.core.store.library import Library
from tracker.ui.main.read_only import EDITS
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
def shell(qtbot: QtBot, tmp_path: Path, runner: TaskRunner) -> Iterator[App]:
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, runner)
    qtbot.addWidget(window)
    app = App(window, prefs, runner)
    app._ask = lambda question, action: action == "Open read-only"
    window.show()
    yield app
    app.close()


@pytest.fixture
def other(root: Path) -> Iterator[Library]:
    """The other copy of the app, holding the library for changes."""
    lib = Library.open(root)
    yield lib
    lib.close()


def _edits_off(window: MainWindow) -> list[str]:
    """The edits still offered (none, when read-only)."""
    on = [name for name in EDITS if getattr(window.menus, name).isEnabled()]
    panel = window.panel
    on += [
        name
        for name, widget in (
            ("date", panel.date),
            ("kind", panel.kind),
            ("treatment", panel.treatment),
            ("ratings", panel.ratings),
            ("interval", window.progress_view.interval),
        )
        if widget.isEnabled()
    ]
    on += ["notes"] if not panel.notes.isReadOnly() else []
    grid = panel.grid
    on += [
        a.text()
        for a in (grid.rename_action, grid.remove_action, grid.move_action)
        if a.isEnabled()
    ]
    on += ["drop hint"] if "Drop photos" in panel.photo_hint.text() else []
    return on


def test_every_edit_is_off_and_one_bar_says_why(
    qtbot: QtBot, shell: App, root: Path, other: Library
) -> None:
    assert shell.open(root)
    window = shell.window
    assert shell.lib is not None and shell.lib.read_only is not None
    bar = window.read_only.bar
    assert bar.isVisible()
    assert "nothing here can be changed" in bar.text.text()
    assert "open in another copy of the app" in bar.text.text()  # who holds it
    assert not bar.writable.isVisible()
    assert _edits_off(window) == []
    assert window.windowTitle().endswith("(read-only)")
    # Moving about the library keeps them off (the window offers commands by what it shows).
    window.timeline_view.setCurrentIndex(window.timeline.index(0))
    assert _edits_off(window) == []


def test_the_other_copys_changes_show_when_saved_and_on_refresh(
    qtbot: QtBot, shell: App, root: Path, other: Library
) -> None:
    assert shell.open(root)
    window = shell.window
    area = window.areas.rows()[0]
    clients.update_area(other, area.id, name="Left hip")
    window.read_only.check()  # what the timer does every two seconds
    assert [a.name for a in window.areas.rows()] == ["Left hip"]
    assert "changes the other copy saved" in window.statusBar().currentMessage()
    clients.update_area(other, area.id, name="Right hip")
    window.read_only.bar.refresh.click()
    assert [a.name for a in window.areas.rows()] == ["Right hip"]
    assert window.read_only._timer.isActive()  # it keeps looking


def test_once_the_other_copy_closes_it_offers_to_open_for_changes(
    qtbot: QtBot, shell: App, root: Path, other: Library
) -> None:
    assert shell.open(root)
    window = shell.window
    bar = window.read_only.bar
    other.close()
    window.read_only.check()
    assert bar.writable.isVisible()
    assert "process" not in bar.text.text(), "the copy that is gone is not named any more"
    assert "no other copy holds" in bar.text.text()
    with qtbot.waitSignal(window.library_requested):
        bar.writable.click()
    assert shell.lib is not None and shell.lib.read_only is None
    assert not bar.isVisible()
    assert not window.windowTitle().endswith("(read-only)")
    assert window.menus.new_visit.isEnabled() and window.panel.treatment.isEnabled()
    assert not window.panel.notes.isReadOnly() and window.panel.grid.rename_action.isEnabled()
    assert "Drop photos here" in window.panel.photo_hint.text()


def test_a_writable_library_shows_no_bar(shell: App, root: Path) -> None:
    assert shell.open(root)
    assert shell.lib is not None and shell.lib.read_only is None
    assert not shell.window.read_only.bar.isVisible()
    assert not shell.window.read_only._timer.isActive()
    assert browse.areas(shell.lib, shell.window.client_id or 0)


def test_a_compare_window_on_it_offers_no_alignment_or_colour(
    qtbot: QtBot, shell: App, root: Path, other: Library
) -> None:
    assert shell.open(root)
    window = shell.window
    assert shell.lib is not None
    compare = window.compare.open([p["id"] for p in h.list_photos(shell.lib)[:2]])
    assert compare is not None
    assert compare.windowTitle().endswith("(read-only)")
    for edit in (compare.align, compare.auto_align, compare.align_view, compare.neutral):
        assert not edit.isEnabled(), edit.text()
    tools = compare.measure_tools  # the marks found may be shown; no region drawn or nudged
    compare.measure_tools.show_marks.setChecked(True)
    for edit in (tools.draw_marks, tools.draw_skin, tools.clear_marks, tools.clear_skin):
        assert not edit.isEnabled(), edit.text()
    assert not tools.fewer.isEnabled() and not tools.more.isEnabled()
    assert tools.show_marks.isEnabled()
