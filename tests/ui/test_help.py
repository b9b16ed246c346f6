"""The help (F1): topics from Markdown files in their numbered order, a keys topic made from the
actual commands, the glossary that is also the tooltips, the ways in (Help menu, F1, the
welcome page, the import summary) and About's licences read from the installed metadata."""

from __future__ import annotations

import dataclasses
from importlib import metadata
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialogButtonBox, QGroupBox, QLabel
from pytestqt.qtbot import QtBot

from tests.ui.conftest import open_window
from tracker import __version__
from tracker.core.db.models import RaterRole, Stage
from tracker.core.domain.instruments import Rater
from tracker.core.domain.scales import SCALES
from tracker.core.services.import_report import Imported, ImportReport
from tracker.ui import about, help_text
from tracker.ui.dialogs import AreaDialog
from tracker.ui.help_window import HelpWindow, keys_markdown
from tracker.ui.main.help import key_sections
from tracker.ui.main.import_dialogs import ImportSummaryDialog
from tracker.ui.main.window import MainWindow
from tracker.ui.panels.ratings_editor import AddRatingDialog
from tracker.ui.settings import FRAME_ROOM, Preferences
from tracker.ui.workers import TaskRunner

HELP_FOLDER = Path(help_text.__file__).parent / "help"


def test_topics_come_one_a_file_in_the_order_of_their_numbers() -> None:
    files = sorted(HELP_FOLDER.glob("*.md"), key=lambda p: int(p.name.split("-")[0]))
    keys = [t.key for t in help_text.topics()]
    assert keys == [p.stem.split("-", 1)[1] for p in files]
    assert {"getting-started", "keys", "glossary", "measures", "photos", "alignment"} <= set(keys)
    assert "library-and-backups" in keys
    titles = {t.key: t.title for t in help_text.topics()}
    assert titles["photos"] == "How to take photos that compare well"
    assert all(t.markdown.strip() and not t.markdown.startswith("# ") for t in help_text.topics())


def test_the_glossary_explains_the_words_the_app_uses() -> None:
    words = help_text.glossary()
    for heading in ("POSAS", "GAIS", "CTD", "Rubra", "Alba", "Reference photo", "Alignment"):
        assert len(words[heading]) > 60, heading
    assert "Calibration card" in words
    assert "**" not in words["POSAS"] and "Patient and Observer Scar Assessment" in words["POSAS"]
    with pytest.raises(KeyError, match="there are getting-started"):
        help_text.topic("no-such-topic")


def test_the_tooltips_say_what_the_glossary_says(qtbot: QtBot) -> None:
    dialog = AreaDialog(None, "New area", "Add area")
    qtbot.addWidget(dialog)
    tips = {
        dialog.stage.itemData(i): dialog.stage.itemData(i, Qt.ItemDataRole.ToolTipRole)
        for i in range(dialog.stage.count())
    }
    assert tips[Stage.RUBRA] == help_text.term("Rubra")
    assert tips[Stage.ALBA] == help_text.term("Alba")
    scales = {
        dialog.scale.itemData(i): dialog.scale.itemData(i, Qt.ItemDataRole.ToolTipRole)
        for i in range(dialog.scale.count())
    }
    assert help_text.term("POSAS") in scales["posas2-patient"]
    assert help_text.term("POSAS") in scales["posas2-observer"]
    assert help_text.term("GAIS") in scales["gais"]
    assert all(SCALES[k].description in tip for k, tip in scales.items())
    adding = AddRatingDialog(None, Rater(RaterRole.PATIENT, ""), "Me")
    qtbot.addWidget(adding)
    offered = [
        adding.scale.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(adding.scale.count())
    ]
    assert offered == list(scales.values())  # the same words in both choosers


def test_the_rating_boxes_and_progress_headings_carry_the_glossary(window: MainWindow) -> None:
    boxes = [b for b in window.panel.ratings.findChildren(QGroupBox) if b.title() in _names()]
    assert boxes and all(
        help_text.term("CTD") in b.toolTip() for b in boxes if "Colour" in b.title()
    )
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.progress_view))
    heads = [
        label
        for label in window.progress_view.findChildren(QLabel)
        if label.toolTip() and label.toolTip().endswith(help_text.term("CTD"))
    ]
    assert heads, "the progress heading of the colour/texture/depth scale explains it"


def _names() -> set[str]:
    return {s.name for s in SCALES.values()}


def test_the_keys_topic_is_made_from_the_actions_themselves(window: MainWindow) -> None:
    window.menus.compare.setShortcut(QKeySequence("Ctrl+Alt+J"))  # whatever it is, it is listed
    text = keys_markdown(key_sections(window, window.lib, window.runner))
    assert "| **Ctrl+Alt+J** | Compare ▸ Compare photos |" in text
    assert "Ctrl+K | Compare ▸" not in text
    assert "| **F1** | Help ▸ Help topics |" in text
    compare = text.split("## Compare window")[1]
    assert "| **Ctrl+E** | Export |" in compare
    assert "| **L** | Mark landmarks |" in compare
    assert "Marks found" in compare  # the measures' tools, which a compare window adds
    assert "Mark landmarks" in keys_markdown(key_sections(window, None, window.runner))
    help_window = window.help.show("keys")
    shown = help_window.page.toPlainText()
    assert "Ctrl+Alt+J" in shown and "Mark landmarks" in shown and "generated" not in shown


def test_f1_and_the_help_menu_open_the_help(qtbot: QtBot, window: MainWindow) -> None:
    assert window.menus.help.shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    window.menus.help.trigger()
    shown = window.help.help_window
    assert isinstance(shown, HelpWindow) and shown.isVisible()
    assert _current(shown) == "getting-started"
    window.menus.photo_help.trigger()
    assert window.help.help_window is shown and _current(shown) == "photos"
    assert "grey card" in shown.page.toPlainText()


def test_the_help_opens_inside_a_small_screen(window: MainWindow) -> None:
    shown = window.help.show()
    area = shown.screen().availableGeometry()
    assert area.width() < 920  # the offscreen screen (800 wide) is narrower than its 920
    frame = shown.frameGeometry()
    if frame == shown.geometry():  # no window manager: leave the room a frame takes
        frame = frame.adjusted(0, 0, FRAME_ROOM.width(), FRAME_ROOM.height())
    assert area.contains(frame), (frame, area)


def test_the_library_topic_names_the_library_open_now(window: MainWindow) -> None:
    assert window.lib is not None
    page = window.help.show("library-and-backups").page.toPlainText()
    assert f"The library open now is {window.lib.root}." in page


def test_the_search_keeps_the_topics_that_hold_every_word(qtbot: QtBot, window: MainWindow) -> None:
    shown = window.help.show("keys")
    shown.search.setText("warp marks")
    visible = [
        shown.list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(shown.list.count())
        if not shown.list.item(i).isHidden()
    ]
    assert visible == ["alignment"] and _current(shown) == "alignment"
    shown.search.setText("zzzz nothing")
    assert not shown.none_found.isHidden()
    shown.show_topic("glossary")  # a topic asked for is shown, the search cleared
    assert shown.search.text() == "" and _current(shown) == "glossary"


def test_the_welcome_page_leads_to_the_help(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner
) -> None:
    main = open_window(qtbot, prefs, runner, None)
    assert "topic:photos" in main.welcome.help_links.text()
    main.welcome.help_links.linkActivated.emit("topic:photos")
    assert main.help.help_window is not None and _current(main.help.help_window) == "photos"


def _report(tmp_path: Path) -> ImportReport:
    one = Imported(str(tmp_path / "a.jpg"), 1, 1, "ab" * 32, "2026-11-20T09:00:00", "exif", 8, 6)
    return ImportReport(imported=[one, dataclasses.replace(one, photo_id=2)])


def test_the_import_summary_offers_the_photo_topic(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    dialog = ImportSummaryDialog(window, _report(tmp_path))
    qtbot.addWidget(dialog)
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    (tips,) = [
        b for b in buttons.buttons() if "photos that compare well" in b.text().replace("&", "")
    ]
    tips.click()
    assert not dialog.isVisible()
    assert window.help.help_window is not None
    assert _current(window.help.help_window) == "photos"
    alone = ImportSummaryDialog(None, _report(tmp_path))  # no main window: no help to open
    qtbot.addWidget(alone)
    alone_buttons = alone.findChild(QDialogButtonBox)
    assert alone_buttons is not None and len(alone_buttons.buttons()) == 1


def test_about_reads_the_licences_from_the_installed_metadata() -> None:
    licences = {lic.name.lower().replace("_", "-"): lic for lic in about.bundled_licences()}
    if not licences:
        pytest.skip("this copy runs from a checkout that was never installed")
    needed = {
        r.split(";")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower()
        for r in metadata.requires(about.DISTRIBUTION) or ()
        if "extra ==" not in r
    }
    assert needed and needed <= set(licences), "every library the app needs is listed"
    assert "LGPL" in licences["pyside6-essentials"].licence
    assert licences["sqlalchemy"].licence == "MIT"
    if "numpy" in licences:  # an editable install's metadata may predate it
        assert "BSD" in licences["numpy"].licence
    if "opencv-contrib-python-headless" in licences:
        assert "Apache" in licences["opencv-contrib-python-headless"].licence
    heif = dict(licences["pillow-heif"].bundled)
    assert "LGPL" in heif["libheif"]
    assert not any("Windows" in name for name in heif)
    assert "pytest" not in licences, "the test tools are not brought with the app"


def _current(shown: HelpWindow | None) -> str | None:
    """The key of the topic the help window shows."""
    item = shown.list.currentItem() if shown is not None else None
    return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None


def test_about_shows_the_version_and_the_library(tmp_path: Path) -> None:
    text = about.about_html(tmp_path / "My library")
    assert __version__ in text and str(tmp_path / "My library") in text
    assert "none is open" in about.about_html(None)
