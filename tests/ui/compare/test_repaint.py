"""What keeps the compare window's frames short: photos painted from the halving nearest above
the screen size (``pyramid``), and the photos' rows read again after a step off the GUI thread
unless the window itself took the step (``loading.RowReader``)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QThreadPool
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.compare.skin_series import series, write_series
from tracker.core.compare.render import placement
from tracker.core.imaging import geometry as al
from tracker.core.queries import browse
from tracker.core.queries.rows import ComparePhoto
from tracker.core.store.library import Library
from tracker.ui.commands import SetAlignment
from tracker.ui.compare import pyramid
from tracker.ui.compare.window import CompareWindow
from tracker.ui.history import History
from tracker.ui.workers import TaskRunner


def _smooth(width: int, height: int) -> QImage:
    """A photo-like image: soft gradients and blobs, no detail finer than a few pixels."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 128 + 90 * np.sin(x / 97) * np.cos(y / 131)
    g = 128 + 80 * np.cos((x + y) / 173)
    b = 128 + 70 * np.sin(np.hypot(x - width / 3, y - height / 2) / 59)
    rgb = np.dstack([r, g, b]).clip(0, 255).astype(np.uint8)
    return QImage(rgb.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def _paint(image: QImage, transform: QTransform, size: tuple[int, int]) -> np.ndarray:
    out = QImage(*size, QImage.Format.Format_RGB32)
    out.fill(QColor(48, 48, 48))
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.setTransform(transform)
    painter.drawImage(QPointF(0, 0), image)
    painter.end()
    return np.frombuffer(out.constBits(), np.uint8).reshape(size[1], size[0], 4)[..., :3].copy()


def test_a_photo_is_kept_halved_down_to_a_thumbnail_in_the_format_painted_fastest() -> None:
    built = pyramid.build(_smooth(2048, 1536))
    assert [(im.width(), im.height()) for im in built.levels] == [
        (2048, 1536),
        (1024, 768),
        (512, 384),  # its short side is under twice SMALLEST_SIDE: no halving below
    ]
    assert {im.format() for im in built.levels} == {QImage.Format.Format_RGB32}
    assert (built.width(), built.height()) == (2048, 1536)
    originals = pyramid.build(_smooth(600, 400), halve=False)
    assert len(originals.levels) == 1


@pytest.mark.parametrize(
    ("scale", "chosen"),
    [(2.0, 2048), (0.51, 2048), (0.5, 1024), (0.3, 1024), (0.2, 512), (0.05, 512)],
)
def test_a_pane_paints_from_the_smallest_level_with_a_pixel_for_each_screen_pixel(
    scale: float, chosen: int
) -> None:
    built = pyramid.build(_smooth(2048, 1536))
    turned = QTransform().rotate(7) * QTransform.fromScale(scale, scale)
    assert built.level_for(QTransform.fromScale(scale, scale)).width() == chosen
    assert built.level_for(turned).width() == chosen


def test_a_homography_is_measured_by_the_area_it_covers() -> None:
    # Mild perspective: the far side 20 % smaller than the near one, about 0.3 on average.
    h3 = QTransform(0.3, 0, 0.0001, 0, 0.3, 0, 0, 0, 1)
    corners = [QPointF(0, 0), QPointF(2048, 0), QPointF(2048, 1536), QPointF(0, 1536)]
    widths = [h3.map(c).x() for c in corners]
    assert max(widths) < 0.3 * 2048  # projective: the far edge shrinks
    scale = pyramid.screen_scale(h3, 2048, 1536)
    assert 0.2 < scale < 0.3
    assert pyramid.build(_smooth(2048, 1536)).level_for(h3).width() == 1024


def test_painting_from_a_level_shows_what_painting_the_whole_photo_showed() -> None:
    """The level is mapped onto the same photo pixels: the picture is the same (a level
    mapped by the wrong factor or offset would differ by tens of levels)."""
    image = _smooth(2048, 1536)
    built = pyramid.build(image)
    view = (
        QTransform().rotate(4) * QTransform.fromScale(0.3, 0.3) * QTransform.fromTranslate(60, 20)
    )
    level = built.level_for(view)
    assert level.width() == 1024
    to_level = QTransform.fromScale(image.width() / level.width(), image.height() / level.height())
    before = _paint(image, view, (720, 560)).astype(np.int16)
    after = _paint(level, to_level * view, (720, 560)).astype(np.int16)
    inside = (before != 48).any(axis=2) & (after != 48).any(axis=2)
    diff = np.abs(before - after)[inside]
    assert inside.mean() > 0.5
    assert diff.mean() < 1.0 and np.percentile(diff, 99.9) <= 6, (diff.mean(), diff.max())


def test_the_originals_sit_over_the_previews_smaller_halvings() -> None:
    preview = pyramid.build(_smooth(1024, 768))
    original = pyramid.build(_smooth(4000, 3000), halve=False)
    both = original.over(preview)
    assert [im.width() for im in both.levels] == [4000, 1024, 512]
    assert original.over(None) is original
    assert both.level_for(QTransform.fromScale(0.1, 0.1)).width() == 512
    assert both.level_for(QTransform.fromScale(0.3, 0.3)).width() == 4000


# -- the rows after a step -------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each read of the compare rows: whether it ran on the GUI thread."""
    seen: list[bool] = []
    real = browse.compare_photos

    def compare_photos(lib: Library, ids: list[int]) -> list[ComparePhoto]:
        seen.append(threading.current_thread() is threading.main_thread())
        return real(lib, ids)

    monkeypatch.setattr(browse, "compare_photos", compare_photos)
    return seen


def _open(qtbot: QtBot, library: Library, ids: list[int], runner: TaskRunner) -> CompareWindow:
    w = CompareWindow(library, ids, runner, History())
    qtbot.addWidget(w)
    w.resize(1000, 640)
    with qtbot.waitSignal(w.loaded, timeout=20000):
        w.show()
    return w


@pytest.fixture
def skin(library: Library, tmp_path: Path) -> list[int]:
    paths = write_series(tmp_path / "skin", series(5, 3), dt.date(2025, 1, 10))
    return [i.photo_id for i in h.import_files(library, paths, area="Belly").imported]


def _align(window: CompareWindow, dx: float) -> SetAlignment:
    """The second photo shifted by ``dx`` onto the first, its view's reference."""
    first, second = window.photos[:2]
    matrix = (1.0, 0.0, dx, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    alignment = al.Alignment(matrix, "landmarks", "similarity", 2, 0.5)
    return SetAlignment(window.lib, {second.id: alignment}, [(first.area_id, first.view, first.id)])


def test_a_step_from_elsewhere_is_read_in_a_worker_and_then_shown(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, reads: list[bool]
) -> None:
    window = _open(qtbot, library, skin[:2], runner)
    before = list(window.canvas.to_first)
    reads.clear()
    # As the main window takes it: through the shared history, not the compare window.
    window.history.push(_align(window, 12.0))
    assert True not in reads  # not read on the GUI thread
    qtbot.waitUntil(lambda: window.photos[1].alignment is not None, timeout=10000)
    assert reads == [False]
    aligned = window.photos[1].alignment
    assert aligned is not None and aligned.matrix[2] == pytest.approx(12.0)
    assert window.canvas.to_first == placement(window.photos, True) != before


def test_only_the_latest_read_is_shown(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, reads: list[bool]
) -> None:
    window = _open(qtbot, library, skin[:2], runner)
    reads.clear()
    told: list[list[int]] = []
    window.rows.read.connect(lambda ids, _rows: told.append(ids))
    window.rows.start()
    window.rows.start()
    assert isinstance(runner.pool, QThreadPool)
    qtbot.waitUntil(lambda: len(reads) == 2 and runner.pool.activeThreadCount() == 0, timeout=10000)
    qtbot.wait(50)  # the answers come through the event loop
    assert told == [skin[:2]]


def test_a_step_of_the_window_itself_is_read_at_once(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, reads: list[bool]
) -> None:
    window = _open(qtbot, library, skin[:2], runner)
    reads.clear()
    window.history.push(_align(window, 5.0))  # from elsewhere first
    assert window._run(_align(window, 9.0))
    assert True in reads  # read here, at once: what the window does next reads it
    photo = window.photos[1]
    assert photo.alignment is not None and photo.alignment.matrix[2] == pytest.approx(9.0)
    qtbot.wait(200)  # the read from elsewhere, started first, is out of date: never shown
    photo = window.photos[1]
    assert photo.alignment is not None and photo.alignment.matrix[2] == pytest.approx(9.0)


def test_the_background_alignment_hands_over_the_rows_it_read(
    qtbot: QtBot, library: Library, skin: list[int], runner: TaskRunner, reads: list[bool]
) -> None:
    window = _open(qtbot, library, skin[:2], runner)
    before = list(window.canvas.to_first)
    reads.clear()
    with qtbot.waitSignal(window.auto.applied, timeout=60000):
        window.align_view.trigger()
    assert reads == [False]  # once, in the worker that stored the alignments
    aligned = window.photos[1].alignment
    assert aligned is not None and aligned.method == "auto"
    assert window.canvas.to_first == placement(window.photos, True) != before


def test_mild_perspective_is_painted_as_the_affine_it_cannot_be_told_from() -> None:
    image = _smooth(1024, 768)
    # A photo aligned with a little perspective, fitted in a pane: its corners move by a
    # hundredth of a screen pixel between the two.
    mild = QTransform(0.6, 0.02, 2e-7, -0.02, 0.6, 1e-7, 30, 40, 1) * QTransform.fromScale(0.5, 0.5)
    flat = pyramid.flattened(mild, image.width(), image.height())
    assert flat.type() != QTransform.TransformationType.TxProject
    for x, y in ((0, 0), (1024, 0), (1024, 768), (512, 384), (0, 768)):
        d = flat.map(QPointF(x, y)) - mild.map(QPointF(x, y))
        assert d.manhattanLength() < 2 * pyramid.FLAT_PX
    projective = _paint(image, mild, (420, 360)).astype(np.int16)
    affine = _paint(image, flat, (420, 360)).astype(np.int16)
    assert np.abs(projective - affine).mean() < 0.5
    # Zoomed in eight times the perspective shows: it is painted as it is.
    near = mild * QTransform.fromScale(8, 8)
    assert pyramid.flattened(near, image.width(), image.height()) is near
    strong = QTransform(0.3, 0, 2e-4, 0, 0.3, 0, 0, 0, 1)
    assert pyramid.flattened(strong, 1024, 768) is strong
    turned = QTransform().rotate(3)
    assert pyramid.flattened(turned, 1024, 768) is turned
