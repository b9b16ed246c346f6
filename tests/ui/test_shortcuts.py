"""Every key of every window does one thing: no two actions, menus, tabs or labelled fields
share a key sequence where both can be reached at once, and the suite fails on any warning Qt
gives about shortcuts (``tests/conftest.py``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QGroupBox,
    QLabel,
    QMenu,
    QMenuBar,
    QStackedWidget,
    QTabBar,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.conftest import ShortcutWatch
from tests.ui.conftest import activate
from tracker.core.db.models import Stage, VisitKind
from tracker.core.queries import browse
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui import dialogs, preferences_dialog
from tracker.ui.compare.window import CompareWindow
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Mode

SHIFT_Z = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@dataclass(frozen=True)
class Key:
    sequence: str
    what: str  # for the failure message: "action Undo", "label &Pain:"
    owner: QWidget | None  # where it is reachable from (None: the whole window)


def _pages(widget: QWidget | None) -> list[tuple[QStackedWidget, QWidget]]:
    """The stacked widgets ``widget`` lies in, each with the page that holds it: a tab's page
    and the welcome page are never shown together with their siblings."""
    out: list[tuple[QStackedWidget, QWidget]] = []
    child = widget
    parent = widget.parentWidget() if widget is not None else None
    while parent is not None and child is not None:
        if isinstance(parent, QStackedWidget) and parent.indexOf(child) >= 0:
            out.append((parent, child))
        child, parent = parent, parent.parentWidget()
    return out


def _apart(a: QWidget | None, b: QWidget | None) -> bool:
    """Whether ``a`` and ``b`` are on different pages of one stacked widget."""
    pages_b = dict(_pages(b))
    return any(stack in pages_b and pages_b[stack] is not page for stack, page in _pages(a))


def _mnemonic(text: str) -> str:
    return QKeySequence.mnemonic(text).toString()


def _action_owner(action: QAction) -> QWidget | None:
    for obj in action.associatedObjects():
        if isinstance(obj, QWidget) and not isinstance(obj, QMenu | QMenuBar | QToolButton):
            return None if obj.isWindow() else obj
    return None


def keys_of(window: QWidget) -> list[Key]:
    """Every key sequence the window answers: its actions' shortcuts, its menu bar's and tabs'
    mnemonics, the mnemonics of labels with a buddy, of buttons and of group boxes."""
    keys: list[Key] = []
    for action in window.findChildren(QAction):
        if action.menu() is not None:
            continue  # a menu's title: its mnemonic is the menu bar's (below)
        for sequence in action.shortcuts():
            keys.append(
                Key(sequence.toString(), f"action {action.text()!r}", _action_owner(action))
            )
    for widget in window.findChildren(QWidget):
        if widget.isWindow():
            continue  # a dialog or popup: a window of its own
        text = ""
        if isinstance(widget, QMenuBar):
            for action in widget.actions():
                if _mnemonic(action.text()):
                    keys.append(Key(_mnemonic(action.text()), f"menu {action.text()!r}", None))
        elif isinstance(widget, QTabBar):
            for i in range(widget.count()):
                if _mnemonic(widget.tabText(i)):
                    tab = widget.tabText(i)
                    keys.append(Key(_mnemonic(tab), f"tab {tab!r}", widget))
        elif isinstance(widget, QLabel) and widget.buddy() is not None:
            text = widget.text()
        elif isinstance(widget, QAbstractButton) and not isinstance(widget, QToolButton):
            text = widget.text()
            if not widget.shortcut().isEmpty() and widget.shortcut() != QKeySequence.mnemonic(text):
                keys.append(Key(widget.shortcut().toString(), f"button {text!r}", widget))
        elif isinstance(widget, QGroupBox):
            text = widget.title()
        if text and _mnemonic(text):
            keys.append(Key(_mnemonic(text), f"{type(widget).__name__} {text!r}", widget))
    return keys


def clashes(window: QWidget) -> list[str]:
    """Pairs of keys that are the same sequence and can be reached at the same time."""
    by_sequence: dict[str, list[Key]] = defaultdict(list)
    for key in keys_of(window):
        by_sequence[key.sequence].append(key)
    found = []
    for sequence, keys in sorted(by_sequence.items()):
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                if a.owner is b.owner and a.what == b.what:
                    continue  # one action shown in two places
                if not _apart(a.owner, b.owner):
                    found.append(f"{sequence}: {a.what} and {b.what}")
    return found


def menu_clashes(window: QWidget) -> list[str]:
    """Two entries of one menu with the same underlined letter."""
    found = []
    for menu in window.findChildren(QMenu):
        seen: dict[str, str] = {}
        for action in menu.actions():
            letter = _mnemonic(action.text())
            if letter and letter in seen:
                found.append(f"{menu.title()!r}: {seen[letter]!r} and {action.text()!r}")
            seen.setdefault(letter, action.text())
    return found


def test_the_walk_finds_a_clash(qtbot: QtBot) -> None:
    """The walk itself: two actions on one key, a label whose letter a tab takes, are found;
    the same letters on two pages of a stack are not."""
    window = QWidget()
    qtbot.addWidget(window)
    for text in ("One", "Two"):
        action = QAction(text, window)
        action.setShortcut(QKeySequence("Ctrl+J"))
        window.addAction(action)
    stack = QStackedWidget(window)
    first, second = QLabel("&Pain:", stack), QLabel("&Passes:", stack)
    for label in (first, second):
        label.setBuddy(window)
        stack.addWidget(label)
    assert clashes(window) == ["Ctrl+J: action 'One' and action 'Two'"]
    tabs = QTabBar(window)
    tabs.addTab("&Progress")
    assert sorted(clashes(window)) == [
        "Alt+P: QLabel '&Pain:' and tab '&Progress'",
        "Alt+P: QLabel '&Passes:' and tab '&Progress'",
        "Ctrl+J: action 'One' and action 'Two'",
    ]


def test_the_main_window_has_one_thing_per_key(window: MainWindow) -> None:
    window.prefs.mode = Mode.PRACTITIONER  # the client menu and the search field too
    window._apply_mode()
    found = clashes(window)
    assert found == [], "\n".join(found)
    assert menu_clashes(window) == []
    keys = {k.sequence for k in keys_of(window)}
    assert {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+K", "Ctrl+B", "Alt+P"} <= keys  # the walk saw them


def test_the_compare_window_has_one_thing_per_key(qtbot: QtBot, window: MainWindow) -> None:
    compare = _open_compare(qtbot, window)
    assert clashes(compare) == []
    assert menu_clashes(compare) == []
    assert {"Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+E", "L"} <= {k.sequence for k in keys_of(compare)}


def test_the_dialogs_have_one_thing_per_key(qtbot: QtBot) -> None:
    day = dt.date(2026, 1, 10)
    made: list[QWidget] = [
        dialogs.NewVisitDialog(None, day, VisitKind.TREATMENT, set()),
        dialogs.AreaDialog(
            None, "New area", "Add area", "", dialogs.AreaAnswer("Belly", "abdomen", Stage.ALBA)
        ),
        dialogs.ClientDialog(None, "New client", "Add client", None),
        preferences_dialog.PreferencesDialog(None, Mode.PRACTITIONER, "Dr Lee"),
        dialogs.MoveDialog(None, 2, [(1, "10 Jan")], [(1, "Belly")], ["front"], (1, 1, "front")),
    ]
    for dialog in made:
        qtbot.addWidget(dialog)
        assert clashes(dialog) == [], dialog.windowTitle()


def _open_compare(qtbot: QtBot, window: MainWindow) -> CompareWindow:
    assert window.lib is not None
    ids = [p.id for p in window.photos.rows()[:1]]
    partner = browse.baseline_partner(window.lib, ids[0])
    assert partner is not None
    compare = window.compare.open([partner, ids[0]])
    assert compare is not None
    with qtbot.waitSignal(compare.loaded, timeout=20000):
        pass
    return compare


def _rename_area(window: MainWindow, name: str) -> None:
    assert window.lib is not None and window.area_id is not None
    assert window.run(cmd.EditArea(window.lib, window.area_id, {"name": name}))


def _area_name(sample: Library, window: MainWindow) -> str:
    assert window.client_id is not None
    return next(a.name for a in browse.areas(sample, window.client_id) if a.id == window.area_id)


@pytest.mark.parametrize("focus", ["timeline", "sidebar", "grid"])
def test_ctrl_shift_z_redoes_in_the_main_window(
    qtbot: QtBot, window: MainWindow, sample: Library, focus: str
) -> None:
    before = _area_name(sample, window)
    _rename_area(window, "Renamed")
    window.history.undo()
    assert _area_name(sample, window) == before
    activate(qtbot, window)
    target = {
        "timeline": window.timeline_view,
        "sidebar": window.sidebar.area_list,
        "grid": window.panel.grid,
    }[focus]
    target.setFocus()
    qtbot.keyClick(target, Qt.Key.Key_Z, SHIFT_Z)
    assert _area_name(sample, window) == "Renamed"
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _area_name(sample, window) == before


def test_ctrl_shift_z_redoes_in_the_compare_window(
    qtbot: QtBot, window: MainWindow, sample: Library
) -> None:
    compare = _open_compare(qtbot, window)
    _rename_area(window, "Renamed")
    window.history.undo()
    activate(qtbot, compare)
    compare.canvas.setFocus()
    qtbot.keyClick(compare.canvas, Qt.Key.Key_Z, SHIFT_Z)
    assert _area_name(sample, window) == "Renamed"


@pytest.mark.qt_log_ignore("Ambiguous shortcut overload")
def test_a_shortcut_warning_is_caught(qtbot: QtBot, _no_shortcut_warnings: ShortcutWatch) -> None:
    """The session's message handler sees Qt's warning about two actions on one key (and the
    test takes it back, having seen it: any other would fail)."""
    widget = QWidget()
    qtbot.addWidget(widget)
    fired: list[str] = []
    for text in ("One", "Two"):
        action = QAction(text, widget)
        action.setShortcut(QKeySequence("Ctrl+J"))
        action.triggered.connect(lambda *_a, text=text: fired.append(text))
        widget.addAction(action)
    with qtbot.waitActive(widget):
        widget.show()
        widget.activateWindow()
    before = len(_no_shortcut_warnings.seen)
    qtbot.keyClick(widget, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    said = _no_shortcut_warnings.seen[before:]
    assert fired == []  # an ambiguous key does nothing: why the suite must not allow one
    assert said == ["QAction::event: Ambiguous shortcut overload: Ctrl+J"]
    del _no_shortcut_warnings.seen[before:]
