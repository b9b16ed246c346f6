"""The compare window: every mode, synchronized zoom and pan, landmark alignment, neutral
patches, undo and export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tracker.core.compare.render import CompareOptions
from tracker.core.queries import browse
from tracker.core.queries.rows import ComparePhoto
from tracker.core.store.library import Library
from tracker.ui.compare.canvas import MODES
from tracker.ui.compare.pyramid import Pyramid
from tracker.ui.compare.window import CompareWindow
from tracker.ui.history import History
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

SHIFT = (30, -20)


def _scene(
    path: Path, taken: str, shift: tuple[int, int] = (0, 0), tint: tuple[int, int, int] = (0, 0, 0)
) -> Path:
    im = Image.new("RGB", (800, 600), (220 - tint[0], 180 - tint[1], 160 - tint[2]))
    draw = ImageDraw.Draw(im)
    draw.rectangle(
        (40, 480, 120, 560), fill=(128 - tint[0], 128 - tint[1], 128 - tint[2])
    )  # grey card
    draw.line([(200, 400), (600, 250)], fill=(170, 60, 90), width=14)
    im = im.rotate(0, translate=shift, fillcolor=(220, 180, 160))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    im.save(path, "JPEG", exif=exif, quality=95)
    return path


@pytest.fixture
def pair(library: Library, tmp_path: Path) -> list[int]:
    a = _scene(tmp_path / "a.jpg", "2025:01:10 10:00:00")
    b = _scene(tmp_path / "b.jpg", "2025:03:10 10:00:00", SHIFT, tint=(-10, 0, 20))
    return [i.photo_id for i in h.import_files(library, [a, b], area="Belly").imported]


@pytest.fixture
def compare_errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the compare windows would have shown as an error, instead of a dialog."""
    shown: list[str] = []
    monkeypatch.setattr(CompareWindow, "_show_error", lambda self, message: shown.append(message))
    return shown


@pytest.fixture
def window(
    qtbot: QtBot,
    library: Library,
    pair: list[int],
    runner: TaskRunner,
    compare_errors: list[str],
) -> CompareWindow:
    w = CompareWindow(library, pair, runner, History())
    qtbot.addWidget(w)
    w.resize(1200, 700)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    return w


def test_every_mode_paints_both_photos(qtbot: QtBot, window: CompareWindow) -> None:
    for mode in MODES:
        window.mode.setCurrentIndex(MODES.index(mode))
        if mode == "difference":
            qtbot.waitUntil(lambda: window.canvas.difference is not None, timeout=20000)
        image = window.canvas.grab().toImage()
        for rect in window.canvas.pane_rects():
            centre = image.pixelColor(rect.center().toPoint())
            assert centre.name() != "#303030", mode  # a photo, not just the background
    assert len(window.canvas.pane_rects()) == 1  # difference is one pane
    window.mode.setCurrentIndex(MODES.index("side"))
    assert len(window.canvas.pane_rects()) == 2


def test_blink_switches_with_a_key(qtbot: QtBot, window: CompareWindow) -> None:
    window.mode.setCurrentIndex(MODES.index("blink"))
    qtbot.keyClick(window.canvas, Qt.Key.Key_B)
    assert window.canvas.blink_index == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Space)
    assert window.canvas.blink_index == 0


def test_zoom_and_pan_move_every_pane_together_and_sync_off_keeps_offsets(
    qtbot: QtBot, window: CompareWindow
) -> None:
    canvas = window.canvas
    window.zoom_in.trigger()
    left, right = canvas.pane_rects()
    # With sync, the same world point sits at the same place in each pane.
    p = QPointF(400, 300)
    in_left = canvas._pane_view(0).map(p) - left.topLeft()
    in_right = canvas._pane_view(1).map(p) - right.topLeft()
    assert (in_left - in_right).manhattanLength() < 1e-6
    canvas._pan(0, QPointF(50, 0))
    assert (
        canvas._pane_view(0).map(p)
        - left.topLeft()
        - (canvas._pane_view(1).map(p) - right.topLeft())
    ).manhattanLength() < 1e-6
    window.sync.setChecked(False)
    canvas._pan(1, QPointF(0, 40))  # only the right pane moves
    moved = (
        canvas._pane_view(1).map(p)
        - right.topLeft()
        - (canvas._pane_view(0).map(p) - left.topLeft())
    )
    assert moved.y() == pytest.approx(40)
    window.sync.setChecked(True)
    canvas._pan(0, QPointF(10, 0))  # together again, the deliberate offset is kept
    kept = (
        canvas._pane_view(1).map(p)
        - right.topLeft()
        - (canvas._pane_view(0).map(p) - left.topLeft())
    )
    assert kept.y() == pytest.approx(40)
    window.fit.trigger()
    assert canvas.panes[1].offset.isNull()


def test_wheel_zooms_at_the_cursor(qtbot: QtBot, window: CompareWindow) -> None:
    canvas = window.canvas
    anchor = QPointF(200, 250)
    inverse, _ = canvas._pane_view(0).inverted()
    before = inverse.map(anchor)
    canvas.set_zoom(canvas.zoom * 2, anchor)
    inverse, _ = canvas._pane_view(0).inverted()
    after = inverse.map(anchor)
    assert (before - after).manhattanLength() < 1e-6
    canvas.set_zoom(1000)
    assert canvas.zoom == 16.0


def test_landmarks_align_the_second_photo_and_undo_takes_it_back(
    qtbot: QtBot,
    window: CompareWindow,
    library: Library,
    pair: list[int],
    compare_errors: list[str],
) -> None:
    window.align.setChecked(True)
    # The stripe's two ends on each photo (the second is shifted by SHIFT).
    for index, offset in ((0, (0, 0)), (1, SHIFT)):
        for x, y in ((200, 400), (600, 250)):
            window.canvas.point_clicked.emit(index, QPointF(x + offset[0], y + offset[1]))
    window.apply_align.trigger()
    assert not compare_errors
    stored = browse.compare_photos(library, pair)
    assert stored[0].is_reference
    a = stored[1].alignment
    assert a is not None and a.method == "landmarks"
    assert a.matrix[2] == pytest.approx(-SHIFT[0], abs=0.5)
    assert a.matrix[5] == pytest.approx(-SHIFT[1], abs=0.5)
    assert "Aligned on 2 points; they agree within 1 pixel." in window.status.text()
    window.undo.trigger()
    assert browse.compare_photos(library, pair)[1].alignment is None
    assert browse.reference_photo(library, stored[0].area_id, "front") is None


def test_mismatched_landmarks_are_refused_with_a_sentence(
    window: CompareWindow, library: Library, pair: list[int], compare_errors: list[str]
) -> None:
    window.align.setChecked(True)
    window.canvas.point_clicked.emit(0, QPointF(10, 10))
    window.canvas.point_clicked.emit(0, QPointF(300, 300))
    window.canvas.point_clicked.emit(1, QPointF(20, 20))
    window.apply_align.trigger()
    assert "one has 1, the other 2" in compare_errors[-1]
    assert browse.compare_photos(library, pair)[1].alignment is None


def test_neutral_patch_balances_the_second_photo_to_the_first(
    window: CompareWindow, library: Library, pair: list[int]
) -> None:
    window.neutral.setChecked(True)
    window.canvas.point_clicked.emit(0, QPointF(80, 520))
    window.canvas.point_clicked.emit(1, QPointF(80 + SHIFT[0], 520 + SHIFT[1]))
    gains = browse.compare_photos(library, pair)[1].colour_gains
    assert gains is not None
    # The second card was (138, 128, 108); balanced it reads as the first card's grey.
    assert [round(v * g) for v, g in zip((138, 128, 108), gains, strict=True)] == pytest.approx(
        [128, 128, 128], abs=3
    )
    window.reset_colour.trigger()
    assert browse.compare_photos(library, pair)[1].colour_gains is None


def test_export_writes_the_current_mode(
    qtbot: QtBot, window: CompareWindow, tmp_path: Path
) -> None:
    window.mode.setCurrentIndex(MODES.index("wipe"))
    out = tmp_path / "wipe.png"
    with qtbot.waitSignal(window.exported, timeout=20000):
        window.export_to(out)
    with Image.open(out) as im:
        assert im.width == 800 and im.height > 600  # one pane, with its labels


def test_full_size_export_asks_for_the_originals(
    qtbot: QtBot, window: CompareWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.ui.compare import window as compare_module

    asked: list[int] = []
    real = compare_module.export

    def export(
        lib: Library, ids: Sequence[int], out: Path, options: CompareOptions
    ) -> dict[str, object]:
        asked.append(options.max_side)
        return real(lib, ids, out, options)

    monkeypatch.setattr(compare_module, "export", export)
    for full in (False, True):
        with qtbot.waitSignal(window.exported, timeout=20000):
            window.export_to(tmp_path / f"c{full}.jpg", full_size=full)
    assert asked == [1600, 800]  # screen size; full size is the photos' own 800 px


def test_main_window_opens_compare_with_baseline(
    qtbot: QtBot, tmp_path: Path, library: Library, pair: list[int], runner: TaskRunner
) -> None:
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    main = MainWindow(prefs, runner)
    qtbot.addWidget(main)
    main.set_library(library)
    main.show()
    main.menus.compare_baseline.trigger()
    opened = main.compare.windows[-1]
    assert opened.photo_ids == pair  # baseline first, this visit's photo second
    with qtbot.waitSignal(opened.loaded, timeout=20000):
        pass
    opened.close()


def test_zooming_past_the_preview_loads_the_originals_in_a_worker(
    qtbot: QtBot, library: Library, runner: TaskRunner, tmp_path: Path
) -> None:
    big = []
    for i in range(2):
        path = tmp_path / f"big{i}.jpg"
        Image.effect_noise((3000, 2000), 40 + i).convert("RGB").save(path, quality=80)
        big.append(path)
    ids = [r.photo_id for r in h.import_files(library, big, area="Thigh", date=None).imported]
    w = CompareWindow(library, ids, runner, History())
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    assert w.canvas.images[0] is not None and w.canvas.images[0].width() == 2048  # the preview
    with qtbot.waitSignal(w.originals_loaded, timeout=30000):
        w.actual.trigger()  # 100%: one photo pixel per screen pixel, past the preview
    assert [im.width() if im is not None else None for im in w.canvas.images] == [3000, 3000]


def test_picker_offers_every_area_and_wants_two_to_four(
    qtbot: QtBot, library: Library, pair: list[int]
) -> None:
    from tracker.ui.compare.picker import Choice, PhotoPicker

    client = browse.clients(library)[0].id
    wider = [
        Choice(f"{day} {area}", row.id, row.sha256)
        for day, area, row in browse.client_photos(library, client)
    ]
    picker = PhotoPicker(None, wider[:1], [], wider)
    qtbot.addWidget(picker)
    assert picker.list.count() == 1
    picker.every_area.setChecked(True)
    assert picker.list.count() == 2
    picker._on_buttons_accepted()
    assert picker.problem.text() == "Tick 2 to 4 photos; 0 are ticked."
    for i in range(2):
        picker.list.item(i).setCheckState(Qt.CheckState.Checked)
    assert picker.chosen() == pair


def test_caption_goes_into_the_export(qtbot: QtBot, window: CompareWindow) -> None:
    window.caption.setText("Six months of treatment")
    assert window.export_options().caption == "Six months of treatment"


def test_previews_are_decoded_again_only_when_a_colour_balance_changes(
    qtbot: QtBot,
    window: CompareWindow,
    library: Library,
    pair: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tracker.ui.compare.window as compare_module
    from tracker.ui import commands as cmd

    calls: list[int] = []
    real = compare_module.load_previews

    def load_previews(
        lib: Library, photos: Sequence[ComparePhoto]
    ) -> tuple[list[Image.Image], list[Pyramid]]:
        calls.append(1)
        return real(lib, photos)

    monkeypatch.setattr(compare_module, "load_previews", load_previews)
    visit = browse.timeline(library, browse.clients(library)[0].id)[0].id
    window.history.push(cmd.EditVisit(library, visit, {"notes": "unrelated edit"}))
    assert calls == []
    window.neutral.setChecked(True)
    with qtbot.waitSignal(window.loaded, timeout=20000):
        window.canvas.point_clicked.emit(0, QPointF(80, 520))
    assert calls == [1]


def test_the_picker_starts_with_the_first_and_latest_photo_of_one_view(
    library: Library, tmp_path: Path
) -> None:
    from tracker.ui.compare.picker import photo_choices

    files = [_scene(tmp_path / f"v{i}.jpg", f"2025:0{i + 1}:10 10:00:00") for i in range(3)]
    ids = []
    for i, path in enumerate(files):
        ids += [
            r.photo_id for r in h.import_files(library, [path], area="Belly", view="front").imported
        ]
        close = _scene(tmp_path / f"c{i}.jpg", f"2025:0{i + 1}:10 11:00:00", shift=(i + 1, 0))
        h.import_files(library, [close], area="Belly", view="close-up")
    area = browse.photo(library, ids[0]).area_id
    choices, every, default = photo_choices(library, area, browse.clients(library)[0].id)
    assert len(choices) == len(every) == 6
    assert default == [ids[0], ids[-1]]  # both front views, not front against close-up


def test_fit_shows_a_portrait_beside_a_landscape_whole(
    qtbot: QtBot, library: Library, tmp_path: Path, runner: TaskRunner
) -> None:
    wide = _scene(tmp_path / "wide.jpg", "2025:01:10 10:00:00")
    tall = tmp_path / "tall.jpg"
    with Image.open(_scene(tmp_path / "t.jpg", "2025:03:10 10:00:00")) as im:
        exif = im.getexif()
        exif[0x0112] = 6  # shown turned upright: 600 x 800
        im.save(tall, "JPEG", exif=exif, quality=95)
    ids = [i.photo_id for i in h.import_files(library, [wide, tall], area="Belly").imported]
    w = CompareWindow(library, ids, runner, History())
    qtbot.addWidget(w)
    w.resize(1200, 700)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    canvas = w.canvas
    assert (canvas.photos[1].width, canvas.photos[1].height) == (600, 800)
    for i, pane in enumerate(canvas.pane_rects()):
        photo = canvas.photos[i]
        shown = canvas.photo_to_screen(i).mapRect(QRectF(0, 0, photo.width, photo.height))
        assert pane.adjusted(-1, -1, 1, 1).contains(shown), (i, pane, shown)


def test_a_closed_compare_window_is_forgotten(
    qtbot: QtBot, library: Library, pair: list[int], tmp_path: Path, runner: TaskRunner
) -> None:
    """Closed windows delete themselves; opening another, or closing the library, must not
    touch the deleted one."""
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    main = MainWindow(prefs, runner)
    qtbot.addWidget(main)
    main.set_library(library)
    first = main.compare.open(pair)
    assert first is not None
    first.close()
    qtbot.waitUntil(lambda: main.compare.windows == [], timeout=5000)  # once it is deleted
    second = main.compare.open(list(reversed(pair)))
    assert main.compare.windows == [second]
    main.set_library(None)  # closes the open one
    assert main.compare.windows == []


def test_undo_and_redo_are_icons_so_the_caption_keeps_its_room(window: CompareWindow) -> None:
    """Their text names the edit ("Undo add area Belly left") and would push the caption out."""
    from PySide6.QtWidgets import QToolBar, QToolButton

    bar = next(t for t in window.findChildren(QToolBar) if t.widgetForAction(window.undo))
    for action in (window.undo, window.redo):
        button = bar.widgetForAction(action)
        assert isinstance(button, QToolButton)
        assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
        assert not action.icon().isNull()
    assert window.caption.isVisible()


def test_the_export_is_offered_a_name_saying_whose_and_when(
    window: CompareWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    offered: list[str] = []

    def save_as(_parent: object, _title: str, start: str, _filter: str) -> tuple[str, str]:
        offered.append(start)
        return "", ""  # the person cancels

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    window.export_action.trigger()
    client = window.photos[0].client
    assert [Path(p).name for p in offered] == [
        f"comparison-{client}-Belly-{dt.date.today().isoformat()}.jpg"
    ]
