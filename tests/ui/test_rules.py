"""Each domain rule of docs/ARCHITECTURE.md ("Where each rule lives"), driven once through the
command line and once through the window, with the same result: the two share one service
layer, so they cannot drift apart again."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from tests import helpers as h
from tests.ui.conftest import SeenDialogs, open_window, score_box
from tracker.cli import main as cli
from tracker.core.db.models import RaterRole, Stage, VisitKind
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.queries import browse, listing
from tracker.core.queries.progress import progress
from tracker.core.store.library import Library
from tracker.ui.commands import AddArea, AddVisit
from tracker.ui.main.import_dialogs import ImportRequest
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import TaskRunner

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 4, 6), dt.date(2026, 5, 11)


def _photo(folder: Path, name: str, day: dt.date, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
    path = folder / name
    Image.effect_noise((96, 72), 20 + seed).convert("RGB").save(path, "JPEG", exif=exif)
    return path


def _cli(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Any:
    """The JSON the command prints."""
    capsys.readouterr()
    assert cli(["--library", str(root), *args, "--json"]) in (0, 1)
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    # Given latest first: the import's earliest day is the baseline whatever the order.
    return [
        _photo(tmp_path / "in", "later.jpg", D2, 2),
        _photo(tmp_path / "in", "first.jpg", D1, 1),
    ]


@pytest.fixture
def both(tmp_path: Path, library: Library) -> tuple[Path, Library]:
    """Two empty libraries: one for the command line (a folder), one open for the window."""
    root = tmp_path / "cli-lib"
    assert cli(["--library", str(root), "init"]) == 0
    return root, library


def _import_in_window(qtbot: QtBot, window: MainWindow, files: list[Path]) -> None:
    lib = window.lib
    assert lib is not None and window.client_id is not None
    if window.area_id is None:
        window.run(AddArea(lib, window.client_id, "Belly", "", Stage.UNKNOWN))
    area = next(a for a in window.areas.rows() if a.id == window.area_id)
    request = ImportRequest(list(files), window.client_id, area.id, area.name, None)
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.importer.start(lib, request)


def _kinds(rows: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(v["date"], v["kind"]) for v in rows]


# -- the kind of a new visit --------------------------------------------------------------------


def test_new_visits_are_the_baseline_then_treatments_by_either_path(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    instant_dialogs: SeenDialogs,
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
) -> None:
    root, library = both
    _cli(capsys, root, "import", *map(str, files), "--area", "Belly")
    _cli(capsys, root, "visit", "add", "--date", D3.isoformat())
    window = open_window(qtbot, prefs, runner, library)
    _import_in_window(qtbot, window, files)
    assert window.client_id is not None
    assert browse.suggested_visit_kind(library, window.client_id) is VisitKind.TREATMENT
    window.run(
        AddVisit(
            library, window.client_id, D3, browse.suggested_visit_kind(library, window.client_id)
        )
    )
    from_cli = _cli(capsys, root, "list", "visits")
    assert (
        _kinds(from_cli)
        == _kinds(listing.visits(library))
        == [
            (D1.isoformat(), "baseline"),
            (D2.isoformat(), "treatment"),
            (D3.isoformat(), "treatment"),
        ]
    )


def test_a_kind_chosen_for_an_import_applies_to_every_visit_it_makes(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    instant_dialogs: SeenDialogs,
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
) -> None:
    root, library = both
    _cli(capsys, root, "import", *map(str, files), "--area", "Belly", "--kind", "check-in")
    window = open_window(qtbot, prefs, runner, library)
    instant_dialogs["new_kind"] = VisitKind.CHECK_IN  # chosen for each new visit in the preview
    _import_in_window(qtbot, window, files)
    assert (
        _kinds(_cli(capsys, root, "list", "visits"))
        == _kinds(listing.visits(library))
        == [
            (D1.isoformat(), "check-in"),
            (D2.isoformat(), "check-in"),
        ]
    )


# -- what an edit does to what was there ---------------------------------------------------------


def _seed_both(
    capsys: pytest.CaptureFixture[str], root: Path, library: Library, files: list[Path]
) -> None:
    _cli(capsys, root, "import", *map(str, files), "--area", "Belly")
    h.import_files(library, files, area="Belly")


def test_a_rating_edit_changes_the_items_given_and_keeps_the_rest(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
) -> None:
    root, library = both
    _seed_both(capsys, root, library, files)
    day = D1.isoformat()
    base = ("rate", "--area", "Belly", "--date", day, "--rater", "patient")
    _cli(capsys, root, *base, "colour=5", "texture=4")
    changed = _cli(capsys, root, *base, "colour=6")
    h.rate(
        library, area="Belly", day=D1, role=RaterRole.PATIENT, values={"colour": 5, "texture": 4}
    )
    window = open_window(qtbot, prefs, runner, library)
    window.timeline_view.setCurrentIndex(window.timeline.index(0))
    assert window.panel.detail is not None and window.panel.detail.date == D1
    score_box(window, RaterRole.PATIENT, "colour").setValue(6)
    visit = window.panel.detail.id
    assert changed["values"] == {"colour": 6, "texture": 4}
    assert window.area_id is not None
    assert browse.rating(library, visit, window.area_id, RaterRole.PATIENT, "ctd") == {
        "colour": 6,
        "texture": 4,
    }


def test_a_named_raters_rating_is_edited_under_that_name(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
) -> None:
    root, library = both
    _seed_both(capsys, root, library, files)
    args = ("rate", "--area", "Belly", "--date", D1.isoformat(), "--rater", "practitioner")
    first = _cli(capsys, root, *args, "--rater-name", "Dr A", "colour=5")
    again = _cli(capsys, root, *args, "--rater-name", "Dr A", "colour=3")
    assert first["id"] == again["id"]
    h.rate(
        library,
        area="Belly",
        day=D1,
        role=RaterRole.PRACTITIONER,
        values={"colour": 5},
        rater_name="Dr A",
    )
    window = open_window(qtbot, prefs, runner, library)
    window.timeline_view.setCurrentIndex(window.timeline.index(0))
    score_box(window, RaterRole.PRACTITIONER, "colour").setValue(3)
    visit, area = window.visit_id, window.area_id
    assert visit is not None and area is not None
    # The window edited Dr A's rating, as the command line did: no second, unnamed one.
    assert browse.rating(library, visit, area, RaterRole.PRACTITIONER, "ctd", "Dr A") == {
        "colour": 3
    }
    assert browse.rating(library, visit, area, RaterRole.PRACTITIONER, "ctd") == {}


def test_a_treatment_record_edit_changes_the_fields_given_and_keeps_the_rest(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
) -> None:
    root, library = both
    _seed_both(capsys, root, library, files)
    day = D2.isoformat()
    _cli(
        capsys,
        root,
        "visit",
        "add",
        "--date",
        day,
        "--area",
        "Belly",
        "--device",
        "pen",
        "--passes",
        "3",
    )
    _cli(capsys, root, "visit", "add", "--date", day, "--area", "Belly", "--pain", "4")
    h.add_visit(library, day=D2, area="Belly", treatment=TreatmentInput(device="pen", passes=3))
    window = open_window(qtbot, prefs, runner, library)
    window.timeline_view.setCurrentIndex(window.timeline.index(1))
    assert window.panel.detail is not None and window.panel.detail.date == D2
    window.panel.treatment.pain.setValue(4)
    with Library.open(root, allow_read_only=True) as from_cli:
        cli_record = browse.treatment(
            from_cli, h.list_visits(from_cli)[1]["id"], listing.areas(from_cli)[0]["id"]
        )
    assert window.visit_id is not None and window.area_id is not None
    window_record = browse.treatment(library, window.visit_id, window.area_id)
    assert cli_record == window_record
    assert cli_record is not None and (
        cli_record["device"],
        cli_record["passes"],
        cli_record["pain"],
    ) == ("pen", 3, 4)


# -- which visits are sessions of an area -------------------------------------------------------


def test_sessions_are_counted_per_area_in_the_report_and_the_progress_tab(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
    tmp_path: Path,
) -> None:
    """A treatment visit counts for the area seen or treated at it, not for every area; the
    report (command line) and the Progress tab (window) say the same."""
    root, library = both
    thigh = _photo(tmp_path / "thigh", "thigh.jpg", D3, 3)
    _cli(capsys, root, "import", *map(str, files), "--area", "Belly")
    _cli(capsys, root, "import", str(thigh), "--area", "Thigh")
    h.import_files(library, files, area="Belly")
    h.import_files(library, [thigh], area="Thigh")
    out = tmp_path / "report.pdf"
    _cli(capsys, root, "consent", "add", "care")  # an export needs the client's consent
    _cli(capsys, root, "export", "report", str(out))
    import pypdf

    text = " ".join(
        " ".join(page.extract_text().split()) for page in pypdf.PdfReader(str(out)).pages
    )
    assert "Sessions done: 1" in text  # Belly: D2 (D1 is its baseline); Thigh: D3
    assert "Sessions done: 2" not in text
    window = open_window(qtbot, prefs, runner, library)
    for area in window.areas.rows():
        window.sidebar.area_chosen.emit(area.id)
        window.tabs.setCurrentWidget(window.progress_view)
        data = progress(library, area.id)
        assert data.sessions_done == 1
        assert "<b>1</b> session done" in window.progress_view.summary.text()


def test_copy_of_the_library_lists_the_same_as_the_window(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    errors: list[str],
    instant_dialogs: SeenDialogs,
    capsys: pytest.CaptureFixture[str],
    both: tuple[Path, Library],
    files: list[Path],
    tmp_path: Path,
) -> None:
    """What the window shows after an import is what `tracker list photos` reads."""
    _root, library = both
    window = open_window(qtbot, prefs, runner, library)
    _import_in_window(qtbot, window, files)
    copy = tmp_path / "copy"
    window.set_library(None)
    library.close()
    shutil.copytree(library.root, copy)
    listed = _cli(capsys, copy, "list", "photos")
    assert sorted(p["original_name"] for p in listed) == ["first.jpg", "later.jpg"]
