"""`tracker import` on a folder of good and bad files, through the command line (docs/CLI.md).

One batch of every kind of file in tests/corpus.py is imported once per module; the tests then
check what was reported for each file, what `list photos` and the library's thumbnails show,
that `check` finds the library in order, that the originals are the input bytes, read-only,
and that importing the same folder again stores nothing new.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import corpus
from tests.conftest import run_cli

AREA = "Abdomen"
CASES = {c.name: c for c in corpus.cases()}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "HEIF": "heic", "WEBP": "webp", "TIFF": "tif"}

# Files the importer currently reports wrongly; each is a strict xfail in the per-file tests
# and left out of the whole-batch assertions that it would otherwise break.
KNOWN_BUGS: dict[str, str] = {}


def _params(names: Iterator[str] | list[str]) -> list[Any]:
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])]
            if name in KNOWN_BUGS
            else [],
        )
        for name in names
    ]


ALL = _params(list(CASES))
IMPORTED = _params([n for n, c in CASES.items() if c.outcome == corpus.IMPORTED])
WITH_MARKER = _params([n for n, c in CASES.items() if c.marker])


@dataclass
class Run:
    code: int
    report: dict[str, list[dict[str, Any]]]
    stderr: str

    def outcome_of(self, name: str) -> tuple[str, dict[str, Any]]:
        found = [
            (kind, entry)
            for kind, key in (
                (corpus.IMPORTED, "imported"),
                (corpus.DUPLICATE, "duplicates"),
                (corpus.REJECTED, "rejected"),
            )
            for entry in self.report[key]
            if Path(entry["file"]).name == name
        ]
        assert len(found) == 1, f"{name} is reported {len(found)} times: {found}"
        return found[0]


@dataclass
class Imported:
    lib: Path
    folder: Path
    outcomes: dict[str, str]
    first: Run
    photos: list[dict[str, Any]]

    def files(self) -> list[str]:
        return [str(self.folder / name) for name in self.outcomes]

    def photo(self, name: str) -> dict[str, Any]:
        rows = [p for p in self.photos if p["original_name"] == name]
        assert len(rows) == 1, f"{name} is listed {len(rows)} times"
        return rows[0]


def _json(*args: str) -> tuple[int, Any, str]:
    result = run_cli(*args, "--json")
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def _import(lib: Path, files: list[str]) -> Run:
    code, report, stderr = _json("--library", str(lib), "import", *files, "--area", AREA)
    assert isinstance(report, dict) and set(report) == {"imported", "duplicates", "rejected"}
    return Run(code, report, stderr)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    base = tmp_path_factory.mktemp("import")
    folder = base / "in"
    outcomes = corpus.build_corpus(folder)
    lib = base / "lib"
    assert run_cli("--library", str(lib), "init").returncode == 0
    first = _import(lib, [str(folder / name) for name in outcomes])
    code, photos, _ = _json("--library", str(lib), "list", "photos")
    assert code == 0
    return Imported(lib, folder, outcomes, first, photos)


def _skip_unless_written(imported: Imported, name: str) -> None:
    if name not in imported.outcomes:
        pytest.skip(f"the file system does not allow the name {name!r}")


# -- what import reports ----------------------------------------------------------------------


def test_batch_with_refusals_exits_1_and_reports_every_file_once(imported: Imported) -> None:
    run = imported.first
    assert corpus.REJECTED in imported.outcomes.values()
    assert run.code == 1  # docs/CLI.md: the command ran but found problems (a file rejected)
    reported = [Path(e["file"]).name for entries in run.report.values() for e in entries]
    assert sorted(reported) == sorted(imported.outcomes)
    # Files are reported under the path they were given as.
    given = set(imported.files())
    assert {e["file"] for entries in run.report.values() for e in entries} == given


@pytest.mark.parametrize("name", ALL)
def test_each_file_is_reported_as_expected(imported: Imported, name: str) -> None:
    _skip_unless_written(imported, name)
    case = CASES[name]
    kind, entry = imported.first.outcome_of(name)
    assert kind == case.outcome, entry
    if kind == corpus.IMPORTED:
        assert set(entry) >= {
            "file",
            "photo_id",
            "visit_id",
            "sha256",
            "taken_at",
            "date_source",
            "width",
            "height",
        }
        assert entry["sha256"] == hashlib.sha256(case.data).hexdigest()
        assert (entry["width"], entry["height"]) == case.size
        assert entry["date_source"] == case.date_source
        assert entry["taken_at"] == case.taken_at
    elif kind == corpus.DUPLICATE:
        assert set(entry) >= {"file", "photo_id"}
        assert entry.get("restored", False) is False  # nothing had been removed
        assert case.same_as is not None
        _, original = imported.first.outcome_of(case.same_as)
        assert entry["photo_id"] == original["photo_id"]
    else:
        assert set(entry) >= {"file", "error"}
        error = entry["error"]
        assert "\n" not in error and error.endswith(".")
        assert name in error and "was not imported" in error, error
        assert case.reason is not None
        assert re.search(case.reason, error, re.IGNORECASE), error


# -- what the library holds afterwards -----------------------------------------------------


@pytest.mark.parametrize("name", IMPORTED)
def test_list_photos_shows_upright_size_format_and_capture_time(
    imported: Imported, name: str
) -> None:
    _skip_unless_written(imported, name)
    case = CASES[name]
    row = imported.photo(name)
    _, entry = imported.first.outcome_of(name)
    assert row["id"] == entry["photo_id"] and row["visit_id"] == entry["visit_id"]
    assert (row["area"], row["view"], row["client"]) == (AREA, "front", "Me")
    assert (row["width"], row["height"]) == case.size
    assert row["format"] == case.format
    assert row["sha256"] == hashlib.sha256(case.data).hexdigest()
    assert (row["date_source"], row["taken_at"]) == (case.date_source, case.taken_at)
    # Photos are grouped into visits by their capture date.
    assert case.taken_at is not None and row["visit_date"] == case.taken_at[:10]


def test_orientations_5_to_8_swap_width_and_height(imported: Imported) -> None:
    sizes = {o: imported.photo(f"orient_{o}.jpg") for o in range(1, 9)}
    for o, row in sizes.items():
        expected = (corpus.H, corpus.W) if o >= 5 else (corpus.W, corpus.H)
        assert (row["width"], row["height"]) == expected, f"orientation {o}"
    # HEIC and TIFF come upright from their decoders: turned once (portrait), not twice.
    for name in ("orient_6.webp", "phone.heic", "scan.tif"):
        row = imported.photo(name)
        assert (row["width"], row["height"]) == (corpus.H, corpus.W), name


def test_only_the_imported_files_are_listed(imported: Imported) -> None:
    assert len(imported.photos) == len(imported.first.report["imported"])
    expected = {
        n for n, o in imported.outcomes.items() if o == corpus.IMPORTED and n not in KNOWN_BUGS
    }
    listed = {p["original_name"] for p in imported.photos}
    assert expected <= listed
    assert listed - expected <= set(KNOWN_BUGS)


def _derived(imported: Imported, name: str) -> tuple[Image.Image, Image.Image]:
    from tracker.core.store.library import Library

    sha256 = hashlib.sha256(CASES[name].data).hexdigest()
    with Library.open(imported.lib) as lib:
        thumb = lib.store.read_cache("thumbs", sha256)
        # A JPEG's preview is made on first view, the others' at import: either way through
        # derived(), as the windows and exports ask for it.
        preview = lib.derived("previews", sha256)
    assert thumb is not None, f"{name} has no thumbnail"
    return (
        Image.open(io.BytesIO(thumb)).convert("RGB"),
        Image.open(io.BytesIO(preview)).convert("RGB"),
    )


def _red(pixel: float | tuple[int, ...] | None) -> bool:
    assert isinstance(pixel, tuple)  # an RGB image's pixel
    r, g, b = pixel[:3]
    return r > 150 and g < 110 and b < 110


@pytest.mark.parametrize("name", WITH_MARKER)
def test_thumbnail_and_preview_show_the_photo_upright(imported: Imported, name: str) -> None:
    """The red block is top-left as a viewer shows it: orientation applied exactly once."""
    _skip_unless_written(imported, name)
    for image in _derived(imported, name):
        assert image.size == CASES[name].size
        w, h = image.size
        corners = {
            "top-left": (w // 8, h // 8),
            "top-right": (w - 1 - w // 8, h // 8),
            "bottom-left": (w // 8, h - 1 - h // 8),
            "bottom-right": (w - 1 - w // 8, h - 1 - h // 8),
        }
        red = [where for where, xy in corners.items() if _red(image.getpixel(xy))]
        assert red == ["top-left"], f"{name}: red block at {red}"


def test_sixteen_bit_png_thumbnail_is_scaled_not_clipped(imported: Imported) -> None:
    """The 16-bit ramp from black to white must still be a ramp, not black or all white."""
    for image in _derived(imported, "deep16.png"):
        grey = image.convert("L")
        w, h = grey.size
        left, middle, right = (grey.getpixel((x, h // 2)) for x in (1, w // 2, w - 2))
        assert isinstance(left, int) and isinstance(middle, int) and isinstance(right, int)
        assert left < 30 and right > 225 and 90 < middle < 165, (left, middle, right)


def test_check_finds_the_library_in_order(imported: Imported) -> None:
    code, report, _ = _json("--library", str(imported.lib), "check")
    assert code == 0
    assert report["ok"] is True and report["problems"] == []
    assert report["photos_checked"] == len(imported.photos)


def test_originals_are_the_input_bytes_and_read_only(imported: Imported) -> None:
    originals = imported.lib / "originals"
    stored = {p for p in originals.rglob("*") if p.is_file()}
    expected = set()
    for entry in imported.first.report["imported"]:
        data = Path(entry["file"]).read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        assert entry["sha256"] == sha256
        row = imported.photo(Path(entry["file"]).name)
        # Stored under the extension of what the content is, whatever the name said.
        path = originals / sha256[:2] / f"{sha256}.{EXTENSIONS[row['format']]}"
        assert path.is_file(), f"{entry['file']} is not stored at {path}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
        assert path.read_bytes() == data
        assert path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0, path
        expected.add(path)
    # One file per imported photo: nothing for duplicates or refusals, no leftovers.
    assert stored == expected
    assert not any((imported.lib / "tmp").iterdir())


def test_importing_the_folder_again_stores_nothing_new(imported: Imported) -> None:
    second = _import(imported.lib, imported.files())
    assert second.code == 1
    assert second.report["imported"] == []
    for name in imported.outcomes:
        first_kind, first_entry = imported.first.outcome_of(name)
        kind, entry = second.outcome_of(name)
        if first_kind == corpus.REJECTED:
            assert kind == corpus.REJECTED and entry["error"] == first_entry["error"]
        else:
            # Every good file is now a duplicate of the photo stored the first time.
            assert kind == corpus.DUPLICATE, entry
            assert entry["photo_id"] == first_entry["photo_id"]
            assert entry.get("restored", False) is False
    for name, outcome in imported.outcomes.items():
        if name not in KNOWN_BUGS:
            expected = corpus.REJECTED if outcome == corpus.REJECTED else corpus.DUPLICATE
            assert second.outcome_of(name)[0] == expected, name
    code, photos, _ = _json("--library", str(imported.lib), "list", "photos")
    assert code == 0 and photos == imported.photos
    stored = [p for p in (imported.lib / "originals").rglob("*") if p.is_file()]
    assert len(stored) == len(photos)
    code, report, _ = _json("--library", str(imported.lib), "check")
    assert code == 0 and report["ok"] is True and report["problems"] == []


def test_a_name_starting_with_a_dash_is_imported_after_double_dash(tmp_path: Path) -> None:
    case = CASES["-leading-dash.jpg"]
    (tmp_path / case.name).write_bytes(case.data)
    lib = tmp_path / "lib"
    result = run_cli(
        "--library", str(lib), "import", "--area", AREA, "--json", "--", case.name, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [e["file"] for e in report["imported"]] == [case.name]
    assert report["duplicates"] == [] and report["rejected"] == []


def test_a_file_name_that_is_not_utf8_is_imported_and_kept_byte_for_byte(tmp_path: Path) -> None:
    """A Latin-1 name from an old camera card: imported, shown readably everywhere, its bytes
    kept; it does not stop the batch."""
    import os
    import sqlite3

    folder = tmp_path / "card"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9 \xffn.jpg"
    with open(raw, "wb") as fh:
        Image.effect_noise((64, 48), 30).convert("RGB").save(fh, "JPEG")
    Image.effect_noise((64, 48), 31).convert("RGB").save(folder / "plain.jpg")
    lib = tmp_path / "lib"
    code, out, err = _json("--library", str(lib), "import", str(folder), "--area", "Thigh")
    assert code == 0, err
    names = sorted(Path(i["file"]).name for i in out["imported"])
    assert names == ["café ÿn.jpg", "plain.jpg"]
    text = run_cli("--library", str(lib), "import", str(folder), "--area", "Thigh")
    assert "café ÿn.jpg" in text.stdout and text.returncode == 0  # duplicates, said readably
    _code, photos, _err = _json("--library", str(lib), "list", "photos")
    assert sorted(p["original_name"] for p in photos) == ["café ÿn.jpg", "plain.jpg"]
    conn = sqlite3.connect(lib / "library.sqlite3")
    stored = dict(conn.execute("SELECT original_name, original_name_bytes FROM photo").fetchall())
    conn.close()
    assert stored == {"café ÿn.jpg": b"caf\xe9 \xffn.jpg", "plain.jpg": None}
    csv_out = tmp_path / "r.csv"
    assert run_cli("--library", str(lib), "consent", "add", "care").returncode == 0
    assert run_cli("--library", str(lib), "export", "csv", str(csv_out)).returncode == 0


def test_what_is_not_a_photo_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A pipe would hang the import, /dev/zero and a sparse file of gigabytes would fill the
    memory: each is refused with a sentence, quickly, and the photo beside them imports."""
    good = tmp_path / "good.jpg"
    Image.new("RGB", (64, 48), (200, 150, 140)).save(good)
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    sparse = tmp_path / "huge.jpg"
    with sparse.open("wb") as fh:
        fh.write(good.read_bytes()[:64])
        fh.truncate(3 * 1024**3)
    start = time.monotonic()
    result = run_cli(
        "--library",
        str(tmp_path / "lib"),
        "import",
        str(good),
        str(pipe),
        "/dev/zero",
        str(sparse),
        "--area",
        "Hips",
        "--json",
        timeout=60,
    )
    assert time.monotonic() - start < 30
    out = json.loads(result.stdout)
    assert len(out["imported"]) == 1
    reasons = {Path(r["file"]).name: r["error"] for r in out["rejected"]}
    assert "device, pipe or socket" in reasons["pipe.jpg"]
    assert "device, pipe or socket" in reasons["zero"]
    assert "larger than any photo" in reasons["huge.jpg"]
