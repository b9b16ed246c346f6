"""`tracker measure`, `tracker region set|clear` and `tracker area control` (issue 18,
docs/CLI.md): the issue's JSON exactly, null where a measure needs a scale, exit 1 when a photo
failed, bad corners refused with exit 2 and a sentence, and the measures in the CSV export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.core.imaging.marks_synthetic import marks_photo
from tracker.cli import main
from tracker.core.db.models import Area, Photo
from tracker.core.store.library import Library

KEYS = [
    "photo_id",
    "px_per_mm",
    "marks_found",
    "area_fraction",
    "area_mm2",
    "length_mm",
    "mean_width_mm",
    "mean_width_px",
    "delta_e00",
    "delta_L",
    "delta_a",
    "delta_b",
    "erythema_index_delta",
    "melanin_index_delta",
    "ita_marks",
    "ita_skin",
    "texture_index",
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = []
    for n, (area, seed, day) in enumerate(
        (("Hips", 1, "2026-01-05"), ("Hips", 2, "2026-02-02"), ("Arm", 3, "2026-01-05"))
    ):
        path = tmp_path / f"p{n}.jpg"
        marks_photo(seed).image.save(path, quality=92)
        files.append((path, area, day))
    lib = tmp_path / "lib"
    for path, area, day in files:
        args = ["--library", str(lib), "import", str(path), "--area", area, "--date", day]
        assert main(args) == 0
    assert main(["--library", str(lib), "consent", "add", "care"]) == 0  # exports ask it
    return lib


def _run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--library", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_measure_prints_the_issues_json_with_null_where_a_scale_is_needed(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(root, capsys, "measure", "1", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["measured", "failed"] and data["failed"] == []
    for entry in data["measured"]:
        assert list(entry) == KEYS
        assert entry["px_per_mm"] is None and entry["area_mm2"] is None
        assert entry["mean_width_mm"] is None and entry["texture_index"] is None
        assert entry["marks_found"] is True and 15 < entry["mean_width_px"] < 25
    with Library.open(root) as lib, lib.session() as s:
        s.execute(update(Photo).where(Photo.id == 1).values(px_per_mm=10.0))
    code, out, _ = _run(root, capsys, "measure", "1", "--json")
    (entry,) = json.loads(out)["measured"]
    assert entry["px_per_mm"] == 10.0 and abs(entry["mean_width_mm"] - 2.0) < 0.2


def test_measure_exits_1_when_a_photo_was_not_measured(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        root, capsys, "region", "set", "--area", "Hips", "--view", "front",
        "--marks", "40,40 560,40 560,410 40,410",
    )  # fmt: skip
    assert code == 0 and "4 corners on photo 1" in out
    code, out, _ = _run(root, capsys, "measure", "1", "2", "77", "--json")
    data = json.loads(out)
    assert code == 1 and [m["photo_id"] for m in data["measured"]] == [1]
    assert data["failed"] == [
        {
            "photo_id": 2,
            "error": "Photo 2 is not aligned to the reference photo of its view (photo 1); "
            "align it first, so that the regions drawn on the reference can follow it.",
        },
        {"photo_id": 77, "error": "There is no photo with id 77 in the library."},
    ]
    code, out, _ = _run(root, capsys, "region", "clear", "--area", "Hips", "--view", "front")
    assert code == 0
    assert _run(root, capsys, "measure", "2")[0] == 0


@pytest.mark.parametrize(
    ("marks", "said"),
    [
        ("40,40 5x,40 9,9", "'5x,40' is not a corner; write each as x,y"),
        ("40,40 560,40", "needs at least three corners; it has 2"),
        ("", "needs corners"),
        ("0,0 9000,0 9000,400", "outside the reference photo, which is 600 × 450 pixels"),
        ("10,10 200,200 200,10 10,200", "crosses itself"),
    ],
)
def test_bad_corners_are_refused_with_exit_2_and_a_sentence(
    root: Path, capsys: pytest.CaptureFixture[str], marks: str, said: str
) -> None:
    code, out, err = _run(
        root, capsys, "region", "set", "--area", "Hips", "--view", "front", "--marks", marks
    )
    assert code == 2 and out == "" and said in err and err.count("\n") == 1, err


def test_an_area_is_given_an_untreated_control_and_the_csv_holds_the_measures(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(root, capsys, "area", "control", "--area", "Hips", "--control", "Arm")
    assert code == 0 and "untreated area Arm" in out
    code, out, _ = _run(root, capsys, "list", "areas", "--json")
    listed = {a["name"]: (a["is_control"], a["control"]) for a in json.loads(out)}
    assert listed == {"Hips": (False, "Arm"), "Arm": (True, None)}
    code, _out, err = _run(root, capsys, "area", "control", "--area", "Arm", "--control", "Hips")
    assert code == 2 and "cannot be each other's control" in err
    code, out, _ = _run(root, capsys, "area", "control", "--area", "Arm", "--treated", "--json")
    assert code == 0 and json.loads(out) == {"area": "Arm", "is_control": False}
    with Library.open(root) as lib, lib.session() as s:
        hips = s.scalars(select(Area).where(Area.name == "Hips")).one()
        assert hips.control_area_id is None  # freed with it
    assert _run(root, capsys, "area", "control", "--area", "Arm", "--untreated")[0] == 0
    assert _run(root, capsys, "area", "control", "--area", "Hips", "--none", "--json")[0] == 0
    assert _run(root, capsys, "measure", "1", "2", "3")[0] == 0
    out_csv = tmp_path / "all.csv"
    assert _run(root, capsys, "export", "csv", str(out_csv))[0] == 0
    with out_csv.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["row"] == "measure"]
    assert {r["photo_id"] for r in rows} == {"1", "2", "3"}
    widths = [r for r in rows if r["item"] == "mean_width_px"]
    assert len(widths) == 3 and all(r["unit"] == "px" and float(r["value"]) > 10 for r in widths)
    assert {r["item"] for r in rows if r["photo_id"] == "1"} >= {"delta_e00", "ita_skin"}
    assert not any(r["item"] == "area_mm2" for r in rows)  # no scale: no millimetres
