"""The photo viewer: loading off the GUI thread, zoom and pan, failure, closing."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolButton

from tracker.core.errors import TrackerError
from tracker.ui.viewer import LOADING_TEXT, MAX_ZOOM, MIN_ZOOM, ZOOM_STEP, PhotoViewer
from tracker.ui.workers import TaskRunner

# The offscreen platform warns whenever a top-level window's layout sets its minimum size; that is
# the test platform talking, not the viewer.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

WIDTH, HEIGHT = 1800, 1200


def jpeg_bytes(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    image = Image.new("RGB", (width, height), (224, 180, 160))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 60):
        draw.line([(0, y), (width, y + 40)], fill=(180, 90, 110), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
def open_viewer(qtbot, runner: TaskRunner) -> Callable[..., PhotoViewer]:
    def open_(load: Callable[[], bytes], *, wait: bool = True) -> PhotoViewer:
        viewer = PhotoViewer(load, "Abdomen — 2024-05-01", runner)
        qtbot.addWidget(viewer)
        if wait:
            # Results are queued to the GUI thread, so none can arrive before the loop runs here.
            with qtbot.waitSignal(viewer.image_loaded, timeout=10000):
                viewer.show()
        else:
            viewer.show()
        qtbot.waitExposed(viewer)
        return viewer

    return open_


@pytest.fixture
def viewer(open_viewer) -> PhotoViewer:
    data = jpeg_bytes()
    return open_viewer(lambda: data)


def button(viewer: PhotoViewer, name: str) -> QToolButton:
    found = [b for b in viewer.findChildren(QToolButton) if b.accessibleName() == name]
    assert len(found) == 1, name
    return found[0]


def fits(viewer: PhotoViewer) -> bool:
    """The whole photo is visible and nearly touches the window on one side."""
    zoom = viewer.zoom_factor()
    port = viewer.view.viewport().size()
    w, h = WIDTH * zoom, HEIGHT * zoom
    return (
        w <= port.width() and h <= port.height() and max(w - port.width(), h - port.height()) > -4
    )


def scroll_room(viewer: PhotoViewer) -> tuple[int, int]:
    return viewer.view.horizontalScrollBar().maximum(), viewer.view.verticalScrollBar().maximum()


def test_photo_is_read_off_the_gui_thread(open_viewer) -> None:
    data = jpeg_bytes()
    threads: list[int] = []

    def load() -> bytes:
        threads.append(threading.get_ident())
        return data

    viewer = open_viewer(load)
    assert threads and threads[0] != threading.main_thread().ident
    assert viewer.pixmap_item.pixmap().width() == WIDTH
    assert viewer.stack.currentWidget() is viewer.view


def test_shows_loading_message_until_the_photo_arrives(qtbot, open_viewer) -> None:
    release = threading.Event()
    data = jpeg_bytes()

    def load() -> bytes:
        assert release.wait(10)
        return data

    viewer = open_viewer(load, wait=False)
    assert viewer.stack.currentWidget() is viewer.message_label
    assert viewer.message_label.text() == LOADING_TEXT
    assert not viewer.zoom_in_action.isEnabled()
    with qtbot.waitSignal(viewer.image_loaded, timeout=10000):
        release.set()
    assert viewer.stack.currentWidget() is viewer.view
    assert viewer.zoom_in_action.isEnabled()


def test_opens_fitted_and_no_larger_than_the_screen(viewer: PhotoViewer) -> None:
    assert viewer.is_fitted()
    assert fits(viewer)
    assert viewer.zoom_factor() < 1
    assert scroll_room(viewer) == (0, 0)
    assert viewer.zoom_label.text() == f"{round(viewer.zoom_factor() * 100)}%"
    available = QGuiApplication.primaryScreen().availableGeometry()
    assert viewer.width() <= available.width()
    assert viewer.height() <= available.height()


def test_toolbar_buttons_change_the_zoom(qtbot, viewer: PhotoViewer) -> None:
    fitted = viewer.zoom_factor()

    qtbot.mouseClick(button(viewer, "Zoom in"), Qt.MouseButton.LeftButton)
    assert viewer.zoom_factor() == pytest.approx(fitted * ZOOM_STEP)
    assert not viewer.is_fitted()
    assert viewer.zoom_label.text() == f"{round(fitted * ZOOM_STEP * 100)}%"

    qtbot.mouseClick(button(viewer, "Zoom out"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(button(viewer, "Zoom out"), Qt.MouseButton.LeftButton)
    assert viewer.zoom_factor() == pytest.approx(fitted / ZOOM_STEP)

    qtbot.mouseClick(button(viewer, "100%"), Qt.MouseButton.LeftButton)
    assert viewer.zoom_factor() == pytest.approx(1.0)
    assert viewer.zoom_label.text() == "100%"
    assert scroll_room(viewer) > (0, 0)  # the photo is bigger than the window now

    qtbot.mouseClick(button(viewer, "Fit"), Qt.MouseButton.LeftButton)
    assert viewer.zoom_factor() == pytest.approx(fitted)
    assert viewer.is_fitted()


def test_keys_change_the_zoom(qtbot, viewer: PhotoViewer) -> None:
    fitted = viewer.zoom_factor()
    view = viewer.view

    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert viewer.zoom_factor() == pytest.approx(fitted * ZOOM_STEP)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert viewer.zoom_factor() == pytest.approx(fitted)
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert viewer.zoom_factor() == pytest.approx(1.0)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert viewer.zoom_factor() == pytest.approx(fitted)


def test_zoom_is_limited(viewer: PhotoViewer) -> None:
    viewer.set_zoom(100)
    assert viewer.zoom_factor() == pytest.approx(MAX_ZOOM)
    viewer.zoom_in()
    assert viewer.zoom_factor() == pytest.approx(MAX_ZOOM)
    assert viewer.zoom_label.text() == "800%"

    viewer.set_zoom(0.0001)
    assert viewer.zoom_factor() == pytest.approx(MIN_ZOOM)
    for _ in range(5):
        viewer.zoom_out()
    assert viewer.zoom_factor() == pytest.approx(MIN_ZOOM)
    assert viewer.zoom_label.text() == "5%"


def test_fit_keeps_up_with_the_window_until_the_user_zooms(qtbot, viewer: PhotoViewer) -> None:
    before = viewer.zoom_factor()
    viewer.resize(viewer.width() // 2, viewer.height() // 2)
    qtbot.waitUntil(lambda: viewer.zoom_factor() < before * 0.75)
    assert fits(viewer)

    viewer.set_zoom(0.5)
    narrow = viewer.view.viewport().width()
    viewer.resize(viewer.width() + 100, viewer.height() + 100)
    qtbot.waitUntil(lambda: viewer.view.viewport().width() > narrow)
    assert viewer.zoom_factor() == pytest.approx(0.5)


def wheel(viewer: PhotoViewer, pos: QPoint, notches: int) -> None:
    port = viewer.view.viewport()
    event = QWheelEvent(
        QPointF(pos),
        QPointF(port.mapToGlobal(pos)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(port, event)


def test_wheel_zooms_around_the_cursor(viewer: PhotoViewer) -> None:
    viewer.set_zoom(1.0)
    view = viewer.view
    pos = QPoint(view.viewport().width() // 4, view.viewport().height() // 3)
    under_cursor = view.mapToScene(pos)

    wheel(viewer, pos, 1)
    assert viewer.zoom_factor() == pytest.approx(ZOOM_STEP)
    assert (view.mapToScene(pos) - under_cursor).manhattanLength() < 2

    wheel(viewer, pos, -2)
    assert viewer.zoom_factor() == pytest.approx(1 / ZOOM_STEP)
    assert (view.mapToScene(pos) - under_cursor).manhattanLength() < 3


def test_double_click_toggles_fit_and_actual_size(qtbot, viewer: PhotoViewer) -> None:
    fitted = viewer.zoom_factor()
    port = viewer.view.viewport()
    qtbot.mouseDClick(port, Qt.MouseButton.LeftButton, pos=port.rect().center())
    assert viewer.zoom_factor() == pytest.approx(1.0)
    qtbot.mouseDClick(port, Qt.MouseButton.LeftButton, pos=port.rect().center())
    assert viewer.zoom_factor() == pytest.approx(fitted)
    assert viewer.is_fitted()


def test_arrow_keys_pan(qtbot, viewer: PhotoViewer) -> None:
    viewer.set_zoom(1.0)
    bar = viewer.view.horizontalScrollBar()
    start = bar.value()
    qtbot.keyClick(viewer.view, Qt.Key.Key_Right)
    assert bar.value() > start
    assert viewer.zoom_factor() == pytest.approx(1.0)


def test_failing_loader_shows_its_sentence(qtbot, open_viewer) -> None:
    sentence = "The photo file is missing from the library folder."

    def load() -> bytes:
        raise TrackerError(sentence)

    viewer = open_viewer(load, wait=False)
    qtbot.waitUntil(lambda: viewer.message_label.text() == sentence, timeout=10000)
    assert viewer.stack.currentWidget() is viewer.message_label
    assert not viewer.zoom_in_action.isEnabled()
    assert viewer.isVisible()


def test_unreadable_bytes_show_a_sentence(qtbot, open_viewer) -> None:
    viewer = open_viewer(lambda: b"not a jpeg at all", wait=False)
    qtbot.waitUntil(lambda: "could not be read" in viewer.message_label.text(), timeout=10000)
    assert viewer.pixmap_item.pixmap().isNull()


def test_escape_closes(qtbot, viewer: PhotoViewer) -> None:
    with qtbot.waitSignal(viewer.rejected):
        qtbot.keyClick(viewer.view, Qt.Key.Key_Escape)
    assert not viewer.isVisible()
