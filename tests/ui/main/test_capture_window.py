"""The capture checks and the automatic alignment in the main window: the badges on a
thumbnail, the import summary's warnings, and the import's option to align its new photos."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image, ImageFilter
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.core.imaging import synthetic
from tests.ui.conftest import open_window
from tracker.core.db.models import DateSource
from tracker.core.imaging.geometry import IDENTITY, Alignment
from tracker.core.queries import listing
from tracker.core.queries.rows import PhotoRow
from tracker.core.services.align import Aligned, AlignOutcome, NotAligned
from tracker.core.services.import_report import Imported, ImportReport
from tracker.core.store.library import Library
from tracker.ui.main.import_align import outcome_sentence
from tracker.ui.main.import_dialogs import ImportRequest, ImportSummaryDialog
from tracker.ui.main.import_flow import ImportController
from tracker.ui.main.import_preview import ImportPreviewDialog, Prepared
from tracker.ui.main.plan_model import Choices, PlanModel
from tracker.ui.main.window import MainWindow
from tracker.ui.models import PhotoGridModel, ThumbnailCache
from tracker.ui.panels.photo_grid import AMBER, PhotoGrid
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

BLURRED = (
    "This photo is less sharp than the first one of this view: hold the phone still, tap to "
    "focus, and take it again."
)


def _row(ident: int, warnings: tuple[str, ...] = (), px_per_mm: float | None = None) -> PhotoRow:
    return PhotoRow(
        id=ident,
        sha256=f"{ident:064x}",
        view="front",
        area_id=1,
        taken_at="2026-11-20T09:00:00",
        date_source=DateSource.EXIF,
        width=1600,
        height=1200,
        original_name=f"IMG_{ident}.jpg",
        format="JPEG",
        warnings=warnings,
        px_per_mm=px_per_mm,
    )


def _amber_pixels(image: QImage) -> int:
    """Pixels of the warning badge's colour (the badge's fill, nowhere else in a grid)."""
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = QColor(image.pixel(x, y))
            if abs(c.red() - AMBER.red()) + abs(c.green() - AMBER.green()) < 40 and c.blue() < 60:
                count += 1
    return count


def test_a_photo_with_warnings_has_a_badge_a_tooltip_and_a_description(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    model = PhotoGridModel(ThumbnailCache(runner))
    model.set_rows([_row(1), _row(2, (BLURRED,), 8.26)])
    grid = PhotoGrid(model)
    qtbot.addWidget(grid)
    grid.resize(400, 200)
    grid.show()
    qtbot.waitExposed(grid)
    plain, warned = model.index(0), model.index(1)
    tip = warned.data(Qt.ItemDataRole.ToolTipRole)
    assert BLURRED in tip and "8.3 pixels per mm" in tip
    assert "Capture check" not in plain.data(Qt.ItemDataRole.ToolTipRole)
    assert warned.data(Qt.ItemDataRole.AccessibleTextRole).endswith(", 1 capture warning")
    assert BLURRED in warned.data(Qt.ItemDataRole.AccessibleDescriptionRole)
    assert plain.data(Qt.ItemDataRole.AccessibleDescriptionRole) == ""
    shot = grid.viewport().grab().toImage()
    badge, none = (shot.copy(grid.visualRect(i)) for i in (warned, plain))
    assert _amber_pixels(badge) > 40, "no warning badge on the photo with a warning"
    assert _amber_pixels(none) == 0, "a warning badge on a photo without one"


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def _report(tmp_path: Path) -> ImportReport:
    quality = {
        "reference_id": 1,
        "checks": [
            {"check": "sharpness", "value": 0.2, "unit": "", "warned": True, "message": BLURRED},
            {"check": "highlights", "value": 0.0, "unit": "%", "warned": False, "message": ""},
        ],
    }
    imported = Imported(
        str(tmp_path / "blurred.jpg"), 2, 1, "ab" * 32, "2026-11-20T09:00:00", "exif", 800, 600
    )
    sharp = dataclasses.replace(imported, file=str(tmp_path / "sharp.jpg"), photo_id=1)
    return ImportReport(
        imported=[sharp, dataclasses.replace(imported, quality=quality, px_per_mm=None)]
    )


def test_the_summary_lists_capture_warnings_calmly_with_a_tip(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ImportSummaryDialog(None, _report(tmp_path))
    qtbot.addWidget(dialog)
    assert not dialog.checks.isHidden() and dialog.checks.rowCount() == 1
    assert [_cell(dialog.checks, 0, c) for c in (0, 1)] == ["blurred.jpg", BLURRED]
    assert "in the library all the same" in dialog.checks_label.text()
    assert "2 photos added" in dialog.summary.text()
    assert not dialog.tips.isHidden() and "calibration card" in dialog.tips.text()
    assert dialog.table.isHidden()  # nothing refused


def _jpeg(image: Image.Image, path: Path, taken: str) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    path.write_bytes(buffer.getvalue())
    return path


def _window_on(qtbot: QtBot, tmp_path: Path, runner: TaskRunner, lib: Library) -> MainWindow:
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    return open_window(qtbot, prefs, runner, lib)


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[ImportReport]:
    """The preview accepted as it comes (the align option as the request offers it), the
    summary's reports kept."""
    reports: list[ImportReport] = []

    def preview(_parent: QWidget | None, request: ImportRequest, prepared: Prepared) -> Choices:
        model = PlanModel(
            prepared.plan,
            request.area_id,
            prepared.areas,
            prepared.visits,
            prepared.has_baseline,
            request.date,
        )
        return dataclasses.replace(model.choices(), align=request.align)

    monkeypatch.setattr(ImportController, "ask_preview", preview)
    monkeypatch.setattr(ImportController, "show_summary", lambda _p, r, _a: reports.append(r))
    return reports


def test_a_blurred_photo_is_warned_about_in_the_summary(
    qtbot: QtBot,
    tmp_path: Path,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    answered: list[ImportReport],
) -> None:
    reference = synthetic.pair(3).reference
    sharp = _jpeg(reference, tmp_path / "sharp.jpg", "2026:10:01 09:00:00")
    blurred = _jpeg(
        reference.filter(ImageFilter.GaussianBlur(3)),
        tmp_path / "blurred.jpg",
        "2026:10:29 09:00:00",
    )
    h.import_files(library, [sharp], area="Belly")
    window = _window_on(qtbot, tmp_path, runner, library)
    window.prefs.align_after_import = False
    with qtbot.waitSignal(window.importer.finished, timeout=30000):
        window.imports.import_paths([blurred])
    (report,) = answered
    dialog = ImportSummaryDialog(None, report)
    qtbot.addWidget(dialog)
    texts = [_cell(dialog.checks, r, 1) for r in range(dialog.checks.rowCount())]
    assert [_cell(dialog.checks, r, 0) for r in range(len(texts))] == ["blurred.jpg"]
    assert "sharp" in texts[0], texts
    # And the thumbnail says so too.
    (row,) = [r for r in window.photos.rows() if r.original_name == "blurred.jpg"]
    assert row.warnings == (texts[0],)
    assert errors == []


def test_the_import_option_aligns_the_new_photos_and_undo_takes_it_back(
    qtbot: QtBot,
    tmp_path: Path,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    answered: list[ImportReport],
) -> None:
    pair = synthetic.pair(5)
    first = _jpeg(pair.reference, tmp_path / "first.jpg", "2026:10:01 09:00:00")
    again = _jpeg(pair.photo, tmp_path / "again.jpg", "2026:10:29 09:00:00")
    h.import_files(library, [first], area="Belly")
    window = _window_on(qtbot, tmp_path, runner, library)
    assert window.prefs.align_after_import  # on unless the person turned it off
    aligning = window.imports.aligning
    with qtbot.waitSignal(aligning.done, timeout=60000) as done:
        window.imports.import_paths([again])
    sentence = done.args[0]
    assert sentence.startswith("1 new photo aligned automatically."), sentence
    assert window.statusBar().currentMessage() == sentence
    photos = {p["original_name"]: p for p in h.list_photos(library)}
    assert photos["again.jpg"]["alignment"] is not None
    assert window.history.stack.undoText() == "align photos"
    assert window.history.undo()
    photos = {p["original_name"]: p for p in h.list_photos(library)}
    assert photos["again.jpg"]["alignment"] is None  # the alignment went, the photo stayed
    assert listing.counts(library)["photos"] == 2
    # A cleared alignment is SQL NULL, so the import's own undo sees nothing aligned since.
    assert window.history.stack.undoText() == "import of 1 photo"
    assert window.history.undo()
    assert listing.counts(library)["photos"] == 1
    assert errors == []


def test_the_preview_offers_the_option_as_last_chosen(qtbot: QtBot, tmp_path: Path) -> None:
    prefs = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    assert prefs.align_after_import is True
    prefs.align_after_import = False
    prefs.sync()
    again = Preferences(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    assert again.align_after_import is False
    for offered in (True, False):
        request = ImportRequest([Path("a.jpg")], 1, 1, "Belly", None, offered)
        dialog = ImportPreviewDialog(None, request, Prepared([], {1: "Belly"}, [], False))
        qtbot.addWidget(dialog)
        assert dialog.align.isChecked() is offered


def test_the_status_sentence_names_what_could_not_be_aligned() -> None:
    fit = Alignment(IDENTITY, "auto", "similarity", 400, 0.4)
    why = "Photo 50 was not aligned to photo 100: too few features match (12)."

    def outcome(aligned: int, failed: int) -> AlignOutcome:
        return AlignOutcome(
            tuple(Aligned(i, 100, fit, 500, "good") for i in range(1, aligned + 1)),
            tuple(NotAligned(i, 100, why) for i in range(50, 50 + failed)),
            False,
            (),
        )

    names = {50: "IMG_50.jpg", 51: "IMG_51.jpg", 52: "IMG_52.jpg", 53: "IMG_53.jpg"}
    assert outcome_sentence(outcome(12, 0), names) == "12 new photos aligned automatically."
    assert outcome_sentence(outcome(12, 1), names) == (
        f"12 new photos aligned automatically; 1 could not be (IMG_50.jpg): {why}"
    )
    assert outcome_sentence(outcome(0, 4), names) == (
        "The 4 new photos could not be aligned automatically (IMG_50.jpg, IMG_51.jpg, "
        "IMG_52.jpg…): align them on points in the compare window."
    )
    assert outcome_sentence(outcome(0, 0), names) == ""  # each the first of its view


def test_turning_the_option_off_aligns_nothing_and_is_remembered(
    qtbot: QtBot,
    tmp_path: Path,
    runner: TaskRunner,
    library: Library,
    errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pair = synthetic.pair(6)
    first = _jpeg(pair.reference, tmp_path / "first.jpg", "2026:10:01 09:00:00")
    again = _jpeg(pair.photo, tmp_path / "again.jpg", "2026:10:29 09:00:00")
    h.import_files(library, [first], area="Belly")
    window = _window_on(qtbot, tmp_path, runner, library)
    offered: list[bool] = []

    def preview(_parent: QWidget | None, request: ImportRequest, prepared: Prepared) -> Choices:
        offered.append(request.align)
        model = PlanModel(prepared.plan, request.area_id, prepared.areas, [], False, None)
        return dataclasses.replace(model.choices(), align=False)  # the person unticks it

    monkeypatch.setattr(ImportController, "ask_preview", preview)
    monkeypatch.setattr(ImportController, "show_summary", lambda _p, _r, _a: None)
    with qtbot.waitSignal(window.importer.finished, timeout=30000):
        window.imports.import_paths([again])
    assert offered == [True] and not window.imports.aligning.busy
    assert window.prefs.align_after_import is False  # offered unticked next time
    assert all(p["alignment"] is None for p in h.list_photos(library))
    assert window.history.stack.undoText() == "import of 1 photo"
    assert errors == []
