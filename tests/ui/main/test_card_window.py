"""Help ▸ Print a calibration card… in the window, and the menus' shortcuts."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QLocale
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget
from pytestqt.qtbot import QtBot

from tracker.ui.main.card import CardController, CardFile, default_paper, refusal
from tracker.ui.main.window import MainWindow


def _answer(monkeypatch: pytest.MonkeyPatch, out: Path, paper: str = "a4") -> list[Path]:
    """The save dialog answers ``out``; returns where it was asked to start."""
    asked: list[Path] = []

    def ask(_parent: QWidget | None, start: Path, _paper: str) -> CardFile:
        asked.append(start)
        return CardFile(out, paper)

    monkeypatch.setattr(CardController, "ask_file", ask)
    return asked


def test_print_card_writes_a_pdf_and_says_how_to_print_it(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _answer(monkeypatch, tmp_path / "my card", "letter")
    with qtbot.waitSignal(window.card.card_written, timeout=20000) as written:
        window.menus.print_card.trigger()
    assert asked and asked[0].name == "calibration card.pdf"
    out = tmp_path / "my card.pdf"  # the suffix added when the name had none
    assert written.args == [str(out)]
    assert out.read_bytes().startswith(b"%PDF")
    page = PdfReader(out).pages[0].mediabox  # Letter, as chosen: 8.5 × 11 in
    assert (round(float(page.width)), round(float(page.height))) == (612, 792)
    message = window.statusBar().currentMessage()
    assert str(out) in message and "actual size" in message and "fit to page" in message
    assert errors == []


def test_print_card_refuses_the_library_folder_and_writes_nothing(
    window: MainWindow, errors: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.lib is not None
    out = window.lib.root / "card.pdf"
    _answer(monkeypatch, out)
    window.menus.print_card.trigger()
    assert len(errors) == 1 and "inside the library folder" in errors[0], errors
    assert not out.exists()


def test_print_card_refuses_a_folder_it_cannot_write_in(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: a read-only mount instead
            locked = Path("/proc/sys")
        if os.access(locked, os.W_OK):
            pytest.skip("no folder here that this user cannot write in")
        assert refusal(locked / "card.pdf", None).startswith(
            f"You cannot save files in the folder {locked}"
        )
    finally:
        (tmp_path / "locked").chmod(0o700)
    missing = tmp_path / "gone" / "card.pdf"
    assert "does not exist" in refusal(missing, None)
    assert refusal(tmp_path / "card.pdf", tmp_path / "lib") == ""


def test_the_paper_follows_the_locale() -> None:
    us = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    germany = QLocale(QLocale.Language.German, QLocale.Country.Germany)
    assert (default_paper(us), default_paper(germany)) == ("letter", "a4")


def test_every_shortcut_and_each_menus_access_keys_are_unique(window: MainWindow) -> None:
    shortcuts = Counter(
        a.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
        for a in window.findChildren(QAction)
        if not a.shortcut().isEmpty() and a.shortcutContext() != a.shortcutContext().WidgetShortcut
    )
    assert shortcuts["Ctrl+I"] == 1 and [s for s, n in shortcuts.items() if n > 1] == []
    for menu in window.menuBar().findChildren(QMenu):
        keys = Counter(
            a.text().split("&")[1][:1].casefold()
            for a in menu.actions()
            if "&" in a.text() and a.isVisible()
        )
        assert [k for k, n in keys.items() if n > 1] == [], menu.title()
    help_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Help")
    assert window.menus.print_card in help_menu.actions()
