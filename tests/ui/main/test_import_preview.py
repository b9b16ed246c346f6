"""The import preview: every file checked before anything is stored, and the person's changes
(leave out, a date, another visit or area, the kind of each new visit) carried to the import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QDateEdit, QDialog
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tracker.core.db.models import DateSource, VisitKind
from tracker.core.queries import listing
from tracker.core.services.import_plan import DuplicateKind, PlannedFile
from tracker.ui.main.import_dialogs import ImportRequest
from tracker.ui.main.import_preview import ImportPreviewDialog, Prepared
from tracker.ui.main.plan_model import Counts, PlanModel, VisitChoice
from tracker.ui.main.window import MainWindow

from .. import conftest as ui

JAN, FEB, MAR = dt.date(2026, 1, 5), dt.date(2026, 2, 2), dt.date(2026, 3, 2)
BELLY, HIPS = 1, 2


def _plan() -> list[PlannedFile]:
    return [
        PlannedFile("a.jpg", JAN, DateSource.EXIF, JAN, VisitKind.BASELINE),
        PlannedFile("b.jpg", FEB, DateSource.FILE, FEB, VisitKind.TREATMENT),
        PlannedFile("broken.jpg", None, None, None, problem="the file is cut short"),
        PlannedFile("again.jpg", None, None, None, duplicate=DuplicateKind.STORED),
    ]


def _model(visits: list[VisitChoice] | None = None, baseline: bool = False) -> PlanModel:
    return PlanModel(_plan(), BELLY, {BELLY: "Belly", HIPS: "Hips"}, visits or [], baseline)


def _column(model: PlanModel, column: int) -> list[str]:
    return [model.data(model.index(r, column)) for r in range(model.rowCount())]


def test_the_plan_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = _model([VisitChoice(7, MAR, VisitKind.TREATMENT)])
    qtmodeltester.check(model, force_py=True)
    model.set_day([0], MAR)
    model.setData(model.index(1, 0), Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    qtmodeltester.check(model, force_py=True)


def test_each_row_says_where_the_file_goes_and_what_is_wrong_with_it() -> None:
    model = _model()
    assert _column(model, 2) == [
        "New visit 05 Jan 2026 (baseline)",
        "New visit 02 Feb 2026 (treatment)",
        "Will not be imported",
        "Not added again",
    ]
    assert _column(model, 1)[:2] == ["05 Jan 2026", "02 Feb 2026 (file date)"]
    notes = _column(model, 4)
    assert notes[1].startswith("No camera date; using the file's date, 02 Feb 2026.")
    assert notes[2:] == ["The file is cut short.", "Already in the library."]
    # A refused file cannot be ticked back in.
    assert not model.flags(model.index(2, 0)) & Qt.ItemFlag.ItemIsUserCheckable
    assert not model.setData(
        model.index(2, 0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
    )
    assert model.counts() == Counts(adding=2, left_out=0, refused=1, stored=1, back=0)


def test_the_persons_changes_become_the_imports_items() -> None:
    visits = [VisitChoice(7, MAR, VisitKind.TREATMENT)]
    model = _model(visits, baseline=True)
    assert model.new_kind(JAN) is VisitKind.TREATMENT  # the client has its baseline already
    model.set_included([0], False)
    model.set_day([1], MAR)  # the day of a visit the client has: it goes there
    assert model.new_days() == []
    assert _column(model, 2)[:2] == ["Left out (tick it to import it)", "02 Mar 2026 · Treatment"]
    assert _column(model, 1)[1] == "02 Mar 2026 (given)"
    model.set_area([1], HIPS)
    choices = model.choices()
    # Refused files go to the import as well, for its summary to say why.
    assert [(str(i.path), i.area, i.day, i.visit_id) for i in choices.items] == [
        ("b.jpg", HIPS, MAR, None),
        ("broken.jpg", BELLY, None, None),
        ("again.jpg", BELLY, None, None),
    ]
    model.set_included([0], True)
    model.send_to_visit([0], 7)
    items = model.choices().items
    assert (str(items[0].path), items[0].day, items[0].visit_id) == ("a.jpg", None, 7)
    assert model.counts() == Counts(adding=2, left_out=0, refused=1, stored=1, back=0)


def test_the_dialog_lets_the_kind_of_each_new_visit_be_chosen(qtbot: QtBot) -> None:
    request = ImportRequest([Path("a.jpg"), Path("b.jpg")], 1, BELLY, "Belly", None)
    prepared = Prepared(_plan(), {BELLY: "Belly"}, [], False)
    dialog = ImportPreviewDialog(None, request, prepared)
    qtbot.addWidget(dialog)
    choosers = dialog.kind_choosers
    assert list(choosers) == [JAN, FEB]
    assert [c.currentData() for c in choosers.values()] == ["baseline", "treatment"]
    assert dialog.ok.text() == "Import 2 photos" and dialog.ok.isEnabled()
    assert "2 of 4 files" in dialog.summary.text()
    choosers[FEB].setCurrentIndex(choosers[FEB].findData(VisitKind.CHECK_IN.value))
    assert _column(dialog.model, 2)[1] == "New visit 02 Feb 2026 (check-in)"
    assert dialog.model.choices().kinds == {JAN: VisitKind.BASELINE, FEB: VisitKind.CHECK_IN}
    # Leaving both out leaves nothing to import, and no visits to make.
    dialog.table.selectAll()
    dialog.leave_out.click()
    assert not dialog.ok.isEnabled() and dialog.kinds_box.isHidden()
    assert "You left out 2." in dialog.summary.text()
    assert [i.path.name for i in dialog.model.choices().items] == ["broken.jpg", "again.jpg"]
    assert dialog.model.choices().kinds == {}


def test_the_window_checks_every_file_before_the_preview(
    qtbot: QtBot, window: MainWindow, instant_dialogs: ui.SeenDialogs, tmp_path: Path
) -> None:
    good = ui.photo_file(tmp_path / "good.jpg", "2026:01:05 10:00:00", 1)
    whole = ui.photo_file(tmp_path / "whole.jpg", "2026:01:05 11:00:00", 2).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2])  # its header and date are whole; its pixels not
    lib = window.lib
    assert lib is not None
    before = len(listing.photos(lib))
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.imports.import_paths([good, cut])
    by_name = {Path(p.file).name: p for p in instant_dialogs["plan"]}
    assert by_name["good.jpg"].thumbnail and not by_name["good.jpg"].problem
    assert by_name["cut.jpg"].problem and by_name["cut.jpg"].thumbnail is None
    assert len(listing.photos(lib)) == before + 1
    assert instant_dialogs["report"].rejected[0].file == str(cut)


def _answer_the_next_dialog(qtbot: QtBot, answer: Callable[[QDialog], None]) -> None:
    """Answer the small dialog a button opens, as a person would, once it is up."""

    def go() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QDialog)
        answer(dialog)
        dialog.accept()

    QTimer.singleShot(0, go)


def test_the_buttons_change_the_selected_files(qtbot: QtBot) -> None:
    request = ImportRequest([Path("a.jpg"), Path("b.jpg")], 1, BELLY, "Belly", None)
    visits = [VisitChoice(7, MAR, VisitKind.TREATMENT)]
    prepared = Prepared(_plan(), {BELLY: "Belly", HIPS: "Hips"}, visits, True)
    dialog = ImportPreviewDialog(None, request, prepared)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.table.selectRow(1)
    assert dialog.set_date.isEnabled() and dialog.to_area.isEnabled()

    def pick_date(d: QDialog) -> None:
        edit = d.findChild(QDateEdit)
        assert edit is not None
        edit.setDate(QDate(2026, 1, 5))

    _answer_the_next_dialog(qtbot, pick_date)
    dialog.set_date.click()
    assert dialog.model.rows[1].day == JAN  # the day of a.jpg's new visit: it joins it
    assert dialog.model.new_days() == [JAN]

    def pick_hips(d: QDialog) -> None:
        combo = d.findChild(QComboBox)
        assert combo is not None
        combo.setCurrentIndex(combo.findData(HIPS))

    _answer_the_next_dialog(qtbot, pick_hips)
    dialog.to_area.click()
    assert dialog.model.rows[1].area_id == HIPS
    assert "will be added to <b>Belly</b> and <b>Hips</b>," in dialog.summary.text()

    def pick_visit(d: QDialog) -> None:
        combo = d.findChild(QComboBox)
        assert combo is not None
        combo.setCurrentIndex(combo.findData(7))

    _answer_the_next_dialog(qtbot, pick_visit)
    dialog.to_visit.click()
    assert dialog.model.rows[1].visit_id == 7 and dialog.model.rows[1].day is None
    # A refused file selected alone: nothing to change about it.
    dialog.table.selectRow(2)
    assert not dialog.set_date.isEnabled() and not dialog.leave_out.isEnabled()


def test_the_previews_counts_are_what_the_import_then_does(
    qtbot: QtBot, window: MainWindow, instant_dialogs: ui.SeenDialogs, tmp_path: Path
) -> None:
    lib = window.lib
    assert lib is not None and window.area_id is not None
    new = [ui.photo_file(tmp_path / f"n{i}.jpg", "2026:01:05 10:00:00", 10 + i) for i in range(3)]
    twice = tmp_path / "n0 copy.jpg"
    twice.write_bytes(new[0].read_bytes())
    again = tmp_path / "again.jpg"  # a copy of a photo the library holds
    sha = listing.photos(lib)[0]["sha256"]
    again.write_bytes(lib.store.read_original(sha, "jpg"))
    undated = tmp_path / "screenshot.png"
    Image.effect_noise((80, 60), 30).convert("RGB").save(undated)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(new[1].read_bytes()[:700])
    gif = tmp_path / "funny.gif"
    Image.new("P", (20, 20)).save(gif)
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.imports.import_paths([*new, twice, again, undated, cut, gif])
    plan = list(instant_dialogs["plan"])
    counts = PlanModel(plan, window.area_id, {window.area_id: "Belly"}, [], True).counts()
    report = instant_dialogs["report"]
    assert counts.adding == len(report.imported) == 4  # three new and the screenshot
    assert counts.refused == len(report.rejected) == 2  # cut short, and a GIF
    assert counts.stored == len(report.duplicates) == 2  # a copy given twice, one stored
    assert counts.back == sum(d.restored for d in report.duplicates) == 0
